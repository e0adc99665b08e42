"""JSON batching (POST /$batch): up to 20 requests, dependsOn ordering, per-item answers."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from entrasync_emulators.graph.faults import fault_response, take_fault
from entrasync_emulators.graph.messages import (
    GraphError,
    GraphRequest,
    GraphResponse,
    error_body,
    error_response,
)
from entrasync_emulators.graph.pipeline import GraphPipeline

MAX_BATCH_REQUESTS = 20


def _invalid(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def _parse_items(request: GraphRequest) -> list[dict[str, Any]]:
    payload = request.json_body()
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise _invalid("Invalid batch payload format: 'requests' must be a non-empty array.")
    if len(items) > MAX_BATCH_REQUESTS:
        raise _invalid(
            f"Number of requests in the batch ({len(items)}) exceeds the limit of "
            f"{MAX_BATCH_REQUESTS}."
        )
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            raise _invalid("Invalid batch payload format: every request must be an object.")
        for key in ("id", "method", "url"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise _invalid(f"Invalid batch payload format: request is missing '{key}'.")
        if item["id"] in seen:
            raise _invalid(f"Batch request ids must be unique: '{item['id']}' repeats.")
        seen.add(item["id"])
    for item in items:
        depends_on = item.get("dependsOn", [])
        if not isinstance(depends_on, list) or any(dep not in seen for dep in depends_on):
            raise _invalid(f"Request '{item['id']}' depends on an id that is not in the batch.")
    return items


def _waves(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Groups of items that can run together: each wave's dependencies ran in earlier ones."""
    done: set[str] = set()
    pending = list(items)
    waves: list[list[dict[str, Any]]] = []
    while pending:
        ready = [item for item in pending if set(item.get("dependsOn", [])) <= done]
        if not ready:
            raise _invalid("The dependsOn references of the batch form a cycle.")
        waves.append(ready)
        done.update(item["id"] for item in ready)
        pending = [item for item in pending if item["id"] not in done]
    return waves


def _inner_request(outer: GraphRequest, item: dict[str, Any]) -> GraphRequest | GraphResponse:
    """The Graph request an item describes, or a 400 answer when the item is malformed."""
    request_id = str(uuid.uuid4())
    url = item["url"]
    if "://" in url:
        return error_response(
            request_id, outer.client_request_id, 400, "BadRequest",
            "Invalid request url: batch request urls must be relative to the version root.",
        )  # fmt: skip
    parts = urlsplit("/" + url.lstrip("/"))
    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    body = item.get("body")
    method = item["method"].upper()
    raw_body = b""
    if body is not None:
        if "content-type" not in headers:
            return error_response(
                request_id, outer.client_request_id, 400, "BadRequest",
                f"Write request id : {item['id']} does not contain Content-Type header.",
            )  # fmt: skip
        raw_body = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return GraphRequest(
        method=method,
        path="/" + unquote(parts.path).strip("/"),
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=headers,
        body=raw_body,
        base_url=outer.base_url,
        tenant=outer.tenant,
        app_id=outer.app_id,
        request_id=request_id,
        client_request_id=outer.client_request_id,
        config=outer.config,
    )


def _item_answer(item_id: str, response: GraphResponse) -> dict[str, Any]:
    content, media_type = response.encoded()
    headers: dict[str, str] = {"Cache-Control": "no-cache"}
    body: Any = None
    if response.body is not None:
        if isinstance(response.body, bytes | bytearray):
            body = base64.b64encode(content).decode("ascii")
        else:
            body = response.body
            headers["OData-Version"] = "4.0"
        if media_type:
            headers["Content-Type"] = media_type
    headers.update(response.headers)
    return {"id": item_id, "status": response.status, "headers": headers, "body": body}


async def run_batch(pipeline: GraphPipeline, outer: GraphRequest) -> GraphResponse:
    """Answer a $batch: 400 for a malformed batch, otherwise 200 with one answer per item."""
    with pipeline.state.lock:
        fault = take_fault(outer.tenant, outer.path)
    if fault is not None:
        pipeline.state.stats.record("POST /$batch", fault.status)
        return fault_response(outer.request_id, outer.client_request_id, fault)
    try:
        items = _parse_items(outer)
        waves = _waves(items)
    except GraphError as error:
        pipeline.state.stats.record("POST /$batch", error.status)
        return error_response(
            outer.request_id, outer.client_request_id, error.status, error.code, error.message
        )
    pipeline.state.stats.record("POST /$batch", 200)
    statuses: dict[str, int] = {}
    answers: list[dict[str, Any]] = []
    for wave in waves:
        runnable: list[tuple[str, GraphRequest]] = []
        for item in wave:
            failed = [dep for dep in item.get("dependsOn", []) if statuses[dep] >= 400]
            if failed:
                statuses[item["id"]] = 424
                answers.append(
                    {
                        "id": item["id"],
                        "status": 424,
                        "headers": {"Content-Type": "application/json"},
                        "body": error_body(
                            "FailedDependency",
                            f"Request failed because request(s) {', '.join(failed)} it depends "
                            "on failed.",
                            str(uuid.uuid4()),
                            outer.client_request_id,
                        ),
                    }
                )
                continue
            inner = _inner_request(outer, item)
            if isinstance(inner, GraphResponse):
                statuses[item["id"]] = inner.status
                answers.append(_item_answer(item["id"], inner))
            elif inner.path.lower() == "/$batch":
                nested = error_response(
                    inner.request_id, inner.client_request_id, 400, "BadRequest",
                    "A batch request cannot contain another batch request.",
                )  # fmt: skip
                statuses[item["id"]] = 400
                answers.append(_item_answer(item["id"], nested))
            else:
                runnable.append((item["id"], inner))
        pipeline.state.stats.record_batched(len(runnable))
        responses = await pipeline.run_wave([inner for _, inner in runnable])
        for (item_id, _), response in zip(runnable, responses, strict=True):
            statuses[item_id] = response.status
            answers.append(_item_answer(item_id, response))
    return GraphResponse(200, {"responses": answers})
