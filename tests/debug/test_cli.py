"""`flowlang debug` on the command line: its options, its mistakes, and typed input from a pipe."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from flowlang.cli import main
from tests.sim.helpers import EXAMPLES, VOICE, write_flow


def debug(monkeypatch: pytest.MonkeyPatch, typed: str, *argv: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    return main(["debug", *argv])


def test_typed_lines_from_a_pipe_are_shown_with_their_answers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status = debug(monkeypatch, "c\n1\nq\n", str(EXAMPLES / "business_line.flow"),
                   "--break", "27", "--from", "+15557654321")
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(
        f"Debugging {EXAMPLES / 'business_line.flow'}: a simulated call from +15557654321 "
        "to +15550002222.\n"
    )
    assert "(debug) c\n" in out
    assert "(debug) 1\n  >>>       caller presses 1\nstopped at breakpoint 1\n" in out
    assert out.endswith("(debug) q\n")


def test_the_end_of_the_input_ends_the_session(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert debug(monkeypatch, "s", str(EXAMPLES / "business_line.flow")) == 0
    assert capsys.readouterr().out.endswith(
        "(debug) s\n"
        "  line 6    answer the call\n"
        "line 7, step main: say \"Thank you for calling Rossi's Bakery.\"\n"
        "(debug) \n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--break", "nowhere"], "--break nowhere: `nowhere` is neither a line number nor a "
                                 "step of this flow"),
        (["--language", "fr-FR"], "--language fr-FR: the flow speaks only its one language"),
        (["--at", "tuesday"], "--at: "),
    ],
    ids=["break", "language", "at"],
)
def test_option_mistakes_are_one_line_with_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str],
    message: str,
) -> None:
    assert debug(monkeypatch, "", str(EXAMPLES / "business_line.flow"), *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flowlang: error: {message}")
    assert len(err.splitlines()) == 1


def test_a_flow_with_mistakes_is_not_debugged(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_flow(tmp_path, VOICE + "main:\n    answer\n    goto nowhere\n")
    assert debug(monkeypatch, "", str(path)) == 1
    captured = capsys.readouterr()
    assert "cannot debug: 1 error to fix first" in captured.err
    assert "(debug)" not in captured.out


def test_a_flow_that_places_calls_is_debugged_from_its_own_number(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = EXAMPLES / "appointment_reminder.flow"
    status = debug(monkeypatch, "q\n", str(flow), "--with", "patient=Ann", "--with", "day=Monday",
                   "--with", "time=9 AM")
    assert status == 0
    assert capsys.readouterr().out.startswith(
        f"Debugging {flow}: a simulated call from +13125550199 to +15550002222.\n"
    )
