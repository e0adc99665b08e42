"""Command line entry point (`entrasync`): launches flows and tools, never runs rules itself."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import NoReturn

from entrasync.prefect_env import set_prefect_defaults

set_prefect_defaults(quiet=True)

from entrasync.errors import EntrasyncError  # noqa: E402


def _sync(args: argparse.Namespace) -> int:
    from entrasync.endpoints import Endpoints
    from entrasync.settings import default_tenants_file, load_tenant
    from flows.launch import run_sync

    # Bad settings stop here with one line; inside the flow Prefect would log a traceback.
    load_tenant(args.tenants_file or default_tenants_file(), args.tenant)
    Endpoints.from_env()
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


def _query(args: argparse.Namespace) -> int:
    if args.tenant:
        from entrasync.warehouse.query import print_query

        print_query(args.tenant, args.sql)
    else:
        from entrasync.warehouse.history_views import print_history_query

        print_history_query(args.sql)
    return 0


def _history_views(args: argparse.Namespace) -> int:
    from entrasync.warehouse.history_views import build_views

    print(f"history views: {build_views()}")
    return 0


def _history_compact(args: argparse.Namespace) -> int:
    from entrasync.warehouse.history_compact import compact

    merged = compact(before=args.before)
    print(f"compacted {len(merged)} partitions")
    return 0


def _history_verify(args: argparse.Namespace) -> int:
    from entrasync.warehouse import history
    from entrasync.warehouse.history_chain import verify

    chains = verify(history.audit_dir(), args.tenant)
    for chain in chains:
        head = f"{len(chain.links)} links, head {chain.head or '-'}"
        if not chain.problems:
            print(f"tenant {chain.tenant}: {head}: ok")
            continue
        print(f"tenant {chain.tenant}: {head}: {len(chain.problems)} problems")
        for problem in chain.problems:
            print(f"  {problem}")
    if not chains:
        print(f"no history under {history.audit_dir()}")
    return 1 if any(chain.problems for chain in chains) else 0


def _history_export(args: argparse.Namespace) -> int:
    from entrasync.warehouse import history
    from entrasync.warehouse.db import connect_read_only

    with connect_read_only(args.tenant) as con:
        if args.run_id:
            for run_id in args.run_id:
                history.export_run(con, run_id)
            exported = args.run_id
        else:
            exported = history.export_missing_runs(con, args.tenant)
    print(f"tenant {args.tenant}: {len(exported)} runs written to {history.audit_dir()}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from entrasync.warehouse.db import connect_read_only
    from entrasync.warehouse.explain import explain_user

    with connect_read_only(args.tenant) as con:
        explain_user(con, args.user, sys.stdout)
    return 0


def _validation(args: argparse.Namespace) -> int:
    from entrasync.gate.report import print_validation
    from entrasync.warehouse.db import connect_read_only

    with connect_read_only(args.tenant) as con:
        print_validation(con, args.run, sys.stdout)
    return 0


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a misused command says so in one line (usage is one `--help` away), and
    no flag is guessed from its first letters (`--allow-deact` is refused, not a release)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _add_history_commands(commands: argparse._SubParsersAction) -> None:
    """`entrasync history views|compact|export|verify`."""
    history = commands.add_parser("history", help="the analysts' audit history (Parquet)")
    history_commands = history.add_subparsers(dest="history_command", required=True)
    views = history_commands.add_parser("views", help="create or refresh data/audit.duckdb")
    views.set_defaults(handler=_history_views)
    compact = history_commands.add_parser("compact", help="merge each day's small files into one")
    compact.add_argument(
        "--before", type=date.fromisoformat, help="only days before YYYY-MM-DD (default: today)"
    )
    compact.set_defaults(handler=_history_compact)
    export = history_commands.add_parser(
        "export", help="write a tenant's runs the history lacks (or --run-id ones again)"
    )
    export.add_argument("--tenant", required=True)
    export.add_argument("--run-id", action="append")
    export.set_defaults(handler=_history_export)
    verify = history_commands.add_parser(
        "verify", help="check every file against its tenant's manifest chain (exit 1 if not)"
    )
    verify.add_argument("--tenant", help="only this tenant's chain")
    verify.set_defaults(handler=_history_verify)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="entrasync", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="emulators + demo tenant, synced twice")
    demo.set_defaults(handler=_demo)

    sync = commands.add_parser("sync", help="one run of the sync-tenant flow")
    sync.add_argument("--tenant", required=True)
    sync.add_argument("--dry-run", action="store_true")
    sync.add_argument("--allow-deactivations", action="store_true")
    sync.add_argument("--tenants-file", default=None)
    sync.set_defaults(handler=_sync)

    query = commands.add_parser(
        "query", help="SQL against the audit history of every tenant, or one tenant's warehouse"
    )
    query.add_argument("--tenant", help="query this tenant's warehouse file instead (read-only)")
    query.add_argument("sql")
    query.set_defaults(handler=_query)

    _add_history_commands(commands)

    explain = commands.add_parser("explain", help="why a user was (or was not) changed")
    explain.add_argument("--tenant", required=True)
    explain.add_argument("--user", required=True, help="username, e-mail or UPN")
    explain.set_defaults(handler=_explain)

    validation = commands.add_parser("validation", help="the failed expectations of a run")
    validation.add_argument("--tenant", required=True)
    validation.add_argument("--run", default=None, help="run id or its prefix (default: latest)")
    validation.set_defaults(handler=_validation)

    scenario = commands.add_parser("scenario", help="scenario files (SPEC)")
    scenario_commands = scenario.add_subparsers(dest="scenario_command", required=True)
    scenario_run = scenario_commands.add_parser("run", help="run scenario files")
    scenario_run.add_argument("files", nargs="+")
    scenario_run.set_defaults(handler=_scenario_run)

    from entrasync.ops.commands import add_ops_commands

    add_ops_commands(commands)  # rerun-failed, secrets set, automations install
    from entrasync.ops.worker_command import add_worker_command

    add_worker_command(commands)
    from entrasync.ops.stack_up import add_stack_commands

    add_stack_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)
    except EntrasyncError as exc:
        print(f"entrasync: {exc}", file=sys.stderr)
        code = 2
    raise SystemExit(code)
