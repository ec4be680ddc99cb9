"""Text messages (`sms`, `POST /messages`) are sent at least once. Unlike a call command they
carry no `command_id`, and Telnyx's messaging API takes nothing else that would recognise a
repeat (spec/telnyx: no idempotency key on `POST /messages`). So a message whose try may have
reached Telnyx is sent again: the phone may get it twice, but it is never silently lost. A call
command in the same doubt, older than Telnyx remembers its command_id, is not sent again."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowlang.runtime.commands import MESSAGE, Command
from flowlang.runtime.state import client_state
from flowlang.serve.store.base import CallChange, StoredCall
from tests.server.test_app import NOW, Harness, Telnyx, envelope, run

FLOW = """\
voice "Telnyx.KokoroTTS.af"
sms_from "+13125550199"

main:
    answer
    sms "+13125550100" "Someone called the office"
    say "We have let the office know. Goodbye."
    hangup
"""
TEXT = {"from": "+13125550199", "to": "+13125550100", "text": "Someone called the office"}


def lines(caplog: pytest.LogCaptureFixture, kind: str) -> list[dict[str, Any]]:
    found = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]
    return [line for line in found if line.get("event") == kind]


class LosesTheFirstAnswer:
    """Telnyx takes the first text message, but its answer never comes back (a read timeout)."""

    def __init__(self) -> None:
        self.messages = 0

    def __call__(self, request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/messages"):
            self.messages += 1
            if self.messages == 1:
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return None


def test_a_message_whose_answer_was_lost_is_sent_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flow = tmp_path / "office.flow"
    flow.write_text(FLOW, encoding="utf-8")
    telnyx = Telnyx(LosesTheFirstAnswer())

    async def test(h: Harness) -> None:
        incoming = envelope("call.initiated", call="v3:sms", direction="incoming",
                            **{"from": "+15550001111", "to": "+15550002222"})
        await h.post(incoming)
        await h.app.sender.idle()
        answered = envelope("call.answered", call="v3:sms", event_id="e2",
                            client_state=client_state(1))
        with caplog.at_level(logging.INFO, logger="flowlang.serve.app"):
            assert (await h.post(answered)).json() == {"result": "stepped"}
            await h.app.sender.idle()

    run(test, telnyx, url=f"sqlite:///{tmp_path}/calls.db", flow=flow)
    # Both tries reached Telnyx with the same text: the phone may show it twice.
    assert [b for a, b in telnyx.requests if a == "messages"] == [TEXT, TEXT]
    # The call went on after it, in order.
    assert telnyx.actions == ["answer", "messages", "messages", "speak"]
    first, again = lines(caplog, "message")
    assert first["result"] == "failed" and "may_repeat" not in first
    assert again["result"] == "sent" and again["may_repeat"] is True


def queue(command: Command) -> Any:
    def step(call: StoredCall | None) -> CallChange:
        return CallChange("d1", {}, "active", commands=(command,), source=("f.flow", "x"))

    return step


def test_after_a_crash_a_message_is_sent_again_but_an_old_call_command_is_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = {"now": NOW}
    telnyx = Telnyx()
    text = Command(MESSAGE, TEXT)
    speak = Command("speak", {"payload": "Hello", "command_id": "v3:b/3"})

    async def test(h: Harness) -> None:
        # A worker claims both rows, then dies before it is heard of again.
        await h.app.store.apply("v3:a", "e1", queue(text), clock["now"], claim=("dead", 30.0))
        await h.app.store.apply("v3:b", "e1", queue(speak), clock["now"], claim=("dead", 30.0))
        # Long after Telnyx has forgotten any command_id, a live worker takes the rows over.
        clock["now"] += 600
        with caplog.at_level(logging.INFO, logger="flowlang.serve.app"):
            assert await h.app.sender.resume() == 2
            await h.app.sender.idle()

    run(test, telnyx, url=f"sqlite:///{tmp_path}/calls.db", clock=lambda: clock["now"])
    assert [b for a, b in telnyx.requests if a == "messages"] == [TEXT]
    (sent,) = lines(caplog, "message")
    assert sent["result"] == "sent" and sent["may_repeat"] is True
    # The speak may have been carried out already: it is dropped and the call hung up.
    assert "speak" not in telnyx.actions
    (stopped,) = lines(caplog, "run_stopped")
    assert stopped["call_control_id"] == "v3:b"
    assert "longer than Telnyx remembers its command_id" in stopped["reason"]
