"""`entrasync-emulators serve|generate` (or python -m entrasync_emulators): their own command."""

from __future__ import annotations

import argparse
import json
import sys

from entrasync_emulators.generate import TenantShape, generate
from entrasync_emulators.serve import serve


def _serve(args: argparse.Namespace) -> int:
    serve(as_json=args.json)
    return 0


def shape_from(args: argparse.Namespace) -> TenantShape:
    return TenantShape(
        users=args.users,
        groups=args.groups or max(args.users // 50, 1),
        memberships=args.memberships if args.memberships is not None else args.users * 5,
        seed=args.seed,
        connected_groups=args.connected_groups,
        domain=args.domain,
    )


def _generate(args: argparse.Namespace) -> int:
    generated = generate(shape_from(args))
    text = json.dumps(generated, separators=(",", ":"))
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(args.out, "w") as out:
            out.write(text)
        print(f"wrote {args.out}: expected first plan {generated['expected']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="entrasync-emulators", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser(
        "serve", help="login, Graph, Emply and the control surface on loopback, until Ctrl-C"
    )
    serve_command.add_argument(
        "--json",
        action="store_true",
        help="print one JSON line (URLs, CA file, env) when ready; also stop when stdin closes",
    )
    serve_command.set_defaults(handler=_serve)
    generate_command = commands.add_parser(
        "generate", help="a synthetic tenant as the control surface's seed JSON"
    )
    generate_command.add_argument("--users", type=int, required=True)
    generate_command.add_argument("--groups", type=int, help="default: users / 50")
    generate_command.add_argument("--memberships", type=int, help="default: users x 5")
    generate_command.add_argument("--seed", type=int, default=1)
    generate_command.add_argument("--connected-groups", type=int, default=10)
    generate_command.add_argument("--domain", default="contoso.com")
    generate_command.add_argument("--out", default="-", help="seed JSON file (default: stdout)")
    generate_command.set_defaults(handler=_generate)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    raise SystemExit(args.handler(args))
