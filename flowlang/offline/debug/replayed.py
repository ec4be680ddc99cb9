"""A real call the server recorded, as the debugger walks it: its events fed in, one by one."""

from __future__ import annotations

from collections import deque
from datetime import UTC
from typing import Any

from flowlang.offline.debug.calls import WAITS as SIMULATED_WAITS
from flowlang.offline.debug.calls import Place, Waiting, place_of, tries_left
from flowlang.offline.debug.timeline import Item, Recorder
from flowlang.offline.replay import RecordedCall, RecordedStep, describe, replay
from flowlang.offline.simulator import InputError
from flowlang.runtime.outcome import End, Outcome

# What a recorded call can be left waiting for, in words, by the kind of wait in its state.
WAITS = {
    **SIMULATED_WAITS,
    "answer": "the call to be answered",
    "speak": "the end of what it says",
    "reprompt": "the end of what it says",
    "playback": "the end of what it plays",
    "gather": "key presses",
}


class ReplayedCall:
    """The recorded call's flow version run again by a traced interpreter, fed the recorded
    events in order, each one when the run has used up the one before (`advance`)."""

    typed_caller = False

    def __init__(self, recorded: RecordedCall) -> None:
        self.recorded = recorded
        self.program = recorded.program
        self.recorder = Recorder(self.program)
        info = recorded.call
        if recorded.placed:
            self.outcome: Outcome = self.recorder.start(info, recorded.inputs or {})
        else:
            self.outcome = self.recorder.start(info)
        self.fed = 0
        # A replay that parts from the recording is a bug in flowlang (the interpreter is pure):
        # say so first, so that what the debugger shows is not taken for what the caller heard.
        mismatch = replay(recorded).mismatch
        self.parted: str | None = None if mismatch is None else (
            f"replaying this call does not give what was recorded, from its event number"
            f" {mismatch.index} ({mismatch.step.event.type}) on: `flowlang replay"
            f" {info.call_control_id}` shows how; what follows is the replay"
        )

    @property
    def items(self) -> deque[Item]:
        return self.recorder.items

    @property
    def end(self) -> End | None:
        return self.outcome.end

    @property
    def state(self) -> dict[str, Any]:
        return self.outcome.state

    def place(self) -> Place:
        return place_of(self.program, self.outcome.state, self.end)

    def advance(self) -> list[str] | None:
        """Feed the next recorded event; what came in, in a line. None when none is left."""
        steps = self.recorded.steps
        if self.end is not None or self.fed >= len(steps):
            return None
        step = steps[self.fed]
        self.fed += 1
        outcome = self.recorder.handle(self.outcome.state, step.event)
        shown = f"  >>>       {event_text(step)}"
        if outcome.ignored:
            return [f"{shown} (not what the call waited for: it changed nothing)"]
        self.outcome = outcome
        return [shown]

    def waiting(self) -> Waiting | None:
        if self.end is not None:
            return None
        place = self.place()
        wait = self.outcome.state.get("wait")
        kind = wait.get("kind") if isinstance(wait, dict) else None
        what = WAITS.get(kind, "something") if isinstance(kind, str) else "something"
        left = tries_left(self.program, self.outcome.state) if kind == "gather" else None
        if left is not None:
            what = f"{what} - {left}"
        return Waiting(
            f"{what}; the recording ends here (the call was still going on when it was read,"
            " or the server stopped before its end)",
            "nothing more: the recording has no more events (restart or quit)",
            place.line,
            place.step,
        )

    def give(self, text: str) -> list[str]:
        raise InputError(
            "this is a recorded call: what the caller did comes from the recording. "
            "Type step, next or continue to go on"
        )

    def notes(self) -> list[str]:
        return []


def event_text(step: RecordedStep) -> str:
    """A recorded event in one line: when, what, and the fields that say how it went."""
    when = step.when
    at = f"{when.astimezone(UTC):%H:%M:%S} " if when is not None else ""
    return at + describe(step)
