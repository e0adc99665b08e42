"""The ops subcommands: `rerun-failed`, `secrets set`, `automations install` (Prefect inside)."""

from __future__ import annotations

import argparse

from entrasync.errors import EntrasyncError
from entrasync.ops.names import RERUN_FAILED_DEPLOYMENT


def _prefect_target() -> str:
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return url or "the local Prefect database (no PREFECT_API_URL set)"


def _rerun_failed(args: argparse.Namespace) -> int:
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        raise EntrasyncError(
            "rerun-failed starts the rerun-failed-tenants deployment on the Prefect server: "
            "set PREFECT_API_URL (README, Operations)"
        )
    parameters = {"hours": args.hours, "allow_deactivations": args.allow_deactivations}
    if args.tenant:
        parameters["tenants"] = args.tenant
    try:
        run = run_deployment(
            RERUN_FAILED_DEPLOYMENT, parameters=parameters, as_subflow=False, poll_interval=2
        )
    except ObjectNotFound:
        raise EntrasyncError(
            f"no deployment {RERUN_FAILED_DEPLOYMENT!r} on {_prefect_target()}: run "
            "`prefect deploy --all` from the checkout first"
        ) from None
    state = run.state
    print(f"{run.name}: {state.name}: {state.message or ''}")
    return 0 if state.is_completed() else 1


def _secrets_set(args: argparse.Namespace) -> int:
    from entrasync.ops.secrets import read_secret_value, store_secret

    store_secret(args.name, read_secret_value(args.name))
    print(f"secret {args.name} stored in {_prefect_target()}; "
          f"refer to it in a tenants file as {{prefect_secret: {args.name}}}")  # fmt: skip
    return 0


def _automations_install(args: argparse.Namespace) -> int:
    from entrasync.ops.automations import AUTOMATION_NAME, WEBHOOK_BLOCK, install_failure_automation
    from entrasync.ops.secrets import read_secret_value

    automation_id = install_failure_automation(read_secret_value("webhook URL"))
    print(f"automation {AUTOMATION_NAME!r} ({automation_id}) calls the webhook in block "
          f"{WEBHOOK_BLOCK!r} on {_prefect_target()}")  # fmt: skip
    return 0


def add_ops_commands(commands: argparse._SubParsersAction) -> None:
    rerun = commands.add_parser(
        "rerun-failed", help="rerun the tenants whose latest run failed, crashed or was blocked"
    )
    rerun.add_argument("--hours", type=float, default=24, help="look back this far (24)")
    rerun.add_argument(
        "--allow-deactivations",
        action="store_true",
        help="rerun BLOCKED tenants with deactivations allowed (after checking their plan)",
    )
    rerun.add_argument("--tenant", action="append", help="only this tenant (repeatable)")
    rerun.set_defaults(handler=_rerun_failed)

    secrets = commands.add_parser("secrets", help="credentials as Prefect Secret blocks")
    secrets_commands = secrets.add_subparsers(dest="secrets_command", required=True)
    secret_set = secrets_commands.add_parser(
        "set", help="store a secret; the value comes from stdin or a hidden prompt, never argv"
    )
    secret_set.add_argument("name", help="block name: lowercase letters, digits, dashes")
    secret_set.set_defaults(handler=_secrets_set)

    automations = commands.add_parser("automations", help="Prefect automations for ops")
    automation_commands = automations.add_subparsers(dest="automations_command", required=True)
    install = automation_commands.add_parser(
        "install",
        help="call a webhook (URL from stdin or a hidden prompt) when a tenant run fails, "
        "crashes or is blocked",
    )
    install.set_defaults(handler=_automations_install)
