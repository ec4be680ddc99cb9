"""A full disk under the SQLite store: /healthz says 503, webhooks are refused so Telnyx
retries, nothing is corrupted, and everything goes on once there is space again."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from nacl.signing import SigningKey

from flowlang.serve.app import WebhookApp, create_app
from flowlang.serve.store import open_store
from flowlang.serve.telnyx.signature import Verifier
from tests.server.fake_telnyx import FakeTelnyx
from tests.server.live import ThreadServer, wait_for
from tests.server.scenarios import EVERYTHING, assert_ran_like_the_simulator, finish, program


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs of its own (mounting needs root, as CI and the dev machines run)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.fail(
            f"cannot mount a small tmpfs for the disk-full test (run as root): {mounted.stderr}",
            pytrace=False,
        )
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "filler"
    chunk = b"\0" * 4096
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def refused(app: WebhookApp) -> float:
    sample = app.metrics.registry.get_sample_value("flowlang_webhooks_total", {"result": "503"})
    return sample or 0.0


def test_a_full_disk_is_unhealthy_and_recovers_with_nothing_lost(small_disk: Path) -> None:
    key = SigningKey.generate()
    fake = FakeTelnyx(key)
    db = small_disk / "calls.db"
    app = create_app(
        program(EVERYTHING),
        open_store(f"sqlite:///{db}"),
        verifier=Verifier(key.verify_key),
        api_key=fake.api_key,
        api_base=fake.api_base,
    )
    server = ThreadServer(app)
    fake.webhook_url = server.url + "/webhook"
    inputs = ["1", "1234#", "9"]
    try:
        call = fake.call("v3:full", inputs, hold=True)
        wait_for(lambda: call.waiting, 60, "the call to wait")
        assert httpx.get(server.url + "/healthz").status_code == 200
        filler = fill(small_disk)
        health = httpx.get(server.url + "/healthz")
        assert health.status_code == 503
        assert "full" in health.json()["error"]
        # The caller presses a key: its webhook is refused with 503 (Telnyx retries it).
        call.release()
        wait_for(lambda: refused(app) >= 1, 60, "a webhook to be refused")
        assert not call.finished
        os.unlink(filler)
        assert httpx.get(server.url + "/healthz").status_code == 200
        finish(call)
        assert_ran_like_the_simulator(fake, call, EVERYTHING, inputs)
    finally:
        server.stop()
        fake.close()
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
