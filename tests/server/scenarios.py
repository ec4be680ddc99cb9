"""The calls the end-to-end tests place, and how a served call is checked against the simulator."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flowlang.cli.inputs import read_source
from flowlang.compiler import compile_source
from flowlang.offline.phone import CLOCK_START
from flowlang.offline.simulator import simulate
from tests.server.fake_telnyx import FakeCall, FakeTelnyx
from tests.server.live import ROOT, wait_for

EVERYTHING = Path(__file__).parent / "flows" / "everything.flow"
BEYOND = Path(__file__).parent / "flows" / "beyond.flow"
EXAMPLES = ROOT / "examples"

# Caller scripts (LANGUAGE.md 8 spellings) that together send every action the language uses.
SCENARIOS: list[tuple[Path, list[str]]] = [
    (EVERYTHING, ["1", "1234#", "9"]),
    (EVERYTHING, ["1", "0000#", "timeout", "timeout", "timeout"]),
    (EVERYTHING, ["1", "5555#", "hangup"]),
    (EVERYTHING, ["1", "timeout", "timeout", "timeout"]),
    (EVERYTHING, ["2", 'ai={"name": "Bob", "guests": 2}']),
    (EVERYTHING, ["2", 'ai-invalid={"name": "Bob"}']),
    (EVERYTHING, ["2", "key=0"]),
    (EVERYTHING, ["3", "end"]),
    (EVERYTHING, ["3", "key=0"]),
    (EVERYTHING, ["7", "timeout"]),
    (EVERYTHING, ["hangup"]),
    (BEYOND, ["1", "answered"]),
    (BEYOND, ["1", "busy", "hangup", "saved=30"]),
    (BEYOND, ["1", "no_answer", "#", "saved"]),
    (BEYOND, ["1", "failed", "record-error"]),
    (BEYOND, ["2", "bridged"]),
    (BEYOND, ["2", "queue-timeout", "hangup", "record-error"]),
    (EXAMPLES / "acme_main.flow", ["2", "123456#"]),
    (EXAMPLES / "acme_main.flow", ["3", "9", "timeout", "timeout", "timeout"]),
    (EXAMPLES / "business_line.flow", ["1", "1", "2"]),
    (EXAMPLES / "business_line.flow", ["timeout", "timeout", "timeout"]),
    # `try again`: a wrong extension is a failed try, on the real server as in the simulator.
    (EXAMPLES / "extension_menu.flow", ["55", "1020", "0999"]),
    (EXAMPLES / "extension_menu.flow", ["2000", "timeout", "1005"]),
    (EXAMPLES / "pin_entry.flow", ["0000#", "hangup"]),
    (EXAMPLES / "pin_entry.flow", ["timeout", "timeout", "timeout"]),
    (EXAMPLES / "survey.flow", ["5", "1"]),
    (EXAMPLES / "survey.flow", ["9", "9", "timeout", "timeout"]),
    (EXAMPLES / "table_booking.flow", ['ai={"name": "Ann", "guests": 4, "time": "Friday 8pm"}']),
    (EXAMPLES / "table_booking.flow", ["key=0"]),
    (EXAMPLES / "ai_receptionist.flow", ["end"]),
    (EXAMPLES / "ai_receptionist.flow", ["key=0"]),
    # New Year's Day is a holiday: the caller leaves a number to be called back.
    (EXAMPLES / "front_desk.flow", ["1", "3125550100", "1"]),
]
IDS = [f"{path.stem}-{'-'.join(inputs)[:40]}" for path, inputs in SCENARIOS]


def program(path: Path) -> Any:
    return compile_source(read_source(path))


def without_ids(commands: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    # command_id and a transfer's target_leg_client_state are derived from the call_control_id,
    # which differs between the simulator's call and the fake's; everything else must be
    # identical.
    derived = ("command_id", "target_leg_client_state")
    return [(a, {k: v for k, v in b.items() if k not in derived}) for a, b in commands]


def expected(path: Path, inputs: list[str]) -> list[tuple[str, dict[str, Any]]]:
    # The simulator's clock stands at the time the fake Telnyx's events carry.
    transcript = simulate(program(path), inputs, at=CLOCK_START)
    assert transcript.end.reason != "waiting", "a scenario must end the call"
    return without_ids([(c.action, c.body) for c in transcript.commands if not c.is_message])


def expected_messages(path: Path, inputs: list[str]) -> list[dict[str, Any]]:
    """The text messages (`POST /messages` bodies) the simulator sends for this call."""
    return [c.body for c in simulate(program(path), inputs).commands if c.is_message]


# A call in these tests makes progress every fraction of a second; this long with no command and
# no webhook means it is stuck, however busy the machine.
QUIET = 15.0


def finish(*calls: FakeCall, timeout: float = 120.0) -> None:
    """Wait for every call to end; fail at once when the fake reports trouble or all is quiet."""
    wait_for(lambda: all(c.finished for c in calls), timeout, "every call to finish", stuck(calls))


def stuck(calls: Sequence[FakeCall]) -> Callable[[], str | None]:
    """For `wait_for`: why `calls` will not get anywhere, or None while they may."""
    fake, since = calls[0].fake, time.monotonic()
    return lambda: fake.trouble(calls, QUIET, since)


def assert_ran_like_the_simulator(
    fake: FakeTelnyx, call: FakeCall, flow: Path, inputs: list[str]
) -> None:
    assert fake.invalid == []
    assert call.caller_errors == []
    assert without_ids(call.accepted) == expected(flow, inputs)
    texts = expected_messages(flow, inputs)
    if texts:
        wait_for(lambda: len(fake.messages) >= len(texts), 30, "the text messages")
        # The recording's URL names its leg, which differs between the two calls.
        assert [m["to"] for m in fake.messages] == [t["to"] for t in texts]
    assert len({b["command_id"] for _, b in call.accepted}) == len(call.accepted)
