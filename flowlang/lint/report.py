"""The result of checking some files: each file's diagnostics, and the counts a summary needs."""

from __future__ import annotations

from attrs import frozen

from flowlang.diagnostics import Diagnostic, Severity
from flowlang.source import Source, Span


@frozen
class Checked:
    """One checked file: its `source` and what was found in it, sorted by place."""

    source: Source
    diagnostics: tuple[Diagnostic, ...]

    def utf16_span(self, diagnostic: Diagnostic) -> Span | None:
        """Where `diagnostic` is, its columns counted in UTF-16 code units as GitHub counts
        them (see Source.utf16); as it is when its file is not one this flow holds."""
        source = self.source.named(diagnostic.file)
        if diagnostic.span is None or source is None:
            return diagnostic.span
        return source.utf16(diagnostic.span)


@frozen
class Report:
    """Every checked file, in the order they were named, and how many could not be read
    (`problems`: why, one message each, such as `x.flow: no such file or folder`)."""

    files: tuple[Checked, ...]
    problems: tuple[str, ...] = ()

    @property
    def unreadable(self) -> int:
        return len(self.problems)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for f in self.files for d in f.diagnostics]

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)

    @property
    def files_with_findings(self) -> int:
        return sum(1 for f in self.files if f.diagnostics)

    def exit_status(self, strict: bool) -> int:
        """1 when there are errors (with `strict`, warnings too), else 0."""
        return 1 if self.errors or (strict and self.warnings) else 0


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary(report: Report) -> str:
    """`Found 2 errors and 1 warning in 1 file.` or `All checks passed (3 files).`, and how many
    files could not be read, if any (never "All checks passed" then)."""
    unread = plural(report.unreadable, "file") + " could not be read" if report.unreadable else ""
    if not report.diagnostics:
        if not unread:
            return f"All checks passed ({plural(len(report.files), 'file')})."
        if not report.files:
            return f"Nothing was checked: {unread}."
        return f"No problems in {plural(len(report.files), 'file')} checked, but {unread}."
    parts = [plural(n, w) for n, w in ((report.errors, "error"), (report.warnings, "warning")) if n]
    found = f"Found {' and '.join(parts)} in {plural(report.files_with_findings, 'file')}"
    return f"{found}; {unread}." if unread else f"{found}."
