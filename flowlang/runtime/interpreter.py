"""Run one call of a compiled flow: pure, resumable, events in and commands out, never raising.

`Interpreter(program).start(call)` runs the flow until it first waits for Telnyx; each webhook is
then given to `handle(state, event)` with the state the previous outcome returned. Nothing here
does I/O, reads a clock or draws a random number, so the same state and event always give the same
outcome, in this process or another. Every error, in the flow or in flowlang, is caught here and
reported as `End("error", message, line)` after hanging the call up.

Choices the contract leaves open:
- A `reprompt` before a `play` prompt or a gather without a prompt is spoken with `speak`, and the
  next try starts when that speech has ended (`call.speak.ended`), so the caller hears the whole
  reprompt before the gather's timers start.
- A `call.gather.ended` with a status other than `valid`, `invalid` and `call_hangup` (for example
  `cancelled`) counts as a timed-out try.
- The top-level `on hangup:` runs when the caller hangs up (a `call.hangup` event, or a command
  that ended with status `call_hangup`), not after the flow's own `hangup`.
- `call.ai_gather.partial_results` keeps the latest partial result in the state (replacing the
  previous one) and `call.ai_gather.message_history_updated` is acknowledged; neither resumes.
- A gather's entry is matched without its terminator, Telnyx's default `#` when the gather names
  none.
- A fetch's answer is applied like a webhook: the driver hands back a `FETCH_ENDED` event with
  the request's `client_state`. A failed fetch leaves its `into` variable empty (`""`) and runs
  `on error:` if there is one; a caller who hangs up meanwhile ends the run, and the answer
  that arrives later is ignored.
- A `return` with no `call` running (`check` reports it) ends the flow as its end would.
- For a flow with `languages:`, the caller's language is the variable `language`: a value that
  is not one of the flow's languages means the first.
- An `ssml` prompt joined with a reprompt or another prompt line is sent as one `<speak>`
  document (plain text escaped), never as text outside the root element.
- A caller who hangs up during a `record` does not end the run: it waits on for the recording,
  runs `on saved:` / `on error:` without the call (only `set`, `log`, `if`, `sms` and `fetch` do
  anything there; a `fetch` is waited for, its answer continuing the run, `on error:` too), then
  the top-level `on hangup:`, and ends as `hangup`. The run is then `detached` (kept in the
  state): a later `call.hangup` changes nothing. It waits for the recording at most
  RECORDING_WAIT_SECS (`Outcome.expires`): a `WAIT_EXPIRED` event then ends it as `hangup`
  with a warning, without `on saved:` or `on error:`, after the top-level `on hangup:`.
- A `fetch` in the top-level `on hangup:` is waited for like one in `on saved:`: its answer
  (or `on error:`) continues the handler, and the run ends as `hangup` when it is done.
- A `record`'s `end_key` is watched by flowlang (`call.dtmf.received`), which sends
  `record_stop` once and waits on for the recording.
- A `transfer` with handlers names the original call in its `target_leg_client_state`; the new
  leg's `call.answered` (or the original's `call.bridged`) ends the run as a transfer, and its
  `call.hangup` picks the handler by `hangup_cause`.
- A `call.conversation.ended` of the call ends its `assistant` (LANGUAGE.md 16), except the
  late end of a conversation the run has left: the driver reports each AI command's
  `conversation_id` (`CONVERSATION_STARTED`), and an end naming an assistant stopped by
  `on key` or an `ai_gather` is ignored. The ids of conversations the run no longer waits for
  are kept (the last STALE_KEPT). An end naming an id never reported ends the assistant,
  unless an assistant was left before its id was known (that end could be the late one).
- A `queue` that ends without an agent (`timeout`, `leave`) stops its hold music
  (`playback_stop`) before the flow goes on; `bridging-in-process` is waited through.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import attrs

from flowlang.program import (
    AiGatherOp,
    AnswerOp,
    AssistantOp,
    CallOp,
    DetectOp,
    FetchOp,
    GatherOp,
    GotoOp,
    Handler,
    HangupOp,
    IfOp,
    Key,
    LogOp,
    Op,
    OpeningHours,
    PlayOp,
    Program,
    QueueOp,
    RecordOp,
    ReturnOp,
    SayOp,
    SetOp,
    SmsOp,
    TransferOp,
    TryAgainOp,
    WaitBeepOp,
)
from flowlang.runtime import state as st
from flowlang.runtime.commands import MESSAGE, Command, FetchRequest
from flowlang.runtime.events import (
    CONVERSATION_STARTED,
    FETCH_ENDED,
    WAIT_EXPIRED,
    CallInfo,
    Event,
)
from flowlang.runtime.expressions import (
    EvalError,
    Unfit,
    evaluate,
    interpolate,
    is_plain_list,
    truthy,
)
from flowlang.runtime.outcome import End, Entered, LogLine, Outcome
from flowlang.runtime.spoken import formats_of
from flowlang.runtime.trace import TracePoint, callers
from flowlang.syntax.nodes import Interp, Str

__all__ = ["RECORDING_WAIT_SECS", "STATEMENT_LIMIT", "FlowRuntimeError", "Interpreter"]

STATEMENT_LIMIT = 1000

# How long a run waits for a recording once the caller has hung up (LANGUAGE.md 14 leaves it
# open): Telnyx saves a recording within seconds of the hangup, so after ten minutes it is
# taken as lost rather than kept waiting until the server forgets the call.
RECORDING_WAIT_SECS = 600

# How many conversation ids the run keeps of AI conversations it no longer waits for, to
# recognise their late `call.conversation.ended`.
STALE_KEPT = 8
# Kept among the stale conversations for an assistant left before Telnyx named its conversation
# (Telnyx never names one "").
UNNAMED = ""

# Telnyx's `terminating_digit` when a gather sends none (NOTES.md).
DEFAULT_TERMINATOR = "#"

# What each kind of wait is called in `Outcome.waiting` (a reprompt is a `speak` to the driver).
WAITING_NAMES = {
    "answer": "answer",
    "speak": "speak",
    "playback": "playback",
    "reprompt": "speak",
    "gather": "gather",
    "ai_gather": "ai_gather",
    "assistant": "assistant",
    "record": "record",
    "transfer": "transfer",
    "queue": "queue",
    "machine": "machine",
    "beep": "beep",
    "fetch": "fetch",
}

# Answering-machine detection's events, and the key each result is kept under in the state.
MACHINE_EVENTS = {
    "call.machine.detection.ended": "result",
    "call.machine.greeting.ended": "greeting",
}

# A new leg's `hangup_cause` before it answered -> the `transfer` handler it runs.
NO_ANSWER_CAUSES = ("timeout", "no_answer", "originator_cancel")
BUSY_CAUSES = ("user_busy",)

# The event that completes each simple wait.
SIMPLE_WAITS = {
    "answer": "call.answered",
    "speak": "call.speak.ended",
    "playback": "call.playback.ended",
}


class FlowRuntimeError(Exception):
    """The flow cannot go on (a bad comparison, the statement guard); `line` is where."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class Interpreter:
    """Runs calls of one `Program`; holds nothing about any call itself. With `trace`, every
    outcome also says where the run was before each statement it ran (`Outcome.trace`), for a
    debugger; without it the run does no such bookkeeping at all."""

    def __init__(self, program: Program, trace: bool = False) -> None:
        self.program = program
        self.tongues = _Tongues(program)
        self._run: type[_Run] = _TracedRun if trace else _Run

    def start(self, call: CallInfo, inputs: Mapping[str, Any] | None = None) -> Outcome:
        """Begin a run on `call`: the commands up to the first wait, and the state to keep.
        An outbound flow's run starts with `inputs`, the values of its `input` lines (others
        are left out; a missing one reads as empty, with a warning)."""
        if not self.program.steps:
            return Outcome(state={}, end=End("error", "the flow has no steps", None))
        entry = self.program.entry
        state = st.new_state(self.program.digest, call, entry.name, entry.block)
        outbound = self.program.outbound
        if outbound is not None:
            given = inputs or {}
            state["vars"].update({n: given[n] for n in outbound.inputs if n in given})
        if self.tongues.default is not None:
            chosen = call.language if call.language in self.tongues.voices else None
            state["vars"]["language"] = chosen or self.tongues.default
        if call.at is not None:
            state["vars"]["now"] = call.at.variable()
        run = self._run(self.program, state, self.tongues)
        run.enter_step(entry.name)
        return run.guarded(run.begin)

    def handle(self, state: dict[str, Any], event: Event) -> Outcome:
        """Resume the run in `state` with `event`; an event it does not wait for is ignored."""
        try:
            problem = st.problem(state, self.program.digest)
            if problem is None and state.get("end") is not None:
                return _ignored(state)
            run = self._run(self.program, state, self.tongues) if problem is None else None
        except Exception:  # noqa: BLE001 - a damaged state must not crash the server
            problem, run = "the stored call state is damaged", None
        if run is None:
            return _refuse(state, problem or "the stored call state is damaged")
        if event.at is not None:
            # The time is an input like any other: the moment of this event (LANGUAGE.md 11).
            run.vars["now"] = event.at.variable()
        return run.guarded(lambda: run.resume(event))


# A program's opening hours by name, worked out once per program (programs are immutable).
_HOURS: dict[int, tuple[Program, dict[str, OpeningHours]]] = {}


def _hours_of(program: Program) -> dict[str, OpeningHours]:
    cached = _HOURS.get(id(program))
    if cached is not None and cached[0] is program:
        return cached[1]
    table = {h.name: h for h in program.hours}
    if len(_HOURS) > 64:
        _HOURS.clear()
    _HOURS[id(program)] = (program, table)
    return table


def _ignored(state: dict[str, Any]) -> Outcome:
    wait = state.get("wait") if isinstance(state, dict) else None
    kind = wait.get("kind") if isinstance(wait, dict) else None
    step = state.get("step") if isinstance(state, dict) else None
    return Outcome(
        state=state,
        ignored=True,
        waiting=WAITING_NAMES.get(kind) if isinstance(kind, str) else None,
        step=step if isinstance(step, str) else None,
    )


def _refuse(state: Any, problem: str) -> Outcome:
    kept = state if isinstance(state, dict) else {}
    return Outcome(state=kept, ignored=True, logs=(LogLine(problem, None, "warning"),))


class _Tongues:
    """The languages of a program, ready to look up: the voice of each, the name speech
    recognition knows it by, and the translation of each text in each language but the first."""

    def __init__(self, program: Program) -> None:
        self.default = program.languages[0][0] if program.languages else None
        self.voices = {language: voice for language, voice, _ in program.languages}
        self.recognition = {language: code for language, _, code in program.languages}
        self.tables = {language: dict(entries) for language, entries in program.translations}


class _Run:
    """One start or one event's worth of running: a working copy of the state and what it sends."""

    def __init__(self, program: Program, state: dict[str, Any], tongues: _Tongues) -> None:
        self.program = program
        self.tongues = tongues
        self.blocks = program.blocks
        self.hours = _hours_of(program)
        self.original = state
        call = state["call"]
        self.call_id: str = call["id"]
        self.step: str = state["step"]
        self.frames: list[list[int]] = [list(f) for f in state["frames"]]
        self.calls: list[tuple[str, list[list[int]]]] = [
            (str(step), [list(f) for f in frames]) for step, frames in state.get("calls", [])
        ]
        self.vars: dict[str, Any] = dict(state["vars"])
        amd = state.get("amd")
        self.amd: dict[str, Any] = dict(amd) if isinstance(amd, dict) else {}
        self.seq: int = state["seq"]
        # The try each gather (by `try_key`) was on when its entry was taken: what a `try again`
        # in its `on digits` handler counts from.
        tries = state.get("tries")
        self.tries: dict[str, int] = {
            k: v for k, v in tries.items() if isinstance(v, int)
        } if isinstance(tries, dict) else {}
        stale = state.get("stale")
        self.stale: list[str] = [c for c in stale if isinstance(c, str)] if isinstance(
            stale, list
        ) else []
        wait = state.get("wait")
        self.wait: dict[str, Any] | None = dict(wait) if isinstance(wait, dict) else None
        self.commands: list[Command] = []
        # The line of the statement that sent each command (None: none did, as for the hangup
        # after the flow runs off its end), and of the `fetch` that made `fetch`.
        self.command_lines: list[int | None] = []
        self.fetch: FetchRequest | None = None
        self.fetch_line: int | None = None
        self.logs: list[LogLine] = []
        self.reached: list[str] = []
        self.entered: list[Entered] = []
        self.end: End | None = None
        # The caller is gone but the run goes on (a recording still to come, a `fetch` of its
        # `on saved:`): only statements that do not touch the call run.
        self.detached = bool(state.get("detached"))
        # Running the top-level `on hangup:`, after which the run ends as `hangup` (a `fetch`
        # there is waited for: its answer continues the handler).
        self.ending = bool(state.get("ending"))
        self.line: int | None = None
        self.count = 0

    # -- the boundary ----------------------------------------------------------------------

    def guarded(self, action: Callable[[], bool]) -> Outcome:
        """Run `action` (False: the event was not for us), turning every error into an `error`
        end that hangs the call up."""
        try:
            if not action():
                return _ignored(self.original)
        except FlowRuntimeError as e:
            self.fail(e.message, e.line)
        except EvalError as e:
            self.fail(str(e), self.line)
        except Exception as e:  # noqa: BLE001 - the interpreter never raises out (STYLE 9)
            self.fail(f"internal error in flowlang: {type(e).__name__}: {e}", self.line)
        return self.outcome()

    def fail(self, message: str, line: int | None) -> None:
        if not self.detached and (self.end is None or self.end.reason != "hangup"):
            self.send("hangup", {})
        self.end = End("error", message, line)
        self.wait = None

    def outcome(self) -> Outcome:
        state: dict[str, Any] = {
            "v": st.VERSION,
            "program": self.program.digest,
            "call": self.original["call"],
            "step": self.step,
            "frames": self.frames if self.end is None else [],
            "calls": [[step, frames] for step, frames in self.calls] if self.end is None else [],
            "vars": self.vars,
            "seq": self.seq,
            "wait": self.wait if self.end is None else None,
            "end": self.end.reason if self.end is not None else None,
        }
        if self.amd:
            state["amd"] = self.amd
        if self.detached and self.end is None:
            state["detached"] = True
            if self.ending:
                state["ending"] = True
        if self.stale and self.end is None:
            state["stale"] = self.stale
        if self.tries and self.end is None:
            state["tries"] = self.tries
        kind = self.wait["kind"] if self.wait is not None and self.end is None else None
        lost = kind == "record" and self.wait is not None and self.wait.get("hungup")
        return Outcome(
            state=state,
            commands=tuple(self.commands),
            end=self.end,
            waiting=WAITING_NAMES[kind] if kind is not None else None,
            step=self.step,
            logs=tuple(self.logs),
            reached=tuple(self.reached),
            entered=tuple(self.entered),
            fetch=self.fetch if self.end is None else None,
            expires=RECORDING_WAIT_SECS if lost else None,
            lines=tuple(self.command_lines),
            fetch_line=self.fetch_line if self.end is None else None,
        )

    # -- helpers -----------------------------------------------------------------------------

    def reach(self, point: str) -> None:
        self.reached.append(point)

    def enter_step(self, name: str) -> None:
        self.reach(f"step:{name}")
        self.entered.append(Entered(name, len(self.commands), len(self.logs)))

    def warn(self, text: str, gap: str | None = None) -> None:
        """A runtime warning at the current line; `gap` marks a value heard as nothing."""
        self.logs.append(LogLine(text, self.line, "warning", after=len(self.commands), gap=gap))

    def missing(self, name: str) -> None:
        self.warn(f"`{name}` has no value here, so it was left empty")

    def not_a_number(self, shown: str) -> None:
        self.warn(f"{shown} is not a whole number, so it counted as 0")

    def evaluate(self, expr: Any) -> Any:
        return evaluate(expr, self.vars, self.missing, self.not_a_number, self.hours)

    def unfit(self, part: Interp, value: str) -> None:
        self.warn(
            f"`{{{part.written}}}`: {value!r} cannot be said that way, so it was said as written"
        )

    def unwritten(self, language: str | None) -> Unfit:
        """What a text message tells of a `{value as FORMAT}` left as written: nothing when
        `language` has no words for the format (the value as it is, `12.50`, is what a reader
        expects there, and `check` allows it); a warning when the value does not fit it."""
        worded = formats_of(language)

        def unfit(part: Interp, value: str) -> None:
            if part.format in worded:
                self.warn(
                    f"`{{{part.written}}}`: {value!r} is not a value `{part.format}` can write"
                    " out, so the text has it as written"
                )

        return unfit

    def text(self, value: Any, language: str | None = None) -> str:
        return interpolate(value, self.vars, self.missing, language, self.unfit)

    def said(self, value: Str, language: str | None, written: Str | None = None) -> str:
        """`value` as the caller hears it, in the words of `language`: a list is said as one
        (`A1, B2 and C3`), and a value heard as nothing, or as a record read out, is warned of,
        at the line of `written` (the text in the flow, when `value` is not: a gather's prompt
        or its translation), else of the statement."""
        line = self.line
        if written is not None and written.span is not None:
            self.line = written.span.line
        try:
            return interpolate(value, self.vars, _unheard, language, self.unfit, heard=self.hear)
        finally:
            self.line = line

    def hear(self, part: Interp, found: bool, value: Any, words: str) -> None:
        """Told of each value spliced into speech (see `said`)."""
        if not words.strip():
            if found:
                why = "is empty here, so the caller heard nothing in its place"
            else:
                why = "has no value here, so it was left empty"
            # A value empty itself (unset, null, blank text, an empty list) is marked, for
            # `flowlang fuzz` to report; a list of empty items (`[null]`) is only warned of.
            blank = value is None or value == [] or (isinstance(value, str) and not value.strip())
            self.warn(f"`{part.dotted}` {why}", gap=part.written if blank else None)
        elif isinstance(value, (dict, list)) and not is_plain_list(value):
            self.warn(_unsayable(part, value))

    def spoken(self, value: Any, language: Str | None) -> tuple[str, str | None]:
        """`value` as said in `language` (itself interpolated), and that language; in the
        caller's language instead when the flow speaks several and that is not its first."""
        other = self.other_language()
        if other is not None:
            return self.said(self.words(value, other), other), other
        said_in = self.text(language) if language is not None else None
        return self.said(value, said_in), said_in

    def other_language(self) -> str | None:
        """The caller's language (`language`) when it is one of the flow's own but its first."""
        chosen = self.vars.get("language")
        tongues = self.tongues
        if tongues.default is None or not isinstance(chosen, str) or chosen == tongues.default:
            return None
        return chosen if chosen in tongues.voices else None

    def words(self, value: Str, language: str) -> Str:
        """The translation of `value` in the catalog of `language` (itself when it has none)."""
        table = self.tongues.tables.get(language)
        return table.get(value.text, value) if table is not None else value

    def voice(self, written: Str | None) -> Str | None:
        other = self.other_language()
        if other is not None:
            return self.tongues.voices.get(other) or written
        return written

    def heard(self, line: int) -> None:
        other = self.other_language()
        if other is not None:
            self.reach(f"{other}:{line}")

    def send(self, action: str, fields: Mapping[str, Any]) -> int:
        self.seq += 1
        body = dict(fields)
        body["client_state"] = st.client_state(self.seq)
        body["command_id"] = st.command_id(self.call_id, self.seq)
        self.queue(Command(action, body))
        return self.seq

    def queue(self, command: Command) -> None:
        """`command` to go out, sent by the statement at `self.line` (every command goes through
        here, so `command_lines` stays beside `commands`)."""
        self.commands.append(command)
        self.command_lines.append(self.line)

    def wait_for(self, kind: str, seq: int, first: int | None = None, tries: int = 0) -> None:
        self.wait = {"kind": kind, "seq": seq, "first": seq if first is None else first}
        if tries:
            self.wait["try"] = tries

    def advance(self) -> None:
        self.frames[-1][1] += 1

    def enter(self, handler: Handler) -> None:
        self.reach(handler.point)
        self.frames.append([handler.block, 0])

    def finish(self, reason: str) -> None:
        self.end = End(reason)
        self.wait = None

    def current(self) -> Op:
        block, index = self.frames[-1]
        return self.blocks[block].ops[index]

    # -- running -------------------------------------------------------------------------------

    def begin(self) -> bool:
        self.go()
        return True

    def go(self) -> None:
        """Run statements until the flow waits or ends."""
        self.wait = None
        while self.end is None and self.wait is None:
            if not self.frames:
                if self.calls:
                    self.come_back()
                    continue
                if self.detached:
                    return
                self.line = None  # no statement hangs up: the flow ran off its end
                self.send("hangup", {})
                self.finish("completed")
                return
            frame = self.frames[-1]
            ops = self.blocks[frame[0]].ops
            if frame[1] >= len(ops):
                self.frames.pop()
                continue
            op = ops[frame[1]]
            self.line = op.line
            self.count += 1
            if self.count > STATEMENT_LIMIT:
                raise FlowRuntimeError(
                    f"the flow ran {STATEMENT_LIMIT:,} statements without waiting for the caller; "
                    "it is probably stuck in a `goto` loop",
                    op.line,
                )
            self.execute(op)

    def execute(self, op: Op) -> None:
        if self.detached and self.passes_over(op):
            if isinstance(op, TryAgainOp):
                # The caller is gone, so nobody can be asked again, but the entry is still
                # refused: nothing after it in its handler runs (a text saying "accepted").
                self.frames = []
                self.calls = []
                return
            self.advance()
            return
        _EXECUTE[type(op)](self, op)

    def passes_over(self, op: Op) -> bool:
        """Whether the run, the caller gone, skips `op`: after the caller hung up only statements
        that do not touch the call mean anything (LANGUAGE.md 1 and 14)."""
        return type(op) not in _QUIET

    def do_set(self, op: SetOp) -> None:
        self.vars[op.name] = self.evaluate(op.value)
        self.advance()

    def do_log(self, op: LogOp) -> None:
        self.logs.append(LogLine(self.text(op.text), op.line, after=len(self.commands)))
        self.advance()

    def do_if(self, op: IfOp) -> None:
        self.advance()
        for arm in op.arms:
            if arm.cond is None or truthy(self.evaluate(arm.cond)):
                self.enter(arm.handler)
                return

    def do_goto(self, op: GotoOp) -> None:
        self.frames = [[op.block, 0]]
        self.step = op.target
        self.enter_step(op.target)

    def do_call(self, op: CallOp) -> None:
        if len(self.calls) >= st.CALL_DEPTH:
            raise FlowRuntimeError(
                f"`call {op.target}` would run more than {st.CALL_DEPTH} calls inside one "
                "another; a step probably calls itself (or a step that calls it back) "
                "without returning",
                op.line,
            )
        self.advance()
        self.calls.append((self.step, self.frames))
        self.frames = [[op.block, 0]]
        self.step = op.target
        self.enter_step(op.target)

    def do_return(self, op: ReturnOp) -> None:
        # With no call running (`check` reports that), `return` ends the flow like its end.
        self.frames = []
        if self.calls:
            self.come_back()

    def come_back(self) -> None:
        """The innermost called step is done: continue after its `call`."""
        self.step, self.frames = self.calls.pop()

    def do_answer(self, op: AnswerOp) -> None:
        self.wait_for("answer", self.send("answer", {}))

    def do_hangup(self, op: HangupOp) -> None:
        self.send("hangup", {})
        self.finish("hangup")

    def do_say(self, op: SayOp) -> None:
        self.wait_for("speak", self.send("speak", self.say_body(op)))

    def do_play(self, op: PlayOp) -> None:
        field = "media_name" if op.media else "audio_url"
        audio = self.needed(op.source, "the audio to play")
        self.wait_for("playback", self.send("playback_start", {field: audio}))

    def needed(self, text: Str, what: str) -> str:
        """`text` as it is on this call; FlowRuntimeError when it came out empty (a variable
        with no value): Telnyx would refuse the command and the call would end all the same,
        without a word of why, where the simulator would have gone on."""
        value = self.text(text)
        if not value.strip():
            empty = [f"`{{{part.written}}}`" for part in text.parts if isinstance(part, Interp)]
            why = f" ({', '.join(empty)} had no value)" if empty else ""
            raise FlowRuntimeError(f"{what} is empty{why}", self.line)
        return value

    def do_transfer(self, op: TransferOp) -> None:
        body = self.transfer_body(op)
        if not op.waits:
            self.send("transfer", body)
            self.finish("transfer")
            return
        body["target_leg_client_state"] = st.leg_client_state(self.call_id, self.seq + 1)
        self.wait_for("transfer", self.send("transfer", body))

    def do_sms(self, op: SmsOp) -> None:
        if op.from_ is not None:
            sender = self.text(op.from_)
        elif self.program.outbound is not None:
            # On a call the flow placed, `called` is the person called: text from the number
            # the call came from, `outbound from` or the `from` it was placed with.
            sender = self.vars_call("caller") or self.program.outbound.from_
        else:
            sender = self.vars_call("called")
        # A person reads the text: a list in it is written as the caller would hear it said.
        language = self.other_language()
        if language is None and op.language is not None:
            language = self.text(op.language)
        unfit = self.unwritten(language)
        text = interpolate(op.text, self.vars, self.missing, language, unfit, listed=True)
        body = {"from": sender, "to": self.text(op.to), "text": text}
        self.queue(Command(MESSAGE, body))
        self.advance()

    def vars_call(self, name: str) -> str:
        value = self.original["call"].get(name)
        return value if isinstance(value, str) else ""

    def do_record(self, op: RecordOp) -> None:
        body: dict[str, Any] = {"format": "mp3", "channels": "single"}
        if op.max_secs is not None:
            body["max_length"] = op.max_secs
        if op.silence_secs is not None:
            body["timeout_secs"] = op.silence_secs
        if op.beep:
            body["play_beep"] = True
        self.wait_for("record", self.send("record_start", body))

    def do_queue(self, op: QueueOp) -> None:
        name = self.needed(op.name, "the queue's name")
        music = None if op.music is None else self.needed(op.music, "the hold music")
        first = self.send("enqueue", {"queue_name": name, "max_wait_time_secs": op.max_wait_secs})
        last = first
        if music is not None:
            field = "media_name" if op.media else "audio_url"
            last = self.send("playback_start", {field: music, "loop": "infinity"})
        self.wait_for("queue", last, first)
        if op.music is not None and self.wait is not None:
            self.wait["music"] = True

    def do_gather(self, op: GatherOp) -> None:
        self.gather_try(op, 1, reprompted=False, after="")

    def do_ai_gather(self, op: AiGatherOp) -> None:
        self.wait_for("ai_gather", self.send("gather_using_ai", self.ai_gather_body(op)))

    def do_fetch(self, op: FetchOp) -> None:
        self.seq += 1
        headers = tuple(
            (name, value.text if secret else self.text(value), secret)
            for name, value, secret in op.headers
        )
        body = None
        if op.method != "GET":
            body = {name: self.evaluate(e) for name, e in op.sends}
        self.fetch_line = op.line
        self.fetch = FetchRequest(
            method=op.method,
            url=interpolate(op.url, self.vars, self.missing, escape=_url_part),
            headers=headers,
            body=body,
            timeout_ms=op.timeout_ms,
            client_state=st.client_state(self.seq),
            key=st.command_id(self.call_id, self.seq),
        )
        self.wait_for("fetch", self.seq)

    def fetch_ended(self, op: FetchOp, payload: Mapping[str, Any]) -> None:
        result = payload.get("result")
        ok = payload.get("status") == "ok" and isinstance(result, dict)
        if op.into is not None:
            self.vars[op.into] = result if ok else ""
        self.advance()
        # Why it failed is the driver's to log (it knows, and knows what must stay secret).
        if not ok and op.on_error is not None:
            self.enter(op.on_error)
        self.go()

    def say_body(self, op: SayOp) -> dict[str, Any]:
        voice: Str | None
        language: str | None
        if op.fixed:
            language = self.text(op.language) if op.language is not None else None
            payload = self.said(op.text, language)
            voice = op.voice
        else:
            payload, language = self.spoken(op.text, op.language)
            self.heard(op.line)
            voice = self.voice(op.voice)
        body: dict[str, Any] = {"payload": payload}
        if voice is not None:
            body["voice"] = self.text(voice)
        if language is not None:
            body["language"] = language
        if op.ssml:
            body["payload_type"] = "ssml"
        return body

    def transfer_body(self, op: TransferOp) -> dict[str, Any]:
        body: dict[str, Any] = {"to": self.needed(op.to, "the number to transfer to")}
        if op.from_ is not None:
            body["from"] = self.text(op.from_)
        if op.timeout_secs is not None:
            body["timeout_secs"] = op.timeout_secs
        return body

    def ai_gather_body(self, op: AiGatherOp) -> dict[str, Any]:
        body: dict[str, Any] = {"parameters": json.loads(op.parameters)}
        for name, description in op.descriptions:
            body["parameters"]["properties"][name]["description"] = self.text(description)
        other = self.other_language()
        if op.greeting is not None:
            greeting = self.words(op.greeting, other) if other is not None else op.greeting
            body["greeting"] = self.said(greeting, other)
            self.heard(op.line)
        voice = self.voice(op.voice)
        if voice is not None:
            body["voice"] = self.text(voice)
        recognition = self.tongues.recognition.get(other) if other is not None else op.language
        if recognition is not None:
            body["language"] = recognition
        if op.timeout_ms is not None:
            body["user_response_timeout_ms"] = op.timeout_ms
        return body

    def do_assistant(self, op: AssistantOp) -> None:
        # Today's API (LANGUAGE.md 16): the stored assistant's id, and every other setting as a
        # per-call override inside `assistant`; the top-level `voice` is gone.
        assistant: dict[str, Any] = {"id": self.needed(op.id, "the assistant's id")}
        if op.instructions is not None:
            assistant["instructions"] = self.text(op.instructions)
        other = self.other_language()
        if op.greeting is not None:
            greeting = self.words(op.greeting, other) if other is not None else op.greeting
            assistant["greeting"] = self.said(greeting, other)
        voice = self.voice(op.voice)
        if voice is not None:
            assistant["voice_settings"] = {"voice": self.text(voice)}
        first = self.send("ai_assistant_start", {"assistant": assistant})
        last = first
        if op.messages:
            messages = [self.message(role, text, call) for role, text, call in op.messages]
            last = self.send("ai_assistant_add_messages", {"messages": messages})
        self.wait_for("assistant", last, first)

    def message(self, role: str, text: Str, tool_call_id: Str | None) -> dict[str, Any]:
        message = {"role": role, "content": self.text(text)}
        if tool_call_id is not None:
            message["tool_call_id"] = self.text(tool_call_id)
        return message

    # -- gather ----------------------------------------------------------------------------------

    def gather_try(self, op: GatherOp, number: int, reprompted: bool, after: str) -> None:
        """Start try `number`; `after` is the outcome of the try before (`invalid`/`timeout`)."""
        own = written = op.reprompt_after(after) if number > 1 else None
        other = self.other_language()
        language = self.text(op.language) if op.language is not None else None
        if other is not None:
            language = other
            written = self.words(written, other) if written is not None else None
        gather_voice = self.voice(op.voice)
        reprompt = self.said(written, language, own) if written is not None else None
        if reprompt is not None and op.action != "gather_using_speak" and not reprompted:
            body: dict[str, Any] = {"payload": reprompt}
            if gather_voice is not None:
                body["voice"] = self.text(gather_voice)
            if language is not None:
                body["language"] = language
            self.wait_for("reprompt", self.send("speak", body), tries=number)
            if self.wait is not None:
                self.wait["after"] = after
            return
        body = {}
        if op.action == "gather_using_speak":
            prompt = [self.words(p, other) for p in op.prompt] if other is not None else op.prompt
            parts = [self.said(p, language, own) for p, own in zip(prompt, op.prompt, strict=True)]
            if number == 1:
                self.heard(op.line)
            if reprompt is not None:
                parts.insert(0, reprompt)
            body["payload"] = _ssml_document(parts) if op.ssml else " ".join(parts)
            if gather_voice is not None:
                body["voice"] = self.text(gather_voice)
            if language is not None:
                body["language"] = language
            if op.ssml:
                body["payload_type"] = "ssml"
        elif op.action == "gather_using_audio" and op.audio is not None:
            body["media_name" if op.media else "audio_url"] = self.text(op.audio)
        body.update(op.options)
        self.wait_for("gather", self.send(op.action, body), tries=number)

    def gather_ended(self, op: GatherOp, payload: Mapping[str, Any]) -> None:
        status = payload.get("status")
        if status == "call_hangup":
            self.caller_hung_up()
            return
        entry = payload.get("digits")
        entry = entry if isinstance(entry, str) else ""
        # Without a `terminator` option Telnyx's default one, `#`, still ends the entry; with
        # `terminator none` ("") no key does, and `#` is part of the entry.
        terminator = DEFAULT_TERMINATOR if op.terminator is None else op.terminator
        if terminator and entry.endswith(terminator):
            entry = entry[: -len(terminator)]
        failure = "timeout"
        if status in ("valid", "invalid"):
            failure = "invalid"
        else:
            entry = ""
        self.vars["digits"] = entry
        if op.into is not None:
            self.vars[op.into] = entry
        number = self.wait["try"] if self.wait is not None else op.tries
        if status == "valid":
            handler = self.match(op, entry)
            if handler is not None:
                self.tries[self.try_key(op)] = number
                self.advance()
                self.enter(handler)
                self.go()
                return
        if not self.failed_try(op, number, failure):
            self.go()

    def failed_try(self, op: GatherOp, number: int, failure: str) -> bool:
        """After try `number` of the gather `op` (the run at it) failed: the next try (True: the
        run now waits for it), or after the last, its `on invalid:` / `on timeout:` (or what
        follows the gather) is where the run goes on."""
        if number < op.tries:
            self.gather_try(op, number + 1, reprompted=False, after=failure)
            return True
        self.advance()
        last = op.on_invalid if failure == "invalid" else op.on_timeout
        if last is not None:
            self.enter(last)
        return False

    def do_try_again(self, op: TryAgainOp) -> None:
        # Back out of the `on digits` handler to its gather (the frame just past it), and count
        # the try whose entry it took as an invalid one.
        for depth in range(len(self.frames) - 1, -1, -1):
            block, index = self.frames[depth]
            ops = self.blocks[block].ops
            gather = ops[index - 1] if 0 < index <= len(ops) else None
            if isinstance(gather, GatherOp) and gather.line == op.gather:
                break
        else:
            raise FlowRuntimeError(
                "`try again` ran outside the `on digits` handler of a gather", op.line
            )
        del self.frames[depth + 1 :]
        self.frames[depth][1] = index - 1
        self.line = gather.line  # the next try is the gather's command
        self.failed_try(gather, self.tries.get(self.try_key(gather), gather.tries), "invalid")

    def try_key(self, op: GatherOp) -> str:
        """The key in `tries` of the gather `op` as the step running now runs it: its line, and
        how many calls deep it is when a step runs inside a `call` (a step that calls itself, or
        calls one that calls it back, runs the same gather again within its handler)."""
        depth = len(self.calls)
        return f"{op.line}/{depth}" if depth else str(op.line)

    def match(self, op: GatherOp, entry: str) -> Handler | None:
        for branch in op.branches:
            if any(self.text(value) == entry for value in branch.values):
                return branch.handler
        return op.catch_all

    # -- resuming --------------------------------------------------------------------------------

    def resume(self, event: Event) -> bool:
        """Apply `event`; False when the run was not waiting for it (then nothing changed)."""
        payload = event.payload if isinstance(event.payload, dict) else {}
        call_id = payload.get("call_control_id")
        if call_id is not None and call_id != self.call_id:
            return self.leg_event(event.type, payload)
        if event.type in MACHINE_EVENTS:
            return self.machine_event(event.type, payload)
        wait = self.wait
        if event.type == WAIT_EXPIRED:
            return self.recording_lost()
        if event.type == CONVERSATION_STARTED:
            return self.conversation_started(payload)
        if event.type == "call.hangup":
            if self.detached or (wait is not None and wait.get("hungup")):
                return False
            if wait is not None and wait["kind"] == "record" and self.frames:
                # The recording is still to come: the run waits on for it, without the call.
                wait["hungup"] = True
                self.detached = True
                return True
            self.caller_hung_up()
            return True
        if wait is None or not self.frames:
            return False
        if event.type == "call.conversation.ended" and wait["kind"] == "assistant":
            # Matched by the call and the conversation, never by client_state: Telnyx's own
            # example of this event carries a value the application never set (NOTES.md).
            if call_id != self.call_id or not self.own_conversation(wait, payload):
                return False
            own = wait.get("conversation")
            if isinstance(own, str):
                self.forget(own)
            self.line = self.current().line
            self.advance()
            self.go()
            return True
        seq = st.read_client_state(payload.get("client_state"))
        if seq is None or not wait["first"] <= seq <= wait["seq"]:
            return False
        kind = wait["kind"]
        latest = seq == wait["seq"]
        op = self.current()
        self.line = op.line
        if kind in SIMPLE_WAITS or kind == "reprompt":
            expected = SIMPLE_WAITS.get(kind, "call.speak.ended")
            if event.type != expected or not latest:
                return False
            if payload.get("status") == "call_hangup":
                self.caller_hung_up()
            elif kind == "reprompt" and isinstance(op, GatherOp):
                after = wait.get("after")
                after = after if after in ("invalid", "timeout") else "invalid"
                self.gather_try(op, wait.get("try", 2), reprompted=True, after=after)
            else:
                self.advance()
                self.go()
            return True
        if kind == "gather" and isinstance(op, GatherOp):
            if event.type != "call.gather.ended" or not latest:
                return False
            self.gather_ended(op, payload)
            return True
        if kind == "ai_gather" and isinstance(op, AiGatherOp):
            return self.ai_event(op, event.type, payload)
        if kind == "record" and isinstance(op, RecordOp):
            return self.record_event(op, event.type, payload)
        if kind == "queue" and isinstance(op, QueueOp):
            return self.queue_event(op, event.type, payload)
        if kind == "transfer" and isinstance(op, TransferOp):
            if event.type != "call.bridged":
                return False
            self.finish("transfer")
        if kind == "fetch" and isinstance(op, FetchOp):
            if event.type != FETCH_ENDED or not latest:
                return False
            self.fetch_ended(op, payload)
            if self.detached and self.wait is None and self.end is None:
                if self.ending:
                    # The top-level `on hangup:` that asked is done.
                    self.finish("hangup")
                else:
                    # The `on saved:` that asked is done: the run ends as the hangup it follows.
                    self.caller_hung_up()
            return True
        if kind == "assistant" and isinstance(op, AssistantOp):
            if event.type == "call.dtmf.received":
                return self.key_pressed(op.keys, payload, "ai_assistant_stop")
        return False

    def do_detect(self, op: DetectOp) -> None:
        result = self.amd.get("result")
        if result is None:
            self.wait_for("machine", self.seq)
            return
        self.detected(op, result)

    def detected(self, op: DetectOp, result: Any) -> None:
        handler = {"human": op.on_human, "machine": op.on_machine}.get(result, op.on_not_sure)
        self.advance()
        if handler is not None:
            self.enter(handler)

    def do_wait_beep(self, op: WaitBeepOp) -> None:
        if "greeting" in self.amd:
            self.advance()
            return
        self.wait_for("beep", self.seq)

    def machine_event(self, kind: str, payload: Mapping[str, Any]) -> bool:
        """Answering-machine detection reports: kept (they may come before the flow asks), and
        they end a `detect machine` or `wait for beep` that waits for them."""
        result = payload.get("result")
        key = MACHINE_EVENTS[kind]
        if not isinstance(result, str) or key in self.amd or self.end is not None:
            return False
        self.amd[key] = result
        wait = self.wait
        if wait is None or not self.frames:
            return True
        op = self.current()
        self.line = op.line
        if wait["kind"] == "machine" and key == "result" and isinstance(op, DetectOp):
            self.detected(op, result)
            self.go()
        elif wait["kind"] == "beep" and key == "greeting" and isinstance(op, WaitBeepOp):
            self.advance()
            self.go()
        return True

    def leg_event(self, kind: str, payload: Mapping[str, Any]) -> bool:
        """An event of the new leg of a `transfer` with handlers (it has its own call id)."""
        wait = self.wait
        if wait is None or wait["kind"] != "transfer" or not self.frames:
            return False
        if st.read_leg_state(payload.get("client_state")) != (self.call_id, wait["seq"]):
            return False
        op = self.current()
        if not isinstance(op, TransferOp):
            return False
        self.line = op.line
        if kind == "call.answered":
            self.finish("transfer")
            return True
        if kind != "call.hangup":
            return False
        cause = payload.get("hangup_cause")
        if cause in NO_ANSWER_CAUSES:
            handler = op.on_no_answer
        elif cause in BUSY_CAUSES:
            handler = op.on_busy
        else:
            handler = op.on_failed
        self.advance()
        if handler is not None:
            self.enter(handler)
        self.go()
        return True

    def record_event(self, op: RecordOp, kind: str, payload: Mapping[str, Any]) -> bool:
        wait = self.wait
        assert wait is not None
        if kind == "call.dtmf.received":
            if op.end_key is None or payload.get("digit") != op.end_key or wait.get("stopped"):
                return False
            wait["seq"] = self.send("record_stop", {})
            wait["stopped"] = True
            return True
        if kind == "call.recording.saved":
            if op.into is not None:
                self.vars[op.into] = _recording(payload)
            handler = op.on_saved
        elif kind == "call.recording.error":
            if op.into is not None:
                self.vars[op.into] = {}
            handler = op.on_error
        else:
            return False
        if not wait.get("hungup"):
            self.advance()
            if handler is not None:
                self.enter(handler)
            self.go()
            return True
        # The caller hung up to end the message: the handler runs without the call, then the run
        # ends the way any hangup does.
        self.detached = True
        self.wait = None
        self.frames = []
        # A `call` the `record` stands in is not returned to: the caller is gone.
        self.calls = []
        if handler is not None:
            self.enter(handler)
            self.go()
        if self.wait is None and self.end is None:
            self.caller_hung_up()
        return True

    def recording_lost(self) -> bool:
        """The recording awaited since the caller hung up has not come in RECORDING_WAIT_SECS:
        the run ends as the hangup it follows, without `on saved:` or `on error:`."""
        wait = self.wait
        if wait is None or wait["kind"] != "record" or not wait.get("hungup") or not self.frames:
            return False
        self.line = self.current().line
        minutes = RECORDING_WAIT_SECS // 60
        why = f"no recording arrived within {minutes} minutes after the caller hung up"
        self.warn(f"{why}, so `on saved:` and `on error:` did not run")
        self.caller_hung_up()
        if self.end is not None and self.end.reason == "hangup":
            self.end = End("hangup", why)
        return True

    def queue_event(self, op: QueueOp, kind: str, payload: Mapping[str, Any]) -> bool:
        if kind != "call.dequeued":
            return False
        reason = payload.get("reason")
        if reason == "bridged":
            self.finish("transfer")
            return True
        if reason == "hangup":
            self.caller_hung_up()
            return True
        if reason not in ("timeout", "leave"):
            return False
        if self.wait is not None and self.wait.get("music"):
            self.send("playback_stop", {})
        self.advance()
        if reason == "timeout" and op.on_timeout is not None:
            self.enter(op.on_timeout)
        self.go()
        return True

    def ai_event(self, op: AiGatherOp, kind: str, payload: Mapping[str, Any]) -> bool:
        if kind == "call.ai_gather.ended":
            result = payload.get("result")
            if op.into is not None:
                self.vars[op.into] = result if result is not None else {}
            handler = op.on_valid if payload.get("status") == "valid" else op.on_invalid
            self.advance()
            if handler is not None:
                self.enter(handler)
            self.go()
            return True
        if kind == "call.ai_gather.partial_results" and self.wait is not None:
            partial = payload.get("partial_results")
            self.wait["partial"] = partial if isinstance(partial, dict) else {}
            return True
        if kind == "call.ai_gather.message_history_updated" and self.wait is not None:
            history = payload.get("message_history")
            self.wait["messages"] = len(history) if isinstance(history, list) else 0
            return True
        if kind == "call.dtmf.received":
            return self.key_pressed(op.keys, payload, "gather_stop")
        return False

    def conversation_started(self, payload: Mapping[str, Any]) -> bool:
        """Telnyx named the conversation an AI command started: the assistant waited for keeps
        it as its own; any other (an `ai_gather`'s, an assistant already left) is stale."""
        found = payload.get("conversation_id")
        seq = st.read_client_state(payload.get("client_state"))
        if not isinstance(found, str) or not found or seq is None or self.end is not None:
            return False
        wait = self.wait
        if wait is not None and wait["kind"] == "assistant" and seq == wait["first"]:
            if wait.get("conversation") == found:
                return False
            wait["conversation"] = found
            return True
        if found in self.stale:
            return False
        if UNNAMED in self.stale:
            # The name of an assistant left before Telnyx named it.
            self.stale.remove(UNNAMED)
        self.forget(found)
        return True

    def forget(self, conversation: str) -> None:
        """Keep `conversation` among those whose late end changes nothing."""
        self.stale = [*self.stale, conversation][-STALE_KEPT:]

    def own_conversation(self, wait: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
        """Whether a `call.conversation.ended` of this call ends the assistant waited for. It is
        matched by the call (LANGUAGE.md 16): any end but that of a conversation the flow has
        left. An id Telnyx did not name is this call's conversation too, unless an assistant
        was left before Telnyx named it: that late end could be the one arriving."""
        found = payload.get("conversation_id")
        own = wait.get("conversation")
        if not isinstance(found, str) or found == own:
            return True
        if found in self.stale:
            return False
        return not isinstance(own, str) or UNNAMED not in self.stale

    def key_pressed(self, keys: tuple[Key, ...], payload: Mapping[str, Any], stop: str) -> bool:
        digit = payload.get("digit")
        for key in keys:
            if key.key == digit:
                own = self.wait.get("conversation") if self.wait is not None else None
                if isinstance(own, str):
                    # Its conversation ends later, when Telnyx has stopped it.
                    self.forget(own)
                elif self.wait is not None and self.wait["kind"] == "assistant":
                    self.forget(UNNAMED)
                self.send(stop, {})
                self.advance()
                self.enter(key.handler)
                self.go()
                return True
        return False

    def caller_hung_up(self) -> None:
        """The caller is gone: run the top-level `on hangup:` (no commands), end as `hangup`. A
        `fetch` there is waited for, and the run ends when the handler is done."""
        self.wait = None
        self.detached = True
        self.frames = []
        self.calls = []
        handler = self.program.on_hangup
        if handler is not None:
            self.ending = True
            self.enter(handler)
            self.count = 0
            self.go()
            if self.wait is not None:
                return
        self.frames = []
        self.finish("hangup")


class _TracedRun(_Run):
    """A run that notes where it is before each statement it runs (`Outcome.trace`). A
    subclass, so that a run without a debugger pays nothing for it."""

    def __init__(self, program: Program, state: dict[str, Any], tongues: _Tongues) -> None:
        super().__init__(program, state, tongues)
        self.trace: list[TracePoint] = []

    def execute(self, op: Op) -> None:
        if not (self.detached and self.passes_over(op)):
            block, index = self.frames[-1]
            self.trace.append(
                TracePoint(
                    line=op.line,
                    step=self.step,
                    block=block,
                    index=index,
                    calls=callers(self.program, self.calls),
                    # The run replaces a variable's value, never changes one in place, so a
                    # shallow copy keeps this moment's values (and a big one is not copied).
                    vars=dict(self.vars),
                    sent=len(self.commands),
                    logged=len(self.logs),
                )
            )
        super().execute(op)

    def outcome(self) -> Outcome:
        return attrs.evolve(super().outcome(), trace=tuple(self.trace))


def _recording(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A saved recording as the flow sees it (RECORDING_FIELDS): `url` (the mp3) and `duration` in
    whole seconds."""
    urls = payload.get("recording_urls")
    url = urls.get("mp3") if isinstance(urls, dict) else None
    duration = 0
    started, ended = payload.get("recording_started_at"), payload.get("recording_ended_at")
    if isinstance(started, str) and isinstance(ended, str):
        start, end = _instant(started), _instant(ended)
        if start is not None and end is not None:
            duration = max(0, round(end - start))
    return {"url": url if isinstance(url, str) else "", "duration": duration}


_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d(?:\.\d+)?)(?:Z|[+-]00:?00)?")


def _unheard(name: str) -> None:
    """An unset value in speech is warned of where it is heard (`_Run.hear`), not here."""


def _unsayable(part: Interp, value: dict[str, Any] | list[Any]) -> str:
    """The warning for a record, or a list holding records or lists, put into speech: it is read
    out as written, which a caller cannot follow; the help names what to say instead."""
    name = part.dotted
    if isinstance(value, dict):
        fields = ", ".join(f"`{{{name}.{key}}}`" for key in list(value)[:3])
        instead = f"say one of its fields instead ({fields})" if fields else "say a field of it"
        return (f"`{{{part.written}}}` is a record with fields, so the caller heard it read out "
                f"with its brackets and quotes: {instead}")
    first = value[0] if value else None
    field_ = next(iter(first), None) if isinstance(first, dict) else None
    item = f"`{{{name}.first.{field_}}}`, " if field_ else f"`{{{name}.first}}`, "
    return (f"`{{{part.written}}}` is a list of records or lists, so the caller heard it read "
            f"out with its brackets and quotes: say {item}or how many there are, "
            f"`{{{name}.count}}`")


def _instant(text: str) -> float | None:
    """Seconds since 1970 of a UTC ISO 8601 time, None when it is not one. Worked out by hand:
    the runtime keeps clear of the datetime module (no clock may leak into a run)."""
    found = _ISO.fullmatch(text.strip())
    if found is None:
        return None
    year, month, day, hour, minute = (int(found.group(i)) for i in range(1, 6))
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + hour * 3600 + minute * 60 + float(found.group(6))


_SPEAK_ROOT = re.compile(r"\s*(<speak(?:\s[^>]*)?>)(.*)</speak>\s*", re.DOTALL)
_MARKUP = re.compile(r"<[A-Za-z/!?]")


def _ssml_document(parts: list[str]) -> str:
    """An SSML prompt joined with other prompt lines or a reprompt: one `<speak>` document.

    Each `<speak>...</speak>` part gives its content, plain text is escaped, and the whole is
    wrapped in one root element (the first part's, attributes kept): "Sorry. <speak>..</speak>"
    would be text outside the root, which Telnyx's SSML voices refuse or read out."""
    if len(parts) == 1:
        return parts[0]
    root: str | None = None
    inner: list[str] = []
    for part in parts:
        found = _SPEAK_ROOT.fullmatch(part)
        if found is not None:
            root = root or found.group(1)
            inner.append(found.group(2).strip())
        elif _MARKUP.search(part):
            inner.append(part.strip())
        else:
            inner.append(html.escape(part.strip(), quote=False))
    return (root or "<speak>") + " ".join(piece for piece in inner if piece) + "</speak>"


def _url_part(value: str) -> str:
    # A value spliced into a URL is one piece of it: `/`, `?`, `&` and `#` in it are escaped too.
    return quote(value, safe="")


_QUIET = (SetOp, LogOp, IfOp, SmsOp, FetchOp)

# One method per kind of operation: a table lookup instead of a chain of isinstance checks,
# since this runs for every statement of every call.
_EXECUTE: dict[type, Callable[[_Run, Any], None]] = {
    SetOp: _Run.do_set,
    LogOp: _Run.do_log,
    IfOp: _Run.do_if,
    GotoOp: _Run.do_goto,
    CallOp: _Run.do_call,
    ReturnOp: _Run.do_return,
    AnswerOp: _Run.do_answer,
    HangupOp: _Run.do_hangup,
    SayOp: _Run.do_say,
    PlayOp: _Run.do_play,
    TransferOp: _Run.do_transfer,
    GatherOp: _Run.do_gather,
    AiGatherOp: _Run.do_ai_gather,
    AssistantOp: _Run.do_assistant,
    SmsOp: _Run.do_sms,
    RecordOp: _Run.do_record,
    QueueOp: _Run.do_queue,
    DetectOp: _Run.do_detect,
    WaitBeepOp: _Run.do_wait_beep,
    TryAgainOp: _Run.do_try_again,
    FetchOp: _Run.do_fetch,
}
