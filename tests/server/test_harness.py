"""The end-to-end harness gives up in seconds, saying why, when its server or fake cannot work."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

import tests.server.fake_telnyx as fake_module
from tests.server.fake_telnyx import FakeTelnyx
from tests.server.live import ThreadServer, wait_for
from tests.server.scenarios import EVERYTHING, finish
from tests.server.test_e2e import Rig

# Far below the 120 s the waits allow: the harness must notice the failure, not time out.
PROMPT = 30.0


def test_a_fake_that_cannot_validate_fails_the_call_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(action: str, body: Any) -> list[str]:
        raise FileNotFoundError("no spec here")

    monkeypatch.setattr(fake_module, "command_errors", broken)
    rig = Rig(tmp_path, EVERYTHING)
    try:
        call = rig.fake.call("v3:broken", ["hangup"])
        started = time.monotonic()
        with pytest.raises(AssertionError, match="handling answer: FileNotFoundError"):
            finish(call)
        assert time.monotonic() - started < PROMPT
    finally:
        rig.close()


def test_a_fake_without_its_spec_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWLANG_TELNYX_SPEC", str(tmp_path / "nowhere.json"))
    with pytest.raises(FileNotFoundError, match="vendored at"):
        FakeTelnyx(SigningKey.generate())


def test_an_invalid_body_ends_the_wait_with_the_problem(tmp_path: Path) -> None:
    rig = Rig(tmp_path, EVERYTHING)
    try:
        call = rig.fake.call("v3:invalid", ["hangup"])
        rig.fake.invalid.append("speak: voice: not a voice")
        with pytest.raises(AssertionError, match="speak: voice: not a voice"):
            finish(call)
    finally:
        rig.close()


def test_a_quiet_call_is_reported_as_stuck() -> None:
    fake = FakeTelnyx(SigningKey.generate())
    try:
        fake.last_activity = time.monotonic() - 3600
        with pytest.raises(AssertionError, match=r"no command and no webhook for \d+s"):
            wait_for(lambda: False, 120, "a call", lambda: fake.trouble([], 10, 0.0))
    finally:
        fake.close()


def test_a_server_thread_that_dies_is_reported_at_once() -> None:
    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("cannot start")

    started = time.monotonic()
    with pytest.raises(AssertionError, match="ended without starting"):
        ThreadServer(app)
    assert time.monotonic() - started < PROMPT
