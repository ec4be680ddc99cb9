"""A backend for `fetch` tests, over loopback: good answers and every kind of bad one."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeBackend:
    """Answers by path: `/orders/N` and `POST /callbacks` with JSON objects; `/html`, `/500`,
    `/big` (10 MB), `/array` and `/hang` (never answers while `hold` is clear) badly; `/gate`
    holds its first request until `hold` is set, then answers. Every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.hold = threading.Event()
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self.hold.set()
        self._server.shutdown()
        self._server.server_close()

    def record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "headers": headers, "body": body}
            )
            count = len(self.requests)
        self.arrived.set()
        return count


def _handler(backend: FakeBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the http.server spelling
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802 - the http.server spelling
            self._answer("POST")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            count = backend.record(method, self.path, headers, body)
            path = self.path.split("?")[0]
            if path.startswith("/orders/"):
                self._json(200, {"state": "shipped", "items": {"count": 2}})
            elif path == "/callbacks":
                self._json(200, {"id": 7})
            elif path == "/gate":
                if count == 1:
                    backend.hold.wait(60)
                self._json(200, {"id": 8})
            elif path == "/html":
                self._send(200, "text/html", b"<html><body>Maintenance</body></html>")
            elif path == "/500":
                self._json(500, {"error": "database down"})
            elif path == "/array":
                self._json(200, [{"state": "shipped"}])
            elif path == "/big":
                self._big()
            elif path == "/hang":
                backend.hold.wait(60)
                self._json(200, {"state": "late"})
            else:
                self._json(404, {"error": "no such thing"})

        def _json(self, status: int, document: Any) -> None:
            self._send(status, "application/json", json.dumps(document).encode())

        def _send(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _big(self) -> None:
            # Ten megabytes of a JSON object, sent chunked: no length to refuse it by.
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            piece = b'"x": "' + b"y" * 65_000 + b'", '
            try:
                self._chunk(b"{")
                for _ in range(160):
                    self._chunk(piece)
                self._chunk(b'"end": 1}')
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client stopped reading, as it should

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
