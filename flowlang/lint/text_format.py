"""`flowlang check --format text`: each finding with its place, source line, carets and help."""

from __future__ import annotations

from flowlang.diagnostics import render_text
from flowlang.lint.report import Report, summary


def render(report: Report) -> str:
    blocks = [render_text(d, f.source) for f in report.files for d in f.diagnostics]
    return "\n".join([*blocks, summary(report) + "\n"])
