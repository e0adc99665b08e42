"""Prefect logs a failed task or flow with its traceback; for an error the user can fix (our
EntrasyncError: bad settings, bad export, a gate) the one-line message is the whole story."""

from __future__ import annotations

import logging

from entrasync.errors import EntrasyncError

RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")


class UserErrorsWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], EntrasyncError):
            record.exc_info, record.exc_text = None, None
        return True


def install_user_error_filter() -> None:
    """Once per process, on the loggers of Prefect's task and flow runs."""
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, UserErrorsWithoutTraceback) for f in logger.filters):
            logger.addFilter(UserErrorsWithoutTraceback())
