"""Coverage: which steps, handlers and branches of a flow no scenario reached."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from attrs import frozen

KIND_WORDS = {
    "step": "step",
    "on": "handler",
    "if": "branch",
    "elif": "branch",
    "else": "branch",
}


@frozen
class Missed:
    """A coverage point no scenario reached: `point` (`on:20`), its kind, line and source text.
    `file` names the included file it is in (None: the flow's own file)."""

    point: str
    kind: str
    line: int | None
    text: str
    file: str | None = None


@frozen
class Coverage:
    """The coverage of one flow: how many points it has, and the ones not reached."""

    flow: str
    total: int
    missed: tuple[Missed, ...]

    @property
    def reached(self) -> int:
        return self.total - len(self.missed)

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else round(100.0 * self.reached / self.total, 1)


def coverage(program: Any, reached: Iterable[str]) -> Coverage:
    """`program`'s coverage points minus those `reached` (from Outcome.reached)."""
    seen = set(reached)
    points = tuple(program.coverage_points())
    missed = tuple(_missed(program, p) for p in points if p not in seen)
    return Coverage(program.source.name, len(points), missed)


def _missed(program: Any, point: str) -> Missed:
    kind, _, rest = point.partition(":")
    if kind == "step":
        info = program.step(rest)
        line = None if info is None else int(info.line)
    else:
        line = int(rest) if rest.isdigit() else None
    text = program.source.line(line).strip() if line else point
    file = None
    if line and program.source.included:
        part, line = program.source.locate(line)
        file = part.name if part is not program.source else None
    return Missed(point, KIND_WORDS.get(kind, kind), line, text, file)


def render_text(reports: Iterable[Coverage]) -> str:
    """Coverage for people: per flow, the share reached and every point not reached."""
    out: list[str] = []
    for report in reports:
        out.append(
            f"Coverage of {report.flow}: {report.reached} of {report.total} steps, handlers "
            f"and branches reached ({report.percent:g}%)"
        )
        if report.missed:
            out.append("  not reached by any scenario:")
            for m in report.missed:
                where = f"line {m.line}" if m.line else ""
                if m.file is not None:
                    where = f"{m.file} {where}"
                out.append(f"    {where:<9} {m.kind:<8} {m.text}")
    return "\n".join(out) + "\n"


def render_json(reports: Iterable[Coverage]) -> str:
    """Coverage as JSON: `{"flows": [{"flow", "points", "reached", "percent", "missed"}]}`."""
    data: dict[str, Any] = {
        "flows": [
            {
                "flow": r.flow,
                "points": r.total,
                "reached": r.reached,
                "percent": r.percent,
                "missed": [
                    {
                        "point": m.point,
                        "kind": m.kind,
                        "line": m.line,
                        "text": m.text,
                        **({"file": m.file} if m.file is not None else {}),
                    }
                    for m in r.missed
                ],
            }
            for r in reports
        ]
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
