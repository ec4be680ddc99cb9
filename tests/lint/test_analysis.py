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


def sure_defs_of(graph: Graph, name: str) -> set[int]:
    """The nodes after which `name` is surely assigned (a call: on every path through it)."""
    return {n.id for n in graph.nodes if name in (n.defs if n.sure is None else n.sure)}


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
    # A call of a step that answers on every way back answers too.
    answers = {n.id for n in g.nodes if n.answers or isinstance(n.node, nodes.Answer)}
    # The flow of a call it places starts answered (`outbound from`).
    expected = set() if flow.outbound else reach(g, {g.entry}, answers)
    assert set(a.unanswered) == expected
    for name in a.defined.names:
        bit = a.defined.bit(name)
        defs = defs_of(g, name) & main
        unassigned = reach(g, {g.entry}, sure_defs_of(g, name) & main)
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
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    set x = "1"\n    hangup\n\n'
        'on hangup:\n    log "{x} {y}"\n'
    )
    flow = parse(text)
    found = {(d.code, d.message.split("`")[1]) for d in lint(flow, Source("t", text))}
    assert ("FL502", "x") in found
    assert ("FL501", "y") in found


def lint_codes(text: str) -> list[tuple[str, int]]:
    flow = parse(text)
    return sorted(
        (d.code, d.span.line if d.span else 0) for d in lint(flow, Source("t.flow", text))
    )


CALLS = """voice "Telnyx.KokoroTTS.af"

main:
    answer
    call choose
    say "You chose {choice}, {maybe}."
    call never_back
    say "Not reached."

choose:
    set maybe = "?"
    gather digits 1 into choice:
        say "Press a key."
        on digits "1": return
        on invalid:
            set maybe = "invalid"
            return
        on timeout: goto choose_again

choose_again:
    say "Once more."
    set maybe = "no"

never_back:
    hangup
"""


def test_a_call_assigns_what_its_step_assigns_on_every_way_back() -> None:
    g = graph_of(CALLS)
    back = [n for n in g.nodes if n.kind == "returned"]
    assert [n.label for n in back] == ["back from choose", "back from never_back"]
    assert back[0].sure == ("choice", "maybe")
    assert set(back[0].defs) == {"choice", "maybe"}
    # A step that never returns gets no way back: what follows its call never runs.
    a = analyze(parse(CALLS))
    assert back[1].id not in a.reachable
    assert lint_codes(CALLS) == []


def test_each_call_site_keeps_its_own_variables() -> None:
    text = """voice "Telnyx.KokoroTTS.af"

main:
    answer
    set welcome = "hi"
    call helper
    say "{welcome}"
    goto other

other:
    call helper
    say "done"
    hangup

helper:
    say "helping"
"""
    assert lint_codes(text) == []
    codes = lint_codes(text.replace('say "done"', 'say "{welcome}"'))
    assert codes == []  # welcome was set in main before the goto, on every path
    unset = text.replace('    set welcome = "hi"\n', "").replace('say "done"', "log \"x\"")
    assert ("FL501", 6) in lint_codes(unset)


def test_a_variable_assigned_on_some_way_through_a_call_is_maybe_unassigned() -> None:
    text = """voice "Telnyx.KokoroTTS.af"

main:
    answer
    call pick
    say "{picked}"

pick:
    if caller == "+1":
        set picked = "yes"
"""
    assert ("FL502", 6) in lint_codes(text)


def test_answering_inside_a_called_step_answers_what_follows_the_call() -> None:
    text = (
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    call greet\n    say "after"\n\n'
        "greet:\n    answer\n"
    )
    assert [c for c, _ in lint_codes(text)] == []


def test_a_loop_through_a_call_that_waits_is_not_busy() -> None:
    text = (
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    goto loop\n\n'
        'loop:\n    call speak\n    goto loop\n\nspeak:\n    say "hi"\n'
    )
    assert analyze(parse(text)).loops == ()
    quiet = text.replace('say "hi"', 'log "hi"')
    assert [c for c, _ in lint_codes(quiet)] == ["FL701"]


def test_a_called_step_is_drawn_once_with_an_arrow_from_each_call_site() -> None:
    mermaid = to_mermaid(parse(CALLS))
    assert mermaid.count('(["choose"])') == 1
    assert mermaid.count('[["call choose"]]') == 1
    boxes = {line.split("[")[0].strip(): line for line in mermaid.splitlines() if "[[" in line}
    call_choose = next(k for k, v in boxes.items() if "call choose" in v)
    step = next(
        line.split("(")[0].strip() for line in mermaid.splitlines() if '(["choose"])' in line
    )
    assert f"    {call_choose} --> {step}" in mermaid
    assert f'    {call_choose} -->|"back"|' in mermaid
    assert '>"return"]' in mermaid
    dot = to_dot(parse(CALLS))
    assert 'label="call never_back", shape=box, peripheries=2' in dot


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


FETCHING = """\
main:
    answer
    fetch "https://api.acme.com/orders/{caller}" into status:
        on error: hangup
    say "Your order is {status.state}."
    hangup
"""


def test_a_fetch_is_drawn_with_an_answered_and_a_failed_way_out() -> None:
    mermaid = to_mermaid(parse(FETCHING))
    assert '[/"fetch GET https://api.acme.com/orders..."/]' in mermaid
    assert '-->|"answered"|' in mermaid
    assert '-->|"failed"|' in mermaid
    dot = to_dot(parse(FETCHING))
    assert "shape=parallelogram" in dot


DETECTING = """\
outbound from "+13125550199"

main:
    say "Hello."
    detect machine:
        on machine: goto message
    say "This is Maple Dental."
    hangup

message:
    wait for beep
    say "Please call us back."
    hangup
"""


def test_detect_machine_is_drawn_with_its_outcomes_leaving_from_it() -> None:
    # It was not drawn: its `machine` arrow, and an unlabelled one for a person, left from the
    # `say` before it, as if the say had outcomes.
    mermaid = to_mermaid(parse(DETECTING))
    boxes = {line.split("{{")[0].strip(): line for line in mermaid.splitlines() if "{{" in line}
    detect = next(k for k, v in boxes.items() if "detect machine" in v)
    arrows = [line.strip() for line in mermaid.splitlines() if "-->" in line]
    assert sorted(a.split("|")[1] for a in arrows if a.startswith(f"{detect} ")) == [
        '"human, not_sure"',
        '"machine"',
    ]
    assert 'label="detect machine", shape=hexagon' in to_dot(parse(DETECTING))


def test_a_fetch_assigns_its_variable_on_both_ways_out() -> None:
    flow = parse(FETCHING)
    assert [d for d in lint(flow, Source("f.flow", FETCHING)) if d.code.startswith("FL5")] == []


def test_a_bare_word_that_is_no_variable_is_offered_quotes_but_a_name_in_text_is_not() -> None:
    text = 'voice "Telnyx.KokoroTTS.af"\nmain:\n    set greeting = Hello\n    say "{nme}"\n'
    helps = {
        d.message.split("`")[1]: d.help or ""
        for d in lint(parse(text), Source("t.flow", text))
        if d.code == "FL501"
    }
    assert helps["Hello"].endswith('if you meant the word itself, put it in quotes: `"Hello"`')
    assert "quotes" not in helps["nme"]
