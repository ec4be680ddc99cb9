"""The debugger's model of a call: where it is paused, its breakpoints, and moving on.

A session walks the items of its call (statements, and what each sent) and stops before a
statement when the way it moves says so (`step`: the next one; `next`: the next one not inside a
`call`; `out`: the first one after the current `call` returns; `continue`: none) or a breakpoint
is there. When the items run out, the call waits for the caller (or has ended). Everything is
answered as lines of text, in the words of the flow: "line 12, step menu: say "Welcome."".
"""

from __future__ import annotations

import difflib
import json
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from attrs import define, field, frozen

from flowlang.offline.conversation import END_WORDS, counted
from flowlang.offline.debug.calls import Place, Waiting
from flowlang.offline.debug.timeline import Effect, Item, Pause
from flowlang.program import Program
from flowlang.runtime.expressions import lookup
from flowlang.runtime.outcome import End
from flowlang.runtime.trace import TracePoint
from flowlang.source import LINE_BLOCK, Source

# Variables every call has; shown after the flow's own.
BUILT_IN = ("caller", "called", "digits", "now", "language")


class DebugError(Exception):
    """A command the session cannot do now or does not understand; the message says why and
    what would work."""


class DebuggedCall(Protocol):
    """What a session needs of its call (calls.SimulatedCall, replayed.ReplayedCall)."""

    program: Program
    # Whether a person types what the caller does (a simulated call), or a recording says it.
    typed_caller: bool

    @property
    def items(self) -> deque[Item]: ...

    @property
    def end(self) -> End | None: ...

    @property
    def state(self) -> dict[str, Any]: ...

    def place(self) -> Place: ...

    def waiting(self) -> Waiting | None: ...

    def give(self, text: str) -> list[str]: ...

    def notes(self) -> list[str]: ...

    def advance(self) -> list[str] | None: ...


@frozen
class Breakpoint:
    """Stop before line `line` runs, or (with `step`) whenever the call goes into that step."""

    number: int
    line: int | None = None
    step: str | None = None


@frozen
class Movement:
    """How the session moves on: `how` is step, next, out or continue; `depth` the number of
    `call`s running when it was asked."""

    how: str
    depth: int = 0

    def stops_at(self, point: TracePoint) -> bool:
        if self.how == "step":
            return True
        if self.how == "next":
            return len(point.calls) <= self.depth
        if self.how == "out":
            return len(point.calls) < self.depth
        return False


@define
class Session:
    """One call being debugged. `start` makes a new call of the flow (for `restart`)."""

    start: Callable[[], DebuggedCall]
    call: DebuggedCall = field(init=False)
    breakpoints: list[Breakpoint] = field(factory=list)
    here: TracePoint | None = None
    movement: Movement = Movement("step")
    numbered: int = 0

    def __attrs_post_init__(self) -> None:
        self.call = self.start()

    @property
    def program(self) -> Program:
        return self.call.program

    @property
    def source(self) -> Source:
        return self.program.source

    @property
    def ended(self) -> End | None:
        """How the call ended, once the session has walked to its end (the call itself runs
        ahead of the session, up to what it waits for)."""
        return self.call.end if self.here is None else None

    # -- moving ----------------------------------------------------------------------------

    def begin(self) -> list[str]:
        """Run to the first statement, and stop there."""
        self.movement = Movement("step")
        return self.run()

    def restart(self) -> list[str]:
        """A new call of the same flow, keeping the breakpoints (said only when there are)."""
        self.call = self.start()
        self.here = None
        kept = " (breakpoints kept)" if self.breakpoints else ""
        return [f"a new call starts{kept}", *self.begin()]

    def move(self, how: str) -> list[str]:
        """`step`, `next`, `out` or `continue` from where the call is paused."""
        if self.ended is not None:
            raise DebugError("the call has ended: type restart for a new call, or quit")
        if self.here is None:
            # Waiting for the caller: the movement applies once the caller has done something.
            self.movement = Movement(how, len(self.call.place().calls))
            waiting = self.call.waiting()
            hint = f" ({waiting.hint})" if waiting is not None else ""
            return [f"the call waits for the caller: type what the caller does{hint}; "
                    f"then it goes on with {how}"]
        depth = len(self.here.calls)
        if how == "out" and depth == 0:
            raise DebugError(
                f"step {self.here.step} was not started by a `call`, so there is nothing to "
                "step out of: use next (n) or continue (c)"
            )
        self.movement = Movement(how, depth)
        return self.run()

    def give(self, text: str) -> list[str]:
        """The caller does what `text` says, and the call goes on as it was moving."""
        if not self.call.typed_caller:
            return self.call.give(text)  # which says why not
        if self.ended is not None:
            raise DebugError("the call has ended: type restart for a new call, or quit")
        if self.here is not None:
            raise DebugError(
                f"the call is not waiting for the caller yet: it is at {self.where_text()}. "
                "Type continue (c) to run to what it waits for, or step (s)"
            )
        said = [f"  >>>       {line}" for line in self.call.give(text)]
        return said + self.run()

    def run(self) -> list[str]:
        """Walk the items until the movement or a breakpoint stops, or the call waits."""
        out: list[str] = []
        items = self.call.items
        while True:
            if not items:
                # A recorded call moves on by itself: its next event, if it has one.
                fed = self.call.advance()
                if fed is None:
                    break
                out += fed
                continue
            item: Item = items.popleft()
            if isinstance(item, Effect):
                out.append(self.effect(item))
                continue
            assert isinstance(item, Pause)
            point = item.point
            hit = self.breakpoint_at(point)
            if hit is not None or self.movement.stops_at(point):
                self.here = point
                if hit is not None:
                    out.append(self.stopped(hit))
                out.append(self.location())
                return counted((line, True) for line in out)
            if self.entering(point):
                out.append(f"step {point.step} ({self.line_name(self.step_line(point.step))})")
        self.here = None
        out += [f"note: {note}" for note in self.call.notes()]
        out += self.status()
        return counted((line, True) for line in out)

    def effect(self, effect: Effect) -> str:
        where = self.line_name(effect.line) if effect.line is not None else ""
        return f"  {where:<9} {effect.text}"

    def status(self) -> list[str]:
        """How the call stands once nothing is left to run: what it waits for, or its end."""
        end = self.call.end
        if end is not None:
            return [self.ending(end)]
        waiting = self.call.waiting()
        assert waiting is not None
        out = [f"waiting for: {waiting.what}"]
        if waiting.line is not None:
            line = waiting.line
            out.append(f"  at {self.line_name(line)}, step {waiting.step}: {self.text_of(line)}")
        return [*out, f"type what happens: {waiting.hint}"]

    def ending(self, end: End) -> str:
        if end.reason == "error":
            where = f" at {self.line_name(end.line)}" if end.line is not None else ""
            return f"the call ended with an error{where}: {end.message or 'the flow failed'}"
        return f"the call ended: {END_WORDS.get(end.reason, end.reason)}"

    # -- breakpoints -----------------------------------------------------------------------

    def add_breakpoint(self, spec: str) -> list[str]:
        """`break 12`, `break common.flow:3` or `break menu`."""
        spec = spec.strip()
        out: list[str] = []
        if spec.isdigit() or ":" in spec:
            wanted = self.line_of(spec)
            line = self.statement_at_or_after(wanted, spec)
            if line != wanted:
                out.append(
                    f"{self.line_name(wanted)} has no statement of its own; "
                    f"the breakpoint is at {self.line_name(line)}, the next one"
                )
            breakpoint_ = Breakpoint(self.numbered + 1, line=line)
        else:
            if self.program.step(spec) is None:
                raise DebugError(self.no_step(spec))
            breakpoint_ = Breakpoint(self.numbered + 1, step=spec)
        if any(b.line == breakpoint_.line and b.step == breakpoint_.step
               for b in self.breakpoints):
            raise DebugError(f"there is already a breakpoint {self.describe(breakpoint_)}")
        self.numbered += 1
        self.breakpoints.append(breakpoint_)
        out.append(f"breakpoint {breakpoint_.number}: {self.describe(breakpoint_)}")
        return out

    def delete(self, spec: str) -> list[str]:
        """`delete` (all), `delete 2` (by number)."""
        spec = spec.strip()
        if not spec:
            count = len(self.breakpoints)
            self.breakpoints.clear()
            return [f"deleted all breakpoints ({count})" if count else "there are no breakpoints"]
        if not spec.isdigit():
            raise DebugError(f"`delete {spec}`: give a breakpoint's number (see `break`), "
                             "or nothing to delete them all")
        number = int(spec)
        for b in self.breakpoints:
            if b.number == number:
                self.breakpoints.remove(b)
                return [f"deleted breakpoint {number} ({self.describe(b)})"]
        raise DebugError(f"there is no breakpoint {number}: {self.listing_hint()}")

    def list_breakpoints(self) -> list[str]:
        if not self.breakpoints:
            return ["no breakpoints: set one with break LINE or break STEP"]
        return [f"breakpoint {b.number}: {self.describe(b)}" for b in self.breakpoints]

    def listing_hint(self) -> str:
        if not self.breakpoints:
            return "there are none"
        return "the breakpoints are " + ", ".join(str(b.number) for b in self.breakpoints)

    def stopped(self, b: Breakpoint) -> str:
        if b.step is not None:
            return f"stopped at breakpoint {b.number}: the call went into step {b.step}"
        return f"stopped at breakpoint {b.number}"

    def describe(self, b: Breakpoint) -> str:
        if b.step is not None:
            return f"when the call goes into step {b.step}"
        assert b.line is not None
        return f"at {self.line_name(b.line)}: {self.text_of(b.line)}"

    def breakpoint_at(self, point: TracePoint) -> Breakpoint | None:
        for b in self.breakpoints:
            if b.line == point.line or (b.step is not None and self.entering(point, b.step)):
                return b
        return None

    def entering(self, point: TracePoint, step: str | None = None) -> bool:
        """Whether `point` is the first statement of its step (of `step`, when given): the
        call has just gone into it."""
        if point.index != 0 or (step is not None and point.step != step):
            return False
        info = self.program.step(point.step)
        return info is not None and info.block == point.block

    def line_of(self, spec: str) -> int:
        """The merged-flow line `spec` names: `12` (the flow's own file) or `FILE:12`."""
        name, _, number = spec.rpartition(":")
        if not number.isdigit() or int(number) < 1:
            raise DebugError(f"`{spec}` is not a line: give a line number (break 12), "
                             "a file and a line (break common.flow:3) or a step's name")
        if not name:
            return int(number)
        parts = self.source.included
        for part in parts:
            if part.name == name or part.name.endswith("/" + name):
                return self.source.offset_of(part.name) + int(number)
        if name == self.source.name or self.source.name.endswith("/" + name):
            return int(number)
        files = ", ".join(p.name for p in (self.source, *parts))
        raise DebugError(f"`{name}` is not one of the flow's files ({files})")

    def statement_at_or_after(self, line: int, spec: str) -> int:
        """`line` when a statement is on it, else the next line of the same file that has one."""
        block_end = (line // LINE_BLOCK + 1) * LINE_BLOCK
        lines = self.statement_lines()
        later = [n for n in lines if line <= n < block_end]
        if not later:
            raise DebugError(
                f"`break {spec}`: no statement is on {self.line_name(line)} or after it; "
                "type list to see the flow's lines"
            )
        return min(later)

    def statement_lines(self) -> set[int]:
        return {op.line for block in self.program.blocks for op in block.ops}

    def no_step(self, name: str) -> str:
        names = [s.name for s in self.program.steps]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        return (f"`{name}` is neither a line number nor a step of this flow{hint} "
                f"(its steps: {', '.join(names)})")

    # -- looking -----------------------------------------------------------------------------

    def place(self) -> Place:
        if self.here is not None:
            return Place(self.here.line, self.here.step, self.here.calls)
        return self.call.place()

    def where_text(self) -> str:
        place = self.place()
        if place.line is None:
            return f"step {place.step}"
        return f"{self.line_name(place.line)}, step {place.step}"

    def location(self) -> str:
        """`line 7, step main: say "Thank you for calling."`, the statement about to run."""
        assert self.here is not None
        return f"{self.where_text()}: {self.text_of(self.here.line)}"

    def where(self) -> list[str]:
        """Where the call is, inside which `call`s, and what it waits for."""
        if self.ended is not None:
            return [self.ending(self.ended)]
        if self.here is None:
            out = self.status()
        else:
            out = [self.location()]
        for step, line in reversed(self.place().calls):
            out.append(f"  called from step {step}, {self.line_name(line)}: {self.text_of(line)}")
        return out

    def variables(self) -> dict[str, Any]:
        if self.here is not None:
            return self.here.vars
        found = self.call.state.get("vars")
        return found if isinstance(found, dict) else {}

    def show_vars(self) -> list[str]:
        values = self.variables()
        own = sorted(n for n in values if n not in BUILT_IN)
        out = [f"  {name} = {shown(values[name])}" for name in own]
        if not own:
            out.append("  (the flow has set no variables yet)")
        out += [f"  {name} = {shown(values[name])}  (built in)"
                for name in BUILT_IN if name in values]
        return out

    def print_value(self, name: str) -> list[str]:
        """`print order.status`: a variable, or a field of one."""
        path = name.strip()
        if not path:
            raise DebugError("print what? Give a variable's name, like print digits")
        head, *fields = path.split(".")
        if "" in (head, *fields):
            # `print ..` or `print now.`: "`` has no value here" named nothing.
            raise DebugError(
                f"`{path}` is not a variable's name: give one, or a field of one, like "
                "print order.status"
            )
        values = self.variables()
        if head not in values:
            known = ", ".join(sorted(values)) or "none"
            raise DebugError(f"`{head}` has no value here (variables with a value: {known})")
        value = values[head]
        for i, part in enumerate(fields):
            # Read as the flow reads it: a list answers first, last and count.
            found, inner = lookup({"": value}, ("", part))
            if not found:
                so_far = ".".join([head, *fields[:i]])
                if isinstance(value, list):
                    has = "first, last, count" if value else "only count: the list is empty"
                elif isinstance(value, dict) and value:
                    has = ", ".join(sorted(value))
                else:
                    has = "no fields"
                raise DebugError(f"`{so_far}` has no field `{part}` (it has {has})")
            value = inner
        return [f"  {path} = {shown(value)}"]

    def listing(self, spec: str = "") -> list[str]:
        """The flow's lines around the current one (or around a line or step)."""
        spec = spec.strip()
        if not spec:
            center = self.place().line
            if center is None:
                center = self.program.entry.line
        elif spec.isdigit() or ":" in spec:
            center = self.line_of(spec)
        else:
            info = self.program.step(spec)
            if info is None:
                raise DebugError(self.no_step(spec))
            center = info.line + 4
        part, local = self.source.locate(center)
        offset = center - local
        total = len(part.lines)
        if total == 0 or local > total:
            raise DebugError(f"{self.line_name(center)} is past the end of {part.name} "
                             f"(it has {total} lines)")
        first, last = max(1, local - 5), min(total, local + 5)
        current = self.place().line
        marks = {b.line for b in self.breakpoints if b.line is not None}
        out = []
        for number in range(first, last + 1):
            merged = offset + number
            mark = ("->" if merged == current else "  ") + ("B" if merged in marks else " ")
            out.append(f"{mark}{number:>4}  {part.line(number)}".rstrip())
        return out

    def text_of(self, line: int) -> str:
        return self.source.line(line).strip()

    def line_name(self, line: int | None) -> str:
        if line is None:
            return "no line"
        part, local = self.source.locate(line)
        return f"line {local}" if part is self.source else f"{part.name} line {local}"

    def step_line(self, name: str) -> int | None:
        info = self.program.step(name)
        return info.line if info is not None else None


def shown(value: Any) -> str:
    """A variable's value as a person reads it: text in quotes, a record as JSON."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
