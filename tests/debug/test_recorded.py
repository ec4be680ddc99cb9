"""`flowlang debug --call ID`: a real call as the server recorded it, stepped through by line."""

from __future__ import annotations

import io

import attrs
import pytest

from flowlang.cli import main
from flowlang.offline.debug.console import Console
from flowlang.offline.debug.replayed import ReplayedCall
from flowlang.offline.debug.session import Session
from flowlang.offline.replay import RecordedCall, load_call
from tests.debug.conftest import CALL_ID
from tests.sim.helpers import EXAMPLES

COMMON = str(EXAMPLES / "shared" / "common.flow")


def debugger(call: RecordedCall) -> tuple[Console, str]:
    console = Console(Session(lambda: ReplayedCall(call)))
    return console, "\n".join(console.start())


def typed(console: Console, *lines: str) -> str:
    return "\n".join(out for line in lines for out in console.command(line))


def test_the_recorded_events_come_in_as_the_call_goes(store: str) -> None:
    console, shown = debugger(load_call(store, CALL_ID))
    assert shown == "line 8, step main: answer"
    assert typed(console, "s") == (
        "  line 8    answer the call\n"
        "  >>>       12:00:00 call.answered\n"
        'line 9, step main: say "Thank you for calling Maple Street Clinic."'
    )


def test_breakpoints_where_and_vars_work_on_a_recorded_call(store: str) -> None:
    console, _ = debugger(load_call(store, CALL_ID))
    typed(console, "break verify")
    out = typed(console, "c")
    assert '  >>>       12:00:00 call.gather.ended: status "invalid", digits "5"' in out
    assert '  >>>       12:00:00 call.gather.ended: status "valid", digits "1"' in out
    assert out.splitlines()[-2:] == [
        "stopped at breakpoint 1: the call went into step verify",
        f"{COMMON} line 8, step verify: set wrong_before = false",
    ]
    assert typed(console, "where").splitlines()[1] == (
        "  called from step main, line 13: call verify"
    )
    assert typed(console, "print digits") == '  digits = "1"'
    out = typed(console, "out")
    assert '  >>>       12:00:01 call.gather.ended: status "valid", digits "01311980"' in out
    assert out.splitlines()[-1] == (
        'line 14, step main: say "Your next appointment is on Tuesday at ten in the morning."'
    )
    assert typed(console, "c").splitlines()[-1] == "the call ended: the call was hung up"
    assert typed(console, "print birth") == '  birth = "01311980"'


def test_the_caller_cannot_be_played_in_a_recorded_call(store: str) -> None:
    console, _ = debugger(load_call(store, CALL_ID))
    refused = (
        "this is a recorded call: what the caller did comes from the recording. "
        "Type step, next or continue to go on"
    )
    assert typed(console, "1") == refused
    typed(console, "c")
    assert typed(console, "hangup") == refused


def test_a_call_recorded_before_its_end_stops_where_the_recording_does(store: str) -> None:
    console, _ = debugger(load_call(store, "v3:unfinished"))
    out = typed(console, "c")
    assert out.splitlines()[-3:] == [
        "waiting for: key presses - last try (2 of 2); the recording ends here (the call was "
        "still going on when it was read, or the server stopped before its end)",
        "  at line 10, step main: gather tries 2:",
        "type what happens: nothing more: the recording has no more events (restart or quit)",
    ]
    assert typed(console, "timeout").startswith("this is a recorded call")


def test_a_replay_that_parts_from_the_recording_is_said_first(store: str) -> None:
    call = load_call(store, CALL_ID)
    tampered = attrs.evolve(call, start=attrs.evolve(call.start, commands=()))
    assert ReplayedCall(call).parted is None
    assert ReplayedCall(tampered).parted == (
        "replaying this call does not give what was recorded, from its event number 0 "
        f"(call.initiated) on: `flowlang replay {CALL_ID}` shows how; what follows is the replay"
    )


def debug(monkeypatch: pytest.MonkeyPatch, typed_lines: str, *argv: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed_lines))
    return main(["debug", *argv])


def test_the_command_debugs_a_call_named_by_the_start_of_its_id(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert debug(monkeypatch, "c\n", "--call", "v3:recorded", "--store", store,
                 "--break", "front_desk", "--break", "14") == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"Debugging call {CALL_ID} from +15550001111 to +15550002222, started "
        f"2027-01-15 08:00:00 UTC, on {EXAMPLES / 'clinic.flow'} (version "
    )
    assert "Its events come from the recording, one by one, as the call goes.\n" in out
    assert "stopped at breakpoint 2\nline 14, step main: say" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--call", "v3:nobody"], "no call 'v3:nobody' in this store"),
        (["--call", "v3:"], "more than one call starts with 'v3:'"),
        (["--call", CALL_ID, "--at", "2026-11-23T10:00"], "--at sets up a simulated call; a "
                                                          "recorded call (--call) has its own"),
        (["--call", CALL_ID, str(EXAMPLES / "clinic.flow")], "give a FLOW to debug a simulated "
                                                             "call, or --call ID"),
        ([], "give the .flow file to debug (or --call ID for a recorded call)"),
    ],
    ids=["unknown", "ambiguous", "simulated-option", "both", "neither"],
)
def test_mistakes_with_a_recorded_call_are_one_line(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str], message: str,
) -> None:
    assert debug(monkeypatch, "", *argv, "--store", store) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flowlang: error: {message}")
    assert len(err.splitlines()) == 1


def test_a_store_that_cannot_be_opened_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert debug(monkeypatch, "", "--call", "x", "--store", "mysql://nowhere") == 2
    err = capsys.readouterr().err
    assert err.startswith("flowlang: error: ")
    assert len(err.splitlines()) == 1
