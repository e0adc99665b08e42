"""The one error type the Emply emulator raises; each side renders it in its own shape."""

from http import HTTPStatus


class EmplyError(Exception):
    """A request or op the emulator refuses, with the HTTP status and Emply error code to show."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or error_code(status)


def error_code(status: int) -> str:
    """Emply-style error code for a status: 404 -> "NotFound", 429 -> "TooManyRequests"."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "Error"
    return "".join(word.capitalize() for word in phrase.replace("-", " ").split())


def bad_request(message: str) -> EmplyError:
    return EmplyError(400, message)


def not_found(message: str) -> EmplyError:
    return EmplyError(404, message)


def conflict(message: str) -> EmplyError:
    return EmplyError(409, message)
