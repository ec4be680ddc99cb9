"""`flowlang simulate --format jsonl`: every construct's exact body, end lines and exit statuses."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from flowlang.cli import main
from tests.openapi import validate_command
from tests.sim.helpers import VOICE, bare, flow, simulate_jsonl, write_flow

V = "Telnyx.KokoroTTS.af"

CONSTRUCTS = [
    (
        "say-voice-language-ssml",
        VOICE + flow(
        """\
        language "en-US"
        main:
            answer
            say "Hello {caller}" voice "AWS.Polly.Joanna-Neural" language "de-DE"
            say "<speak>Hi</speak>" ssml
        """
    ),
        [],
        [
            {"action": "answer", "body": {}},
            {"action": "speak", "body": {"payload": "Hello +15550001111",
                                         "voice": "AWS.Polly.Joanna-Neural", "language": "de-DE"}},
            {"action": "speak", "body": {"payload": "<speak>Hi</speak>", "voice": V,
                                         "language": "en-US", "payload_type": "ssml"}},
            {"action": "hangup", "body": {}},
            {"end": "completed"},
        ],
    ),
    (
        "play-url-and-media",
        flow(
        """\
        main:
            answer
            play "https://example.com/a.mp3"
            play media "greeting"
            hangup
        """
    ),
        [],
        [
            {"action": "answer", "body": {}},
            {"action": "playback_start", "body": {"audio_url": "https://example.com/a.mp3"}},
            {"action": "playback_start", "body": {"media_name": "greeting"}},
            {"action": "hangup", "body": {}},
            {"end": "hangup"},
        ],
    ),
    (
        "plain-gather-every-option",
        flow(
        """\
        main:
            answer
            gather timeout 5s inter_digit_timeout 2s initial_timeout 3s terminator "*" \
                    valid "123" digits 1..2 tries 2:
                on digits "1": transfer "+13125550001"
        """
    ),
        ["3", "1"],
        [
            {"action": "answer", "body": {}},
            *[{"action": "gather", "body": {
                "minimum_digits": 1, "maximum_digits": 2, "timeout_millis": 5000,
                "inter_digit_timeout_millis": 2000, "initial_timeout_millis": 3000,
                "terminating_digit": "*", "valid_digits": "123"}}] * 2,
            {"action": "transfer", "body": {"to": "+13125550001"}},
            {"end": "transfer"},
        ],
    ),
    (
        "say-prompt-inference-and-reprompt",
        VOICE + flow(
        """\
        main:
            answer
            gather:
                say "Press 1."
                say "Or 22."
                reprompt "Sorry."
                on digits "1": transfer "+13125550001" from "+13125550000" timeout 45s
                on digits "22": hangup
        """
    ),
        ["9", "1"],
        [
            {"action": "answer", "body": {}},
            {"action": "gather_using_speak", "body": {
                "payload": "Press 1. Or 22.", "voice": V, "minimum_digits": 1,
                "maximum_digits": 2, "valid_digits": "12", "maximum_tries": 1}},
            {"action": "gather_using_speak", "body": {
                "payload": "Sorry. Press 1. Or 22.", "voice": V, "minimum_digits": 1,
                "maximum_digits": 2, "valid_digits": "12", "maximum_tries": 1}},
            {"action": "transfer", "body": {"to": "+13125550001", "from": "+13125550000",
                                            "timeout_secs": 45}},
            {"end": "transfer"},
        ],
    ),
    (
        "play-prompt-reprompt-is-spoken-first",
        VOICE + flow(
        """\
        main:
            answer
            gather tries 2:
                play "https://example.com/q.mp3"
                reprompt "Again."
                on digits "5": hangup
        """
    ),
        ["timeout", "5"],
        [
            {"action": "answer", "body": {}},
            {"action": "gather_using_audio", "body": {
                "audio_url": "https://example.com/q.mp3", "minimum_digits": 1,
                "maximum_digits": 1, "valid_digits": "5", "maximum_tries": 1}},
            {"action": "speak", "body": {"payload": "Again.", "voice": V}},
            {"action": "gather_using_audio", "body": {
                "audio_url": "https://example.com/q.mp3", "minimum_digits": 1,
                "maximum_digits": 1, "valid_digits": "5", "maximum_tries": 1}},
            {"action": "hangup", "body": {}},
            {"end": "hangup"},
        ],
    ),
    (
        "ai-gather-and-on-key",
        VOICE + flow(
        """\
        main:
            answer
            ai_gather into booking timeout 20s:
                greeting "Hi!"
                field name string "The name"
                field guests integer "How many"
                field notes string "Notes" optional
                on valid: say "Thanks {booking.name}."
                on key "0": say "Stopping."
        """
    ),
        ["key=0"],
        [
            {"action": "answer", "body": {}},
            {"action": "gather_using_ai", "body": {
                "parameters": {"type": "object", "properties": {
                    "name": {"type": "string", "description": "The name"},
                    "guests": {"type": "integer", "description": "How many"},
                    "notes": {"type": "string", "description": "Notes"}},
                    "required": ["name", "guests"]},
                "greeting": "Hi!", "voice": V, "user_response_timeout_ms": 20000}},
            {"action": "gather_stop", "body": {}},
            {"action": "speak", "body": {"payload": "Stopping.", "voice": V}},
            {"action": "hangup", "body": {}},
            {"end": "completed"},
        ],
    ),
    (
        "assistant-messages-and-stop",
        VOICE + flow(
        """\
        main:
            answer
            assistant id "assistant-123":
                greeting "Hi, Ava here."
                message system "Account {caller}."
                on key "0": transfer "+13125550003"
        """
    ),
        ["key=0"],
        [
            {"action": "answer", "body": {}},
            {"action": "ai_assistant_start", "body": {
                "assistant": {"id": "assistant-123", "greeting": "Hi, Ava here."}}},
            {"action": "ai_assistant_add_messages", "body": {
                "messages": [{"role": "system", "content": "Account +15550001111."}]}},
            {"action": "ai_assistant_stop", "body": {}},
            {"action": "transfer", "body": {"to": "+13125550003"}},
            {"end": "transfer"},
        ],
    ),
]


@pytest.mark.parametrize(("text", "inputs", "expected"), [c[1:] for c in CONSTRUCTS],
                         ids=[c[0] for c in CONSTRUCTS])
def test_jsonl_prints_every_command_body_exactly(tmp_path: Path, capsys, text, inputs,
                                                 expected) -> None:
    status, lines = simulate_jsonl(capsys, write_flow(tmp_path, text), *inputs)
    assert status == 0
    assert bare(lines) == expected
    for line in lines[:-1]:
        validate_command(line["action"], line["body"])


def test_every_command_has_one_line_base64_client_state_and_a_unique_command_id(
    tmp_path: Path, capsys
) -> None:
    text = VOICE + flow(
        """\
        main:
            answer
            say "a"
            say "b"
            gather:
                say "c"
                on digits "1": hangup
        """
    )
    _, lines = simulate_jsonl(capsys, write_flow(tmp_path, text), "2", "2", "1")
    bodies = [line["body"] for line in lines[:-1]]
    ids = [b["command_id"] for b in bodies]
    assert len(set(ids)) == len(ids) == 7
    for body in bodies:
        assert "\n" not in body["client_state"]
        base64.b64decode(body["client_state"], validate=True)
    _, again = simulate_jsonl(capsys, write_flow(tmp_path, text), "2", "2", "1")
    assert again == lines


ENDS = [
    ("flow-hangs-up", flow(
        """\
        main:
            answer
            hangup
        """
    ), [], {"end": "hangup"}, 0),
    ("caller-hangs-up", VOICE + flow(
        """\
        main:
            answer
            gather:
                say "Hi"
                on digits "1": hangup
        """
    ), ["hangup"], {"end": "hangup"}, 0),
    ("transfer", flow(
        """\
        main:
            transfer "+13125550001"
        """
    ), [], {"end": "transfer"}, 0),
    ("runs-off-the-end", flow(
        """\
        main:
            answer
        """
    ), [], {"end": "completed"}, 0),
    ("inputs-run-out", VOICE + flow(
        """\
        main:
            answer
            gather:
                say "Hi"
                on digits "1": hangup
        """
    ), [], {"end": "waiting"}, 0),
]


@pytest.mark.parametrize(("text", "inputs", "last", "status"), [e[1:] for e in ENDS],
                         ids=[e[0] for e in ENDS])
def test_end_reasons(tmp_path: Path, capsys, text, inputs, last, status) -> None:
    code, lines = simulate_jsonl(capsys, write_flow(tmp_path, text), *inputs)
    assert lines[-1] == last
    assert code == status


def test_a_runtime_error_ends_with_error_and_message_and_exit_1(tmp_path: Path, capsys) -> None:
    text = flow(
        """\
        main:
            answer
            gather digits 1..3 into n:
                on digits:
                    if n > 2:
                        hangup
                    goto spin
        spin:
            if caller == "nobody":
                hangup
            goto spin
        """
    )
    code, lines = simulate_jsonl(capsys, write_flow(tmp_path, text), "1")
    assert code == 1
    assert lines[-1]["end"] == "error"
    assert "1,000 statements" in lines[-1]["message"]
    assert lines[-2]["action"] == "hangup"


def test_from_and_to_set_caller_and_called(tmp_path: Path, capsys) -> None:
    text = VOICE + flow(
        """\
        main:
            answer
            say "{caller} called {called}"
        """
    )
    _, lines = simulate_jsonl(capsys, write_flow(tmp_path, text),
                              extra=("--from", "+15551112222", "--to", "+15553334444"))
    assert lines[1]["body"]["payload"] == "+15551112222 called +15553334444"


@pytest.mark.parametrize(
    ("argument", "message"),
    [("ai={bad json", "not valid JSON"), ("ai=[1]", "JSON object"),
     ("press1", "not a caller input"), ("key=12", "one key")],
    ids=["bad-json", "not-an-object", "unknown-word", "two-keys"],
)
def test_an_invalid_input_is_one_clear_line_and_exit_2(tmp_path: Path, capsys, argument,
                                                        message) -> None:
    path = write_flow(tmp_path, flow(
        """\
        main:
            answer
        """
    ))
    status = main(["simulate", str(path), "--input", argument])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_an_input_that_does_not_fit_the_wait_is_exit_2(tmp_path: Path, capsys) -> None:
    text = VOICE + flow(
        """\
        main:
            answer
            assistant id "assistant-1":
                instructions "x"
        """
    )
    status = main(["simulate", str(write_flow(tmp_path, text)), "--input", "1"])
    captured = capsys.readouterr()
    assert status == 2
    assert "input 1 (1)" in captured.err and "AI assistant" in captured.err
    assert "answer the call" in captured.out


def test_a_flow_with_lint_errors_prints_diagnostics_and_exits_1(tmp_path: Path, capsys) -> None:
    path = write_flow(tmp_path, flow(
        """\
        main:
            goto nowhere
        """
    ))
    status = main(["simulate", str(path), "--format", "jsonl"])
    captured = capsys.readouterr()
    assert status == 1
    assert json.loads(captured.out)["end"] == "error"
    assert "nowhere" in captured.err and "cannot simulate" in captured.err


def test_a_missing_file_is_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["simulate", str(tmp_path / "none.flow")]) == 2
    assert capsys.readouterr().err.endswith("none.flow: no such file or folder\n")


@pytest.mark.parametrize("command", ["check", "simulate", "test", "graph", "fmt"])
@pytest.mark.parametrize(
    ("given", "meant"), [("bakery", "bakery.flow"), ("Bakery.flow", "bakery.flow")]
)
def test_a_flow_named_without_its_ending_or_with_a_capital_is_shown_as_it_is_there(
    tmp_path: Path, monkeypatch, capsys, command: str, given: str, meant: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bakery.flow").write_text('main:\n    hangup\n', encoding="utf-8")
    scenarios = 'scenario "x":\n    expect hangup\n'
    (tmp_path / "bakery.scenarios").write_text(scenarios, encoding="utf-8")
    assert main([command, given]) == 2
    assert f"{given}: no such file or folder; did you mean {meant}?" in capsys.readouterr().err


def test_jsonl_lines_are_json_objects_only(tmp_path: Path, capsys) -> None:
    path = write_flow(tmp_path, VOICE + flow(
        """\
        main:
            say "Hi"
        """
    ))
    main(["simulate", str(path), "--format", "jsonl"])
    for line in capsys.readouterr().out.splitlines():
        assert isinstance(json.loads(line), dict)
