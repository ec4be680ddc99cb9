"""Every flow in examples/ passes `flowlang check` with no finding at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowlang.lint import check_source
from flowlang.source import Source

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").rglob("*.flow"))

# Findings an example is known to trip, kept visible here rather than by weakening a rule:
# acme_main.flow is LANGUAGE.md's own example; its account gather has no `on invalid:`, so
# an entry of the wrong length silently falls through to the end of the step (FL308).
KNOWN = {"acme_main.flow": {"FL308"}}


def test_there_are_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_clean(path: Path) -> None:
    source = Source(path.name, path.read_text(encoding="utf-8"))
    codes = {d.code for d in check_source(source)}
    assert codes == KNOWN.get(path.name, set())
