"""The login rate limit on its own, with a clock the test moves."""

from __future__ import annotations

from classdyad.web import security
from classdyad.web.security import LoginRateLimit, token_hash


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_block_the_account_for_the_rest_of_the_minute(monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr(security.time, "monotonic", clock)
    limit = LoginRateLimit(5, 60.0)
    for _ in range(4):
        limit.failed("Anna")
    assert not limit.blocked("anna")
    limit.failed("ANNA")
    assert limit.blocked("anna") and not limit.blocked("bram")
    clock.now += 59.0
    assert limit.blocked("anna")
    clock.now += 1.5
    assert not limit.blocked("anna")
    limit.failed("anna")
    limit.succeeded("anna")
    assert not limit.blocked("anna")


def test_many_guessed_usernames_are_forgotten_once_stale(monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr(security.time, "monotonic", clock)
    limit = LoginRateLimit(5, 60.0)
    for i in range(10_001):
        limit.failed(f"guess{i}")
    clock.now += 61.0
    limit.failed("late")
    assert len(limit._failures) == 1


def test_the_database_keeps_only_a_hash_of_the_session_token() -> None:
    token = security.new_token()
    assert len(token) >= 43 and token_hash(token) != token and len(token_hash(token)) == 64
