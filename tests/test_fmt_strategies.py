"""The promises of tests/strategies.py, which other suites build on."""

from __future__ import annotations

from hypothesis import HealthCheck, find, given, settings

from flowlang.lint import check_source
from flowlang.source import Source
from flowlang.syntax.fmt import format_flow
from flowlang.syntax.nodes import Field, Gather, Message, Name, walk
from tests.strategies import CONTEXTUAL, KEYWORDS, flows

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(flows(runnable=True))
def test_runnable_flows_have_no_lint_errors(flow):
    source = Source("random.flow", format_flow(flow))
    errors = [d for d in check_source(source) if d.is_error]
    assert errors == []


@PROPERTY
@given(flows())
def test_names_are_never_reserved_words_and_step_names_are_unique(flow):
    # A message's role and a field's type are words of their own (`message assistant "..."`).
    worded = {id(n.role) for n in walk(flow) if isinstance(n, Message)}
    worded |= {id(n.type) for n in walk(flow) if isinstance(n, Field)}
    names = [n.value for n in walk(flow) if isinstance(n, Name) and id(n) not in worded]
    assert not set(names) & KEYWORDS
    steps = [s.name.value for s in flow.steps]
    assert len(steps) == len(set(steps))


def _names(flow):
    return {n.value for n in walk(flow) if isinstance(n, Name)}


def test_contextual_keywords_name_steps_and_variables():
    # The round-trip properties only cover contextual names if the strategy draws them.
    found = find(flows(), lambda f: any(s.name.value in CONTEXTUAL for s in f.steps))
    assert {s.name.value for s in found.steps} & set(CONTEXTUAL)
    found = find(flows(), lambda f: len(_names(f) & set(CONTEXTUAL)) >= 3)
    assert len(_names(found) & set(CONTEXTUAL)) >= 3


@PROPERTY
@given(flows())
def test_blocks_are_never_empty(flow):
    for node in walk(flow):
        if isinstance(node, Gather):
            # An outcome reprompt alone is a block item too (LANGUAGE.md 13).
            items = (node.reprompt, node.reprompt_invalid, node.reprompt_timeout)
            assert node.prompt or node.handlers or any(i is not None for i in items)
        for attribute in ("body", "else_"):
            body = getattr(node, attribute, None)
            if body is not None:
                assert len(body) > 0
