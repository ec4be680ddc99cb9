"""A recording that never arrives after the caller hung up (Telnyx sends neither
`call.recording.saved` nor `call.recording.error`): the served run waits for it at most
RECORDING_WAIT_SECS, then ends with a clear end reason and log lines, without `on saved:`.
The server's clock is injected: no test waits for real."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from flowlang.offline.phone import HangUp, RecordingLost
from flowlang.offline.replay import caller_actions, load_call, replay
from flowlang.offline.scenario.recorded import scenario_text
from flowlang.runtime.events import WAIT_EXPIRED
from flowlang.runtime.interpreter import RECORDING_WAIT_SECS
from flowlang.runtime.state import client_state
from tests.server.test_app import NOW, Harness, Telnyx, envelope, run

FLOW = """\
voice "Telnyx.KokoroTTS.af"
sms_from "+13125550199"

main:
    answer
    record into msg max 2m:
        on saved: sms "+13125550100" "Voicemail: {msg.url}"
        on error: sms "+13125550100" "The voicemail failed"
    say "Thank you."

on hangup:
    sms "+13125550100" "Call from {caller} ended"
"""
CALL = "v3:lost-recording"
LOST = "hangup: no recording arrived within 10 minutes after the caller hung up"


class Clock:
    """The server's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def event(kind: str, number: int, seq: int | None = None, **payload: Any) -> bytes:
    if seq is not None:
        payload["client_state"] = client_state(seq)
    return envelope(kind, call=CALL, event_id=f"e{number}", **payload)


async def hang_up_while_recording(h: Harness) -> None:
    """The call is answered, recording, and then the caller hangs up."""
    incoming = envelope("call.initiated", call=CALL, event_id="e0", direction="incoming",
                        **{"from": "+15550001111", "to": "+15550002222"})
    assert (await h.post(incoming)).json() == {"result": "started"}
    await h.app.sender.idle()
    assert (await h.post(event("call.answered", 1, seq=1))).json() == {"result": "stepped"}
    await h.app.sender.idle()
    hangup = event("call.hangup", 2, seq=2, hangup_cause="normal_clearing")
    assert (await h.post(hangup)).json() == {"result": "stepped"}
    await h.app.sender.idle()


def status(url: str) -> tuple[str, str | None]:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT status, end_reason FROM calls WHERE call_control_id = ?",
                         (CALL,)).fetchone()
    return row[0], row[1]


def lines(caplog: pytest.LogCaptureFixture, kind: str) -> list[dict[str, Any]]:
    found = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]
    return [line for line in found if line.get("event") == kind]


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "voicemail.flow"
    path.write_text(FLOW, encoding="utf-8")
    return path


def test_the_run_ends_ten_minutes_after_the_hangup_without_on_saved(
    store_url: str, flow: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    telnyx = Telnyx()

    async def test(h: Harness) -> None:
        await hang_up_while_recording(h)
        assert telnyx.actions == ["answer", "record_start"]
        assert await h.app.store.expired(clock.now + RECORDING_WAIT_SECS - 1) == []
        # A moment before the limit the clean-up changes nothing.
        clock.now += RECORDING_WAIT_SECS - 1
        assert await h.app.expire(clock.now) == 0
        assert (await h.app.store.counts()).active_calls == 1
        # At the limit it ends the run: no `on saved:`, no `on error:`, then `on hangup:`.
        clock.now += 1
        with caplog.at_level(logging.INFO, logger="flowlang.serve.app"):
            await h.app.cleanup()
            await h.app.sender.idle()
        assert (await h.app.store.counts()).active_calls == 0
        (expired,) = lines(caplog, "wait_expired")
        assert expired == {"event": "wait_expired", "call_control_id": CALL, "end": LOST}
        warning, = [line for line in lines(caplog, "flow_log") if line["level"] == "warning"]
        assert warning["line"] == 6
        assert "`on saved:` and `on error:` did not run" in warning["text"]
        assert [b["text"] for a, b in telnyx.requests if a == "messages"] == [
            "Call from +15550001111 ended"
        ]
        # The recording turning up after all changes nothing: the run is over.
        late = event("call.recording.saved", 3, seq=2,
                     recording_urls={"mp3": "https://r.example/late.mp3"})
        assert (await h.post(late)).json() == {"result": "call_over"}
        # A second clean-up (another worker's, say) finds nothing more to do.
        assert await h.app.expire(clock.now + 3600) == 0

    run(test, telnyx, url=store_url, flow=flow, clock=clock)
    if store_url.startswith("sqlite"):
        assert status(store_url) == ("ended", LOST)
    # The call's history replays exactly, the expiry included.
    recorded = load_call(store_url, CALL)
    assert recorded.steps[-1].event.type == WAIT_EXPIRED
    assert replay(recorded).ok
    # As the simulator takes it, the caller hung up and the recording never arrived; the
    # scenario written from the call says so, and passes.
    assert caller_actions(recorded)[-2:] == [HangUp(), RecordingLost()]
    text = scenario_text(recorded)
    assert "    hang up\n    recording never arrives\n" in text
    assert '    expect sms "Call from +15550001111 ended"' in text


def test_a_recording_that_arrives_in_time_clears_the_limit(tmp_path: Path, flow: Path) -> None:
    clock = Clock()
    telnyx = Telnyx()

    async def test(h: Harness) -> None:
        await hang_up_while_recording(h)
        clock.now += 30
        saved = event("call.recording.saved", 3, seq=2,
                      recording_urls={"mp3": "https://r.example/v.mp3"})
        assert (await h.post(saved)).json() == {"result": "stepped"}
        await h.app.sender.idle()
        clock.now += RECORDING_WAIT_SECS
        assert await h.app.store.expired(clock.now) == []
        assert await h.app.expire(clock.now) == 0
        assert [b["text"] for a, b in telnyx.requests if a == "messages"] == [
            "Voicemail: https://r.example/v.mp3",
            "Call from +15550001111 ended",
        ]

    run(test, telnyx, url=f"sqlite:///{tmp_path}/calls.db", flow=flow, clock=clock)
