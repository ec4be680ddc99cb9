"""`flowlang check --format github`: GitHub Actions workflow commands that annotate the lines."""

from __future__ import annotations

from flowlang.lint.report import Report


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    """One `::error file=...,line=...,col=...,endLine=...,endColumn=...,title=CODE::message`
    (or `::warning ...`) line per finding; `endColumn` is one past the last character."""
    lines: list[str] = []
    for checked in report.files:
        for d in checked.diagnostics:
            props = [f"file={_property(d.file)}"]
            if d.span is not None:
                s = d.span
                props += [
                    f"line={s.line}",
                    f"col={s.column}",
                    f"endLine={s.end_line}",
                    f"endColumn={s.end_column}",
                ]
            props.append(f"title={_property(d.code)}")
            lines.append(f"::{d.severity.value} {','.join(props)}::{_data(d.message)}\n")
    return "".join(lines)
