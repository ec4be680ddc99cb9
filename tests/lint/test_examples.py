"""Every flow in examples/ passes `flowlang check` with no finding and is formatted."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowlang.lint import check_source
from flowlang.source import Source
from flowlang.syntax.fmt import format_text

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").rglob("*.flow"))


def test_there_are_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_clean(path: Path) -> None:
    source = Source(path.name, path.read_text(encoding="utf-8"))
    assert [d.code for d in check_source(source)] == []


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_text(text, path.name) == text
