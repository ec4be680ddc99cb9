"""Offline calls: a flow's interpreter driven by the phone model and a scripted caller."""

from __future__ import annotations

import json
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from attrs import define, field, frozen

from flowlang.clock import local_time, now
from flowlang.offline.phone import (
    KEYS,
    AiResult,
    CallerAction,
    ConversationEnds,
    Dequeued,
    Detected,
    FetchAnswer,
    Greeting,
    HangUp,
    KeyDuringAi,
    LegResult,
    Phone,
    PhoneError,
    Press,
    Recorded,
    RecordingLost,
    Silence,
    describe_action,
    expected_inputs,
    gather_entry,
    to_event,
)
from flowlang.runtime.commands import Command, FetchRequest
from flowlang.runtime.events import (
    CONVERSATION_STARTED,
    FETCH_ENDED,
    WAIT_EXPIRED,
    CallInfo,
    Event,
)
from flowlang.runtime.outcome import End, LogLine, Outcome
from flowlang.runtime.outcome import Entered as StepEntered

__all__ = [
    "AiResult",
    "CallerAction",
    "ConversationEnds",
    "Dequeued",
    "Entered",
    "FetchAnswer",
    "Heard",
    "HangUp",
    "InputError",
    "KeyDuringAi",
    "LegResult",
    "Logged",
    "Note",
    "Phone",
    "Press",
    "Recorded",
    "Requested",
    "Sent",
    "Silence",
    "Simulation",
    "Transcript",
    "input_text",
    "parse_input",
    "expected_inputs",
    "gather_entry",
    "simulate",
    "calling_number",
]

DEFAULT_CALLER = "+15550001111"
DEFAULT_CALLED = "+15550002222"
CALL_CONTROL_ID = "v3:flowlang-simulated-call"
# How many webhooks the phone may send in a row without the caller doing anything. A flow that
# goes round `say` and `goto` forever never waits for the caller: on a real call it runs until
# the caller hangs up, offline it would never stop, so the simulator stops it here.
AUTOMATIC_EVENT_LIMIT = 500


class InputError(ValueError):
    """A caller input that cannot be understood, or does not fit what the flow waits for;
    `transcript` is the call up to that input, when there is one, and `number` the input's
    place among the ones given (1-based)."""

    transcript: Transcript | None = None
    number: int | None = None


def parse_input(text: str) -> CallerAction:
    """One `--input` (LANGUAGE.md 8 and 17): keys, `timeout`, `hangup`, `ai={...}`,
    `ai-invalid={...}`, `key=K`, `end`, `saved`, `saved=SECONDS`, `record-error`,
    `record-lost`, `answered`,
    `no_answer`, `busy`, `failed`, `bridged`, `queue-timeout`, `fetch={...}`, `fetch-error`.
    Raises InputError saying what is wrong and what would be right."""
    word = text.strip()
    if word in WAIT_WORDS:
        return WAIT_WORDS[word]
    if word.startswith("saved="):
        seconds = word[len("saved=") :]
        if not seconds.isdigit() or len(seconds) > 6:
            raise InputError(
                f"`{text}`: saved= takes the recording's length in whole seconds (saved=42)"
            )
        return Recorded(True, int(seconds))
    if word == "fetch-error":
        return FetchAnswer(None)
    if word.startswith("fetch="):
        return FetchAnswer(_json_object(word[len("fetch=") :], "fetch="))
    if word == "timeout":
        return Silence()
    if word == "hangup":
        return HangUp()
    if word == "end":
        return ConversationEnds()
    for prefix, valid in (("ai=", True), ("ai-invalid=", False)):
        if word.startswith(prefix):
            return AiResult(_json_object(word[len(prefix) :], prefix), valid)
    if word.startswith("key="):
        key = word[4:]
        if len(key) != 1 or key not in KEYS:
            raise InputError(f"`{text}`: key= takes one key, 0-9, * or # (for example key=0)")
        return KeyDuringAi(key)
    if word and all(c in KEYS for c in word):
        return Press(word)
    meant = _meant(word)
    if meant is None and word.startswith("{"):
        meant = f"fetch={word} (the backend's answer) or ai={word} (an AI gather's answers)"
    if meant is not None:
        raise InputError(f"`{text}` is not a caller input: did you mean {meant}?")
    raise InputError(
        f"`{text}` is not a caller input: use keys (1, 1234#), timeout, hangup, "
        'ai={"name": "Bob"}, ai-invalid={...}, key=0, end, saved, saved=42, record-error, '
        "record-lost, "
        "answered, no_answer, busy, failed, bridged, queue-timeout, human, machine, not_sure, "
        "beep, no-beep, "
        'fetch={"state": "shipped"} or fetch-error'
    )


# Inputs written the way a scenario, or plain English, says them: what `--input` calls them.
_MEANT = {
    "silence": "timeout",
    "nothing": "timeout",
    "hang-up": "hangup",
    "hungup": "hangup",
    "press": "the keys themselves, like 1 or 1234#",
    "error": "fetch-error (a backend that fails) or record-error (a recording that fails)",
    "no-answer": "no_answer",
    "noanswer": "no_answer",
    "not-sure": "not_sure",
    "queue-times-out": "queue-timeout",
    "agent-answers": "bridged",
    "conversation-ends": "end",
}


def _meant(word: str) -> str | None:
    """The input a mistyped one stands for: `Timeout`, `hang up`, `silence`, `press 1`."""
    keys = re.fullmatch(r"press\s*\"?([0-9*#]+)\"?", word, re.I)
    if keys is not None:
        return keys.group(1)
    folded = word.lower().replace(" ", "")
    if folded in WAIT_WORDS or folded in ("timeout", "hangup", "end", "fetch-error"):
        return folded
    return _MEANT.get(folded.replace("_", "-"))


# The inputs that are one word each (LANGUAGE.md 17), beside keys and `timeout`/`hangup`.
WAIT_WORDS: dict[str, CallerAction] = {
    "saved": Recorded(),
    "record-error": Recorded(saved=False),
    "record-lost": RecordingLost(),
    "answered": LegResult("answered"),
    "no_answer": LegResult("no_answer"),
    "busy": LegResult("busy"),
    "failed": LegResult("failed"),
    "bridged": Dequeued("bridged"),
    "queue-timeout": Dequeued("timeout"),
    "human": Detected("human"),
    "machine": Detected("machine"),
    "not_sure": Detected("not_sure"),
    "beep": Greeting(beep=True),
    "no-beep": Greeting(beep=False),
}


def _json_object(raw: str, prefix: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"`{prefix}{raw}`: not valid JSON ({exc.msg} at character {exc.pos + 1}); "
            f"""write it like {prefix}{{"name": "Bob", "guests": 4}}"""
        ) from None
    if not isinstance(value, dict):
        what = "the backend's answer" if prefix == "fetch=" else "the AI result"
        raise InputError(f"`{prefix}{raw}`: {what} must be a JSON object {{...}}")
    return value


def input_text(action: CallerAction) -> str:
    """The `--input` spelling of a caller action (the inverse of parse_input)."""
    if isinstance(action, Press):
        return action.keys
    if isinstance(action, Silence):
        return "timeout"
    if isinstance(action, HangUp):
        return "hangup"
    if isinstance(action, AiResult):
        prefix = "ai=" if action.valid else "ai-invalid="
        return prefix + json.dumps(action.result, separators=(", ", ": "), ensure_ascii=False)
    if isinstance(action, KeyDuringAi):
        return f"key={action.key}"
    if isinstance(action, Detected):
        return action.result
    if isinstance(action, Greeting):
        return "beep" if action.beep else "no-beep"
    if isinstance(action, Recorded):
        if not action.saved:
            return "record-error"
        return "saved" if action == Recorded() else f"saved={action.seconds}"
    if isinstance(action, RecordingLost):
        return "record-lost"
    if isinstance(action, LegResult):
        return action.result
    if isinstance(action, Dequeued):
        return "bridged" if action.reason == "bridged" else "queue-timeout"
    if isinstance(action, FetchAnswer):
        if action.result is None:
            return "fetch-error"
        return "fetch=" + json.dumps(action.result, separators=(", ", ": "), ensure_ascii=False)
    return "end"


# ---------------------------------------------------------------------------------------------
# The transcript: what happened on the call, in order


@frozen
class Entered:
    """The flow went into step `name`."""

    name: str


@frozen
class Sent:
    """The flow sent `command` to Telnyx (while in step `step`, from the statement at `line`
    when the interpreter said so)."""

    command: Command
    step: str | None = None
    line: int | None = None


@frozen
class Requested:
    """The flow asked its backend: `fetch` (while in step `step`, from the `fetch` at `line`)."""

    fetch: FetchRequest
    step: str | None = None
    line: int | None = None


@frozen
class Heard:
    """The caller did `action` (the `number`-th input, 1-based) while the call waited on `kind`;
    `result` is how Telnyx ended a key-press try (`valid`, `invalid`, `timeout`, ...)."""

    action: CallerAction
    number: int
    kind: str | None = None
    result: str | None = None
    digits: str | None = None


@frozen
class Logged:
    """A `log` line (or a runtime warning) of the flow."""

    line: LogLine


@frozen
class Note:
    """Something the simulator noticed (a command Telnyx would refuse, an unused input)."""

    text: str


Entry = Entered | Sent | Requested | Heard | Logged | Note


@frozen
class Transcript:
    """A whole simulated call: `entries` in order, how it ended (`end.reason` is one of
    hangup/transfer/completed/error, or `waiting` when the inputs ran out), the coverage points
    `reached`, how many inputs were used, and `stuck` when the flow waits for something that no
    caller input can complete."""

    entries: tuple[Entry, ...]
    end: End
    reached: frozenset[str] = frozenset()
    inputs_used: int = 0
    stuck: bool = False
    waiting: str | None = None

    @property
    def commands(self) -> list[Command]:
        return [e.command for e in self.entries if isinstance(e, Sent)]

    def jsonl(self) -> str:
        """LANGUAGE.md 8's `--format jsonl`: one line per command and backend request (17),
        then the `end` line."""
        lines = [
            json.dumps(e.command.to_json() if isinstance(e, Sent) else e.fetch.to_json(),
                       ensure_ascii=False)
            for e in self.entries
            if isinstance(e, (Sent, Requested))
        ]
        last: dict[str, Any] = {"end": self.end.reason}
        if self.end.reason == "error":
            last["message"] = self.end.message or "the flow failed"
        lines.append(json.dumps(last, ensure_ascii=False))
        return "\n".join(lines) + "\n"


class Runnable(Protocol):
    """What the simulator needs of the interpreter (flowlang.runtime.interpreter.Interpreter)."""

    def start(self, call: CallInfo) -> Outcome: ...

    def handle(self, state: dict[str, Any], event: Any) -> Outcome: ...


def _interpreter(program: Any) -> Runnable:
    # The interpreter is pure, so one per program serves every simulated call of it.
    cached = _INTERPRETERS.get(id(program))
    if cached is not None and cached[0] is program:
        return cached[1]
    from flowlang.runtime.interpreter import Interpreter

    interpreter: Runnable = Interpreter(program)
    if len(_INTERPRETERS) > 64:
        _INTERPRETERS.clear()
    _INTERPRETERS[id(program)] = (program, interpreter)
    return interpreter


_INTERPRETERS: dict[int, tuple[Any, Runnable]] = {}


@define
class Simulation:
    """One offline call, advanced one caller action at a time (`give`). After every action the
    flow has run as far as it can without the caller: `ended`, `end`, and `needs` (what the
    phone waits for: "gather", "ai_gather", "assistant", or None) tell where it stands."""

    interpreter: Runnable
    call: CallInfo
    phone: Phone
    entries: list[Entry] = field(factory=list)
    reached: set[str] = field(factory=set)
    end: End | None = None
    state: dict[str, Any] = field(factory=dict)
    step: str | None = None
    waiting: str | None = None
    inputs_used: int = 0
    fetching: FetchRequest | None = None
    _queue: deque[dict[str, Any]] = field(factory=deque)

    @classmethod
    def begin(
        cls,
        program: Any,
        caller: str = DEFAULT_CALLER,
        called: str = DEFAULT_CALLED,
        interpreter: Runnable | None = None,
        language: str | None = None,
        at: datetime | None = None,
            inputs: dict[str, Any] | None = None,
    ) -> Simulation:
        """Start the call (in `language`, for a flow that speaks several) at `at` (default:
        now): the flow runs until it first waits for the caller (or ends). The simulated clock
        stands still for the whole call. The call of an outbound flow starts answered (its flow
        runs once the callee picks up), with the values of its `input` lines from `inputs`."""
        zone = getattr(program, "timezone", "UTC")
        clock = local_time(at if at is not None else now(), zone)
        caller = calling_number(program, caller)
        call = CallInfo(CALL_CONTROL_ID, caller, called, language, clock)
        phone = Phone(call, informational=False)
        outbound = getattr(program, "outbound", None) is not None
        if outbound:
            phone.state = "answered"
        sim = cls(interpreter or _interpreter(program), call, phone)
        if outbound:
            sim._apply(sim._guarded(sim.interpreter.start, call, inputs or {}))
        else:
            sim._apply(sim._guarded(sim.interpreter.start, call))
        sim._drain()
        return sim

    @property
    def ended(self) -> bool:
        return self.end is not None

    @property
    def needs(self) -> str | None:
        """What kind of caller input the call waits for now (None when ended or stuck)."""
        if self.end is not None:
            return None
        if self.fetching is not None:
            return "fetch"
        if self.phone.waiting is None:
            return None
        return self.phone.waiting.kind

    @property
    def stuck(self) -> bool:
        """The flow waits, but the phone has nothing the caller could answer: it waits forever."""
        return self.end is None and self.phone.waiting is None and self.fetching is None

    def give(self, action: CallerAction) -> None:
        """The caller does `action`; InputError when it does not fit what the call waits for."""
        if self.end is not None:
            raise InputError(f"{describe_action(action)}: the call has already ended")
        kind = self.needs
        if kind is None and not isinstance(action, HangUp):
            raise InputError(
                f"{describe_action(action)} does not fit: the flow is not waiting for the caller"
            )
        if isinstance(action, FetchAnswer) or kind == "fetch":
            self._answer_fetch(action)
            return
        try:
            events = self.phone.act(action)
        except PhoneError as exc:
            raise InputError(str(exc)) from None
        self.inputs_used += 1
        result = digits = None
        if kind == "gather":
            result, digits = _gather_outcome(events)
        self.entries.append(Heard(action, self.inputs_used, kind, result, digits))
        if isinstance(action, RecordingLost):
            # No webhook: the server hands the run this event when its wait runs out.
            payload = {"call_control_id": self.call.call_control_id}
            events = [_internal(WAIT_EXPIRED, "wait-expired", payload)]
        self._queue.extend(events)
        self._drain()

    def _answer_fetch(self, action: CallerAction) -> None:
        fetch = self.fetching
        if fetch is None:
            raise InputError(
                f"{describe_action(action)} does not fit: the flow is not waiting for its backend"
            )
        if isinstance(action, HangUp):
            if self.phone.state == "ended":
                # A `fetch` of a recording's `on saved:`, after the caller hung up to end it.
                raise InputError(
                    "hanging up does not fit: the caller has already hung up, and the flow "
                    'waits for its backend (give fetch={"state": "shipped"} or fetch-error)'
                )
            self.fetching = None
            self.inputs_used += 1
            self.entries.append(Heard(action, self.inputs_used, "fetch"))
            self._queue.extend(self.phone.act(action))
            self._drain()
            return
        if not isinstance(action, FetchAnswer):
            raise InputError(f"{describe_action(action)} does not fit: {expected_inputs('fetch')}")
        self.fetching = None
        self.inputs_used += 1
        result = "ok" if action.ok else "error"
        self.entries.append(Heard(action, self.inputs_used, "fetch", result))
        payload: dict[str, Any] = {
            "call_control_id": self.call.call_control_id,
            "client_state": fetch.client_state,
            "status": result,
        }
        if action.result is not None:
            payload["result"] = action.result
        else:
            payload["reason"] = "the simulated backend failed (fetch-error)"
        outcome = self._guarded(self.interpreter.handle, self.state, Event(FETCH_ENDED, payload))
        if not outcome.ignored:
            self._apply(outcome)
        self._drain()

    def transcript(self) -> Transcript:
        """The call so far; a call that has not ended ends `waiting`."""
        end = self.end or End("waiting")
        return Transcript(
            tuple(self.entries),
            end,
            frozenset(self.reached),
            self.inputs_used,
            self.stuck,
            None if self.end else self.waiting,
        )

    def take(self, outcome: Outcome, heard: Heard | None = None) -> None:
        """Record an outcome the driver got itself (a recorded call replayed), after what the
        caller did to cause it (`heard`); the phone is told the commands, as in `give`."""
        if heard is not None:
            self.inputs_used = heard.number
            self.entries.append(heard)
        if not outcome.ignored:
            self._apply(outcome)

    def _guarded(self, run: Callable[..., Outcome], *args: Any) -> Outcome:
        # The interpreter promises never to raise; if it does anyway, the call ends in an error
        # the person can report, not a traceback.
        try:
            outcome = run(*args)
        except Exception as exc:  # noqa: BLE001 - a broken promise becomes a reported error
            return Outcome(
                state=self.state,
                end=End("error", f"internal error in the interpreter: {type(exc).__name__}: {exc}"),
            )
        return outcome

    def _apply(self, outcome: Outcome) -> None:
        self.state = outcome.state
        self.reached.update(outcome.reached)
        # Steps entered and log lines stand where they happened among the outcome's commands
        # (each says how many came before it). A step entered by an event that carried no
        # position (none was entered, yet the run is in another step) comes first.
        if not outcome.entered and outcome.step is not None and outcome.step != self.step:
            self._mark(StepEntered(outcome.step))
        marks = sorted(
            [((e.after, e.logs, 0), e) for e in outcome.entered]
            + [((line.after, n, 1), line) for n, line in enumerate(outcome.logs)],
            key=lambda mark: mark[0],
        )
        lines = outcome.lines
        for sent, command in enumerate(outcome.commands):
            while marks and marks[0][0][0] <= sent:
                self._mark(marks.pop(0)[1])
            self._send((command,), lines[sent] if sent < len(lines) else None)
        for _, mark in marks:
            self._mark(mark)
        if outcome.step is not None:
            self.step = outcome.step
        self.waiting = outcome.waiting
        if outcome.fetch is not None:
            self.entries.append(Requested(outcome.fetch, self.step, outcome.fetch_line))
            self.fetching = outcome.fetch
        if outcome.waiting in ("machine", "beep"):
            self.phone.expect(outcome.waiting)
        if outcome.end is not None:
            self.end = outcome.end
            self.fetching = None

    def _mark(self, mark: StepEntered | LogLine) -> None:
        if isinstance(mark, StepEntered):
            self.step = mark.name
            self.entries.append(Entered(mark.name))
        else:
            self.entries.append(Logged(mark))

    def _send(self, commands: tuple[Command, ...], line: int | None = None) -> None:
        phone = self.phone
        for command in commands:
            self.entries.append(Sent(command, self.step, line))
            if phone.state == "ended":
                continue
            refused = len(phone.refusals)
            events = phone.send(command)
            if len(phone.refusals) > refused:
                self.entries.extend(Note(text) for text in phone.refusals[refused:])
            else:
                self._queue.extend(self._answered(command))
            self._queue.extend(events)

    def _answered(self, command: Command) -> list[dict[str, Any]]:
        """What the server would feed back from Telnyx's answer to `command`: the conversation
        an AI command started (as `flowlang serve` does, so both run the same way)."""
        found = self.phone.answer_of(command).get("conversation_id")
        if found is None:
            return []
        payload = {
            "call_control_id": self.call.call_control_id,
            "client_state": command.body.get("client_state"),
            "conversation_id": found,
        }
        event_id = f"conversation/{command.body.get('command_id')}"
        return [_internal(CONVERSATION_STARTED, event_id, payload)]

    def _drain(self) -> None:
        count = 0
        while self._queue and self.end is None:
            count += 1
            if count > AUTOMATIC_EVENT_LIMIT:
                self._queue.clear()
                self._endless()
                return
            event = to_event(self._queue.popleft(), self.call.at)
            outcome = self._guarded(self.interpreter.handle, self.state, event)
            if outcome.ignored:
                continue
            self._apply(outcome)

    def _endless(self) -> None:
        """The flow sent too many commands without waiting for the caller: stop the call. The
        message says whether it went round a loop (a step entered again) or only down a very
        long run of steps, as both stop the same way."""
        last = next((e for e in reversed(self.entries) if isinstance(e, Sent)), None)
        what = f" (the last was `{last.command.action}` in step `{last.step}`)" if last else ""
        since: list[str] = []
        for entry in reversed(self.entries):
            if isinstance(entry, Heard):
                break
            if isinstance(entry, Entered):
                since.append(entry.name)
        counts = Counter(since)
        again = [name for name in reversed(since) if counts[name] > 1]
        said = (
            f"the flow sent {AUTOMATIC_EVENT_LIMIT:,} commands without waiting for the caller "
            f"once{what}"
        )
        if again or not since:
            round_ = f" (step `{again[0]}` again and again)" if again else ""
            message = (
                f"{said}: it loops{round_} without ever waiting for the caller, so the "
                "simulator stopped it; on a real call it would go on until the caller hangs "
                "up. Make every way round the loop ask the caller something (a gather), or "
                "leave it"
            )
        else:
            message = (
                f"{said}: not a loop, but a very long run of {len(since):,} steps, longer "
                "than the simulator follows, so it stopped the call there (a real call would "
                "go on). To simulate it to the end, wait for the caller somewhere along the "
                "run (a gather), or make the run shorter"
            )
        self.end = End("error", message)
        self.fetching = None


def _internal(event_type: str, event_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """An event the server makes itself (not a Telnyx webhook), shaped like a webhook's
    envelope so that it queues and reaches the interpreter as webhooks do."""
    return {"data": {"event_type": event_type, "id": event_id, "payload": payload}}


def _gather_outcome(events: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    for envelope in events:
        data = envelope["data"]
        if data["event_type"] == "call.gather.ended":
            return data["payload"]["status"], data["payload"]["digits"]
    return None, None


def calling_number(program: Any, caller: str = DEFAULT_CALLER) -> str:
    """The number a simulated call comes from: `caller`, except that the call of an outbound
    flow comes from its `outbound from` number, as a placed call does (unless another number
    than the default was asked for)."""
    outbound = getattr(program, "outbound", None)
    if outbound is not None and caller == DEFAULT_CALLER:
        return str(outbound.from_)
    return caller


def simulate(
    program: Any,
    inputs: Iterable[str | CallerAction],
    caller: str = DEFAULT_CALLER,
    called: str = DEFAULT_CALLED,
    language: str | None = None,
    at: datetime | None = None,
    values: dict[str, Any] | None = None,
) -> Transcript:
    """Play a whole call with scripted caller `inputs` (LANGUAGE.md 8 spellings or actions),
    at the time `at` (default: now); an outbound flow's `input` lines get `values`.

    Inputs left when the call ends are noted in the transcript; an input that does not fit
    what the flow waits for raises InputError naming it by number."""
    sim = Simulation.begin(program, caller, called, language=language, at=at, inputs=values)
    actions = [parse_input(i) if isinstance(i, str) else i for i in inputs]
    for number, action in enumerate(actions, start=1):
        if sim.ended or sim.stuck:
            sim.entries.append(Note(_unused(len(actions) - number + 1)))
            break
        try:
            sim.give(action)
        except InputError as exc:
            error = InputError(f"input {number} ({input_text(action)}): {exc}")
            error.transcript = sim.transcript()
            error.number = number
            raise error from None
    return sim.transcript()


def _unused(count: int) -> str:
    plural = "s" if count != 1 else ""
    return f"{count} input{plural} not used: the call no longer waits for the caller"

