"""Re-reading only what an edit changed gives what reading the whole text gives: a property
over random edits of the example flows, for the parse and for the diagnostics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.analysis import analyze
from flowlang.errors import FlowSyntaxError
from flowlang.includes import needs_merge
from flowlang.lint import check
from flowlang.lint.incremental import CheckCache
from flowlang.source import Source
from flowlang.syntax import nodes
from flowlang.syntax.incremental import IncrementalParser
from flowlang.syntax.parser import parse_source

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.flow"))
TEXTS = [path.read_text(encoding="utf-8") for path in EXAMPLES]
# Lines to put in: those of every example (a step's header, a setting, a statement at any
# depth), and some that move the boundaries between the pieces of a file.
LINES = sorted({line for text in TEXTS for line in text.split("\n")}) + [
    "",
    "# a comment at the margin",
    "    # an indented comment",
    'voice "Telnyx.KokoroTTS.af"',
    'include "shared/common.flow"',
    "input patient",
    "hours office:",
    "    mon-fri 9:00-17:00",
    "on hangup:",
    "on hangup: hangup",
    "extra:",
    "    goto extra",
    "\tsay 'tab'",
]
# What a person types inside a line: a character at a time, a line break, a quote left open.
TYPED = st.lists(st.sampled_from([*' "ab1:#{}\n', "    "]), min_size=1, max_size=4).map("".join)


@st.composite
def edits(draw: st.DrawFn) -> list[str]:
    """An example flow and the versions of it a few random edits make, in order."""
    lines = draw(st.sampled_from(TEXTS)).split("\n")
    versions = ["\n".join(lines)]
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["replace", "insert", "delete", "type"]))
        if kind == "replace":
            lines[n] = draw(st.sampled_from(LINES))
        elif kind == "insert":
            lines.insert(n, draw(st.sampled_from(LINES)))
        elif kind == "delete" and len(lines) > 1:
            del lines[n]
        else:
            column = draw(st.integers(0, len(lines[n])))
            typed = lines[n][:column] + draw(TYPED) + lines[n][column:]
            lines[n : n + 1] = typed.split("\n")
        versions.append("\n".join(lines))
    return versions


def dump(value: Any) -> Any:
    """A node as nested tuples with every field, spans and comments included."""
    if isinstance(value, nodes.Node):
        fields = attrs.fields(type(value))
        return (type(value).__name__, *((a.name, dump(getattr(value, a.name))) for a in fields))
    if isinstance(value, tuple):
        return tuple(dump(item) for item in value)
    return value


def parsed(parse: Any, source: Source) -> Any:
    try:
        return dump(parse(source))
    except FlowSyntaxError as exc:
        return exc.diagnostics


@settings(max_examples=150, deadline=None)
@given(edits())
def test_an_incremental_parse_is_the_full_parse(versions: list[str]) -> None:
    parser = IncrementalParser()
    for text in versions:
        source = Source("edited.flow", text)
        assert parsed(parser.parse, source) == parsed(parse_source, source)


def test_an_edit_inside_one_step_parses_only_that_step() -> None:
    text = next(t for t in TEXTS if t.count("\n") > 60)
    parser = IncrementalParser()
    parser.parse(Source("a.flow", text))
    lines = text.split("\n")
    n = next(i for i, line in enumerate(lines) if line.startswith("    say "))
    lines[n] = '    say "Something else."'
    parser.parse(Source("a.flow", "\n".join(lines)))
    assert parser.parsed == 1
    lines.insert(n, '    say "One more line."')
    parser.parse(Source("a.flow", "\n".join(lines)))
    assert parser.parsed == 1


# What `check` is asked for: every rule, a few families, all but one rule.
SELECTIONS = st.sampled_from([(None, None), (["FL1", "FL3", "FL8"], None), (None, ["FL104"])])


@settings(max_examples=150, deadline=None)
@given(edits(), SELECTIONS, st.sampled_from(EXAMPLES))
def test_incremental_diagnostics_are_those_of_check(
    versions: list[str], selection: tuple[list[str] | None, list[str] | None], path: Path
) -> None:
    select, ignore = selection
    cache = CheckCache()
    # Named as the example is, so that its `include` lines find their files.
    for text in versions:
        source = Source(str(path), text)
        flow, found = check(source, select, ignore, cache=cache)
        full_flow, full_found = check(source, select, ignore)
        assert found == full_found
        assert dump(flow) == dump(full_flow)
        if flow is not None and not needs_merge(flow):
            # The control-flow analysis, reused when an edit left the graph's shape alone.
            fresh = analyze(flow)
            assert cache.analysis == fresh
            # Equal nodes may stand elsewhere (nodes compare without their spans).
            assert [n.span for n in cache.analysis.graph.nodes] == [
                n.span for n in fresh.graph.nodes
            ]


def test_an_edit_inside_one_step_lints_only_that_step() -> None:
    text = next(t for t in TEXTS if t.count("\n") > 60)
    cache = CheckCache()
    check(Source("a.flow", text), cache=cache)
    lines = text.split("\n")
    n = next(i for i, line in enumerate(lines) if line.startswith("    say "))
    before = cache.analysis
    lines[n] = '    say "Something else."'
    check(Source("a.flow", "\n".join(lines)), cache=cache)
    assert cache.linted == 1
    # The call can go the same ways as before: what the analysis found still holds.
    assert before is not None and cache.analysis is not None
    assert cache.analysis.defined is before.defined
    assert cache.analysis.graph.flow is not before.graph.flow
