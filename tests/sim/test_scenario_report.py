"""The side-by-side view of a failed scenario stays readable however long the call was."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.offline.scenario.report import CONTEXT, columns
from flowlang.offline.scenario.run import Row

ROWS = st.lists(st.booleans(), min_size=1, max_size=300).map(
    lambda marks: [Row(f"step {n}", n + 1, f"did {n}", n + 1, failed) for n, failed in
                   enumerate(marks)]
)


@settings(max_examples=200, deadline=None)
@given(ROWS)
def test_every_difference_is_shown_with_its_context_and_every_row_is_accounted_for(
    rows: list[Row],
) -> None:
    lines = columns(rows, "scenario", "the call")[2:]
    shown = [int(m.group(1)) for line in lines if (m := re.search(r"step (\d+) ", line))]
    counted = sum(int(m.group(1)) for line in lines if (m := re.match(r"  \.\.\. (\d+)", line)))
    assert shown == sorted(shown)
    assert len(shown) + counted == len(rows)
    marked = [n for n, row in enumerate(rows) if row.failed] or [len(rows) - 1]
    for n in marked:
        near = range(max(n - CONTEXT, 0), min(n + CONTEXT + 1, len(rows)))
        assert set(near) <= set(shown)
    # A row that differs is marked as such, and only such a row.
    for line in lines:
        if found := re.search(r"step (\d+) ", line):
            assert line.startswith("X ") == rows[int(found.group(1))].failed


def test_a_long_call_that_matches_until_near_its_end_is_shown_in_a_few_lines() -> None:
    rows = [Row(f"step {n}", n + 1, f"did {n}", n + 1) for n in range(1000)]
    rows[990] = Row("step 990", 991, "did something else", 991, failed=True)
    lines = columns(rows, "scenario", "the call")
    assert len(lines) < 30
    assert "  ... 980 more rows that match ..." in lines
