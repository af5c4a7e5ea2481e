"""What every response of the console carries and every request must pass.

- Only GET and HEAD: the console has no write endpoint, so anything else is refused (405).
- With a token, every request needs ``Authorization: Bearer <token>``, compared in constant
  time; without one, the server only listens on loopback (see :mod:`fleetgate.console.serve`)
  and only answers requests addressed to a loopback name, so a web page that rebinds its own
  host name to 127.0.0.1 (DNS rebinding) cannot read the log through a visitor's browser.
- A strict Content-Security-Policy (no script at all, styles and images from the console
  only), ``nosniff``, no referrer, no framing, no caching of audit data.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["HEADERS", "LOOPBACK_NAMES", "SecurityMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
_ENCODED = [(name.encode(), value.encode()) for name, value in HEADERS.items()]


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, token: str | None, hosts: frozenset[str] = LOOPBACK_NAMES) -> None:
        """``hosts``: the names (without port) a tokenless request may address."""
        self._app = app
        self._expected = f"Bearer {token}".encode() if token else None
        self._hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if self._expected is not None and not self._authorized(scope):
            await _plain(send, 401, b"a bearer token is required\n", [(b"www-authenticate", b"Bearer")])
            return
        if self._expected is None and _host(scope) not in self._hosts:
            await _plain(send, 421, b"this console answers only requests for its loopback address\n", [])
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, b"the console is read-only\n", [(b"allow", b"GET, HEAD")])
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {bytes(name).lower() for name, _ in _ENCODED}
                kept = [(n, v) for n, v in message.get("headers", []) if bytes(n).lower() not in names]
                message["headers"] = [*kept, *_ENCODED]
            await send(message)

        await self._app(scope, receive, secured)

    def _authorized(self, scope: Scope) -> bool:
        assert self._expected is not None
        given = b""
        for name, value in scope.get("headers", []):
            if bytes(name).lower() == b"authorization":
                given = bytes(value)
        return hmac.compare_digest(given, self._expected)


def _host(scope: Scope) -> str:
    """The name a request was addressed to (its Host header without the port), lower case."""
    for name, value in scope.get("headers", []):
        if bytes(name).lower() == b"host":
            host = bytes(value).decode("latin-1").lower()
            if ":" in host and not host.endswith("]"):  # a port, after a name or an [IPv6] address
                host = host.rpartition(":")[0]
            return host
    return ""


async def _plain(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), *extra, *_ENCODED]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
