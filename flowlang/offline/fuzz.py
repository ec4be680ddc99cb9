"""Random callers for a flow (with hypothesis): find calls that fail, loop forever, get stuck,
or say an empty value to the caller."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
from attrs import frozen
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

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
    Press,
    Recorded,
    RecordingLost,
    Silence,
)
from flowlang.offline.simulator import InputError, Logged, Sent, Simulation, input_text
from flowlang.syntax.nodes import Interp, Node, OpenTest, Var, walk

DEFAULT_EXAMPLES = 200
MAX_INPUTS = 30


@frozen
class Finding:
    """A call that went wrong: `kind` ("error", "stuck", "empty": the caller heard a value
    that was empty, or "crash"), what happened, the `.flow` line when known, the caller inputs
    that lead to it (shrunk by hypothesis), `at`, the time of the call (`2026-11-23T14:05Z`)
    for a flow that reads the clock, and `values`, the values of an outbound flow's `input`
    lines the call was started with."""

    kind: str
    message: str
    line: int | None
    inputs: tuple[str, ...]
    at: str | None = None
    values: tuple[tuple[str, str], ...] = ()


@frozen
class FuzzReport:
    """How many random calls were tried, and the first problem found (None when none)."""

    examples: int
    finding: Finding | None


class _Found(Exception):
    pass


def simulate_command(
    flow_path: str, inputs: tuple[str, ...], at: str | None = None,
    values: tuple[tuple[str, str], ...] = (),
) -> str:
    """The ready-to-paste `flowlang simulate` command that replays `inputs` (at time `at`, with
    an outbound flow's input `values`)."""
    parts = ["flowlang", "simulate", flow_path]
    if at is not None:
        parts += ["--at", at]
    for name, value in values:
        parts += ["--with", f"{name}={value}"]
    for text in inputs:
        parts += ["--input", text]
    return " ".join(shlex.quote(p) for p in parts)


class Vocabulary:
    """What a random caller may do, learnt from the program: the entries its branches expect,
    the keys its `on key` handlers listen for, the fields the flow reads from the answers of
    its fetches (so that a random backend answers with some of them), and whether the time
    they call at matters (`clock`)."""

    def __init__(self, program: Any) -> None:
        self.clock = reads_clock(program)
        entries: set[str] = set()
        keys: set[str] = set()
        for block in program.blocks:
            for op in block.ops:
                for branch in getattr(op, "branches", ()):
                    for value in branch.values:
                        if not any(isinstance(p, Interp) for p in value.parts):
                            entries.add("".join(str(p) for p in value.parts))
                for key in getattr(op, "keys", ()):
                    keys.add(key.key)
        self.entries = sorted(e for e in entries if e and all(c in KEYS for c in e))
        self.keys = sorted(keys)
        answers = {getattr(op, "into", None) for b in program.blocks for op in b.ops
                   if type(op).__name__ == "FetchOp"} - {None}
        # What the flow's statements read, those of its included files too; never a comment,
        # or a text that merely looks like `status.state`. (A translation reads what its text
        # does: `check` holds it to that.)
        fields = {path[1] for path in _paths(program.blocks)
                  if len(path) > 1 and path[0] in answers}
        self.fields = sorted(fields) or ["value"]

    def gather(self, body: dict[str, Any]) -> st.SearchStrategy[CallerAction]:
        valid = str(body.get("valid_digits", "0123456789"))
        low = int(body.get("minimum_digits", 1))
        high = min(int(body.get("maximum_digits", 8)), max(low, 1) + 4)
        terminator = str(body.get("terminating_digit", "#"))
        typed = st.text(st.sampled_from(valid or KEYS), min_size=max(low, 1), max_size=high)
        if body.get("terminating_digit"):
            typed = typed.map(lambda keys: keys + terminator) | typed
        choices: list[st.SearchStrategy[CallerAction]] = [
            st.just(Silence()),
            typed.map(Press),
        ]
        if self.entries:
            choices.append(st.sampled_from(self.entries).map(Press))
        choices += [st.text(st.sampled_from(KEYS), min_size=1, max_size=6).map(Press),
                    st.just(HangUp())]
        return st.one_of(choices)

    def ai_gather(self, body: dict[str, Any]) -> st.SearchStrategy[CallerAction]:
        # Telnyx ends an AI gather `valid` only with every required field, of its type; an
        # invalid one may carry anything it got so far.
        parameters = body.get("parameters", {})
        properties = parameters.get("properties", {})
        required = set(parameters.get("required", ()))
        values = {
            "string": st.text(max_size=12),
            "integer": st.integers(-5, 50),
            "number": st.floats(-5, 50, allow_nan=False),
            "boolean": st.booleans(),
        }
        fields = {name: values.get(str(spec.get("type")), st.none())
                  for name, spec in properties.items()}
        # A required text field the agent did not fill in keeps the gather from ending valid.
        answered = {name: st.text(min_size=1, max_size=12).filter(str.strip)
                    if properties[name].get("type") == "string" else fields[name]
                    for name in fields if name in required}
        valid = st.fixed_dictionaries(
            answered,
            optional={name: fields[name] for name in fields if name not in required},
        )
        invalid = st.fixed_dictionaries({}, optional=fields)
        return st.one_of(
            valid.map(AiResult),
            invalid.map(lambda result: AiResult(result, valid=False)),
            self._key(),
            st.just(HangUp()),
        )

    def fetch(self, hung_up: bool = False) -> st.SearchStrategy[CallerAction]:
        # A backend may answer any JSON: the fields the flow reads, of any type, or missing.
        # The caller may hang up meanwhile, unless it already has (a voicemail's `on saved:`).
        leaf = st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-1000, 1000),
            st.text(st.sampled_from("0123456789 abc*#-."), max_size=6),
        )
        value = st.recursive(
            leaf,
            lambda inner: st.lists(inner, max_size=2)
            | st.dictionaries(st.sampled_from(self.fields), inner, max_size=2),
            max_leaves=4,
        )
        answer = st.dictionaries(st.sampled_from(self.fields), value, max_size=4)
        answers = [answer.map(FetchAnswer), st.just(FetchAnswer(None))]
        return st.one_of(answers if hung_up else [*answers, st.just(HangUp())])

    def assistant(self) -> st.SearchStrategy[CallerAction]:
        return st.one_of(st.just(ConversationEnds()), self._key(), st.just(HangUp()))

    def for_call(self, sim: Simulation) -> st.SearchStrategy[CallerAction]:
        """What the caller (or Telnyx, or the backend) may do next in `sim`, by what the call
        waits for."""
        if sim.needs == "fetch":
            return self.fetch(sim.phone.state == "ended")
        waiting = sim.phone.waiting
        if waiting is None:
            raise AssertionError("the call waits for nothing a caller can give")
        if waiting.kind == "gather":
            return self.gather(waiting.command.body)
        if waiting.kind == "ai_gather":
            return self.ai_gather(waiting.command.body)
        if waiting.kind == "record":
            return self.record(waiting.command.body, sim.phone.state == "ended")
        if waiting.kind == "transfer":
            return self.transfer()
        if waiting.kind == "queue":
            return self.queue()
        if waiting.kind == "machine":
            return st.sampled_from(("human", "machine", "not_sure")).map(Detected)
        if waiting.kind == "beep":
            return st.booleans().map(lambda beep: Greeting(beep=beep))
        return self.assistant()

    def record(self, body: dict[str, Any], hung_up: bool) -> st.SearchStrategy[CallerAction]:
        """A recording ends saved (of any length) or failed; before that the caller may press
        keys or hang up (the recording still arrives after a hangup, or never does)."""
        outcomes: list[st.SearchStrategy[CallerAction]] = [
            st.integers(0, int(body.get("max_length") or 600)).map(lambda s: Recorded(True, s)),
            st.just(Recorded(saved=False)),
        ]
        if hung_up:
            outcomes.append(st.just(RecordingLost()))
        else:
            outcomes += [st.sampled_from(KEYS).map(Press), st.just(HangUp())]
        return st.one_of(outcomes)

    def transfer(self) -> st.SearchStrategy[CallerAction]:
        results = ("answered", "no_answer", "busy", "failed")
        return st.one_of(st.sampled_from(results).map(LegResult), st.just(HangUp()))

    def queue(self) -> st.SearchStrategy[CallerAction]:
        reasons = st.sampled_from(("bridged", "timeout")).map(Dequeued)
        return st.one_of(reasons, st.just(HangUp()))

    def _key(self) -> st.SearchStrategy[CallerAction]:
        keys = st.sampled_from(self.keys) | st.sampled_from(KEYS) if self.keys else \
            st.sampled_from(KEYS)
        return keys.map(KeyDuringAi)


def play(
    program: Any, draw: Callable[[st.SearchStrategy[Any]], Any],
    vocabulary: Vocabulary, max_inputs: int = MAX_INPUTS,
) -> Finding | None:
    """One random call: the caller's actions come from `draw`; a Finding when it goes wrong."""
    at: datetime | None = draw(CALL_TIMES) if vocabulary.clock else None
    values = call_values(program)
    finding = _call(program, draw, vocabulary, max_inputs, at, values)
    if finding is None:
        return None
    when = at.strftime("%Y-%m-%dT%H:%MZ") if at is not None else None
    return attrs.evolve(finding, at=when, values=values)


def _call(
    program: Any, draw: Callable[[st.SearchStrategy[Any]], Any], vocabulary: Vocabulary,
    max_inputs: int, at: datetime | None, values: tuple[tuple[str, str], ...],
) -> Finding | None:
    inputs: list[str] = []
    try:
        sim = Simulation.begin(program, at=at, inputs=dict(values))
        for _ in range(max_inputs + 1):
            finding = _check(sim, inputs)
            if finding is not None or sim.ended:
                return finding
            if len(inputs) == max_inputs:
                return None
            action: CallerAction = draw(vocabulary.for_call(sim))
            inputs.append(input_text(action))
            sim.give(action)
    except InputError as exc:
        return Finding("crash", f"the simulator refused an input: {exc}", None, tuple(inputs))
    except Exception as exc:  # noqa: BLE001 - any crash is a finding to report, not a traceback
        return Finding("crash", f"{type(exc).__name__}: {exc}", None, tuple(inputs))
    return None


def call_values(program: Any) -> tuple[tuple[str, str], ...]:
    """The values an outbound flow's calls are started with: each `input` line's own name, as
    a list of calls gives every input a value (`patient` says "Hello patient")."""
    outbound = getattr(program, "outbound", None)
    return tuple((name, name) for name in outbound.inputs) if outbound is not None else ()


# Random times of a call, to the minute, over two years (weekends, nights and holidays too).
CALL_TIMES = st.datetimes(
    datetime(2026, 1, 1), datetime(2027, 12, 31, 23, 59), timezones=st.just(UTC)
).map(lambda moment: moment.replace(second=0, microsecond=0))


def reads_clock(program: Any) -> bool:
    """Whether a run of `program` may depend on the time of the call (LANGUAGE.md 11): one of
    its statements reads the built-in `now` (`{now.time}`, `if now.hour < 9`) or asks
    `open NAME`. The word "now" in a text said is no reading. (A translation has the same
    `{...}` as its text: `check` holds it to that.)"""
    return any(
        isinstance(n, OpenTest) or (isinstance(n, Var | Interp) and n.path[0] == "now")
        for n in _nodes(program.blocks)
    )


def _paths(value: Any) -> Iterator[tuple[str, ...]]:
    """The variable paths (`status.state`) read in `value`, as _nodes finds them."""
    for node in _nodes(value):
        if isinstance(node, Var | Interp):
            yield node.path


def _nodes(value: Any) -> Iterator[Node]:
    """Every syntax node in `value`: a compiled op, a syntax node, or a tuple of them."""
    if isinstance(value, Node):
        yield from walk(value)
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes(item)
    elif attrs.has(type(value)):
        for a in attrs.fields(type(value)):
            yield from _nodes(getattr(value, a.name))


def _check(sim: Simulation, inputs: list[str]) -> Finding | None:
    end = sim.end
    if end is not None and end.reason == "error":
        return Finding("error", end.message or "the flow failed", end.line, tuple(inputs))
    if sim.stuck:
        what = sim.waiting or "something"
        message = f"the flow waits for {what}, but nothing the caller does can complete it"
        return Finding("stuck", message, None, tuple(inputs))
    return _empty(sim, inputs)


def _empty(sim: Simulation, inputs: list[str]) -> Finding | None:
    """The first value the caller heard as nothing (the interpreter's warning marks it), with
    what the caller heard instead: the text of the command that said it."""
    entries = sim.entries
    for n, entry in enumerate(entries):
        if isinstance(entry, Logged) and entry.line.gap is not None:
            said = next((_spoken(e.command.body) for e in entries[n + 1:] if isinstance(e, Sent)),
                        None)
            heard = f': the caller heard "{said}"' if said is not None else ""
            return Finding("empty", entry.line.text + heard, entry.line.line, tuple(inputs))
    return None


def _spoken(body: dict[str, Any]) -> str | None:
    """What a command says to the caller: a `speak` or gather's payload, an AI's greeting."""
    assistant = body.get("assistant")
    ai = assistant.get("greeting") if isinstance(assistant, dict) else None
    return next((said for said in (body.get("payload"), body.get("greeting"), ai)
                 if isinstance(said, str)), None)


def fuzz(
    program: Any, examples: int = DEFAULT_EXAMPLES, seed: int = 0, max_inputs: int = MAX_INPUTS
) -> FuzzReport:
    """Try `examples` random callers on `program`; report the shortest failing one found."""
    vocabulary = Vocabulary(program)
    found: list[Finding] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @fixed_seed(seed)
    @given(st.data())
    def explore(data: st.DataObject) -> None:
        finding = play(program, data.draw, vocabulary, max_inputs)
        if finding is not None:
            found.append(finding)
            raise _Found(finding.message)

    try:
        explore()
    except _Found:
        pass
    # Hypothesis replays the shrunk example last, so the last finding is the shortest one.
    return FuzzReport(examples, found[-1] if found else None)
