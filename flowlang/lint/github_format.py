"""`flowlang check --format github`: GitHub Actions workflow commands that annotate the lines."""

from __future__ import annotations

import os

from flowlang.lint.report import Report


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    """One `::error file=...,line=...,col=...,endLine=...,endColumn=...,title=CODE::message`
    (or `::warning ...`) line per finding; `endColumn` is one past the last character.
    Columns are counted in UTF-16 code units, as GitHub shows them (an emoji is two)."""
    lines: list[str] = []
    for checked in report.files:
        for d in checked.diagnostics:
            props = [f"file={_property(_in_repository(d.file))}"]
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


def _in_repository(path: str) -> str:
    """`path` as GitHub attaches an annotation to it: relative to the repository's root (the
    runner's GITHUB_WORKSPACE), wherever `flowlang check` ran; as given outside a runner or
    for a file outside the repository."""
    root = os.environ.get("GITHUB_WORKSPACE")
    if not root:
        return path
    full, base = os.path.abspath(path), os.path.abspath(root)
    if os.path.commonpath([full, base]) != base:
        return path
    return os.path.relpath(full, base).replace(os.sep, "/")
