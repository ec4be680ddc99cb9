"""What one interpreter step returns: the new state, commands to send, and how the run stands."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from attrs import field, frozen

from flowlang.runtime.commands import Command, FetchRequest
from flowlang.runtime.trace import TracePoint

END_REASONS = ("hangup", "transfer", "completed", "error")


@frozen
class End:
    """The run is over: `reason` is one of END_REASONS; `message` and `line` explain an error."""

    reason: str
    message: str | None = None
    line: int | None = None


@frozen
class LogLine:
    """A `log` statement's text, or a runtime warning (`level` "warning"), with its `.flow` line.
    `after` is how many of the same outcome's commands were sent before it (so a transcript can
    show a text message sent before a later `log`); it takes no part in `==`. `gap` marks the
    warning of an empty value (unset, null, blank text, an empty list) the caller heard as
    nothing: the `{...}` it was written as (without the braces), for tools that report such
    gaps (`flowlang fuzz`); it takes no part in `==` either."""

    text: str
    line: int | None = None
    level: str = "info"
    after: int = field(default=0, eq=False)
    gap: str | None = field(default=None, eq=False)


@frozen
class Entered:
    """The run went into step `name` (by its start, a `goto` or a `call`) after `after` of the
    same outcome's commands and `logs` of its log lines, so a transcript can show the step
    where it began rather than before everything that came first."""

    name: str
    after: int = 0
    logs: int = 0


def _commands(items: Iterable[Command]) -> tuple[Command, ...]:
    return tuple(items)


def _logs(items: Iterable[LogLine]) -> tuple[LogLine, ...]:
    return tuple(items)


def _points(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@frozen
class Outcome:
    """The result of `Interpreter.start` or `Interpreter.handle`.

    - `state`: the run's whole state as plain JSON data (dicts, lists, str, int, bool, None),
      to be stored and handed back to `handle` with the next event, in this or another process.
    - `commands`: to send, in order.
    - `fetch`: a backend request to make after the commands; the run waits for its answer.
    - `end`: set when the run is over (then no further event changes anything).
    - `ignored`: True when the event did not match what the run waits for (duplicate, stale,
      unknown): state and commands are then unchanged/empty.
    - `waiting`: what the run now waits for, for drivers and transcripts: one of "answer",
      "speak", "playback", "gather", "ai_gather", "assistant", "fetch", or None when ended.
    - `step`: the name of the step the run is in now.
    - `logs`: `log` statements' text and runtime warnings, in order.
    - `reached`: the coverage points (`Program.coverage_points()`) reached while handling this
      start or event, in order; a driver unites them over the whole call.
    - `entered`: each step the run went into while handling this start or event, in order,
      with where it stands among the commands and logs.
    - `expires`: the longest, in seconds, the run may go on waiting as it now does (a recording
      awaited after the caller hung up); once that has passed the driver hands back a
      `WAIT_EXPIRED` event. None: the wait has no limit of its own.
    - `trace`: where the run was before each statement it ran, in order, when the interpreter
      was made with `trace=True` (a debugger's view); empty otherwise.
    - `lines`: the `.flow` line of the statement that sent each command, in the order of
      `commands` (None where none did: the hangup after the flow ran off its end); empty when
      not known. `fetch_line`: the line of the `fetch` that made `fetch`.
    """

    state: dict[str, Any]
    commands: tuple[Command, ...] = field(default=(), converter=_commands)
    end: End | None = None
    ignored: bool = False
    waiting: str | None = None
    step: str | None = None
    logs: tuple[LogLine, ...] = field(default=(), converter=_logs)
    reached: tuple[str, ...] = field(default=(), converter=_points)
    entered: tuple[Entered, ...] = ()
    fetch: FetchRequest | None = None
    expires: int | None = None
    trace: tuple[TracePoint, ...] = ()
    lines: tuple[int | None, ...] = ()
    fetch_line: int | None = None
