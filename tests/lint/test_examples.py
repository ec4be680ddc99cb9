"""Every flow in examples/ passes `flowlang check` with no finding and is formatted."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowlang.includes import included_names
from flowlang.lint import check_source
from flowlang.source import Source
from flowlang.syntax.fmt import format_text
from flowlang.syntax.parser import parse_source

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").rglob("*.flow"))


def _sources() -> list[Source]:
    return [Source(str(p), p.read_text(encoding="utf-8")) for p in EXAMPLES]


# A file other examples include (examples/shared/) is checked as part of them.
INCLUDED = {name for s in _sources() for name in included_names(s, parse_source(s))}
FLOWS = [p for p in EXAMPLES if str(p) not in INCLUDED]


def test_there_are_examples() -> None:
    assert EXAMPLES


def test_the_shared_example_is_included_by_two_flows() -> None:
    shared = [p for p in EXAMPLES if str(p) in INCLUDED]
    assert [p.name for p in shared] == ["common.flow"]
    users = [s for s in _sources() if str(shared[0]) in included_names(s, parse_source(s))]
    assert len(users) >= 2


@pytest.mark.parametrize("path", FLOWS, ids=[p.name for p in FLOWS])
def test_example_is_clean(path: Path) -> None:
    source = Source(str(path), path.read_text(encoding="utf-8"))
    assert [d.code for d in check_source(source)] == []


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_text(text, path.name) == text
