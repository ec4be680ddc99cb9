"""How the webhook app is served over HTTP/1.1: uvicorn, with a deadline on each request's head.

uvicorn's httptools protocol parses requests in C (llhttp, Node.js's parser). Its pure-Python
h11 protocol cost about a third of the event loop's time per webhook, and that thread is what
limits a busy server.

uvicorn closes a keep-alive connection that stays silent after a response, and the app bounds
the time a body may take (BODY_TIMEOUT), but nothing bounds a request line and headers that
arrive a byte at a time, or a connection opened and never written to: each would hold a socket
and its memory for ever. Here every request's head must be complete within `head_timeout`
seconds of the connection opening, or of the previous response; otherwise the client gets a
408 and the connection is closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from flowlang.serve.app import BODY_TIMEOUT

HEAD_TIMEOUT = BODY_TIMEOUT

_TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: 50\r\n\r\n"
    b'{"error": "request headers not received in time"}\n'
)

# How long a connection cut off for a slow head is read (and what comes dropped) before it is
# closed.
_LINGER = 2.0

logger = logging.getLogger("flowlang.serve.app")


class _HeadDeadline(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's head."""

    head_timeout = HEAD_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None
    _lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm()  # the head is in: the app bounds the body
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self._serving():
            self._arm()  # the next request's head has the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _serving(self) -> bool:
        # A request whose head is complete is being answered, or waits its turn behind one.
        return bool(self.pipeline) or (
            self.cycle is not None and not self.cycle.response_complete
        )

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self._serving():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else None
        logger.warning(
            json.dumps(
                {
                    "event": "webhook",
                    "status": 408,
                    "reason": f"request headers not received within {self.head_timeout:g} s",
                    "client": client,
                }
            )
        )
        self.transport.write(_TOO_SLOW)
        # A lingering close: the answer goes, the sending side is shut, and whatever the client
        # still sends is read and dropped for a moment. Closing outright with its bytes unread
        # would make the kernel reset the connection, and the client might lose the 408.
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER, self.transport.close)


def uvicorn_config(app: Any, head_timeout: float = HEAD_TIMEOUT, **options: Any) -> uvicorn.Config:
    """A uvicorn configuration that serves `app` with the head deadline, quietly (the app logs
    each webhook itself) and with the ASGI lifespan on; `options` go to uvicorn.Config."""
    protocol = type("HeadDeadline", (_HeadDeadline,), {"head_timeout": head_timeout})
    settings: dict[str, Any] = {
        "lifespan": "on",
        "log_config": None,
        "access_log": False,
        "log_level": "warning",
        **options,
    }
    return uvicorn.Config(app, http=protocol, **settings)
