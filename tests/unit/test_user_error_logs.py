"""A failed task's log line keeps its traceback only for errors that are not the user's to fix."""

from __future__ import annotations

import logging
import sys

from entrasync.errors import SettingsError
from entrasync.user_error_logs import UserErrorsWithoutTraceback, install_user_error_filter


def logged(error: Exception) -> logging.LogRecord:
    try:
        raise error
    except Exception:
        record = logging.LogRecord(
            "prefect.task_runs", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    assert UserErrorsWithoutTraceback().filter(record)
    return record


def test_a_user_error_is_logged_without_its_traceback():
    assert logged(SettingsError("tenants.yaml: tenants[0].groups: expected ...")).exc_info is None


def test_a_bug_keeps_its_traceback():
    assert logged(KeyError("oops")).exc_info is not None


def test_installed_once_on_the_run_loggers():
    install_user_error_filter()
    install_user_error_filter()
    for name in ("prefect.task_runs", "prefect.flow_runs"):
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, UserErrorsWithoutTraceback) for f in filters) == 1
