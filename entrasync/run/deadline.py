"""A run's deadline: past it the run stops at its next safe point and is recorded failed."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from entrasync.errors import EntrasyncError

clock = time.monotonic  # one process runs the whole flow; tests move this clock
RERUN = "rerun the tenant: what was applied is not applied again"


class RunDeadlinePassed(EntrasyncError):
    """The run reached `run_deadline_minutes`; it stopped where stopping is safe."""


@dataclass(frozen=True)
class RunDeadline:
    ends_at: float  # on `clock`
    minutes: float

    @classmethod
    def starting_now(cls, minutes: float) -> RunDeadline:
        return cls(clock() + minutes * 60, minutes)

    @classmethod
    def unbounded(cls) -> RunDeadline:
        return cls(math.inf, math.inf)

    def passed(self) -> bool:
        return clock() >= self.ends_at

    def reason(self, where: str) -> str:
        return (
            f"the run passed its deadline of {self.minutes:g} minutes (run_deadline_minutes) "
            f"{where}; {RERUN}"
        )

    def check(self, before: str) -> None:
        """A safe point: raise RunDeadlinePassed when the deadline is behind us."""
        if self.passed():
            raise RunDeadlinePassed(self.reason(f"before {before}"))

    def sleep(self, seconds: float) -> None:
        """Wait out a retry, unless the wait would end past the deadline: then stop now."""
        if clock() + seconds > self.ends_at:
            raise RunDeadlinePassed(
                self.reason(f"while waiting {seconds:.0f} s to retry a request")
            )
        time.sleep(seconds)
