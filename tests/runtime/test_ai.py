"""`ai_gather` (LANGUAGE.md 4) and `assistant` (5): bodies, results, handlers, `on key`."""

from __future__ import annotations

import pytest

from flowlang.runtime.events import CONVERSATION_STARTED
from flowlang.runtime.outcome import Outcome
from tests.runtime.calls import Call, without_correlation

HEAD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\nmain:\n    answer\n'
VOICE = "Telnyx.KokoroTTS.af"

BOOKING = HEAD + (
    "    ai_gather into booking timeout 20s:\n"
    '        greeting "Hi! I can book a table for you."\n'
    '        field name string "The caller\'s full name"\n'
    '        field guests integer "How many people are coming"\n'
    '        field notes string "Anything else we should know" optional\n'
    '        on valid: log "Thanks {booking.name}, {booking.guests} guests."\n'
    '        on invalid: log "invalid {booking.name}"\n'
    '        on key "0":\n'
    '            log "operator"\n'
    '            transfer "+13125550100"\n'
    '    log "after"\n'
)


def ai_call(text: str = BOOKING) -> Call:
    call = Call.of(text)
    call.start()
    call.settle()
    return call


def test_ai_gather_body() -> None:
    call = ai_call()
    assert call.last.waiting == "ai_gather"
    command = call.last.commands[-1]
    assert command.action == "gather_using_ai"
    assert without_correlation(command.body) == {
        "parameters": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "The caller's full name"},
                "guests": {"type": "integer", "description": "How many people are coming"},
                "notes": {"type": "string", "description": "Anything else we should know"},
            },
            "required": ["name", "guests"],
        },
        "greeting": "Hi! I can book a table for you.",
        "voice": VOICE,
        "language": "en",
        "user_response_timeout_ms": 20000,
    }


def test_a_field_description_has_its_variables_filled_in_like_every_string() -> None:
    # LANGUAGE.md 1: a string's `{path}` is the variable's value, `{{`/`}}` a brace; the
    # description was sent as written, `{account}` and all, while `check` read it as a variable.
    text = BOOKING.replace(
        "    ai_gather",
        '    set account = "A-17"\n    ai_gather',
    ).replace(
        '"Anything else we should know"',
        '"Notes on account {account}, {{as written}}, {caller}"',
    )
    call = ai_call(text)
    properties = call.last.commands[-1].body["parameters"]["properties"]
    assert properties["notes"]["description"] == "Notes on account A-17, {as written}, +15550001111"
    assert properties["name"]["description"] == "The caller's full name"


def test_comparing_a_missing_optional_field_is_false_and_the_call_goes_on() -> None:
    text = BOOKING.replace(
        '    log "after"\n',
        '    if booking.notes > 2:\n        log "more"\n'
        '    elif booking.notes <= 2:\n        log "less"\n    log "after"\n',
    )
    call = ai_call(text)
    out = call.event("call.ai_gather.ended", status="valid", result={"name": "Bob", "guests": 4})
    assert out.end is None or out.end.reason != "error"
    assert [line.text for line in out.logs if line.level == "info"] == [
        "Thanks Bob, 4 guests.",
        "after",
    ]


def test_ai_gather_valid_result_is_read_as_fields() -> None:
    call = ai_call()
    out = call.event("call.ai_gather.ended", status="valid", result={"name": "Bob", "guests": 4})
    assert [line.text for line in out.logs] == ["Thanks Bob, 4 guests.", "after"]
    assert call.state["vars"]["booking"] == {"name": "Bob", "guests": 4}
    assert "on:11" in out.reached


def test_ai_gather_invalid_runs_on_invalid() -> None:
    call = ai_call()
    out = call.event("call.ai_gather.ended", status="invalid", result={"name": "Al"})
    assert [line.text for line in out.logs] == ["invalid Al", "after"]


def test_ai_gather_without_handlers_continues() -> None:
    call = ai_call(HEAD + '    ai_gather:\n        field a string "A"\n    log "after"\n')
    out = call.event("call.ai_gather.ended", status="valid", result={"a": "x"})
    assert [line.text for line in out.logs] == ["after"]


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("call.ai_gather.partial_results", {"partial_results": {"name": "Bo"}}),
        (
            "call.ai_gather.message_history_updated",
            {"message_history": [{"role": "user", "content": "hi"}]},
        ),
    ],
    ids=["partial-results", "message-history"],
)
def test_ai_gather_progress_events_are_accepted_without_resuming(event: str, payload: dict) -> None:
    call = ai_call()
    out = call.event(event, **payload)
    assert not out.ignored
    assert out.commands == ()
    assert out.waiting == "ai_gather"
    ended = call.event("call.ai_gather.ended", status="valid", result={"name": "Bo", "guests": 2})
    assert ended.logs[0].text == "Thanks Bo, 2 guests."


def test_ai_gather_partial_results_do_not_grow_the_state() -> None:
    call = ai_call()
    sizes = set()
    for n in range(20):
        call.event("call.ai_gather.partial_results", partial_results={"name": "B" * 10, "n": n})
        sizes.add(len(str(call.state)))
    assert len(sizes) <= 2


def test_on_key_stops_the_ai_gather_and_runs_the_handler() -> None:
    call = ai_call()
    out = call.event("call.dtmf.received", digit="0")
    assert [c.action for c in out.commands] == ["gather_stop", "transfer"]
    assert without_correlation(out.commands[0].body) == {}
    assert [line.text for line in out.logs] == ["operator"]
    assert out.end is not None and out.end.reason == "transfer"


def test_keys_without_handler_are_ignored_during_ai_gather() -> None:
    call = ai_call()
    assert call.event("call.dtmf.received", digit="5").ignored


def test_ai_gather_language_is_sent_as_a_recognition_language() -> None:
    call = ai_call(HEAD + '    ai_gather language "de-DE":\n        field a string "A"\n')
    assert call.last.commands[-1].body["language"] == "de"


ASSISTANT = HEAD + (
    '    set account = "A-17"\n'
    '    assistant id "assistant-123":\n'
    '        greeting "Hi, this is Ava from Acme."\n'
    '        message system "The caller\'s account is {account}."\n'
    '        message user "I need help."\n'
    '        on key "0":\n'
    '            say "Connecting you to a person."\n'
    '            transfer "+13125550003"\n'
    '    log "after"\n'
)


def test_assistant_start_then_messages_then_wait() -> None:
    call = ai_call(ASSISTANT)
    out = call.last
    assert out.waiting == "assistant"
    assert [c.action for c in out.commands] == ["ai_assistant_start", "ai_assistant_add_messages"]
    # Today's API (LANGUAGE.md 16): the greeting is a per-call override inside `assistant`, and
    # the file's voice is not sent (it would replace the stored assistant's own voice).
    assert without_correlation(out.commands[0].body) == {
        "assistant": {"id": "assistant-123", "greeting": "Hi, this is Ava from Acme."},
    }
    assert without_correlation(out.commands[1].body) == {
        "messages": [
            {"role": "system", "content": "The caller's account is A-17."},
            {"role": "user", "content": "I need help."},
        ]
    }


def test_an_assistant_on_one_line_is_the_stored_assistant_as_it_is() -> None:
    # With today's stored assistants (LANGUAGE.md 16), the id alone is a whole hand-over.
    call = ai_call(HEAD + '    assistant id "assistant-7"\n    say "Goodbye."\n')
    assert call.last.waiting == "assistant"
    assert [without_correlation(c.body) for c in call.last.commands] == [
        {"assistant": {"id": "assistant-7"}}
    ]
    out = call.event("call.conversation.ended")
    assert [c.action for c in out.commands] == ["speak"]


@pytest.mark.parametrize(
    "assistant",
    [
        '    assistant id "assistant-9" voice "AWS.Polly.Joanna-Neural":\n',
        '    assistant id "assistant-9":\n        voice "AWS.Polly.Joanna-Neural"\n',
    ],
    ids=["voice-in-the-assistant-line", "voice-in-the-block"],
)
def test_assistant_overrides_go_inside_assistant_and_no_top_level_voice(assistant: str) -> None:
    flow = HEAD + assistant + (
        '        instructions "You are the receptionist."\n'
        '        greeting "Hello."\n'
    )
    call = ai_call(flow)
    assert [c.action for c in call.last.commands] == ["ai_assistant_start"]
    assert without_correlation(call.last.commands[0].body) == {
        "assistant": {
            "id": "assistant-9",
            "instructions": "You are the receptionist.",
            "greeting": "Hello.",
            "voice_settings": {"voice": "AWS.Polly.Joanna-Neural"},
        },
    }


def test_a_tool_message_carries_its_tool_call_id() -> None:
    flow = HEAD + (
        '    set order = "A-17"\n'
        '    assistant id "assistant-9":\n'
        '        message tool "call_{order}" "Order {order} shipped."\n'
    )
    call = ai_call(flow)
    assert without_correlation(call.last.commands[1].body) == {
        "messages": [
            {"role": "tool", "content": "Order A-17 shipped.", "tool_call_id": "call_A-17"},
        ]
    }


@pytest.mark.parametrize("which", [0, 1], ids=["start-client-state", "messages-client-state"])
def test_conversation_ended_continues_after_the_block(which: int) -> None:
    call = ai_call(ASSISTANT)
    client_state = call.last.commands[which].body["client_state"]
    out = call.event("call.conversation.ended", client_state=client_state)
    assert [line.text for line in out.logs] == ["after"]


# Telnyx's own example of call.conversation.ended carries this client_state (NOTES.md).
FOREIGN_STATE = "aGF2ZSBhIG5pY2UgZGF5ID1d"


@pytest.mark.parametrize(
    "state", [FOREIGN_STATE, None, "not base64!"], ids=["foreign", "none", "junk"]
)
def test_conversation_ended_ends_the_wait_whatever_its_client_state(state: str | None) -> None:
    call = ai_call(ASSISTANT)
    out = call.event("call.conversation.ended", client_state=state)
    assert [line.text for line in out.logs] == ["after"]


def test_conversation_ended_of_another_call_is_ignored() -> None:
    call = ai_call(ASSISTANT)
    other = call.event("call.conversation.ended", call_control_id="v3:other", client_state=None)
    assert other.ignored


def test_on_key_stops_the_assistant() -> None:
    call = ai_call(ASSISTANT)
    started = call.last.commands[0].body["client_state"]
    out = call.event("call.dtmf.received", digit="0")
    assert [c.action for c in out.commands] == ["ai_assistant_stop", "speak"]
    assert out.waiting == "speak"
    # The conversation's own end, arriving after the stop, is stale: the flow has moved on.
    assert call.event("call.conversation.ended", client_state=started).ignored
    out = call.complete()
    assert [c.action for c in out.commands] == ["transfer"]


# Two assistants in one call: the first is left with `on key`, and its conversation's end may
# arrive late, while the second talks. It must not end the second's wait.
TWO_ASSISTANTS = HEAD + (
    '    assistant id "assistant-billing":\n'
    '        on key "0": log "left billing"\n'
    '    assistant id "assistant-sales":\n'
    '        greeting "Sales here."\n'
    '    log "after sales"\n'
)


def started(call: Call, conversation: str, which: int = -1) -> Outcome:
    """The driver reports the conversation id Telnyx answered to an ai_assistant_start."""
    start = [c for c in call.commands if c.action == "ai_assistant_start"][which]
    return call.event(CONVERSATION_STARTED, client_state=start.body["client_state"],
                      conversation_id=conversation)


def ended(call: Call, conversation: str | None) -> Outcome:
    payload = {} if conversation is None else {"conversation_id": conversation}
    return call.event("call.conversation.ended", client_state=FOREIGN_STATE, **payload)


def second_assistant(ids_known: tuple[bool, bool]) -> Call:
    call = ai_call(TWO_ASSISTANTS)
    if ids_known[0]:
        assert not started(call, "conv-billing").ignored
    call.event("call.dtmf.received", digit="0")
    assert call.logs == ["left billing"] and call.last.waiting == "assistant"
    if ids_known[1]:
        assert not started(call, "conv-sales").ignored
    return call


@pytest.mark.parametrize(
    "ids_known", [(True, True), (True, False), (False, True)],
    ids=["both-known", "first-known", "second-known"],
)
def test_a_late_end_of_the_assistant_left_with_on_key_does_not_end_the_next(
    ids_known: tuple[bool, bool]
) -> None:
    call = second_assistant(ids_known)
    assert ended(call, "conv-billing").ignored
    assert call.last.waiting == "assistant"
    out = ended(call, "conv-sales")
    assert [line.text for line in out.logs] == ["after sales"]


def test_the_first_conversations_id_answered_after_it_was_left_is_stale_too() -> None:
    call = second_assistant((False, False))
    assert not started(call, "conv-billing", which=0).ignored
    assert ended(call, "conv-billing").ignored
    assert [line.text for line in ended(call, "conv-sales").logs] == ["after sales"]


def test_an_ai_gathers_conversation_never_ends_an_assistant() -> None:
    call = ai_call(HEAD + (
        '    ai_gather into booking:\n        field name string "The name"\n'
        '    assistant id "assistant-1":\n        greeting "Hello."\n    log "after"\n'
    ))
    gather = call.last.commands[-1]
    call.event(CONVERSATION_STARTED, client_state=gather.body["client_state"],
               conversation_id="conv-gather")
    call.event("call.ai_gather.ended", status="valid", result={"name": "Ann"})
    assert call.last.waiting == "assistant"
    assert ended(call, "conv-gather").ignored
    assert [line.text for line in ended(call, "conv-other").logs] == ["after"]


def test_with_no_conversation_id_anywhere_the_end_still_ends_the_assistant() -> None:
    call = second_assistant((False, False))
    out = ended(call, None)
    assert [line.text for line in out.logs] == ["after sales"]


def test_a_repeated_conversation_report_changes_nothing() -> None:
    call = ai_call(ASSISTANT)
    assert not started(call, "conv-1").ignored
    assert started(call, "conv-1").ignored
    call.event("call.dtmf.received", digit="0")
    assert started(call, "conv-1").ignored


def test_an_end_naming_a_conversation_telnyx_did_not_answer_with_still_ends_the_assistant() -> None:
    # LANGUAGE.md 16: the end is matched by the call. Telnyx's examples of the start's answer
    # and of the end carry two different ids; nothing was left, so this end is the assistant's.
    call = ai_call(ASSISTANT)
    assert not started(call, "d7e9c1d4-8b2a-4b8f-b3a7-9a671c9e9b0a").ignored
    out = ended(call, "0424805b-2c4e-4f8a-9e5c-7a6b3c2d1e0f")
    assert [line.text for line in out.logs] == ["after"]
