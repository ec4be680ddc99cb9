"""What a recorded caller would hear from another version of the flow, beside what they heard."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from attrs import frozen

from flowlang.offline.conversation import Line, conversation
from flowlang.offline.replay import RecordedCall, caller_actions, retrace
from flowlang.offline.scenario.run import Row
from flowlang.offline.simulator import InputError, Transcript, simulate
from flowlang.program import Program

# The lines of a conversation a comparison shows: what the caller hears and does, and how the
# call ends (steps and logs are the flow's inner workings: they may change freely).
HEARD = ("say", "ask", "play", "ai", "assistant", "transfer", "hangup", "sms", "queue", "record",
         "caller", "note", "end")


@frozen
class Comparison:
    """A recorded call beside the same caller on another version: the `rows` (the `failed`
    ones differ), how many `differences`, and `stopped`: why the caller's recorded behaviour
    stopped fitting the new version, when it did."""

    rows: tuple[Row, ...]
    differences: int
    stopped: str | None
    after: Transcript


def compare(call: RecordedCall, program: Program) -> Comparison:
    """The recorded call (as it went) beside the simulated call of `program` in which the caller,
    Telnyx and the backend do what they did on the recorded one, at the moment it started."""
    before = conversation(retrace(call).transcript, call.program)
    stopped = None
    try:
        after_call = simulate(
            program,
            caller_actions(call),
            call.call.caller,
            call.call.called,
            at=call.start.when,
            values=call.inputs,
        )
    except InputError as exc:
        stopped = str(exc)
        if exc.transcript is None:
            raise
        after_call = exc.transcript
    after = conversation(after_call, program)
    rows = tuple(_rows(_heard(before), _heard(after)))
    return Comparison(rows, sum(r.failed for r in rows), stopped, after_call)


def _heard(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.kind in HEARD]


def _by_turn(lines: list[Line]) -> dict[int, list[Line]]:
    turns: dict[int, list[Line]] = {}
    for line in lines:
        turns.setdefault(line.turn, []).append(line)
    return turns


def _rows(before: list[Line], after: list[Line]) -> Iterator[Row]:
    # Compared turn by turn (a turn: what happens after one caller action), so that a difference
    # stays beside the caller action it follows.
    left, right = _by_turn(before), _by_turn(after)
    for turn in sorted(set(left) | set(right)):
        old, new = left.get(turn, []), right.get(turn, [])
        matcher = difflib.SequenceMatcher(
            a=[line.text for line in old], b=[line.text for line in new], autojunk=False
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for a, b in zip(old[i1:i2], new[j1:j2], strict=True):
                    yield _row(a, b, False)
                continue
            pairs = max(i2 - i1, j2 - j1)
            for k in range(pairs):
                yield _row(
                    old[i1 + k] if i1 + k < i2 else None,
                    new[j1 + k] if j1 + k < j2 else None,
                    True,
                )


def _text(line: Line | None) -> str:
    if line is None:
        return ""
    if line.kind == "caller":
        return f">>> {line.text}"
    return line.text


def _row(before: Line | None, after: Line | None, differs: bool) -> Row:
    return Row(
        _text(before),
        before.flow_line if before is not None else None,
        _text(after),
        after.flow_line if after is not None else None,
        differs,
    )
