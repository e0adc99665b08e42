"""CPU seconds of the fleet's processes by role, read from /proc (no psutil needed).

A process's own CPU is utime + stime; what its children used counts in its cutime + cstime
once it has reaped them. So the CPU of the flow runs is the reaped children of the Prefect
workers (launchers, cold children) and of the warm servers (forked children), plus any run
still alive; the workers' and warm servers' own time is theirs.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")
ROLES = ("tenant runs", "prefect workers", "warm servers", "prefect server", "postgresql",
         "emulators", "other")  # fmt: skip


def _processes() -> dict[int, dict]:
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            found[int(stat.parent.name)] = {
                "ppid": int(fields[1]), "own": (int(fields[11]) + int(fields[12])) * TICK_S,
                "children": (int(fields[13]) + int(fields[14])) * TICK_S, "cmdline": cmdline,
            }  # fmt: skip
    return found


def _tree(processes: dict[int, dict], root: int) -> set[int]:
    found, frontier = {root} if root in processes else set(), {root}
    while frontier:
        frontier = {pid for pid, p in processes.items() if p["ppid"] in frontier} - found
        found |= frontier
    return found


def cpu_by_role(roots: dict[str, list[int]]) -> Counter:
    """CPU seconds so far of each role's process trees; `roots`: role -> root pids.

    Worker trees (role "workers") are split into tenant runs, prefect workers, warm servers.
    """
    processes = _processes()
    seconds: Counter = Counter()
    for role, pids in roots.items():
        for root in pids:
            for pid in _tree(processes, root):
                process = processes[pid]
                if role != "workers":
                    seconds[role] += process["own"] + process["children"]
                    continue
                parent = processes.get(process["ppid"], {}).get("cmdline", "")
                command = process["cmdline"]
                if "entrasync.warm.zygote" in command and "entrasync.warm.zygote" in parent:
                    seconds["tenant runs"] += process["own"] + process["children"]  # forked run
                elif "entrasync.warm.zygote" in command:
                    seconds["warm servers"] += process["own"]
                    seconds["tenant runs"] += process["children"]
                elif " worker start" in command:
                    seconds["prefect workers"] += process["own"]
                    seconds["tenant runs"] += process["children"]
                elif "entrasync.warm" in command:  # a launcher or a cold child, still running
                    seconds["tenant runs"] += process["own"] + process["children"]
                else:  # the `entrasync worker` wrapper
                    seconds["prefect workers"] += process["own"]
    return seconds


def machine_cpu_s() -> float:
    """CPU seconds every process on the machine used (other users of the machine too)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(value) for index, value in enumerate(fields[:8]) if index not in (3, 4))
    return busy * TICK_S


def postmaster_pid(data_dir: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    return None
