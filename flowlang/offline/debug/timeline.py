"""A call as the debugger walks it: each statement the flow ran, and what it sent in between."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from attrs import frozen

from flowlang.offline.conversation import command_text
from flowlang.program import Program
from flowlang.runtime.events import CallInfo, Event
from flowlang.runtime.interpreter import Interpreter
from flowlang.runtime.outcome import LogLine, Outcome
from flowlang.runtime.trace import TracePoint


@frozen
class Pause:
    """A place the debugger may stop: just before the statement of `point` runs."""

    point: TracePoint


@frozen
class Effect:
    """Something the flow did that the person sees pass: a command sent (`say "..."`), a `log`
    line or a warning, a backend request. `line` is the `.flow` line that did it, when known."""

    text: str
    line: int | None


Item = Pause | Effect


class Recorder:
    """A traced interpreter that turns every outcome it gives into items, in order, for the
    debugger to walk (`items`); a driver (the simulator, a replay) uses it as its interpreter."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.interpreter = Interpreter(program, trace=True)
        self.items: deque[Item] = deque()

    def start(self, call: CallInfo, *inputs: Any) -> Outcome:
        outcome = self.interpreter.start(call, *inputs)
        self.record(outcome, None)
        return outcome

    def handle(self, state: dict[str, Any], event: Event) -> Outcome:
        outcome = self.interpreter.handle(state, event)
        if not outcome.ignored:
            self.record(outcome, waiting_line(self.program, state))
        return outcome

    def record(self, outcome: Outcome, resumed: int | None) -> None:
        """Each traced statement becomes a Pause, followed by what it sent; what the event
        itself caused before any statement ran (a reprompt, a stop) belongs to the statement
        that waited for it (`resumed`)."""
        commands, logs = outcome.commands, outcome.logs
        sent = logged = 0
        line = resumed
        for point in outcome.trace:
            self.effects(outcome, sent, point.sent, logs[logged : point.logged], line)
            self.items.append(Pause(point))
            sent, logged, line = point.sent, point.logged, point.line
        automatic = outcome.end is not None and outcome.end.reason in ("completed", "error")
        self.effects(outcome, sent, len(commands), logs[logged:], line, automatic)
        if outcome.fetch is not None:
            fetch = outcome.fetch
            self.items.append(Effect(f"fetch {fetch.method} {fetch.url}", line))

    def effects(
        self,
        outcome: Outcome,
        first: int,
        last: int,
        logs: Sequence[LogLine],
        line: int | None,
        automatic: bool = False,
    ) -> None:
        """Commands `first`..`last` of an outcome, with its `logs` where they were written;
        each at the line the interpreter says sent it (the next try after a `try again` is its
        gather's), else at `line`, the statement that ran last."""
        commands, lines = outcome.commands, outcome.lines
        waiting = list(logs)
        for number in range(first, last):
            while waiting and waiting[0].after <= number:
                self.items.append(_logged(waiting.pop(0)))
            command = commands[number]
            # The hangup that ends a flow run to its end (or failed) is flowlang's, not a line's.
            by_flowlang = automatic and number == len(commands) - 1 and command.action == "hangup"
            where = lines[number] if number < len(lines) else line
            self.items.append(Effect(command_text(command), None if by_flowlang else where))
        self.items.extend(_logged(log) for log in waiting)


def _logged(log: LogLine) -> Effect:
    kind = "warning" if log.level == "warning" else "log"
    return Effect(f"{kind}: {log.text}", log.line)


def waiting_line(program: Program, state: dict[str, Any]) -> int | None:
    """The line of the statement a run's `state` waits at, None when it waits at none."""
    frames = state.get("frames") if isinstance(state, dict) else None
    if not frames:
        return None
    block, index = frames[-1]
    ops = program.blocks[block].ops
    return ops[index].line if 0 <= index < len(ops) else None
