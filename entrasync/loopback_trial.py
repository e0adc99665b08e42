"""Try the deployments on one machine: the emulators with the demo tenants seeded, until Ctrl-C.

`uv run python -m entrasync.loopback_trial` prints the `export` lines a worker needs
(endpoints, CA file, the demo credentials and tenants file); README "Operations" uses it.
"""

from __future__ import annotations

import time

from entrasync.demo import DEMO_DIR, seed_emulators
from entrasync.emulator_client import EmulatorProcess


def main() -> None:
    tenants_file = DEMO_DIR / "tenants.yaml"
    with EmulatorProcess() as stack:
        env = stack.env() | seed_emulators(stack.control_url, stack.ca_file, tenants_file)
        env["ENTRASYNC_TENANTS_FILE"] = str(tenants_file)
        print("emulators up, demo tenants seeded; in the worker's shell (Ctrl-C here stops them):")
        for name, value in env.items():
            print(f"export {name}={value}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            print("stopping emulators")


if __name__ == "__main__":
    main()
