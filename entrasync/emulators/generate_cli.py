"""`entrasync emulators generate`: a synthetic tenant as seed JSON, or seeded into a stack."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any

import yaml

from entrasync.emulators.generate import TenantShape, generate
from entrasync.emulators.seed_stack import StackTenant, seed_stack

SECRET_ENV = "ENTRASYNC_GENERATED_SECRET"
EMPLY_KEY_ENV = "ENTRASYNC_GENERATED_EMPLY_KEY"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--groups", type=int, help="default: users / 50")
    parser.add_argument("--memberships", type=int, help="default: users x 5")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--connected-groups", type=int, default=10)
    parser.add_argument("--domain", default="contoso.com")
    parser.add_argument("--out", default="-", help="seed JSON file (default: stdout)")
    parser.add_argument("--control-url", help="seed this running stack's control surface instead")
    parser.add_argument("--ca-file", help="the stack's CA file (with --control-url)")
    parser.add_argument("--tenant-id", default="generated-tenant")
    parser.add_argument("--customer", default="generated")


def shape_from(args: argparse.Namespace) -> TenantShape:
    return TenantShape(
        users=args.users,
        groups=args.groups or max(args.users // 50, 1),
        memberships=args.memberships if args.memberships is not None else args.users * 5,
        seed=args.seed,
        connected_groups=args.connected_groups,
        domain=args.domain,
    )


def tenant_settings(generated: dict[str, Any], target: StackTenant) -> dict[str, Any]:
    """A tenants-file entry for the seeded tenant (credentials as env references)."""
    return {
        "name": target.customer, "tenant_id": target.tenant_id, "client_id": target.client_id,
        "credential": {"env": SECRET_ENV}, "domains": list(target.domains),
        "groups": generated["groups"],
        "emply": {"customer": target.customer, "api_key": {"env": EMPLY_KEY_ENV}},
    }  # fmt: skip


def run(args: argparse.Namespace) -> int:
    generated = generate(shape_from(args))
    if not args.control_url:
        text = json.dumps(generated, separators=(",", ":"))
        if args.out == "-":
            sys.stdout.write(text + "\n")
        else:
            with open(args.out, "w") as out:
                out.write(text)
            print(f"wrote {args.out}: expected first plan {generated['expected']}")
        return 0
    target = StackTenant(
        tenant_id=args.tenant_id, customer=args.customer, client_id="generated-app",
        client_secret=os.environ.get(SECRET_ENV) or secrets.token_urlsafe(24),
        api_key=os.environ.get(EMPLY_KEY_ENV) or secrets.token_urlsafe(24),
        domains=(args.domain,),
    )  # fmt: skip
    counts = seed_stack(args.control_url, args.ca_file, target, generated)
    print(f"# seeded {counts}; expected first plan {generated['expected']}")
    print(f"export {SECRET_ENV}={target.client_secret}")
    print(f"export {EMPLY_KEY_ENV}={target.api_key}")
    print("# tenants file:")
    print(yaml.safe_dump({"tenants": [tenant_settings(generated, target)]}, sort_keys=False))
    return 0
