"""Keep the Emply API key out of log records and error messages."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

KEY_IN_URL = re.compile(r"(apiKey=)[^&\s'\"#>)]+", re.IGNORECASE)
HTTP_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def redact(text: str, api_key: str | None = None) -> str:
    """Replace `apiKey=<value>` and any bare occurrence of the key with `***`."""
    text = KEY_IN_URL.sub(r"\1***", text)
    if api_key:
        for form in {api_key, quote(api_key, safe="")}:
            text = text.replace(form, "***")
    return text


class ApiKeyLogFilter(logging.Filter):
    """Rewrites records whose message holds `apiKey=...` (httpx logs every request URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install_log_redaction() -> None:
    """Attach the filter to the HTTP libraries' loggers (filters don't inherit: each by name)."""
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, ApiKeyLogFilter) for existing in logger.filters):
            logger.addFilter(ApiKeyLogFilter())
