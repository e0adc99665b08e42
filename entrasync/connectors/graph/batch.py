"""JSON batching rules: check requests, split them into calls of 20, pick items to send again."""

from __future__ import annotations

from typing import Any

BATCH_LIMIT = 20


def check_batch_requests(requests: list[dict[str, Any]]) -> None:
    """Each request needs a unique text id, a method and a url; dependsOn names known ids."""
    seen: set[str] = set()
    for index, request in enumerate(requests):
        request_id = request.get("id")
        if not isinstance(request_id, str) or not request_id:
            raise ValueError(f"batch request {index}: 'id' must be non-empty text")
        if request_id in seen:
            raise ValueError(f"batch request {index}: id {request_id!r} is used twice")
        if not request.get("method") or not request.get("url"):
            raise ValueError(f"batch request {request_id!r}: 'method' and 'url' are required")
        seen.add(request_id)
    for request in requests:
        unknown = [i for i in request.get("dependsOn", []) if i not in seen]
        if unknown:
            raise ValueError(f"batch request {request['id']!r} depends on unknown ids {unknown}")


def batch_chunks(requests: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split into calls of at most 20, keeping requests linked by dependsOn in one call."""
    position = {request["id"]: index for index, request in enumerate(requests)}
    chunks: list[list[dict[str, Any]]] = []
    for component in _dependency_components(requests):
        if len(component) > BATCH_LIMIT:
            first = component[0]["id"]
            raise ValueError(
                f"batch requests linked by dependsOn from {first!r} exceed {BATCH_LIMIT}"
            )
        if not chunks or len(chunks[-1]) + len(component) > BATCH_LIMIT:
            chunks.append([])
        chunks[-1].extend(component)
    return [sorted(chunk, key=lambda request: position[request["id"]]) for chunk in chunks]


def ids_to_retry(
    sent: list[dict[str, Any]],
    results: dict[str, dict[str, Any]],
    retry_statuses: frozenset[int],
) -> set[str]:
    """Throttled items, plus 424 items whose every dependency succeeded or is being retried."""
    retry_ids = {r["id"] for r in sent if results[r["id"]]["status"] in retry_statuses}
    grew = bool(retry_ids)
    while grew:
        grew = False
        for request in sent:
            request_id = request["id"]
            if request_id in retry_ids or results[request_id]["status"] != 424:
                continue
            depends_on = request.get("dependsOn", [])
            waiting = [i for i in depends_on if i in retry_ids]
            settled = all(i in retry_ids or 200 <= results[i]["status"] < 300 for i in depends_on)
            if waiting and settled:
                retry_ids.add(request_id)
                grew = True
    return retry_ids


def _dependency_components(requests: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    parent = {request["id"]: request["id"] for request in requests}

    def root(request_id: str) -> str:
        while parent[request_id] != request_id:
            parent[request_id] = parent[parent[request_id]]
            request_id = parent[request_id]
        return request_id

    for request in requests:
        for dependency in request.get("dependsOn", []):
            parent[root(request["id"])] = root(dependency)
    components: dict[str, list[dict[str, Any]]] = {}
    for request in requests:
        components.setdefault(root(request["id"]), []).append(request)
    return list(components.values())
