"""`flowlang fuzz` finds planted bugs with a short input list, and passes sound flows."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from flowlang.cli import main
from flowlang.cli.inputs import read_source
from flowlang.compiler import compile_source
from flowlang.offline.fuzz import Vocabulary, fuzz, reads_clock, simulate_command
from tests.sim.helpers import VOICE, flow, program, write_flow

# The author thinks every entry is a number, so the `else` "cannot happen"; `*` is not a
# number, so both comparisons are false (LANGUAGE.md 10) and the call ends up in a busy loop.
PLANTED = VOICE + flow(
    """\
    main:
        answer
        gather digits 1..3 into amount tries 2:
            say "How many tickets?"
            on digits:
                if amount > 2:
                    say "That is a lot."
                elif amount <= 2:
                    say "Fine."
                else:
                    goto wait
        hangup

    wait:
        if caller == "nobody":
            say "never"
        goto wait
    """
)


def test_fuzz_finds_the_runtime_error_with_one_input() -> None:
    report = fuzz(program(PLANTED), examples=100)
    assert report.finding is not None
    assert report.finding.kind == "error"
    assert report.finding.line == 16
    assert len(report.finding.inputs) == 1
    assert "*" in report.finding.inputs[0]


def test_fuzz_finds_a_flow_stuck_in_a_loop_through_the_guard() -> None:
    looping = VOICE + flow(
        """\
        main:
            answer
            gather tries 1:
                say "Press 1 to loop."
                on digits "1": goto spin
                on timeout: hangup
            hangup

        spin:
            if caller == "nobody":
                say "never"
            goto spin
        """
    )
    report = fuzz(program(looping), examples=100)
    assert report.finding is not None
    assert report.finding.kind == "error"
    assert "1,000 statements" in report.finding.message
    assert report.finding.inputs == ("1",)


def test_fuzz_finds_nothing_in_a_sound_flow() -> None:
    sound = VOICE + flow(
        """\
        main:
            answer
            gather tries 2:
                say "Press 1."
                on digits "1": transfer "+13125550001"
            hangup
        """
    )
    assert fuzz(program(sound), examples=50).finding is None


def test_fuzz_command_reports_a_ready_to_paste_simulate_command(tmp_path: Path, capsys) -> None:
    path = tmp_path / "tickets.flow"
    path.write_text(PLANTED, encoding="utf-8")
    status = main(["fuzz", str(path), "--examples", "100"])
    out = capsys.readouterr().out
    assert status == 1
    assert "a call ended in an error (line 16)" in out
    command = out.strip().splitlines()[-1].strip()
    argv = shlex.split(command)
    assert argv[:3] == ["flowlang", "simulate", str(path)]
    assert main(argv[1:]) == 1
    assert "The call ended with an error (line 16)" in capsys.readouterr().out


def test_fuzz_command_exit_0_when_nothing_found(tmp_path: Path, capsys) -> None:
    path = tmp_path / "ok.flow"
    path.write_text('main:\n    answer\n    hangup\n', encoding="utf-8")
    assert main(["fuzz", str(path), "--examples", "5"]) == 0
    assert "no problem found" in capsys.readouterr().out


def test_simulate_command_quotes_json_inputs() -> None:
    command = simulate_command("a b.flow", ("1", 'ai={"name": "Bob"}'))
    assert shlex.split(command) == ["flowlang", "simulate", "a b.flow", "--input", "1",
                                    "--input", 'ai={"name": "Bob"}']


# `*` compared with or counted as a number: false, or 0, never a crash (check warns, FL807).
ORDERING_KEYS = VOICE + flow(
    """\
    main:
        answer
        gather digits 1..3 into amount tries 2:
            say "How many tickets?"
            on digits:
                if amount > 2 and amount - 1 < 9:
                    say "That is a lot."
        hangup
    """
)


def test_fuzz_finds_no_error_in_counting_or_ordering_keys_and_check_warns_there() -> None:
    from flowlang.lint import check_source
    from flowlang.source import Source

    assert fuzz(program(ORDERING_KEYS), examples=100).finding is None
    found = {d.code for d in check_source(Source("t.flow", ORDERING_KEYS))}
    assert "FL807" in found


BACKEND = VOICE + flow(
    """\
    main:
        answer
        fetch "https://api.acme.com/orders/{caller}" into status:
            on error:
                say "Sorry."
                hangup
        if status.count > 2 and status.count + 1 < status.limit - status.used:
            log "Your order {status.state} has {status.count} items."
        # Any JSON said (a list, a record): never an error; an empty one is the guard's to skip.
        if status.items.first:
            say "{status.items.first}"
        hangup
    """
)


def test_fuzz_answers_fetches_with_random_json_and_finds_no_error() -> None:
    assert fuzz(program(BACKEND), examples=150).finding is None



CLOCKED = VOICE + flow(
    """\
    timezone "America/Chicago"

    hours office:
        mon-fri 9:00-17:00

    main:
        answer
        goto check

    check:
        if open office:
            say "Welcome."
            hangup
        goto check
    """
)


def test_fuzz_tries_random_times_and_gives_the_time_to_replay(tmp_path: Path, capsys) -> None:
    # The flow loops without waiting, but only while the office is closed.
    path = tmp_path / "clocked.flow"
    path.write_text(CLOCKED, encoding="utf-8")
    assert main(["fuzz", str(path), "--examples", "50"]) == 1
    argv = shlex.split(capsys.readouterr().out.strip().splitlines()[-1].strip())
    assert argv[3] == "--at"
    assert main(argv[1:]) == 1
    assert "The call ended with an error" in capsys.readouterr().out
    argv[4] = "2026-11-23T10:00"  # a Monday morning in Chicago: open
    assert main(argv[1:]) == 0


def test_a_flow_that_does_not_read_the_clock_is_replayed_without_a_time() -> None:
    report = fuzz(program(PLANTED), examples=100)
    assert report.finding is not None and report.finding.at is None


@pytest.mark.parametrize(
    "body",
    [
        'say "It is {now.time as time}."',
        "if now.hour < 9:\n        hangup",
        'set day = now.weekday\n    say "Goodbye."',
        'if open office:\n        say "Welcome."',
        'gather tries 1:\n        say "Press 1, {now.date}."\n        on digits "1": hangup',
        'call greet\n\ngreet:\n    if not open office:\n        say "Closed."\n    return',
    ],
    ids=["said", "condition", "set", "open", "gather-prompt", "called-step"],
)
def test_a_flow_that_reads_now_or_open_reads_the_clock(body: str) -> None:
    text = VOICE + f'hours office:\n    mon-fri 9:00-17:00\n\nmain:\n    answer\n    {body}\n'
    assert reads_clock(program(text))


@pytest.mark.parametrize(
    "body",
    [
        'say "We will be with you right now."',
        'set nowhere = "now"\n    say "Now {nowhere}."',
        '# now is the time\n    say "Hello."',
        'say "Hours are nine to five."',
    ],
    ids=["word-said", "variable-named-like-it", "comment", "hours-never-asked"],
)
def test_a_flow_that_only_says_the_word_now_does_not_read_the_clock(body: str) -> None:
    text = VOICE + f'hours office:\n    mon-fri 9:00-17:00\n\nmain:\n    answer\n    {body}\n'
    assert not reads_clock(program(text))


def test_a_flow_that_says_right_now_is_replayed_without_a_time() -> None:
    said_now = PLANTED.replace('say "Fine."', 'say "Fine, right now."')
    report = fuzz(program(said_now), examples=100)
    assert report.finding is not None and report.finding.at is None


# The fields BACKEND reads of its fetch's answer.
BACKEND_READS = ["count", "items", "limit", "state", "used"]


def test_fuzz_answers_with_the_fields_a_flow_reads_not_those_it_only_writes_like_one() -> None:
    looks_alike = BACKEND.replace(
        "    answer\n",
        "    answer\n"
        "    # status.note is kept for later\n"
        '    log "{{status.eta}} means the time of arrival"\n'
        '    say "Your status.total is on the way."\n',
    )
    assert Vocabulary(program(looks_alike)).fields == BACKEND_READS


def test_fuzz_answers_with_the_fields_read_in_an_included_file(tmp_path: Path) -> None:
    write_flow(tmp_path, 'tell:\n    say "It comes on {status.eta}."\n    return\n', "common.flow")
    including = BACKEND.replace("main:", 'include "common.flow"\n\nmain:')
    including = including[: including.rindex("    hangup\n")] + "    call tell\n    hangup\n"
    compiled = compile_source(read_source(write_flow(tmp_path, including)))
    assert Vocabulary(compiled).fields == sorted([*BACKEND_READS, "eta"])
