"""Scenario results as text for people: a line per scenario, and failures side by side."""

from __future__ import annotations

from collections.abc import Iterable

from flowlang.offline.scenario.run import Row, ScenarioResult

WIDTH = 46


def _cell(text: str, width: int) -> str:
    if len(text) > width:
        text = text[: width - 3] + "..."
    return text.ljust(width)


def _flat(text: str) -> str:
    # Spoken text may hold line breaks; a row is one line.
    return " ".join(text.split())


def _left(row: Row) -> str:
    number = str(row.expected_line) if row.expected_line else ""
    return f"{number:>4} {_flat(row.expected)}" if row.expected else ""


def _right(row: Row) -> str:
    number = str(row.flow_line) if row.flow_line else ""
    return f"{number:>4} {_flat(row.actual)}" if row.actual else ""


# A long conversation (a flow that loops) is shown around its differences: this many rows on
# each side of a row marked `X`, and the rows that match in between counted, not shown.
CONTEXT = 8


def columns(rows: Iterable[Row], left: str, right: str) -> list[str]:
    """`rows` in two columns headed `left` and `right`, each line with its file's line number,
    the rows that differ marked with `X`. Of a long run of rows far from any `X`, only how many
    there are is shown."""
    head = f"  {_cell('  ' + left, WIDTH)} | {right}"
    out = [head.rstrip(), "  " + "-" * WIDTH + "-+-" + "-" * WIDTH]
    listed = list(rows)
    marked = [n for n, row in enumerate(listed) if row.failed] or [len(listed) - 1]
    near = {n for m in marked for n in range(m - CONTEXT, m + CONTEXT + 1)}
    skipped = 0
    for n, row in enumerate(listed):
        if n not in near and n > 1:
            skipped += 1
            continue
        if skipped:
            out.append(f"  ... {skipped} more row{'s' if skipped != 1 else ''} that match ...")
            skipped = 0
        mark = "X " if row.failed else "  "
        out.append(f"{mark}{_cell(_left(row), WIDTH)} | {_right(row)}".rstrip())
    if skipped:
        out.append(f"  ... {skipped} more row{'s' if skipped != 1 else ''} that match ...")
    return out


def side_by_side(result: ScenarioResult, scenario_file: str, flow_file: str) -> str:
    """The expected and the actual conversation in two columns, the mismatch marked with `X`."""
    out = columns(result.rows, f"scenario ({scenario_file})", f"the call ({flow_file})")
    if result.problem:
        out.append("")
        out.append(f"  {failure_line(result, scenario_file)}")
        if result.flow_line:
            out.append(f"  the flow is at {flow_file}:{result.flow_line}")
    return "\n".join(out) + "\n"


def failure_line(result: ScenarioResult, scenario_file: str) -> str:
    """Why a scenario failed, where: `menu.scenarios:9: expected ...`."""
    where = f"{scenario_file}:{result.scenario_line}" if result.scenario_line else scenario_file
    return f"{where}: {result.problem}"


def summary_line(result: ScenarioResult) -> str:
    """`PASS  name` or `FAIL  name`."""
    return f"{'PASS' if result.passed else 'FAIL'}  {result.scenario.name}"


def totals(passed: int, failed: int, errors: int = 0) -> str:
    """`5 passed, 1 failed` (and files that could not run)."""
    parts = [f"{passed} passed", f"{failed} failed"]
    if errors:
        parts.append(f"{errors} file{'s' if errors != 1 else ''} could not run")
    return ", ".join(parts)
