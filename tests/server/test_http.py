"""The HTTP/1.1 server in front of the app: each request's head has a deadline."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from tests.server.live import ThreadServer

HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


async def healthz(scope: dict, receive: object, send: object) -> None:
    """A stand-in app: enough to answer /healthz."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(1.0)  # twice the deadline on heads: answering takes what it takes
    body = b'{"status": "ok"}'
    await send(  # type: ignore[operator]
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})  # type: ignore[operator]


@pytest.fixture
def server() -> Iterator[ThreadServer]:
    served = ThreadServer(healthz, head_timeout=0.5)
    yield served
    served.stop()


def read_until_closed(sock: socket.socket, trickle: bytes = b"") -> bytes:
    """Everything the server sends until it closes the connection, sending `trickle` a byte
    every 50 ms meanwhile; at most 5 s."""
    sock.settimeout(0.05)
    received = b""
    deadline = time.monotonic() + 5
    sent = 0
    while time.monotonic() < deadline:
        if sent < len(trickle):
            try:
                sock.sendall(trickle[sent : sent + 1])
                sent += 1
            except OSError:
                sent = len(trickle)
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the connection was still open after 5 s; received {received!r}")


def test_headers_that_trickle_in_get_a_408_and_the_connection_closed(
    server: ThreadServer,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        # 60 bytes at 20 a second: 3 s, far beyond the 0.5 s deadline.
        answer = read_until_closed(
            sock, trickle=b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 30
        )
    assert answer.startswith(b"HTTP/1.1 408"), answer


def test_a_connection_that_never_speaks_is_closed(server: ThreadServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408")


def test_a_slow_next_request_on_a_kept_alive_connection_is_cut_off_too(
    server: ThreadServer,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(HEAD)
        answer = read_until_closed(sock, trickle=b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 40)
    first, _, rest = answer.partition(b'{"status": "ok"}')
    assert first.startswith(b"HTTP/1.1 200") and rest.startswith(b"HTTP/1.1 408"), answer


def test_requests_in_time_are_served_on_one_connection(server: ThreadServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        for _ in range(3):
            sock.sendall(HEAD)
            answer = b""
            while not answer.endswith(b'{"status": "ok"}'):
                chunk = sock.recv(4096)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200")
            time.sleep(0.3)  # each pause is within the deadline: the connection stays open


def test_a_pipelined_request_waiting_behind_a_slow_answer_is_not_cut_off(
    server: ThreadServer,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(HEAD.replace(b"/healthz", b"/slow") * 2)
        answer = b""
        while answer.count(b'{"status": "ok"}') < 2:
            chunk = sock.recv(4096)
            assert chunk, answer
            answer += chunk
    assert answer.count(b"HTTP/1.1 200") == 2 and b"408" not in answer, answer
