"""Users' profile photos, kept as bytes with their SHA-256."""

import hashlib

from entrasync_emulators.emply.errors import EmplyError, bad_request
from entrasync_emulators.emply.models import Photo, User


def set_photo(user: User, content: bytes, content_type: str) -> Photo:
    if not content_type.lower().startswith("image/"):
        raise EmplyError(415, f"photo content-type must be image/*, got {content_type!r}")
    if not content:
        raise bad_request("photo body is empty")
    user.photo = Photo(content, content_type, hashlib.sha256(content).hexdigest())
    return user.photo
