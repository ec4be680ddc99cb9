"""Running the server for real over loopback: uvicorn in a thread, or `flowlang serve` as a
subprocess, each on a port the OS picked; and polling helpers for a loaded machine."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from flowlang.serve.app import listening_socket
from flowlang.serve.http import HEAD_TIMEOUT, uvicorn_config

ROOT = Path(__file__).resolve().parents[2]


def wait_for(
    condition: Callable[[], bool],
    timeout: float = 60.0,
    what: str = "condition",
    failed: Callable[[], str | None] = lambda: None,
) -> None:
    """Poll `condition` until true; generous by default, since the machine may be busy, but
    giving up at once when `failed` names a reason the condition can no longer come true."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while not condition():
        reason = failed()
        if reason is not None:
            raise AssertionError(f"gave up waiting for {what}: {reason}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


class ThreadServer:
    """An ASGI app served by uvicorn in a background thread on 127.0.0.1 and a free port."""

    def __init__(self, app: Any, head_timeout: float = HEAD_TIMEOUT) -> None:
        self.sock = listening_socket("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn_config(app, head_timeout))
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        try:
            wait_for(lambda: self.server.started, 30, "uvicorn to start", self._died)
        except AssertionError:
            self.sock.close()
            raise

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # noqa: BLE001 - uvicorn exits with SystemExit on a failed startup
            self.error = exc

    def _died(self) -> str | None:
        if self.thread.is_alive():
            return None
        return f"the uvicorn thread ended without starting ({self.error!r})"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()


class ServeProcess:
    """`flowlang serve FLOW` in a subprocess; its JSON log lines are collected from stderr."""

    def __init__(
        self,
        flow: Path,
        store: str,
        api_base: str,
        env: dict[str, str],
        port: int = 0,
        extra: tuple[str, ...] = (),
    ) -> None:
        command = [
            sys.executable,
            "-c",
            "from flowlang.cli import entry; entry()",
            "serve",
            str(flow),
            "--port",
            str(port),
            "--store",
            store,
            "--api-base",
            api_base,
            *extra,
        ]
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_for(lambda: self.listening is not None or self.proc.poll() is not None, 60, "serve")
        if self.listening is None:
            self.stop()
            raise AssertionError("flowlang serve did not start:\n" + "\n".join(self.lines))
        self.port = int(self.listening["port"])
        wait_for(self._healthy, 30, "healthz", self._exited)

    def _exited(self) -> str | None:
        code = self.proc.poll()
        if code is None:
            return None
        return f"flowlang serve exited with {code}:\n" + "\n".join(self.lines)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def events(self, name: str) -> list[dict[str, Any]]:
        found = []
        for line in list(self.lines):
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("event") == name:
                    found.append(record)
        return found

    @property
    def listening(self) -> dict[str, Any] | None:
        found = self.events("listening")
        return found[0] if found else None

    def _healthy(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return conn.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """kill -9: no shutdown, no flushing, as a crash or an OOM kill would do."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._release()

    def _release(self) -> None:
        self._reader.join(30)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self._release()
