"""Every statement sends exactly the command LANGUAGE.md 2 names, with exactly the body it means."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.runtime.calls import Call, without_correlation

HEAD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\nmain:\n    answer\n'


def first_command_after_answer(body: str) -> tuple[str, dict[str, Any]]:
    call = Call.of(HEAD + body)
    call.start()
    call.complete()
    command = call.last.commands[0]
    return command.action, without_correlation(command.body)


VOICE = "Telnyx.KokoroTTS.af"

CASES = [
    ("say", '    say "Hello."\n', "speak",
     {"payload": "Hello.", "voice": VOICE, "language": "en-US"}),
    ("say own voice and language", '    say "Hallo." voice "AWS.Polly.Marlene" language "de-DE"\n',
     "speak", {"payload": "Hallo.", "voice": "AWS.Polly.Marlene", "language": "de-DE"}),
    ("say ssml", '    say "<speak>Hi</speak>" ssml\n', "speak",
     {"payload": "<speak>Hi</speak>", "voice": VOICE, "language": "en-US",
      "payload_type": "ssml"}),
    ("say interpolates", '    say "You called {called} from {caller}."\n', "speak",
     {"payload": "You called +15550002222 from +15550001111.", "voice": VOICE,
      "language": "en-US"}),
    ("play url", '    play "https://example.com/hold.mp3"\n', "playback_start",
     {"audio_url": "https://example.com/hold.mp3"}),
    ("play media", '    play media "welcome"\n', "playback_start", {"media_name": "welcome"}),
    ("transfer", '    transfer "+13125550001"\n', "transfer", {"to": "+13125550001"}),
    ("transfer from and timeout",
     '    transfer "+13125550001" from "+13125550009" timeout 45s\n', "transfer",
     {"to": "+13125550001", "from": "+13125550009", "timeout_secs": 45}),
    ("transfer timeout in minutes", '    transfer "+13125550001" timeout 2m\n', "transfer",
     {"to": "+13125550001", "timeout_secs": 120}),
    ("hangup", "    hangup\n", "hangup", {}),
]


@pytest.mark.parametrize(("body", "action", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_statement_body(body: str, action: str, expected: dict[str, Any]) -> None:
    assert first_command_after_answer(body) == (action, expected)


def test_answer_is_the_first_command_and_waits_for_call_answered() -> None:
    call = Call.of(HEAD + '    say "Hi"\n')
    out = call.start()
    assert [c.action for c in out.commands] == ["answer"]
    assert without_correlation(out.commands[0].body) == {}
    assert out.waiting == "answer"
    assert out.step == "main"
    assert call.event("call.speak.ended", status="completed").ignored
    assert call.complete().waiting == "speak"


@pytest.mark.parametrize(
    ("body", "end"),
    [("    hangup\n", "hangup"), ('    transfer "+13125550001"\n', "transfer")],
    ids=["hangup", "transfer"],
)
def test_hangup_and_transfer_end_the_run(body: str, end: str) -> None:
    call = Call.of(HEAD + body + '    say "never"\n')
    call.start()
    out = call.complete()
    assert out.end is not None and out.end.reason == end
    assert out.waiting is None
    assert [c.action for c in out.commands] == [end]
    assert call.event("call.speak.ended", status="completed").ignored


def test_running_off_the_end_hangs_up_and_completes() -> None:
    call = Call.of(HEAD + '    say "Bye."\n')
    call.start()
    call.complete()
    out = call.complete()
    assert [c.action for c in out.commands] == ["hangup"]
    assert out.end is not None and out.end.reason == "completed"


def test_say_and_play_wait_for_their_end_events() -> None:
    call = Call.of(HEAD + '    say "One."\n    play "https://example.com/a.mp3"\n    say "Two."\n')
    call.start()
    assert call.complete().waiting == "speak"
    assert call.event("call.playback.ended", status="completed").ignored
    assert call.complete().waiting == "playback"
    assert call.event("call.speak.ended", status="completed").ignored
    out = call.complete()
    assert out.waiting == "speak"
    assert out.commands[0].body["payload"] == "Two."


def test_playback_that_failed_still_continues() -> None:
    call = Call.of(HEAD + '    play "https://example.com/missing.mp3"\n    say "After."\n')
    call.start()
    call.complete()
    out = call.event("call.playback.ended", status="file_not_found")
    assert out.commands[0].body["payload"] == "After."


def test_goto_set_if_and_log_send_nothing_and_follow_the_flow() -> None:
    call = Call.of(
        HEAD
        + '    set n = 3\n'
        + '    goto check\n'
        + "check:\n"
        + '    if n > 2:\n'
        + '        log "big {n}"\n'
        + '    elif n == 2:\n'
        + '        log "two"\n'
        + '    else:\n'
        + '        log "small"\n'
        + '    say "Done."\n'
    )
    call.start()
    out = call.complete()
    assert [c.action for c in out.commands] == ["speak"]
    assert out.step == "check"
    assert [(line.text, line.line, line.level) for line in out.logs] == [("big 3", 10, "info")]
    assert out.reached == ("step:check", "if:9")


@pytest.mark.parametrize(
    ("value", "arm"),
    [("3", "if:5"), ("2", "elif:7"), ("1", "else:9")],
    ids=["if", "elif", "else"],
)
def test_if_picks_the_first_arm_that_holds(value: str, arm: str) -> None:
    text = (
        'voice "V.x.y"\n\nmain:\n'
        f'    set n = {value}\n'
        "    if n > 2:\n"
        '        log "if"\n'
        "    elif n == 2:\n"
        '        log "elif"\n'
        "    else:\n"
        '        log "else"\n'
    )
    call = Call.of(text)
    out = call.start()
    assert arm in out.reached
    assert [line.text for line in out.logs] == [arm.split(":")[0]]


def test_undefined_variable_interpolates_empty_with_a_warning() -> None:
    # Set on one path only: the linter cannot rule it out, so it is left to run time.
    call = Call.of(
        HEAD + '    if caller == "+1999":\n        set name = "Ann"\n    say "Hello {name}!"\n'
    )
    call.start()
    out = call.complete()
    assert out.commands[0].body["payload"] == "Hello !"
    warnings = [line for line in out.logs if line.level == "warning"]
    assert len(warnings) == 1
    assert "`name`" in warnings[0].text
    assert warnings[0].line == 8


def test_every_command_carries_base64_client_state_and_unique_command_id() -> None:
    call = Call.of(HEAD + '    say "a"\n    say "b"\n    play "https://e.com/x.mp3"\n')
    call.start()
    call.settle()
    states = [c.body["client_state"] for c in call.commands]
    ids = [c.body["command_id"] for c in call.commands]
    assert len(set(states)) == len(states) == len(set(ids)) == 5
    for value in states:
        assert "\n" not in value
        json.loads(base64.b64decode(value, validate=True))


def test_command_ids_are_deterministic_per_call() -> None:
    def ids(call: Call) -> list[str]:
        call.start()
        call.settle()
        return [c.body["command_id"] for c in call.commands]

    text = HEAD + '    say "a"\n'
    assert ids(Call.of(text)) == ids(Call.of(text))


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ('    transfer "{agent}"\n', "the number to transfer to is empty (`{agent}` had no value)"),
        ('    play "{agent}"\n', "the audio to play is empty (`{agent}` had no value)"),
        ('    assistant id "{agent}"\n', "the assistant's id is empty (`{agent}` had no value)"),
        ('    queue "{agent}" max_wait 1m\n', "the queue's name is empty (`{agent}` had no value)"),
        ('    queue "desk" max_wait 1m:\n        play "{agent}"\n',
         "the hold music is empty (`{agent}` had no value)"),
    ],
    ids=["transfer", "play", "assistant", "queue", "hold-music"],
)
def test_a_value_a_command_needs_that_is_empty_on_the_call_ends_it_saying_why(
    line: str, what: str
) -> None:
    # Telnyx refuses the command (a 422), and the server would end the call without a word of
    # why; the simulator would have gone on. Both now end the run here, the call hung up.
    call = Call.unchecked(HEAD + '    set agent = ""\n' + line)
    call.start()
    out = call.complete()
    assert [c.action for c in out.commands] == ["hangup"]
    assert out.end is not None and out.end.reason == "error"
    assert out.end.message == what
    assert out.end.line == HEAD.count("\n") + 2
