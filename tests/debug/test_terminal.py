"""`flowlang debug` driven by a person at a real terminal (a pseudo-terminal, through pexpect)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.debug.conftest import CALL_ID
from tests.sim.helpers import EXAMPLES

FLOWLANG = str(Path(sys.executable).parent / "flowlang")
PROMPT = r"\(debug\) "
# Every wait is short, so a debugger that does not answer fails the test in seconds.
WAIT = 10


def spawn(*argv: str) -> pexpect.spawn:
    """`flowlang debug ARGV...` in a pseudo-terminal of its own."""
    return pexpect.spawn(
        FLOWLANG,
        ["debug", *argv],
        encoding="utf-8",
        timeout=WAIT,
        dimensions=(40, 200),
        # A terminal with no escape sequences of its own, so the output is plain text.
        env={**os.environ, "TERM": "dumb"},
    )


@pytest.fixture
def terminal() -> Iterator[pexpect.spawn]:
    child = spawn(str(EXAMPLES / "business_line.flow"), "--at", "2026-11-24T10:00",
                  "--break", "hours")
    yield child
    if child.isalive():
        child.terminate(force=True)


def answer(child: pexpect.spawn, typed: str) -> str:
    """Type a line, and what the debugger shows before its next prompt."""
    child.sendline(typed)
    child.expect(PROMPT)
    return str(child.before)


def test_a_person_debugs_a_call_to_its_end(terminal: pexpect.spawn) -> None:
    child = terminal
    child.expect("Debugging .*business_line.flow: a simulated call from")
    child.expect(PROMPT)
    assert "line 6, step main: answer" in str(child.before)

    assert "line 7, step main: say \"Thank you for calling Rossi's Bakery.\"" in answer(
        child, "step")
    out = answer(child, "break 14")
    assert 'breakpoint 2: at line 14: on digits "1": goto hours' in out

    out = answer(child, "continue")
    assert "  line 7    say \"Thank you for calling Rossi's Bakery.\"" in out
    assert (
        "waiting for: key presses (1 key: 0, 1, 2) - try 1 of 3, 2 more tries after this one"
    ) in out

    out = answer(child, "5")
    assert "caller presses 5 (not a valid entry)" in out
    assert "try 2 of 3, 1 more try after this one" in out

    out = answer(child, "vars")
    assert '  digits = "5"  (built in)' in out
    assert '"weekday": "tuesday"' in out

    out = answer(child, "press 1")
    assert "stopped at breakpoint 2" in out
    assert 'line 14, step menu: on digits "1": goto hours' in out

    out = answer(child, "list")
    assert '->B  14          on digits "1": goto hours' in out

    out = answer(child, "c")
    assert "stopped at breakpoint 1: the call went into step hours" in out
    assert "line 27, step hours: say" in out

    out = answer(child, "where")
    assert "line 27, step hours: say" in out

    out = answer(child, "jump")
    assert "`jump` is not a debugger command, nor something the caller can do" in out

    out = answer(child, "c")
    assert "waiting for: key presses (1 key: 0, 1) - its only try" in out

    out = answer(child, "0")
    assert "step operator (line 37)" in out
    assert "log: Caller +15550001111 asked for a person" in out
    assert "the call ended: the caller was transferred" in out

    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_up_arrow_brings_back_the_last_command(terminal: pexpect.spawn) -> None:
    child = terminal
    child.expect(PROMPT)
    assert "line 7, step main" in answer(child, "s")
    # Up arrow, then Enter: readline's history types `s` again.
    assert "line 8, step main: goto menu" in answer(child, "\x1b[A")


def test_ctrl_c_does_not_end_the_session(terminal: pexpect.spawn) -> None:
    child = terminal
    child.expect(PROMPT)
    # The prompt is written just before readline starts reading: a Ctrl-C in between is only
    # seen once a line is typed. A person cannot be that quick; the test waits as a person does.
    time.sleep(0.3)
    child.sendintr()
    child.expect("type quit to stop")
    child.expect(PROMPT)
    assert "line 7, step main" in answer(child, "s")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_a_person_debugs_a_recorded_call(store: str) -> None:
    child = spawn("--call", CALL_ID, "--store", store, "--break", "verify")
    try:
        child.expect(f"Debugging call {CALL_ID} from")
        child.expect(PROMPT)
        out = answer(child, "c")
        assert '>>>       12:00:00 call.gather.ended: status "valid", digits "1"' in out
        assert "stopped at breakpoint 1: the call went into step verify" in out
        out = answer(child, "where")
        assert "called from step main, line 13: call verify" in out
        out = answer(child, "1")
        assert "this is a recorded call: what the caller did comes from the recording" in out
        out = answer(child, "next")
        assert "step verify: goto ask_birth" in out
        out = answer(child, "c")
        assert "the call ended: the call was hung up" in out
        child.sendline("q")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
