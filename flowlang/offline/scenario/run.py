"""Running one scenario against a compiled flow: play its caller actions, check its expectations."""

from __future__ import annotations

from typing import Any

from attrs import frozen

from flowlang.clock import parse_at
from flowlang.offline.conversation import SPOKEN, Line, conversation
from flowlang.offline.phone import HangUp
from flowlang.offline.scenario.syntax import Act, Expect, Scenario, ScenarioFile
from flowlang.offline.simulator import (
    DEFAULT_CALLED,
    DEFAULT_CALLER,
    InputError,
    Simulation,
    Transcript,
)


@frozen
class Row:
    """One row of the side-by-side view: a scenario step (with its line in the scenario file)
    beside what happened on the call (with its `.flow` line); `failed` marks the mismatch."""

    expected: str = ""
    expected_line: int | None = None
    actual: str = ""
    flow_line: int | None = None
    failed: bool = False


@frozen
class ScenarioResult:
    """How one scenario went: `passed`, the side-by-side `rows`, and for a failure the
    `problem` in one sentence with the scenario line and `.flow` line it is about."""

    scenario: Scenario
    passed: bool
    rows: tuple[Row, ...]
    transcript: Transcript
    problem: str | None = None
    scenario_line: int | None = None
    flow_line: int | None = None

    @property
    def reached(self) -> frozenset[str]:
        return self.transcript.reached


def run_scenario(
    program: Any, scenario: Scenario, file: ScenarioFile | None = None
) -> ScenarioResult:
    """Play `scenario` on `program` and compare what happened with what it expects."""
    caller = scenario.caller or (file.caller if file else None) or DEFAULT_CALLER
    called = scenario.called or (file.called if file else None) or DEFAULT_CALLED
    language = scenario.language or (file.language if file else None)
    written = scenario.at or (file.at if file else None)
    at = parse_at(written, program.timezone) if written else None
    sim = Simulation.begin(program, caller, called, language=language, at=at,
                           inputs=dict(scenario.inputs))
    segments: list[list[Expect]] = [[]]
    acts: list[Act] = []
    failed_act: tuple[Act, str] | None = None
    for step in scenario.steps:
        if isinstance(step, Expect):
            segments[-1].append(step)
            continue
        if failed_act is None:
            failed_act = _play(sim, step)
        acts.append(step)
        segments.append([])
    transcript = sim.transcript()
    lines = conversation(transcript, program)
    return _Checker(scenario, transcript, lines, segments, acts, failed_act).check()


def _play(sim: Simulation, act: Act) -> tuple[Act, str] | None:
    if sim.ended:
        return act, f"the call had already ended ({sim.transcript().end.reason}) before this step"
    if sim.stuck and not isinstance(act.action, HangUp):
        return act, "the flow is not waiting for the caller here (it waits for something else)"
    try:
        sim.give(act.action)
    except InputError as exc:
        return act, str(exc)
    return None


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _number(text: str) -> str:
    return "".join(c for c in text if c.isdigit() or c == "+")


def matches(expect: Expect, line: Line, transcript: Transcript) -> bool:
    """Whether `line` of the call is what `expect` asks for."""
    kind, value = expect.kind, expect.value
    if kind == "say":
        return line.kind in SPOKEN and _norm(value) in _norm(line.value)
    if kind == "play":
        audio = line.kind == "play" or (line.kind == "ask" and line.text.startswith("ask with"))
        return audio and bool(value) and value in line.value
    if kind == "transfer":
        return line.kind == "transfer" and _number(value) == _number(line.value)
    if kind == "hangup":
        # The flow's `hangup` (also sent when a flow runs off its end) or the caller's.
        return line.kind == "hangup" or (line.kind == "end" and line.value == "hangup")
    if kind == "end":
        return line.kind == "end" and line.value == value
    if kind == "step":
        return line.kind == "step" and line.value == value
    if kind == "log":
        return line.kind in ("log", "warning") and _norm(value) in _norm(line.value)
    if kind in ("sms", "queue"):
        return line.kind == kind and _norm(value) in _norm(line.value)
    if kind == "record":
        return line.kind == "record"
    if kind == "fetch":
        return line.kind == "fetch" and bool(value) and value in line.value
    message = transcript.end.message or ""
    return line.kind == "end" and line.value == "error" and _norm(value) in _norm(message)


# Which kinds of line show what happened instead of an expectation of each kind.
_RELATED = {
    "say": SPOKEN,
    "play": ("play", "ask"),
    "transfer": ("transfer", "end"),
    "hangup": ("hangup", "end"),
    "end": ("end",),
    "error": ("end",),
    "step": ("step",),
    "log": ("log", "warning"),
    "sms": ("sms",),
    "record": ("record",),
    "queue": ("queue",),
    "fetch": ("fetch",),
}


class _Checker:
    def __init__(
        self,
        scenario: Scenario,
        transcript: Transcript,
        lines: list[Line],
        segments: list[list[Expect]],
        acts: list[Act],
        failed_act: tuple[Act, str] | None,
    ) -> None:
        self.scenario = scenario
        self.transcript = transcript
        self.lines = lines
        self.segments = segments
        self.acts = acts
        self.failed_act = failed_act
        self.rows: list[Row] = []

    def result(self, problem: str | None = None, scenario_line: int | None = None,
               flow_line: int | None = None) -> ScenarioResult:
        return ScenarioResult(self.scenario, problem is None, tuple(self.rows), self.transcript,
                              problem, scenario_line, flow_line)

    def actual(self, line: Line, expect: Expect | None = None, failed: bool = False) -> Row:
        return Row(expect.written if expect else "", expect.span.line if expect else None,
                   line.text, line.flow_line, failed)

    def check(self) -> ScenarioResult:
        for turn, expects in enumerate(self.segments):
            segment = [line for line in self.lines if line.turn == turn]
            if turn > 0:
                act = self.acts[turn - 1]
                if self.failed_act is not None and self.failed_act[0] is act:
                    return self.act_failed(act, self.failed_act[1])
                caller = segment.pop(0) if segment and segment[0].kind == "caller" else None
                self.rows.append(Row(act.written, act.span.line,
                                     caller.text if caller else "", None))
            problem = self.match_segment(expects, segment, turn)
            if problem is not None:
                return problem
        return self.result()

    def match_segment(self, expects: list[Expect], segment: list[Line],
                      turn: int) -> ScenarioResult | None:
        position = 0
        for expect in expects:
            found = next(
                (i for i in range(position, len(segment))
                 if matches(expect, segment[i], self.transcript)),
                None,
            )
            if found is None:
                return self.expect_failed(expect, segment[position:], turn)
            self.rows.extend(self.actual(line) for line in segment[position:found])
            self.rows.append(self.actual(segment[found], expect))
            position = found + 1
        self.rows.extend(self.actual(line) for line in segment[position:])
        return None

    def later_lines(self, turn: int) -> list[Line]:
        return [line for line in self.lines if line.turn > turn]

    def expect_failed(self, expect: Expect, rest: list[Line], turn: int) -> ScenarioResult:
        self.rows.append(Row(expect.written, expect.span.line, "? not found here", None, True))
        self.rows.extend(self.actual(line) for line in rest)
        self.rows.extend(self.actual(line) for line in self.later_lines(turn))
        related = [line for line in rest if line.kind in _RELATED[expect.kind]]
        when = self.when(turn)
        if related:
            shown = "; ".join(line.text for line in related[:3])
            instead = f"instead: {shown}"
            where = next((line.flow_line for line in related if line.flow_line), None)
        else:
            instead = "nothing like it happened"
            where = next((line.flow_line for line in reversed(rest) if line.flow_line), None)
        problem = f"expected `{expect.written}` {when}, but {instead}"
        if turn > 0 and any(matches(expect, line, self.transcript)
                            for line in self.lines if line.turn == turn - 1):
            # `transfer answered` after `expect transfer`: the command came first.
            act = self.acts[turn - 1].written
            problem += f" (it happened before `{act}`: write the `expect` above that line)"
        return self.result(problem, expect.span.line, where)

    def when(self, turn: int) -> str:
        if turn == 0:
            return "before the caller's first action"
        return f"after `{self.acts[turn - 1].written}`"

    def act_failed(self, act: Act, why: str) -> ScenarioResult:
        self.rows.append(Row(act.written, act.span.line, "! cannot be done now", None, True))
        rest = [line for line in self.lines if line.turn >= self.acts.index(act) + 1]
        self.rows.extend(self.actual(line) for line in rest)
        where = next((line.flow_line for line in reversed(self.lines) if line.flow_line), None)
        problem = f"`{act.written}` could not be done: {why}"
        return self.result(problem, act.span.line, where)
