"""The warm server with a stand-in run (no Prefect): `python warm_fake_server.py SOCKET`."""

from __future__ import annotations

import os
import signal
import sys
import time

from entrasync.warm import zygote


def fake_run(argv: list[str], cwd: str, env: dict[str, str]) -> int:
    """Says what it was given on the launcher's stdout, then exits or waits as asked."""
    os.chdir(cwd)
    print(f"run pid={os.getpid()} cwd={os.getcwd()} marker={env.get('FAKE_MARKER')} "
          f"argv={argv}", flush=True)  # fmt: skip
    if env.get("FAKE_RUN") == "sleep":
        time.sleep(120)
    return int(env.get("FAKE_EXIT", "0"))


if __name__ == "__main__":
    zygote.run_forked = fake_run
    server = zygote.WarmServer(sys.argv[1])
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, server.stop)
    server.listen()
    server.serve()
