"""`flowlang check --format github`: GitHub Actions workflow commands that annotate the lines."""

from __future__ import annotations

from flowlang.lint import repository
from flowlang.lint.report import Report


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    """One `::error file=...,line=...,col=...,endLine=...,endColumn=...,title=CODE::message`
    (or `::warning ...`) line per finding; `endColumn` is one past the last character.
    Columns are counted in UTF-16 code units, as GitHub shows them (an emoji is two).

    Files are named as GitHub attaches an annotation to them: from the repository's root
    (see repository.root), wherever `flowlang check` ran; a file outside it as given."""
    base = repository.root(d.file for d in report.diagnostics)
    lines: list[str] = []
    for checked in report.files:
        for d in checked.diagnostics:
            name = repository.relative(d.file, base) or d.file
            props = [f"file={_property(name)}"]
            s = checked.utf16_span(d)
            if s is not None:
                props += [
                    f"line={s.line}",
                    f"col={s.column}",
                    f"endLine={s.end_line}",
                    f"endColumn={s.end_column}",
                ]
            props.append(f"title={_property(d.code)}")
            lines.append(f"::{d.severity.value} {','.join(props)}::{_data(d.message)}\n")
    return "".join(lines)
