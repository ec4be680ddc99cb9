"""The call a debugger walks: a simulated one, with a person typing what the caller does."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from attrs import frozen

from flowlang.offline.conversation import caller_text, keys_wanted
from flowlang.offline.debug.timeline import Item, Recorder, waiting_line
from flowlang.offline.phone import INPUTS
from flowlang.offline.simulator import (
    DEFAULT_CALLED,
    DEFAULT_CALLER,
    Heard,
    InputError,
    Note,
    Simulation,
    parse_input,
)
from flowlang.program import GatherOp, Program
from flowlang.runtime.outcome import End
from flowlang.runtime.trace import callers

# What the call waits for, in words, by the kind of wait (a gather has its own, with its keys).
WAITS = {
    "fetch": "the backend's answer",
    "ai_gather": "the AI gather's result",
    "assistant": "the end of the conversation with the AI assistant",
    "record": "the recording to end",
    "transfer": "the transferred-to number to answer",
    "queue": "an agent to take the queued call",
    "machine": "answering-machine detection",
    "beep": "the answering machine's beep",
}

@frozen
class Waiting:
    """What a call waits for now: `what` in words, the `hint` of what to type, and where."""

    what: str
    hint: str
    line: int | None
    step: str


@frozen
class Place:
    """Where a suspended call stands: at `line` (None when nowhere) in `step`, inside `calls`."""

    line: int | None
    step: str
    calls: tuple[tuple[str, int], ...]


class SimulatedCall:
    """A call played by the simulator, whose interpreter keeps a trace for the debugger.
    `items` fill up as the call runs ahead: everything up to the next wait, at once."""

    typed_caller = True

    def __init__(
        self,
        program: Program,
        caller: str = DEFAULT_CALLER,
        called: str = DEFAULT_CALLED,
        language: str | None = None,
        at: datetime | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        self.program = program
        self.recorder = Recorder(program)
        self.sim = Simulation.begin(
            program, caller, called, self.recorder, language=language, at=at, inputs=values
        )
        self.noted = 0

    @property
    def items(self) -> deque[Item]:
        return self.recorder.items

    @property
    def end(self) -> End | None:
        return self.sim.end

    @property
    def state(self) -> dict[str, Any]:
        return self.sim.state

    def place(self) -> Place:
        """Where the call stands once everything in `items` has run."""
        return place_of(self.program, self.sim.state, self.end)

    def advance(self) -> list[str] | None:
        """Nothing moves a simulated call on but the person playing its caller."""
        return None

    def waiting(self) -> Waiting | None:
        """What the call waits for, None when it has ended."""
        if self.end is not None:
            return None
        place = self.place()
        sim = self.sim
        kind = sim.needs
        if kind is None:
            what = sim.waiting or "something"
            return Waiting(
                f"{what}, which nothing the caller does can complete (the flow is stuck)",
                "hangup",
                place.line,
                place.step,
            )
        if kind == "gather":
            return Waiting(self.keys(), INPUTS["gather"].listed(), place.line, place.step)
        what = WAITS.get(kind, kind)
        if kind == "fetch" and sim.fetching is not None:
            what = f"{what} to {sim.fetching.method} {sim.fetching.url}"
        return Waiting(what, INPUTS[kind].listed(), place.line, place.step)

    def keys(self) -> str:
        """A key-press question's keys and tries: "key presses (1 key: 1, 2) - try 1 of 3"."""
        waiting = self.sim.phone.waiting
        body = waiting.command.body if waiting is not None else {}
        what = f"key presses ({keys_wanted(body)})"
        left = tries_left(self.program, self.sim.state)
        return what if left is None else f"{what} - {left}"

    def give(self, text: str) -> list[str]:
        """The caller does what `text` says (`1`, `press 1`, `timeout`, `hangup`, ...); what
        happened, in words. InputError when it is not a caller input or does not fit now."""
        action = parse_input(caller_words(text))
        before = len(self.sim.entries)
        self.sim.give(action)
        return [caller_text(e) for e in self.sim.entries[before:] if isinstance(e, Heard)]

    def notes(self) -> list[str]:
        """What the simulator noticed since last asked (a command Telnyx would refuse)."""
        entries = self.sim.entries
        found = [e.text for e in entries[self.noted :] if isinstance(e, Note)]
        self.noted = len(entries)
        return found


def place_of(program: Program, state: dict[str, Any], end: End | None) -> Place:
    """Where a run's `state` stands: the statement it waits at, its step, its running `call`s."""
    step = str(state.get("step", ""))
    if end is not None:
        return Place(None, step, ())
    return Place(waiting_line(program, state), step, callers(program, state.get("calls") or []))


def caller_words(text: str) -> str:
    """`press 12#` (or `press 1 2`) is the keys `12#`; anything else is as typed."""
    words = text.split()
    if len(words) >= 2 and words[0].lower() == "press":
        return "".join(words[1:])
    if words == ["press"]:
        raise InputError("press what? Give the keys, like press 1 or press 1234#")
    return text.strip()


def tries_left(program: Program, state: dict[str, Any]) -> str | None:
    """Where the key-press question a run's `state` waits at stands in its tries, in words;
    None when it waits at no question."""
    wait = state.get("wait")
    frames = state.get("frames")
    if not isinstance(wait, dict) or not frames:
        return None
    block, index = frames[-1]
    ops = program.blocks[block].ops
    op = ops[index] if 0 <= index < len(ops) else None
    if not isinstance(op, GatherOp):
        return None
    return tries(int(wait.get("try", 1)), op.tries)


def tries(number: int, total: int) -> str:
    """Where a question stands in its tries, in words."""
    if total <= 1:
        return "its only try"
    left = total - number
    if left <= 0:
        return f"last try ({number} of {total})"
    more = "1 more try" if left == 1 else f"{left} more tries"
    return f"try {number} of {total}, {more} after this one"
