"""HTTP round trips of the calendar and photo extraction via $batch vs one request per user.

    uv run python -m bench.mailbox_roundtrips [--users 1000] [--latency-ms 30] [--no-per-user]

Prints figures, is not a test. The emulators run in their own process with a network latency
per request; the counts come from the Graph emulator's /graph/stats.
"""

from __future__ import annotations

import argparse
import math
import secrets
import time
from collections.abc import Callable

from bench.stack_process import StackProcess, start_stack
from entrasync import extract
from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.graph.client import GraphClient
from entrasync.extract.mailboxes import calendar_window, extract_mailboxes
from entrasync.settings import CredentialRef, EmplySettings, GroupMapping, TenantSettings
from entrasync.warehouse.db import connect_memory

TENANT, DOMAIN, CLIENT_ID = "bench-mailboxes", "contoso.com", "bench-mailboxes-app"


def object_id(index: int) -> str:
    return f"00000000-0000-4000-9000-{index:012d}"


def seed(stack: StackProcess, users: int, secret: str, api_key: str) -> None:
    """Linked users in one connected group; each has a photo, every 4th a second calendar."""
    upns = [f"user{i:05d}@{DOMAIN}" for i in range(users)]
    control = stack.control
    control.reset_graph(TENANT, [DOMAIN], CLIENT_ID, secret)
    control.seed_graph(
        TENANT,
        [{"upn": u, "mail": u, "id": object_id(i)} for i, u in enumerate(upns)],
        [{"name": "Employee", "members": upns}],
    )
    control.reset_emply(TENANT, api_key, ["Employee"])
    emply_users = [
        {"username": u, "email": u, "roles": ["Employee"], "external_id": object_id(i)}
        for i, u in enumerate(upns)
    ]
    control.seed_emply(TENANT, emply_users, [])
    for i, upn in enumerate(upns):
        ops = [("set_photo", {"user": upn, "content": f"photo of {upn}"})]
        if i % 4 == 0:
            ops.append(("add_calendar", {"user": upn, "name": "Team"}))
        for op, args in ops:
            control.graph_op(TENANT, op, args)


def settings() -> TenantSettings:
    return TenantSettings(
        name=TENANT, tenant_id=TENANT, client_id=CLIENT_ID, credential=CredentialRef(env="-"),
        domains=(DOMAIN,), groups=(GroupMapping("Employee", "Employee"),),
        emply=EmplySettings(customer=TENANT, api_key=CredentialRef(env="-")),
        sync_calendars=True,
    )  # fmt: skip


def measured(stack: StackProcess, work: Callable[[], None]) -> tuple[dict, float]:
    stack.graph_stats(reset=True)
    started = time.perf_counter()
    work()
    return stack.graph_stats(), time.perf_counter() - started


def per_user(graph: GraphClient, users: int) -> None:
    """The plain way: each user's calendars, default calendar's events and photo, one by one."""
    start, end = calendar_window(30)
    for i in range(users):
        user_id = object_id(i)
        graph.list_calendars(user_id)
        graph.calendar_view(user_id, None, start, end)
        if graph.get_photo_meta(user_id) is not None:
            graph.get_photo(user_id)


def report(label: str, stats: dict, seconds: float, users: int) -> None:
    by_path = stats["by_path"]
    round_trips = sum(n for path, n in by_path.items() if path == "POST /$batch")
    inner = sum(n for path, n in by_path.items() if path != "POST /$batch")
    direct = inner if round_trips == 0 else 0
    trips = round_trips + direct
    print(f"{label:<44} {trips:>7} round trips  {inner:>6} Graph requests"
          f"  {seconds:7.1f} s  {trips / users:5.2f} trips/user"
          f"  throttled {stats['throttled']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--no-per-user", action="store_true", help="skip the slow comparison")
    args = parser.parse_args()
    secret, api_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    stack = start_stack(latency_ms=args.latency_ms, ru_per_window=None)
    try:
        seed(stack, args.users, secret, api_key)
        graph = GraphClient(
            tenant_id=TENANT, client_id=CLIENT_ID, client_secret=secret,
            authority_host=stack.env["ENTRASYNC_AUTHORITY_HOST"],
            graph_url=stack.env["ENTRASYNC_GRAPH_URL"], ca_bundle=stack.ca_file,
        )  # fmt: skip
        emply = EmplyClient(base_url=stack.env["ENTRASYNC_EMPLY_URL"], customer=TENANT,
                            api_key=api_key, ca_bundle=stack.ca_file)  # fmt: skip
        con = connect_memory()
        extract.extract_entra(con, graph, settings())
        extract.extract_emply(con, emply, settings())
        print(f"{args.users} linked users, emulator latency {args.latency_ms:g} ms per request;"
              f" $batch holds 20 requests (ideal: {math.ceil(args.users / 20)} calls per"
              " request kind)")  # fmt: skip
        first = measured(stack, lambda: extract_mailboxes(con, graph, emply, settings(), "r1"))
        report("$batch, first run (all photos downloaded)", *first, args.users)
        # Emply now holds the photos: a later run reads photo metadata only (etag unchanged).
        con.execute("UPDATE emply_users SET photo_sha256 = (SELECT sha256 FROM entra_photos p"
                    " WHERE p.entra_object_id = emply_users.entra_object_id)")  # fmt: skip
        later = measured(stack, lambda: extract_mailboxes(con, graph, emply, settings(), "r2"))
        report("$batch, later run (photos unchanged)", *later, args.users)
        if not args.no_per_user:
            plain = measured(stack, lambda: per_user(graph, args.users))
            report("one request per user and resource", *plain, args.users)
            ratio = plain[0]["requests"] / max(first[0]["by_path"].get("POST /$batch", 1), 1)
            print(f"round trips, per-user / $batch (first run): {ratio:.1f}x;"
                  f" wall time {plain[1] / first[1]:.1f}x")  # fmt: skip
        graph.close()
        emply.close()
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
