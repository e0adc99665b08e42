"""Bearer tokens: minted by the login emulator, checked by the Graph emulator (HS256 JWTs)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass

GRAPH_AUDIENCE = "https://graph.microsoft.com"


class InvalidToken(Exception):
    """The bearer token is malformed, forged or expired; the message is Graph's wording."""


@dataclass(frozen=True)
class TokenClaims:
    """What the Graph emulator needs from a valid token."""

    tenant_id: str
    app_id: str
    expires_at: float


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Signs and checks app-only access tokens with one key per emulator stack."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _signature(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest())

    def mint(self, tenant_id: str, app_id: str, lifetime_s: float) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "HS256", "kid": "entrasync-emulator"}
        claims = {
            "aud": GRAPH_AUDIENCE,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": time.time() + lifetime_s,
            "appid": app_id,
            "idtyp": "app",
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{app_id}")),
            "roles": ["User.ReadWrite.All", "Group.ReadWrite.All", "Calendars.ReadWrite"],
            "tid": tenant_id,
            "ver": "1.0",
            "uti": secrets.token_urlsafe(16),
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        return f"{signing_input}.{self._signature(signing_input)}"

    def read(self, token: str, now: float | None = None) -> TokenClaims:
        """Return the claims of a valid token or raise InvalidToken with Graph's message."""
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken(
                "IDX14100: JWT is not well formed, there are no dots (.). "
                "The token needs to be in JWS or JWE Compact Serialization Format."
            )
        signing_input = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._signature(signing_input), parts[2]):
            raise InvalidToken("Invalid signature.")
        try:
            claims = json.loads(_unb64(parts[1]))
            tenant_id, app_id, expires_at = claims["tid"], claims["appid"], float(claims["exp"])
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidToken("IDX14102: Unable to decode the payload.") from error
        if claims.get("aud") != GRAPH_AUDIENCE:
            raise InvalidToken("Invalid audience.")
        if expires_at <= (time.time() if now is None else now):
            raise InvalidToken("Lifetime validation failed, the token is expired.")
        return TokenClaims(tenant_id=tenant_id, app_id=app_id, expires_at=expires_at)
