"""The phone model behaves as Telnyx does: gather entry rules, webhook shapes, client_state echo."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.offline.phone import (
    AiResult,
    ConversationEnds,
    HangUp,
    KeyDuringAi,
    Phone,
    PhoneError,
    Press,
    Silence,
    gather_entry,
    to_event,
)
from flowlang.runtime.commands import Command
from flowlang.runtime.events import CallInfo
from tests.openapi import validate_webhook

CASES = [
    ({}, "12#", ("valid", "12", "12#")),
    ({"terminating_digit": "*"}, "12*", ("valid", "12", "12*")),
    ({"valid_digits": "123"}, "14", ("invalid", "14", "14")),
    ({"minimum_digits": 4, "maximum_digits": 4}, "12#", ("invalid", "12", "12#")),
    ({"minimum_digits": 1, "maximum_digits": 2}, "12345", ("valid", "12", "12")),
    ({}, "#", ("invalid", "", "#")),
    ({"valid_digits": "1234567890", "maximum_digits": 3}, "1*", ("invalid", "1*", "1*")),
    ({"minimum_digits": 2, "maximum_digits": 6}, "123", ("valid", "123", "123")),
    ({"terminating_digit": "", "maximum_digits": 3}, "#12", ("valid", "#12", "#12")),
    ({"terminating_digit": "", "maximum_digits": 4}, "12#", ("valid", "12#", "12#")),
]


@pytest.mark.parametrize(
    ("body", "keys", "expected"),
    CASES,
    ids=[
        "terminator-stripped",
        "own-terminator",
        "key-outside-valid-digits",
        "too-short",
        "stops-at-maximum",
        "only-terminator",
        "star-not-valid",
        "within-bounds-no-terminator",
        "terminator-none-hash-first",
        "terminator-none-hash-last",
    ],
)
def test_gather_entry_follows_telnyx_rules(body, keys, expected) -> None:
    entry = gather_entry(body, keys)
    assert (entry.status, entry.digits, entry.pressed) == expected


KEY = st.sampled_from("0123456789*#")


@settings(max_examples=150, deadline=None)
@given(
    keys=st.text(KEY, min_size=1, max_size=12),
    low=st.integers(1, 5),
    extra=st.integers(0, 5),
    valid=st.text(st.sampled_from("0123456789*"), min_size=1, max_size=11),
)
def test_gather_entry_properties(keys: str, low: int, extra: int, valid: str) -> None:
    body = {"minimum_digits": low, "maximum_digits": low + extra, "valid_digits": valid,
            "terminating_digit": "#"}
    entry = gather_entry(body, keys)
    assert "#" not in entry.digits
    assert len(entry.digits) <= low + extra
    assert keys.startswith(entry.pressed)
    if entry.status == "valid":
        assert all(k in valid for k in entry.digits)
        assert len(entry.digits) >= low
    else:
        assert len(entry.digits) < low or any(k not in valid for k in entry.digits)


def phone() -> Phone:
    return Phone(CallInfo("v3:test-call", "+15550001111", "+15550002222"))


def cmd(action: str, seq: int, **body) -> Command:
    return Command(action, {**body, "client_state": f"c{seq}==", "command_id": f"id-{seq}"})


def test_every_webhook_validates_and_echoes_the_latest_client_state() -> None:
    p = phone()
    events = [p.incoming()]
    events += p.send(cmd("answer", 1))
    events += p.send(cmd("speak", 2, payload="Hi", voice="Telnyx.KokoroTTS.af"))
    events += p.send(cmd("playback_start", 3, audio_url="https://example.com/a.mp3"))
    events += p.send(cmd("gather_using_speak", 4, payload="Press", voice="V", valid_digits="1"))
    events += p.act(Press("1"))
    events += p.send(cmd("gather", 5))
    events += p.act(Silence())
    events += p.send(cmd("gather_using_ai", 6, parameters={}, greeting="Hi"))
    events += p.act(KeyDuringAi("0"))
    events += p.act(AiResult({"name": "Bob"}))
    events += p.send(cmd("ai_assistant_start", 7, greeting="Hi"))
    events += p.act(ConversationEnds())
    events += p.send(cmd("gather", 8))
    events += p.act(HangUp())
    kinds = [e["data"]["event_type"] for e in events]
    assert kinds == [
        "call.initiated", "call.answered", "call.speak.started", "call.speak.ended",
        "call.playback.started", "call.playback.ended", "call.dtmf.received",
        "call.gather.ended", "call.gather.ended", "call.dtmf.received", "call.ai_gather.ended",
        "call.conversation.ended", "call.gather.ended", "call.hangup",
    ]
    for envelope in events:
        validate_webhook(envelope["data"]["event_type"], envelope)
    states = [e["data"]["payload"].get("client_state") for e in events]
    assert states == [None, "c1==", "c2==", "c2==", "c3==", "c3==", "c4==", "c4==", "c5==",
                      "c6==", "c6==", "c7==", "c8==", "c8=="]
    statuses = [e["data"]["payload"].get("status") for e in events if
                e["data"]["event_type"] == "call.gather.ended"]
    assert statuses == ["valid", "timeout", "call_hangup"]
    assert len({e["data"]["id"] for e in events}) == len(events)


def test_to_event_gives_the_interpreter_the_payload_and_id() -> None:
    p = phone()
    envelope = p.send(cmd("answer", 1))[0]
    event = to_event(envelope)
    assert event.type == "call.answered"
    assert event.payload["client_state"] == "c1=="
    assert event.id == envelope["data"]["id"]


def test_strict_phone_refuses_a_command_before_answer() -> None:
    p = Phone(CallInfo("v3:x"), strict=True)
    with pytest.raises(PhoneError) as info:
        p.send(cmd("speak", 1, payload="Hi"))
    assert info.value.code == "90034"


def test_lenient_phone_records_refusals_and_after_the_end_sends_nothing() -> None:
    p = phone()
    p.send(cmd("speak", 1, payload="Hi"))
    assert p.refusals == ["Telnyx refuses `speak`: the call is not answered yet"]
    p.send(cmd("hangup", 2))
    assert p.send(cmd("speak", 3, payload="Hi")) == []
    assert p.refusals[-1] == "Telnyx refuses `speak`: the call has already ended"


@pytest.mark.parametrize(
    ("waiting", "action"),
    [("gather_using_ai", Press("1")), ("ai_assistant_start", AiResult({})),
     ("gather", ConversationEnds())],
    ids=["keys-during-ai", "ai-result-during-assistant", "end-during-gather"],
)
def test_a_caller_action_that_does_not_fit_is_refused(waiting: str, action) -> None:
    p = phone()
    p.send(cmd("answer", 1))
    p.send(cmd(waiting, 2))
    with pytest.raises(PhoneError, match="does not fit"):
        p.act(action)


def test_nothing_waiting_means_only_hangup_fits() -> None:
    p = phone()
    p.send(cmd("answer", 1))
    with pytest.raises(PhoneError, match="not waiting"):
        p.act(Silence())
    assert p.act(HangUp())[-1]["data"]["payload"]["hangup_source"] == "caller"
