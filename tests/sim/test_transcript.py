"""The readable transcript of `flowlang simulate` and its interactive mode."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from flowlang.cli import main
from flowlang.cli.simulate import interactive
from tests.sim.helpers import EXAMPLES, program


def test_text_transcript_of_the_readme_command(capsys, golden) -> None:
    status = main(["simulate", str(EXAMPLES / "business_line.flow"), "--input", "1"])
    assert status == 0
    golden("sim/business_line_input_1.txt", capsys.readouterr().out)


@pytest.mark.parametrize(
    ("inputs", "last"),
    [
        (
            ["1"],
            "The flow is still waiting for its backend: no more inputs were given (the next "
            '--input can be fetch={"state": "shipped"}, fetch-error or hangup).',
        ),
        (
            [],
            "The flow is still waiting for the caller: no more inputs were given (the next "
            "--input can be keys like 1 or 1234#, timeout or hangup).",
        ),
    ],
)
def test_a_call_whose_inputs_ran_out_says_who_it_waits_for_and_what_can_come_next(
    tmp_path: Path, capsys, inputs: list[str], last: str
) -> None:
    # Out of inputs at a `fetch`, the flow waits for its backend, not the caller: the last
    # line says so, and which inputs fit next.
    path = tmp_path / "shop.flow"
    path.write_text(
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    gather digits 1:\n'
        '        say "Press 1."\n'
        '        on digits "1":\n            fetch "https://x.test/{digits}" into order:\n'
        '                on error: hangup\n            say "It is {order.state}."\n',
        encoding="utf-8",
    )
    args = [a for given in inputs for a in ("--input", given)]
    assert main(["simulate", str(path), *args, "--format", "text"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(last)


def test_text_transcript_shows_logs_invalid_entries_and_a_star_that_is_not_a_number(
    tmp_path: Path, capsys, golden
) -> None:
    path = tmp_path / "tickets.flow"
    path.write_text(
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n'
        "    gather digits 1..3 valid \"123*\" into amount:\n"
        '        say "How many tickets?"\n'
        "        on digits:\n"
        '            log "asked for {amount}"\n'
        "            if amount > 2:\n"
        '                say "That is a lot."\n',
        encoding="utf-8",
    )
    # `*` is not a number, so `amount > 2` is false and the call goes on (LANGUAGE.md 10).
    status = main(["simulate", str(path), "--input", "9", "--input", "*"])
    assert status == 0
    golden("sim/tickets_star.txt", capsys.readouterr().out.replace(str(tmp_path), "<dir>"))


def test_without_inputs_on_a_terminal_the_cli_goes_interactive(monkeypatch, capsys) -> None:
    typed = io.StringIO("7\n1\n")
    typed.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", typed)
    status = main(["simulate", str(EXAMPLES / "business_line.flow")])
    out = capsys.readouterr().out
    assert status == 0
    assert "Press keys (like 1 or 1234#)" in out
    assert "caller presses 7 (not a valid entry)" in out
    assert "Sorry, I did not get that." in out
    assert out.rstrip().endswith("The flow is still waiting for the caller: no more inputs "
                                 "were given.")


@pytest.mark.parametrize(
    ("typed", "expected", "status"),
    [
        ("0\n", "The call ended: the caller was transferred to +13125550100.", 0),
        ("hangup\n", "The call ended: the caller hung up.", 0),
        ("ai={}\nquit\n", "does not fit", 0),
        ("oops\n\n", "`oops` is not something the caller can do now.", 0),
    ],
    ids=["transfer", "hangup", "wrong-kind-then-quit", "bad-word-then-eof"],
)
def test_interactive_session(typed: str, expected: str, status: int) -> None:
    out = io.StringIO()
    prog = program((EXAMPLES / "business_line.flow").read_text(encoding="utf-8"))
    assert interactive(prog, "+15550001111", "+15550002222", io.StringIO(typed), out) == status
    assert expected in out.getvalue()


def test_interactive_ai_prompts(capsys) -> None:
    out = io.StringIO()
    prog = program((EXAMPLES / "table_booking.flow").read_text(encoding="utf-8"))
    typed = io.StringIO('ai={"name": "Ann", "guests": 2, "time": "noon"}\n')
    interactive(prog, "+15550001111", "+15550002222", typed, out)
    text = out.getvalue()
    assert "The flow is in an AI gather: type ai=" in text
    assert "Thank you Ann. Your table for 2 is booked for noon." in text
    assert "The call ended: the flow hung up." in text


def test_each_line_is_attributed_to_the_statement_that_ran(capsys, golden) -> None:
    # Two `hangup`s and two `say`s ending in "Goodbye." in one step: each line must point at
    # the statement that really ran.
    status = main(["simulate", str(EXAMPLES / "pin_entry.flow"), "--input", "1111#",
                   "--input", "2222#"])
    assert status == 0
    golden("sim/pin_entry_two_wrong.txt", capsys.readouterr().out)


def test_interactive_in_a_real_terminal() -> None:
    # A pseudo-terminal: stdin really is a terminal, so no --input means interactive.
    import os
    import pty
    import subprocess

    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "from flowlang.cli import entry; entry()", "simulate",
         str(EXAMPLES / "business_line.flow")],
        stdin=secondary, stdout=secondary, stderr=secondary, close_fds=True,
    )
    os.close(secondary)
    os.write(primary, b"0\nquit\n")  # `quit` ends the session even if `0` did not
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    os.close(primary)
    text = output.decode("utf-8", "replace")
    assert "Press keys (like 1 or 1234#)" in text
    assert "The call ended: the caller was transferred to +13125550100." in text
