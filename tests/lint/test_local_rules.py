"""Local rules (Rule.local) see one step at a time: what they find in a step depends on it alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from flowlang.analysis import analyze
from flowlang.errors import FlowSyntaxError
from flowlang.lint.context import Context, unit_blocks, units
from flowlang.lint.registry import Rule, all_rules
from flowlang.source import Source
from flowlang.syntax import nodes
from flowlang.syntax.incremental import moved
from flowlang.syntax.parser import parse_source
from tests.strategies import flows

ROOT = Path(__file__).resolve().parents[2]
FLOWS = sorted((ROOT / "examples").glob("*.flow")) + sorted(
    (ROOT / "tests" / "lint" / "fixtures").glob("*.flow")
)
LOCAL = [r for r in all_rules() if r.local]


class Forbidden:
    """Stands for what a local rule must not read: any use of it fails the test."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a local rule read `{self.what}.{name}`")


def step_by_step(rule: Rule, flow: nodes.Flow, source: Source) -> list[Any]:
    """What `rule` finds when it is shown one step at a time, and nothing else of the flow."""
    found = []
    for unit in units(flow):
        alone = Context.build(
            Forbidden("flow"),  # type: ignore[arg-type]
            Forbidden("source"),  # type: ignore[arg-type]
            Forbidden("analysis"),  # type: ignore[arg-type]
            unit_blocks(unit),
        )
        found += list(rule.check(alone))
    return found


def parsed(path: Path) -> tuple[Path, nodes.Flow] | None:
    try:
        return path, parse_source(Source(str(path), path.read_text(encoding="utf-8")))
    except FlowSyntaxError:
        return None  # a fixture of syntax errors: nothing to lint


PARSED = [found for found in map(parsed, FLOWS) if found is not None]


def test_some_rules_are_local() -> None:
    assert len(LOCAL) > 20
    assert len(PARSED) > 40


@pytest.mark.parametrize("path, flow", PARSED, ids=[path.name for path, _ in PARSED])
def test_local_rules_find_step_by_step_what_they_find_in_the_whole_flow(
    path: Path, flow: nodes.Flow
) -> None:
    source = Source(str(path), path.read_text(encoding="utf-8"))
    whole = Context.build(flow, source)
    for rule in LOCAL:
        assert step_by_step(rule, flow, source) == list(rule.check(whole)), rule.code


@pytest.mark.parametrize("path, flow", PARSED, ids=[path.name for path, _ in PARSED])
def test_local_rules_find_as_much_in_a_step_wherever_it_stands(
    path: Path, flow: nodes.Flow
) -> None:
    source = Source(str(path), path.read_text(encoding="utf-8"))
    lower = attrs.evolve(flow, steps=moved(flow.steps, 7), on_hangup=moved(flow.on_hangup, 7))
    for rule in LOCAL:
        here = step_by_step(rule, flow, source)
        there = step_by_step(rule, lower, source)
        assert [f.span for f in there] == [None if f.span is None else f.span.down(7) for f in here]
@settings(max_examples=60, deadline=None)
@given(flows())
def test_local_rules_on_random_flows(flow: nodes.Flow) -> None:
    source = Source("random.flow", "")
    whole = Context.build(flow, source, analyze(flow))
    for rule in LOCAL:
        assert step_by_step(rule, flow, source) == list(rule.check(whole)), rule.code
