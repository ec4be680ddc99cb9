"""The examples: clean, fully covered by scenarios, every body and webhook valid for Telnyx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowlang.lint import check_source
from flowlang.offline.fuzz import fuzz
from flowlang.offline.phone import Phone
from flowlang.offline.scenario.coverage import coverage
from flowlang.offline.scenario.run import run_scenario
from flowlang.offline.scenario.suite import load
from flowlang.offline.simulator import Simulation
from flowlang.source import Source
from tests.openapi import validate_command, validate_webhook
from tests.sim.helpers import EXAMPLE_FLOWS

IDS = [p.stem for p in EXAMPLE_FLOWS]


def test_every_required_example_is_there() -> None:
    assert set(IDS) >= {"business_line", "pin_entry", "table_booking", "ai_receptionist",
                        "survey", "acme_main"}


@pytest.mark.parametrize("path", EXAMPLE_FLOWS, ids=IDS)
def test_example_has_no_check_errors(path: Path) -> None:
    found = check_source(Source(str(path), path.read_text(encoding="utf-8")))
    assert [d.message for d in found if d.is_error] == []


@pytest.mark.parametrize("path", EXAMPLE_FLOWS, ids=IDS)
def test_example_scenarios_pass_and_reach_every_point(path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    webhooks: list[dict[str, Any]] = []
    original = Phone.envelope

    def recording(self: Phone, event_type: str, **fields: Any) -> dict[str, Any]:
        envelope = original(self, event_type, **fields)
        webhooks.append(envelope)
        return envelope

    monkeypatch.setattr(Phone, "envelope", recording)
    loaded = load(path.with_suffix(".scenarios"))
    assert loaded.ok, loaded.problems
    assert loaded.file is not None
    reached: set[str] = set()
    for scenario in loaded.file.scenarios:
        result = run_scenario(loaded.program, scenario, loaded.file)
        assert result.passed, result.problem
        reached |= result.reached
        for command in result.transcript.commands:
            validate_command(command.action, command.body)
    assert coverage(loaded.program, reached).missed == ()
    assert webhooks
    for envelope in webhooks:
        validate_webhook(envelope["data"]["event_type"], envelope)


class RoundTrip:
    """The real interpreter, but every state goes through JSON text between events, as the
    server's store does."""

    def __init__(self, program: Any) -> None:
        from flowlang.runtime.interpreter import Interpreter

        self.inner = Interpreter(program)

    def start(self, call: Any, inputs: Any = None) -> Any:
        return self.inner.start(call, inputs)

    def handle(self, state: dict[str, Any], event: Any) -> Any:
        return self.inner.handle(json.loads(json.dumps(state)), event)


@pytest.mark.parametrize("path", EXAMPLE_FLOWS, ids=IDS)
def test_state_survives_json_at_every_wait_of_every_scenario(path: Path) -> None:
    loaded = load(path.with_suffix(".scenarios"))
    assert loaded.file is not None
    for scenario in loaded.file.scenarios:
        actions = [s.action for s in scenario.steps if hasattr(s, "action")]
        plain = Simulation.begin(loaded.program)
        stored = Simulation.begin(loaded.program, interpreter=RoundTrip(loaded.program))
        for action in actions:
            if plain.ended:
                break
            plain.give(action)
            stored.give(action)
        assert stored.transcript() == plain.transcript()


@pytest.mark.parametrize("path", EXAMPLE_FLOWS, ids=IDS)
def test_fuzz_finds_no_problem_in_the_example(path: Path) -> None:
    loaded = load(path.with_suffix(".scenarios"))
    report = fuzz(loaded.program, examples=60)
    assert report.finding is None, report.finding


@pytest.mark.parametrize("path", EXAMPLE_FLOWS, ids=IDS)
def test_state_survives_json_for_random_callers(path: Path) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from flowlang.offline.fuzz import Vocabulary

    loaded = load(path.with_suffix(".scenarios"))
    vocabulary = Vocabulary(loaded.program)

    @settings(max_examples=40, deadline=None, database=None)
    @given(st.data())
    def same_call(data: st.DataObject) -> None:
        plain = Simulation.begin(loaded.program)
        stored = Simulation.begin(loaded.program, interpreter=RoundTrip(loaded.program))
        for _ in range(12):
            waiting = plain.phone.waiting
            if plain.ended or waiting is None:
                break
            action = data.draw(vocabulary.for_call(plain))
            plain.give(action)
            stored.give(action)
            assert stored.state == plain.state
        assert stored.transcript() == plain.transcript()

    same_call()
