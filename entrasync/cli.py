"""Command line entry point (`entrasync`): launches flows and tools, never runs rules itself."""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from entrasync.errors import EntrasyncError  # noqa: E402


def _sync(args: argparse.Namespace) -> int:
    from entrasync.launch import run_sync

    summary = run_sync(
        args.tenant,
        dry_run=args.dry_run,
        allow_deactivations=args.allow_deactivations,
        tenants_file=args.tenants_file,
    )
    print(f"tenant {summary['tenant']} run {summary['run_id']}: {summary['status']}")
    for kind, count in summary["changes"].items():
        print(f"  {kind:<22}{count:>6}")
    if summary["error"]:
        print(f"  {summary['error']}")
    return 0 if summary["status"] in ("completed", "planned") else 1


def _demo(args: argparse.Namespace) -> int:
    from entrasync.demo import run_demo

    return run_demo(sys.stdout)


def _scenario_run(args: argparse.Namespace) -> int:
    from entrasync.scenario import run_files

    return run_files(args.files)


def _emulators_serve(args: argparse.Namespace) -> int:
    from entrasync.emulators.stack import serve_forever

    serve_forever()
    return 0


def _query(args: argparse.Namespace) -> int:
    from entrasync.warehouse.query import print_query

    print_query(args.tenant, args.sql)
    return 0


def _explain(args: argparse.Namespace) -> int:
    import duckdb

    from entrasync.warehouse.db import warehouse_path
    from entrasync.warehouse.explain import explain_user

    path = warehouse_path(args.tenant)
    if not path.exists():
        raise EntrasyncError(f"no warehouse for tenant {args.tenant!r} at {path}")
    with duckdb.connect(str(path), read_only=True) as con:
        explain_user(con, args.user, sys.stdout)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="entrasync", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="emulators + demo tenant, synced twice")
    demo.set_defaults(handler=_demo)

    sync = commands.add_parser("sync", help="one run of the sync-tenant flow")
    sync.add_argument("--tenant", required=True)
    sync.add_argument("--dry-run", action="store_true")
    sync.add_argument("--allow-deactivations", action="store_true")
    sync.add_argument("--tenants-file", default=None)
    sync.set_defaults(handler=_sync)

    query = commands.add_parser("query", help="SQL against a tenant's warehouse (read-only)")
    query.add_argument("--tenant", required=True)
    query.add_argument("sql")
    query.set_defaults(handler=_query)

    explain = commands.add_parser("explain", help="why a user was (or was not) changed")
    explain.add_argument("--tenant", required=True)
    explain.add_argument("--user", required=True, help="username, e-mail or UPN")
    explain.set_defaults(handler=_explain)

    scenario = commands.add_parser("scenario", help="scenario files (SPEC)")
    scenario_commands = scenario.add_subparsers(dest="scenario_command", required=True)
    scenario_run = scenario_commands.add_parser("run", help="run scenario files")
    scenario_run.add_argument("files", nargs="+")
    scenario_run.set_defaults(handler=_scenario_run)

    emulators = commands.add_parser("emulators", help="local Microsoft login, Graph and Emply")
    emulator_commands = emulators.add_subparsers(dest="emulators_command", required=True)
    serve = emulator_commands.add_parser("serve", help="run the emulators until Ctrl-C")
    serve.set_defaults(handler=_emulators_serve)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)
    except EntrasyncError as exc:
        print(f"entrasync: {exc}", file=sys.stderr)
        code = 2
    raise SystemExit(code)
