"""Where a run was before each statement it ran: the optional trace a debugger steps through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import field, frozen

from flowlang.program import Program


@frozen
class TracePoint:
    """The run is about to run the statement at `.flow` line `line`, operation `index` of block
    `block`, in step `step`. `calls` are the `call`s running, outermost first, each as the step
    that made it and the line of its `call`. `vars` is a copy of the variables at that moment.
    `sent` and `logged` count the commands and log lines of the same outcome made before it, so
    a driver can tell which statement sent what."""

    line: int
    step: str
    block: int
    index: int
    calls: tuple[tuple[str, int], ...]
    vars: dict[str, Any] = field(eq=False)
    sent: int = 0
    logged: int = 0


def callers(program: Program, calls: Sequence[Any]) -> tuple[tuple[str, int], ...]:
    """The running `call`s of a state's (or a run's) `calls` list as (step, line of the `call`),
    outermost first. Each entry keeps the frames to go back to, whose innermost position is
    already past its `call`, so the `call` is the operation just before it."""
    found: list[tuple[str, int]] = []
    for step, frames in calls:
        block, index = frames[-1]
        ops = program.blocks[block].ops
        found.append((str(step), ops[max(0, min(index, len(ops)) - 1)].line))
    return tuple(found)
