"""A scripted stand-in for Telnyx in interpreter tests: it sends each event a test asks for.

    call = Call.of(FLOW_TEXT)
    call.start()
    call.event("call.gather.ended", status="valid", digits="1")

Every event echoes the `client_state` of the latest command sent (as Telnyx does) unless given one.
Every command body is checked against the OpenAPI subset as it is produced.
"""

from __future__ import annotations

import json
from typing import Any

from flowlang.compiler import build_program, compile_source
from flowlang.program import Program
from flowlang.runtime.commands import Command
from flowlang.runtime.events import CallInfo, Event
from flowlang.runtime.interpreter import Interpreter
from flowlang.runtime.outcome import Outcome
from flowlang.source import Source
from flowlang.syntax.parser import parse_source
from tests.openapi import validate_command

CALL_ID = "v3:test-call"

# The event that completes each kind of wait with the ordinary, successful status.
COMPLETIONS = {
    "answer": ("call.answered", {}),
    "speak": ("call.speak.ended", {"status": "completed"}),
    "playback": ("call.playback.ended", {"status": "completed"}),
}


def actions(commands: list[Command]) -> list[str]:
    return [c.action for c in commands]


def without_correlation(body: dict[str, Any]) -> dict[str, Any]:
    """A body without `client_state` and `command_id`, to compare with what a statement means."""
    return {k: v for k, v in body.items() if k not in ("client_state", "command_id")}


class Call:
    """One call's run, kept with every outcome and command so far."""

    def __init__(self, program: Program, caller: str = "+15550001111") -> None:
        self.program = program
        self.interpreter = Interpreter(program)
        self.info = CallInfo(CALL_ID, caller, "+15550002222")
        self.outcomes: list[Outcome] = []
        self.commands: list[Command] = []
        self.logs: list[str] = []
        self.reached: list[str] = []

    @classmethod
    def of(cls, text: str, caller: str = "+15550001111") -> Call:
        """A call of the flow written in `text` (which must pass the linter)."""
        return cls(compile_source(Source("test.flow", text)), caller)

    @classmethod
    def unchecked(cls, text: str) -> Call:
        """A call of `text` compiled without the linter (for what the compiler does with flows
        the linter refuses)."""
        source = Source("test.flow", text)
        return cls(build_program(parse_source(source), source))

    @property
    def last(self) -> Outcome:
        return self.outcomes[-1]

    @property
    def state(self) -> dict[str, Any]:
        return self.last.state

    def _record(self, outcome: Outcome) -> Outcome:
        for command in outcome.commands:
            validate_command(command.action, command.body)
        json.dumps(outcome.state)
        self.outcomes.append(outcome)
        self.commands += outcome.commands
        self.logs += [line.text for line in outcome.logs]
        self.reached += outcome.reached
        return outcome

    def start(self) -> Outcome:
        return self._record(self.interpreter.start(self.info))

    def client_state(self) -> str | None:
        calls = [c for c in self.commands if not c.is_message]
        return calls[-1].body["client_state"] if calls else None

    def event(self, type_: str, **payload: Any) -> Outcome:
        payload.setdefault("client_state", self.client_state())
        payload.setdefault("call_control_id", CALL_ID)
        if payload["client_state"] is None:
            del payload["client_state"]
        outcome = self.interpreter.handle(self.state, Event(type_, payload))
        if outcome.ignored:
            self.outcomes.append(outcome)
            return outcome
        return self._record(outcome)

    def complete(self) -> Outcome:
        """Finish the current `answer`, `say` or `play` wait."""
        waiting = self.last.waiting
        assert waiting in COMPLETIONS, f"not waiting for a simple completion: {waiting}"
        type_, payload = COMPLETIONS[waiting]
        return self.event(type_, **payload)

    def settle(self) -> Outcome:
        """Complete every `answer`/`say`/`play` until the run waits for something else or ends."""
        while self.last.end is None and self.last.waiting in COMPLETIONS:
            self.complete()
        return self.last

    def press(self, digits: str, status: str = "valid") -> Outcome:
        assert self.last.waiting == "gather", self.last.waiting
        out = self.event("call.gather.ended", status=status, digits=digits)
        return out

    def new_commands(self) -> list[Command]:
        return list(self.last.commands)
