"""A throwaway PostgreSQL cluster on loopback for tests and benchmarks: Debian's `postgresql`
package, initdb into a temporary folder, run as the `postgres` user when we are root."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL is not installed: the store tests need Debian's postgresql package"
    " (apt-get update && apt-get install -y postgresql; bash scripts/test-deps does this)"
)


def binaries() -> Path:
    """The newest /usr/lib/postgresql/*/bin that has initdb; RuntimeError when there is none."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not found:
        raise RuntimeError(INSTALL_HINT)
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A PostgreSQL server of its own, stopped (and its folder removed) by `stop`.

    `fsync=off` suits a throwaway cluster: a crash of the machine loses it anyway. Each test gets
    a database of its own from `database()`.
    """

    def __init__(self, fast: bool = True) -> None:
        self.bin = binaries()
        self.dir = Path(tempfile.mkdtemp(prefix="flowlang-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: the package's `postgres` user owns the cluster.
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(INSTALL_HINT + " (no postgres user)") from None
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self._options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.dir}",
            "-c max_connections=300",
            "-c shared_buffers=32MB",
        ]
        if fast:
            self._options += [
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        self.start()

    def start(self) -> None:
        """Start the server; returns once it accepts connections."""
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            " ".join(self._options),
            "-w",
            "-t",
            "60",
            "start",
        )

    def shut_down(self) -> None:
        """Stop the server as an operator's restart does (its connections are told and cut),
        keeping its databases for `start`."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self._as, *command], capture_output=True, text=True, timeout=120, cwd=self.dir
        )
        if done.returncode != 0:
            log = self.dir / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()}\n{tail}"
            )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty store; returns its URL. (A schema of its own, named on the URL: much
        quicker to make than a database.)"""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Link:
    """A TCP relay on loopback to `port` that a test cuts as a network does: `cut` ends the
    connections through it, and those made after are taken in but never answered, even once
    `mend` lets new ones through again. `held` counts those left unanswered."""

    def __init__(self, port: int) -> None:
        self._to = port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self.held = 0
        self._cut = False
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        """`url` (a cluster's) by way of this link."""
        return url.replace(f":{self._to}/", f":{self.port}/", 1)

    def _accept(self) -> None:
        while not self._closed:
            try:
                near, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._sockets.append(near)
            if self._cut:
                self.held += 1
                continue
            far = socket.create_connection(("127.0.0.1", self._to))
            self._sockets.append(far)
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self._cut = True
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def mend(self) -> None:
        self._cut = False

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        for s in self._sockets:
            s.close()
