"""The control-flow analysis: hand-checked graphs, and properties over random flows."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from flowlang.analysis import Graph, analyze, build
from flowlang.graph import to_dot, to_mermaid
from flowlang.lint import lint
from flowlang.lint.registry import all_rules
from flowlang.source import Source
from flowlang.syntax import nodes
from flowlang.syntax.parser import parse
from tests.strategies import flows

# Drawing random flows is the slow part (the strategy builds large trees): keep the count modest.
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def defs_of(graph: Graph, name: str) -> set[int]:
    return {n.id for n in graph.nodes if name in n.defs}


def reach(graph: Graph, roots: set[int], blocked: set[int]) -> set[int]:
    """Plain search: the nodes reachable from `roots` without going on past `blocked` nodes."""
    seen = set(roots)
    todo = list(roots)
    while todo:
        nid = todo.pop()
        if nid in blocked:
            continue
        for e in graph.successors(nid):
            if e.target not in seen:
                seen.add(e.target)
                todo.append(e.target)
    return seen


@PROPERTY
@given(flows())
def test_dataflow_agrees_with_a_search_per_variable(flow: nodes.Flow) -> None:
    """`must`/`may` from the one-pass dataflow equal what a separate search finds for each
    variable: assigned on every path to n iff no path from the start reaches n avoiding its
    assignments; on some path iff n is reachable from just after one of them."""
    flow = nodes.Flow(settings=flow.settings, steps=flow.steps)  # the main region only
    a = analyze(flow)
    g = a.graph
    if g.entry is None:
        return
    main = reach(g, {g.entry}, set())
    # Drawn flows are slow to make, so this one also checks "reached before any `answer`".
    answers = {n.id for n in g.nodes if isinstance(n.node, nodes.Answer)}
    assert set(a.unanswered) == reach(g, {g.entry}, answers)
    for name in a.defined.names:
        bit = a.defined.bit(name)
        defs = defs_of(g, name) & main
        unassigned = reach(g, {g.entry}, defs)
        after = reach(g, {e.target for d in defs for e in g.successors(d)}, set())
        for nid in main:
            assert bool(a.defined.must[nid] & bit) == (nid not in unassigned), (name, nid)
            assert bool(a.defined.may[nid] & bit) == (nid in after), (name, nid)


@PROPERTY
@given(flows())
def test_lint_and_drawings_never_crash(flow: nodes.Flow) -> None:
    codes = {r.code for r in all_rules()}
    for d in lint(flow, Source("random.flow", "")):
        assert d.code in codes
    mermaid = to_mermaid(flow)
    dot = to_dot(flow)
    for step in flow.steps:
        assert f'"{step.name.value}"' in mermaid
        assert f'label="{step.name.value}"' in dot


def graph_of(text: str) -> Graph:
    return build(parse(text))


def test_gather_without_fallback_falls_through() -> None:
    g = graph_of(
        'main:\n    answer\n    gather:\n        say "x"\n        on digits "1": hangup\n'
        '    say "after"\n    hangup\n'
    )
    result = next(n for n in g.nodes if n.kind == "result")
    targets = {g.nodes[e.target].kind: e.label for e in g.successors(result.id)}
    assert targets == {"handler": "1", "stmt": ""}


def test_gather_with_both_fallbacks_does_not_fall_through() -> None:
    g = graph_of(
        'main:\n    answer\n    gather:\n        say "x"\n        on invalid: hangup\n'
        "        on timeout: hangup\n    hangup\n"
    )
    result = next(n for n in g.nodes if n.kind == "result")
    assert {g.nodes[e.target].kind for e in g.successors(result.id)} == {"handler"}


def test_loops_that_wait_are_not_busy() -> None:
    a = analyze(parse('main:\n    answer\n    say "hi"\n    goto main\n'))
    assert a.loops == ()
    busy = analyze(parse("main:\n    answer\n    goto again\n\nagain:\n    goto again\n"))
    assert [loop.escapes for loop in busy.loops] == [False]


def test_on_hangup_sees_variables_as_maybe_assigned() -> None:
    text = (
        'voice "v"\n\nmain:\n    answer\n    set x = "1"\n    hangup\n\n'
        'on hangup:\n    log "{x} {y}"\n'
    )
    flow = parse(text)
    found = {(d.code, d.message.split("`")[1]) for d in lint(flow, Source("t", text))}
    assert ("FL502", "x") in found
    assert ("FL501", "y") in found


def test_an_open_test_is_drawn_as_a_branch_labelled_open_and_closed() -> None:
    flow = parse(
        'voice "V"\ntimezone "UTC"\n\nhours office:\n    daily 9:00-17:00\n\n'
        "main:\n    answer\n"
        '    if open office:\n        transfer "+13125550100"\n'
        "    elif not open office:\n        hangup\n"
    )
    mermaid = to_mermaid(flow)
    assert '{"if open office"}' in mermaid
    assert '-->|"open"|' in mermaid and '-->|"closed"|' in mermaid
    dot = to_dot(flow)
    assert 'label="open"' in dot and 'label="closed"' in dot
