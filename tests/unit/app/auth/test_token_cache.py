"""Verified tokens are remembered, but never past their expiry nor the revocation window."""

from typing import Any

from app.auth.token_cache import EXPIRY_MARGIN_SECONDS, VerifiedTokenCache


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _claims(uid: str, expires_at: float) -> dict[str, Any]:
    return {"uid": uid, "exp": int(expires_at)}


def test_a_verified_token_is_answered_from_memory() -> None:
    clock = Clock()
    cache = VerifiedTokenCache(max_size=10, revocation_window=None, clock=clock)
    claims = _claims("u1", clock.now + 3600)
    assert cache.claims("token-1") is None
    cache.remember("token-1", claims)
    assert cache.claims("token-1") == claims
    assert cache.claims("token-2") is None


def test_a_remembered_token_is_forgotten_before_it_expires() -> None:
    clock = Clock()
    cache = VerifiedTokenCache(max_size=10, revocation_window=None, clock=clock)
    expiry = clock.now + 600
    cache.remember("token", _claims("u1", expiry))
    clock.now = expiry - EXPIRY_MARGIN_SECONDS - 0.5
    assert cache.claims("token") is not None
    clock.now = expiry - EXPIRY_MARGIN_SECONDS
    assert cache.claims("token") is None
    clock.now = expiry + 1
    assert cache.claims("token") is None


def test_a_token_about_to_expire_or_without_expiry_is_not_remembered() -> None:
    clock = Clock()
    cache = VerifiedTokenCache(max_size=10, revocation_window=None, clock=clock)
    cache.remember("soon", _claims("u1", clock.now + EXPIRY_MARGIN_SECONDS - 1))
    cache.remember("never", {"uid": "u2"})
    assert cache.claims("soon") is None
    assert cache.claims("never") is None


def test_with_revocation_checks_a_token_is_trusted_only_for_the_window() -> None:
    clock = Clock()
    cache = VerifiedTokenCache(max_size=10, revocation_window=30.0, clock=clock)
    cache.remember("token", _claims("u1", clock.now + 3600))
    clock.now += 29.9
    assert cache.claims("token") is not None
    clock.now += 0.1
    assert cache.claims("token") is None  # verify again, revocation included
    cache.remember("token", _claims("u1", clock.now + 3570))
    assert cache.claims("token") is not None


def test_a_zero_revocation_window_checks_every_request() -> None:
    clock = Clock()
    cache = VerifiedTokenCache(max_size=10, revocation_window=0.0, clock=clock)
    cache.remember("token", _claims("u1", clock.now + 3600))
    assert cache.claims("token") is None


def test_the_cache_is_bounded_and_can_be_turned_off() -> None:
    clock = Clock()
    cache = VerifiedTokenCache(max_size=2, revocation_window=None, clock=clock)
    for name in ("a", "b", "c"):
        cache.remember(name, _claims(name, clock.now + 3600))
    assert [cache.claims(name) is not None for name in ("a", "b", "c")] == [False, True, True]
    off = VerifiedTokenCache(max_size=0, revocation_window=None, clock=clock)
    off.remember("a", _claims("a", clock.now + 3600))
    assert off.claims("a") is None


def test_tokens_are_kept_by_hash_only() -> None:
    clock = Clock()
    cache = VerifiedTokenCache(max_size=10, revocation_window=None, clock=clock)
    cache.remember("secret-token", _claims("u1", clock.now + 3600))
    keys = list(cache._entries or {})
    assert len(keys) == 1 and b"secret-token" not in keys[0] and len(keys[0]) == 32
