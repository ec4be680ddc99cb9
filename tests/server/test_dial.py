"""Calling out over loopback: `POST /calls` on the real server, placed through the fake Telnyx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowlang.offline.simulator import simulate
from flowlang.serve.telnyx.client import RetryPolicy
from tests.server.live import ROOT, wait_for
from tests.server.scenarios import finish, program, without_ids
from tests.server.test_e2e import Rig

REMINDER = ROOT / "examples" / "appointment_reminder.flow"
TOKEN = "s3cret-token"
VALUES = {"patient": "Ann Lee", "day": "Tuesday", "time": "10 AM"}


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    built = Rig(tmp_path, REMINDER, dial_token=TOKEN, connection_id="1494404757140276705")
    yield built
    built.close()


def post(rig: Rig, body: Any, token: str = TOKEN) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(rig.server.url + "/calls", json=body, headers=headers, timeout=10)


def outcome(rig: Rig, dial_id: str) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {TOKEN}"}
    found: list[dict[str, Any]] = []

    def finished() -> bool:
        answer = httpx.get(f"{rig.server.url}/calls/{dial_id}", headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        found[:] = [answer.json()]
        return bool(found[0]["finished"])

    wait_for(finished, 60, "the placed call to finish")
    return found[0]


def test_without_a_token_configured_the_endpoint_is_off(tmp_path: Path) -> None:
    rig = Rig(tmp_path, REMINDER)
    try:
        answer = post(rig, {"to": "+13125550111", "inputs": VALUES})
        assert answer.status_code == 404
        assert rig.fake.dials == []
    finally:
        rig.close()


@pytest.mark.parametrize("token", ["wrong", ""], ids=["wrong", "none"])
def test_a_wrong_token_is_refused_and_nobody_is_called(rig: Rig, token: str) -> None:
    answer = post(rig, {"to": "+13125550111", "inputs": VALUES}, token=token)
    assert answer.status_code == 401
    assert rig.fake.dials == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "312-555-0111", "inputs": VALUES}, "to"),
        ({"inputs": VALUES}, "to"),
        ({"to": "+13125550111", "from": "5550199", "inputs": VALUES}, "from"),
        ({"to": "+13125550111", "inputs": {"patient": "Ann"}}, "inputs.day"),
        ({"to": "+13125550111", "inputs": {**VALUES, "room": "3"}}, "inputs.room"),
    ],
    ids=["bad-to", "no-to", "bad-from", "missing-input", "unknown-input"],
)
def test_a_bad_request_is_422_naming_the_field(rig: Rig, body: Any, field: str) -> None:
    answer = post(rig, body)
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert rig.fake.dials == []


def test_a_person_confirms_and_the_call_runs_as_simulated(rig: Rig) -> None:
    rig.fake.callees.append(["answered", "human", "1"])
    answer = post(rig, {"to": "+13125550111", "inputs": VALUES})
    assert answer.status_code == 202
    found = outcome(rig, answer.json()["id"])
    assert (found["status"], found["answered_by"]) == ("answered", "human")
    dial = rig.fake.dials[0]
    assert dial["connection_id"] == "1494404757140276705"
    assert (dial["to"], dial["from"]) == ("+13125550111", "+13125550199")
    assert dial["answering_machine_detection"] == "greeting_end"
    call = rig.fake.calls["v3:placed-1"]
    finish(call)  # the run has ended; its last command may still be on its way
    want = simulate(program(REMINDER), ["human", "1"], values=VALUES)
    assert without_ids(call.accepted) == without_ids(
        [(c.action, c.body) for c in want.commands if not c.is_message]
    )
    assert rig.fake.invalid == []


def test_a_machine_gets_the_message_after_the_beep_and_the_office_a_text(rig: Rig) -> None:
    rig.fake.callees.append(["answered", "machine", "beep"])
    answer = post(rig, {"to": "+13125550122", "inputs": VALUES})
    found = outcome(rig, answer.json()["id"])
    assert found["answered_by"] == "machine"
    call = rig.fake.calls["v3:placed-1"]
    finish(call)
    spoken = [b["payload"] for a, b in call.accepted if a == "speak"]
    assert spoken and spoken[0].startswith("Hello Ann Lee, this is Maple Dental")
    wait_for(lambda: len(rig.fake.messages) == 1, 30, "the text to the office")
    assert rig.fake.invalid == []


@pytest.mark.parametrize("result", ["no_answer", "busy", "failed"])
def test_a_call_nobody_answers_ends_with_its_outcome_and_runs_no_flow(
    rig: Rig, result: str
) -> None:
    rig.fake.callees.append([result])
    answer = post(rig, {"to": "+13125550133", "inputs": VALUES})
    found = outcome(rig, answer.json()["id"])
    assert found["status"] == result and found["answered_by"] is None
    assert rig.fake.calls["v3:placed-1"].accepted == []


def test_a_call_telnyx_cannot_be_reached_to_place_ends_failed_with_the_reason(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path, REMINDER, dial_token=TOKEN, connection_id="1494404757140276705",
              policy=RetryPolicy(base_delay=0.01, max_delay=0.05, give_up_after=0.5))
    try:
        rig.fake.refuse_dials = True
        answer = post(rig, {"to": "+13125550155", "inputs": VALUES})
        assert answer.status_code == 202
        found = outcome(rig, answer.json()["id"])
        assert found["status"] == "failed" and found["finished"] is True
        assert "could not be reached" in found["reason"]
        assert "HTTP 500" in found["reason"]
        # Tried again and again, then given up; nobody was called, and no hangup was sent for
        # a call that never existed.
        assert rig.fake.dial_tries >= 3 and rig.fake.dials == []
        assert rig.fake.actions == []
    finally:
        rig.close()


def test_a_placed_call_is_recorded_with_its_inputs_and_replays(rig: Rig, tmp_path: Path) -> None:
    from flowlang.offline.replay import load_call, replay
    from flowlang.offline.scenario.recorded import scenario_text

    rig.fake.callees.append(["answered", "machine", "beep"])
    answer = post(rig, {"to": "+13125550122", "inputs": VALUES})
    outcome(rig, answer.json()["id"])
    finish(rig.fake.calls["v3:placed-1"])
    call = load_call(f"sqlite:///{tmp_path}/calls.db", "v3:placed-1")
    assert call.placed and call.inputs == VALUES
    assert call.call.called == "+13125550122"
    assert replay(call).ok
    text = scenario_text(call)
    assert '    with patient "Ann Lee"\n' in text and "    detected machine\n" in text


def test_a_text_on_a_call_placed_from_another_number_comes_from_that_number(
    tmp_path: Path,
) -> None:
    flow = tmp_path / "thanks.flow"
    flow.write_text('voice "Telnyx.KokoroTTS.af"\noutbound from "+13125550199"\n\nmain:\n'
                    '    sms "+13125550100" "Called {called}."\n    say "Hello."\n    hangup\n')
    rig = Rig(tmp_path, flow, dial_token=TOKEN, connection_id="1494404757140276705")
    try:
        for number, sender in ((None, "+13125550199"), ("+13125550777", "+13125550777")):
            body = {"to": "+13125550111", **({"from": number} if number else {})}
            outcome(rig, post(rig, body).json()["id"])
            wait_for(lambda: len(rig.fake.messages) == len(rig.fake.dials), 30, "the text")
            assert rig.fake.dials[-1]["from"] == sender
            assert rig.fake.messages[-1]["from"] == sender
        assert rig.fake.invalid == []
    finally:
        rig.close()
