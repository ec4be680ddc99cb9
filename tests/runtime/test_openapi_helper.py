"""The OpenAPI helper accepts valid bodies and webhooks and names what is wrong with bad ones."""

from __future__ import annotations

import pytest

from tests.openapi import (
    actions,
    command_errors,
    validate_command,
    validate_webhook,
    validate_webhook_payload,
    webhook_errors,
)

GOOD = [
    ("answer", {"client_state": "eyJzIjoxfQ==", "command_id": "c-1"}),
    ("speak", {"payload": "Hi", "voice": "Telnyx.KokoroTTS.af", "language": "en-US"}),
    ("gather_using_speak", {"payload": "Press 1", "voice": "v", "maximum_tries": 1}),
    ("gather_using_ai", {"parameters": {"type": "object", "properties": {}}}),
    ("ai_assistant_add_messages", {"messages": [{"role": "system", "content": "x"}]}),
    (
        "ai_assistant_add_messages",
        {"messages": [{"role": "tool", "content": "42", "tool_call_id": "call_1"}]},
    ),
    ("gather", {"terminating_digit": ""}),
    ("ai_assistant_start", {"assistant": {"id": "assistant-1"}}),
    (
        "ai_assistant_start",
        {
            "assistant": {
                "id": "assistant-1",
                "instructions": "Be brief.",
                "greeting": "Hi.",
                "voice_settings": {"voice": "AWS.Polly.Joanna-Neural"},
            }
        },
    ),
    ("gather_using_speak", {"payload": "PIN", "voice": "v", "terminating_digit": "*"}),
    ("transfer", {"to": "+13125550001", "timeout_secs": 30}),
]


@pytest.mark.parametrize(("action", "body"), GOOD, ids=[a for a, _ in GOOD])
def test_valid_bodies_pass(action: str, body: dict[str, object]) -> None:
    validate_command(action, body)


BAD = [
    ("speak", {"payload": "Hi"}, "'voice' is a required property"),
    ("speak", {"payload": "Hi", "voice": "v", "language": "xx"}, "language"),
    ("gather", {"timeout_milis": 5}, "timeout_milis: not a property"),
    ("gather", {"minimum_digits": "1"}, "minimum_digits"),
    ("hangup", {"client_state": "not base64!"}, "not valid base64"),
    ("hangup", {"client_state": "eyJzIjox\nfQ=="}, "line break"),
    ("ai_assistant_add_messages", {"messages": [{"role": "robot", "content": "x"}]}, "robot"),
    # The overlay: the newer facts of spec/telnyx/NOTES.md.
    (
        "ai_assistant_add_messages",
        {"messages": [{"role": "tool", "content": "42"}]},
        "messages/0: {'role': 'tool', 'content': '42'} is not valid",
    ),
    (
        "ai_assistant_add_messages",
        {"messages": [{"role": "user", "content": "x", "tool_call_id": "c"}]},
        "is not valid under any of the given schemas",
    ),
    ("gather", {"terminating_digit": "##"}, "terminating_digit: '##' does not match"),
    ("ai_assistant_start", {}, "'assistant' is a required property"),
    ("ai_assistant_start", {"assistant": {}}, "assistant: 'id' is a required property"),
    ("ai_assistant_start", {"assistant": {"id": ""}}, "assistant/id: '' should be non-empty"),
    (
        "ai_assistant_start",
        {"assistant": {"id": "a"}, "voice": "Telnyx.KokoroTTS.af"},
        "voice: not a property of the ai_assistant_start request",
    ),
    (
        "ai_assistant_start",
        {"assistant": {"id": "a"}, "voice_settings": {"voice": "x"}},
        "voice_settings: not a property",
    ),
    (
        "ai_assistant_start",
        {"assistant": {"id": "a", "voice": "Telnyx.KokoroTTS.af"}},
        "Additional properties are not allowed ('voice' was unexpected)",
    ),
    ("gather_using_audio", {"terminating_digit": "none"}, "terminating_digit"),
    ("no_such_action", {}, "not in the OpenAPI subset"),
]


@pytest.mark.parametrize(("action", "body", "needle"), BAD, ids=[n for _, _, n in BAD])
def test_invalid_bodies_are_named(action: str, body: dict[str, object], needle: str) -> None:
    problems = command_errors(action, body)
    assert any(needle in p for p in problems), problems
    with pytest.raises(AssertionError):
        validate_command(action, body)


def test_actions_include_the_subset_and_notes_extras() -> None:
    names = actions()
    assert {"answer", "gather_using_ai", "ai_assistant_add_messages", "transfer"} <= set(names)


def test_webhook_envelope_is_checked() -> None:
    envelope = {
        "data": {
            "record_type": "event",
            "event_type": "call.gather.ended",
            "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
            "payload": {"call_control_id": "c", "digits": "1", "status": "valid"},
        },
        "meta": {"attempt": 1},
    }
    validate_webhook("call.gather.ended", envelope)
    envelope["data"]["payload"]["status"] = "done"  # type: ignore[index]
    assert any("status" in p for p in webhook_errors("call.gather.ended", envelope))
    assert webhook_errors("call.speak.ended", envelope)


def test_webhook_payload_is_checked() -> None:
    validate_webhook_payload("call.ai_gather.ended", {"status": "valid", "result": {"a": 1}})
    with pytest.raises(AssertionError):
        validate_webhook_payload("call.ai_gather.ended", {"status": "maybe"})


def test_env_variable_points_at_another_spec(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    missing = tmp_path / "nowhere.json"
    monkeypatch.setenv("FLOWLANG_TELNYX_SPEC", str(missing))
    with pytest.raises(FileNotFoundError):
        actions()
