"""Session tokens, the login rate limit and the security headers of every response."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "classdyad_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: no inline script or style, nothing from another origin, never framed
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def new_token() -> str:
    """A random URL-safe token of 256 bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a session token (its SHA-256), so a stolen copy cannot log in."""
    return hashlib.sha256(token.encode()).hexdigest()


class LoginRateLimit:
    """At most ``limit`` failed logins per account in any ``window`` seconds (in this process)."""

    def __init__(self, limit: int = 5, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, username: str) -> bool:
        """Whether the account has used up its failures for the current window."""
        with self._lock:
            return len(self._recent(username.lower(), time.monotonic())) >= self.limit

    def failed(self, username: str) -> None:
        """Count one failed login for the account (names with no recent failure are forgotten,
        so guessing many usernames cannot fill the memory)."""
        with self._lock:
            now = time.monotonic()
            if len(self._failures) > 10_000:
                for key in [k for k, v in self._failures.items()
                            if not v or v[-1] <= now - self.window]:
                    del self._failures[key]
            self._recent(username.lower(), now).append(now)

    def succeeded(self, username: str) -> None:
        """Forget the account's failures."""
        with self._lock:
            self._failures.pop(username.lower(), None)


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response (no-store to API ones)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if api:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SECURITY_HEADERS",
    "SESSION_COOKIE",
    "LoginRateLimit",
    "SecurityHeaders",
    "new_token",
    "token_hash",
]
