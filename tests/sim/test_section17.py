"""Simulator inputs for the waits of LANGUAGE.md 14 (section 17), and their scenario words."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from flowlang.cli import main
from flowlang.cli.simulate import interactive
from flowlang.offline.fuzz import fuzz
from flowlang.offline.simulator import InputError, input_text, parse_input, simulate
from tests.openapi import validate_command
from tests.sim.helpers import VOICE, bare, flow, program, simulate_jsonl, write_flow

VOICEMAIL = VOICE + flow(
    """\
    sms_from "+13125550199"
    main:
        answer
        record into message max 1m beep end_key "#":
            on saved: sms "+13125550100" "New voicemail, {message.duration} seconds"
            on error: log "failed"
        say "Bye."
    on hangup:
        log "gone"
    """
)
RECORD = {"action": "record_start",
          "body": {"format": "mp3", "channels": "single", "max_length": 60, "play_beep": True}}
TEXT = {"request": "POST /messages",
        "body": {"from": "+13125550199", "to": "+13125550100",
                 "text": "New voicemail, 42 seconds"}}


@pytest.mark.parametrize(
    ("inputs", "lines"),
    [
        (["saved=42"], [RECORD, TEXT, {"action": "speak"}, {"action": "hangup"},
                        {"end": "completed"}]),
        (["hangup", "saved=42"], [RECORD, TEXT, {"end": "hangup"}]),
        (["#", "record-error"], [RECORD, {"action": "record_stop"}, {"action": "speak"},
                                 {"action": "hangup"}, {"end": "completed"}]),
        (["hangup"], [RECORD, {"end": "waiting"}]),
        # The server stops waiting: neither `on saved:` nor `on error:` runs, `on hangup:` does.
        (["hangup", "record-lost"], [RECORD, {"end": "hangup"}]),
    ],
    ids=["saved", "hangup-then-saved", "end-key-then-error", "inputs-run-out",
         "recording-never-arrives"],
)
def test_recording_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], inputs: list[str], lines: list[dict]
) -> None:
    status, out = simulate_jsonl(capsys, write_flow(tmp_path, VOICEMAIL), *inputs)
    got = bare(out)[1:]  # after `answer`
    # speak and hangup bodies are covered elsewhere: compare what section 17 is about.
    assert len(got) == len(lines)
    assert [{k: line.get(k) for k in want} for line, want in zip(got, lines, strict=True)] == lines
    assert status == 0


TRANSFER = VOICE + flow(
    """\
    main:
        answer
        transfer "+13125550001" timeout 20s:
            on no_answer: log "no answer"
            on busy: log "busy"
            on failed: log "failed"
        queue "support" max_wait 5m:
            play "https://example.com/hold.mp3"
            on timeout: log "queue timeout"
        hangup
    """
)


@pytest.mark.parametrize(
    ("inputs", "logs", "end"),
    [
        (["answered"], [], "transfer"),
        (["no_answer", "bridged"], ["no answer"], "transfer"),
        (["busy", "queue-timeout"], ["busy", "queue timeout"], "hangup"),
        (["failed", "hangup"], ["failed"], "hangup"),
    ],
)
def test_transfer_and_queue_inputs(inputs: list[str], logs: list[str], end: str) -> None:
    transcript = simulate(program(TRANSFER), inputs)
    for command in transcript.commands:
        validate_command(command.action, command.body)
    from flowlang.offline.simulator import Logged

    assert [e.line.text for e in transcript.entries if isinstance(e, Logged)] == logs
    assert transcript.end.reason == end


@pytest.mark.parametrize(
    ("inputs", "ending"),
    [
        (["answered"], "The call ended: the caller was transferred to +13125550001."),
        (["no_answer", "bridged"], "The call ended: an agent in support took the call."),
    ],
)
def test_the_transcript_says_who_took_the_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], inputs: list[str], ending: str
) -> None:
    path = write_flow(tmp_path, TRANSFER)
    assert main(["simulate", str(path), *(f"--input={i}" for i in inputs)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(ending)
    if "bridged" in inputs:
        # The hold music is told at its own line inside the queue block, not at `queue`.
        assert "  line 8    queue the call in support\n  line 9    play " in out


def test_every_new_input_reads_back_as_written() -> None:
    for text in ("saved", "saved=42", "record-error", "record-lost", "answered", "no_answer",
                 "busy", "failed", "bridged", "queue-timeout"):
        assert input_text(parse_input(text)) == text


@pytest.mark.parametrize("text", ["saved=", "saved=forty", "saved=-1"])
def test_a_bad_recording_length_says_how_to_write_it(text: str) -> None:
    with pytest.raises(InputError, match="saved=42"):
        parse_input(text)


def test_a_recording_can_only_go_missing_after_the_hangup() -> None:
    with pytest.raises(InputError, match="give hangup first"):
        simulate(program(VOICEMAIL), ["record-lost"])


def test_an_input_that_does_not_fit_the_wait_names_what_would(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="give answered, no_answer, busy, failed or hangup"):
        simulate(program(TRANSFER), ["saved"])


def test_scenario_words_drive_the_new_waits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_flow(tmp_path, TRANSFER, "line.flow")
    (tmp_path / "line.scenarios").write_text(
        flow(
            """\
            scenario "nobody answers, then an agent takes the call":
                transfer no_answer
                expect log "no answer"
                expect queue "support"
                agent answers
                expect end transfer

            scenario "busy, then the queue times out":
                transfer busy
                queue times out
                expect log "queue timeout"
                expect hangup

            scenario "the transfer is answered":
                expect transfer "+13125550001"
                transfer answered
                expect end transfer

            scenario "the transfer fails":
                transfer fails
                expect log "failed"
                hang up
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "vm.flow").write_text(VOICEMAIL, encoding="utf-8")
    (tmp_path / "vm.scenarios").write_text(
        flow(
            """\
            scenario "a message left by hanging up is texted":
                expect record
                hang up
                recording saved 42
                expect sms "New voicemail, 42 seconds"
                expect log "gone"

            scenario "a failed recording":
                recording fails
                expect log "failed"

            scenario "the recording never arrives after the hangup":
                hang up
                recording never arrives
                expect log "gone"
                expect end hangup
            """
        ),
        encoding="utf-8",
    )
    status = main(["test", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "7 passed" in out or "7 scenarios passed" in out, out


# A voicemail whose `on saved:` posts the recording to a backend, even after the hangup.
POSTING = VOICE + flow(
    """\
    sms_from "+13125550199"
    main:
        answer
        record into message max 1m:
            on saved:
                fetch "https://api.example.com/voicemails" method "POST" into stored:
                    send url = message.url
                    on error: sms "+13125550100" "Voicemail of {message.duration}s"
                log "stored"
            on error: log "failed"
        say "Bye."
    on hangup:
        log "gone"
    """
)
POSTED = {"fetch": {"method": "POST", "url": "https://api.example.com/voicemails",
                    "headers": {}}}


@pytest.mark.parametrize(
    ("inputs", "lines"),
    [
        (["hangup", "saved=42", 'fetch={"id": 7}'], [RECORD, POSTED, {"end": "hangup"}]),
        (["hangup", "saved=42", "fetch-error"],
         [RECORD, POSTED, {"request": "POST /messages"}, {"end": "hangup"}]),
        (["hangup", "saved=42"], [RECORD, POSTED, {"end": "waiting"}]),
        (["saved=42", 'fetch={"id": 7}'],
         [RECORD, POSTED, {"action": "speak"}, {"action": "hangup"}, {"end": "completed"}]),
    ],
    ids=["hangup-saved-answer", "hangup-saved-error", "answer-never-comes", "caller-stays"],
)
def test_a_fetch_in_on_saved_runs_after_the_hangup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], inputs: list[str], lines: list[dict]
) -> None:
    record = {**RECORD, "body": {"format": "mp3", "channels": "single", "max_length": 60}}
    want = [record if line is RECORD else line for line in lines]
    status, out = simulate_jsonl(capsys, write_flow(tmp_path, POSTING), *inputs)
    got = bare(out)[1:]  # after `answer`
    assert len(got) == len(want)
    assert [_like(line, w) for line, w in zip(got, want, strict=True)] == want
    fetch = next(line["fetch"] for line in out if "fetch" in line)
    assert fetch["body"]["url"].startswith("https://storage.example.com/recordings/")
    assert status == 0


def _like(line: dict, want: dict) -> dict:
    """`line` with only the fields `want` has (one level into a fetch)."""
    if "fetch" in want:
        return {"fetch": {k: line.get("fetch", {}).get(k) for k in want["fetch"]}}
    return {k: line.get(k) for k in want}


def test_the_logs_of_on_saved_and_on_hangup_follow_the_backends_answer() -> None:
    transcript = simulate(program(POSTING), ["hangup", "saved=42", 'fetch={"id": 7}'])
    logs = [e.line.text for e in transcript.entries if type(e).__name__ == "Logged"]
    assert logs == ["stored", "gone"]
    assert transcript.end.reason == "hangup"


def test_hanging_up_again_while_the_backend_is_asked_is_refused_clearly() -> None:
    with pytest.raises(InputError) as caught:
        simulate(program(POSTING), ["hangup", "saved=42", "hangup"])
    message = str(caught.value)
    assert message.startswith("input 3 (hangup): hanging up does not fit")
    assert "already hung up" in message and "fetch-error" in message


def test_interactive_simulate_prompts_for_a_recording_and_the_backend_after_the_hangup() -> None:
    out = io.StringIO()
    typed = io.StringIO('hangup\nsaved=42\nhangup\nfetch={"id": 7}\n')
    assert interactive(program(POSTING), "+15550001111", "+15550002222", typed, out) == 0
    shown = out.getvalue()
    assert (
        "The flow is recording: type saved, saved=42, record-error, record-lost, keys,"
        " hangup or quit"
    ) in shown
    after = shown.split("the recording is saved", 1)[1]
    # The caller has hung up, so hanging up is no longer offered.
    assert (
        'The flow waits for its backend: type fetch={"state": "shipped"}, fetch-error or quit'
    ) in after
    assert "hanging up does not fit: the caller has already hung up" in after
    assert "The call ended: the caller hung up." in after


def test_fuzz_finds_nothing_wrong_in_a_voicemail_that_posts_after_the_hangup() -> None:
    report = fuzz(program(POSTING), examples=150)
    assert report.finding is None


def test_quitting_interactive_simulate_names_whom_the_flow_was_waiting_for() -> None:
    out = io.StringIO()
    typed = io.StringIO("hangup\nsaved=42\nquit\n")
    assert interactive(program(POSTING), "+15550001111", "+15550002222", typed, out) == 0
    assert out.getvalue().endswith(
        "\nThe flow is still waiting for its backend: no more inputs were given.\n"
    )
    out = io.StringIO()
    interactive(program(POSTING), "+15550001111", "+15550002222", io.StringIO("quit\n"), out)
    assert out.getvalue().endswith(
        "\nThe flow is still waiting for the caller: no more inputs were given.\n"
    )
