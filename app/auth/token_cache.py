"""ID tokens already verified, remembered until shortly before they expire.

A Flutter app sends the same ID token with every request for up to an hour. Verifying it each
time costs a thread hop and a JWT decode (an RS256 check in production) and, with revocation
checks, a Firebase ``get_user`` round trip. The gateway remembers what it verified instead:

- keyed by the SHA-256 of the token (the token itself is not kept), at most ``max_size``
  tokens, least recently used evicted first;
- an entry never outlives the token: it expires ``EXPIRY_MARGIN_SECONDS`` before the token's
  ``exp``, and every hit checks that again against the wall clock;
- with revocation checks, an entry answers only for ``revocation_window`` seconds after its
  last full verification; then the token is verified again, revocation included. A revoked
  token or a disabled user is refused at most that long after it happened.

Failed verifications are never remembered. Used from the event loop only: no lock.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TLRUCache

# Entries expire this long before the token does, so no clock jitter lets one outlive it.
EXPIRY_MARGIN_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class _Entry:
    claims: dict[str, Any]
    expires_at: float  # wall clock: the token's exp minus the margin
    verified_at: float  # wall clock: the last full verification (revocation included)


class VerifiedTokenCache:
    def __init__(
        self,
        *,
        max_size: int,
        revocation_window: float | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``revocation_window``: None when revocation is not checked at all."""
        self._clock = clock
        self._revocation_window = revocation_window
        self._entries: TLRUCache[bytes, _Entry] | None = (
            TLRUCache(max_size, ttu=_expiry, timer=clock) if max_size > 0 else None
        )

    def claims(self, token: str) -> dict[str, Any] | None:
        """The token's verified claims, or None when it must be verified (again)."""
        if self._entries is None:
            return None
        entry = self._entries.get(_key(token))
        if entry is None:
            return None
        now = self._clock()
        if now >= entry.expires_at:
            return None
        window = self._revocation_window
        if window is not None and now - entry.verified_at >= window:
            return None
        return entry.claims

    def remember(self, token: str, claims: dict[str, Any]) -> None:
        """Keep the claims of a token that was just verified in full."""
        if self._entries is None:
            return
        expiry = claims.get("exp")
        if not isinstance(expiry, int | float):
            return
        now = self._clock()
        entry = _Entry(claims=claims, expires_at=expiry - EXPIRY_MARGIN_SECONDS, verified_at=now)
        if entry.expires_at > now:
            self._entries[_key(token)] = entry


def _key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _expiry(key: bytes, entry: _Entry, now: float) -> float:
    return entry.expires_at
