"""The flowlang linter: `lint` a parsed flow, or `check_source` for syntax errors and findings."""

from __future__ import annotations

from collections.abc import Iterable

from flowlang.diagnostics import Diagnostic
from flowlang.errors import FlowSyntaxError
from flowlang.source import Source
from flowlang.syntax import nodes

__all__ = ["check", "check_source", "lint"]


def lint(
    flow: nodes.Flow,
    source: Source,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> list[Diagnostic]:
    """Every finding of the rules about `flow`, sorted by place.

    `select` / `ignore` hold rule codes or prefixes (`FL3` is every gather rule); a line with
    `# flowlang: ignore[FL301]` drops those findings on that line. For a flow merged with the
    files it includes (`source.included`), each finding points into the file it is about.
    """
    from flowlang.includes import locate
    from flowlang.lint.context import Context
    from flowlang.lint.registry import all_rules
    from flowlang.lint.selection import Selection, parse_codes
    from flowlang.lint.suppression import is_suppressed, suppressed_lines

    selection = Selection(
        select=None if select is None else parse_codes(select, "select"),
        ignore=() if ignore is None else parse_codes(ignore, "ignore"),
    )
    context = Context.build(flow, source)
    table = suppressed_lines(flow.comments)
    found: list[Diagnostic] = []
    for rule in all_rules():
        if not selection.wants(rule.code):
            continue
        for f in rule.check(context):
            line = f.span.line if f.span is not None else None
            if is_suppressed(rule.code, line, table):
                continue
            found.append(
                Diagnostic(
                    code=rule.code,
                    severity=rule.severity,
                    message=f.message,
                    file=source.name,
                    span=f.span,
                    label=f.label,
                    help=f.help,
                    notes=f.notes,
                )
            )
    if source.included or source.catalogs:
        found = [locate(d, source) for d in found]
    return sorted(found, key=lambda d: d.sort_key)


def check(
    source: Source,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> tuple[nodes.Flow | None, list[Diagnostic]]:
    """Parse `source` and lint it: the flow (None if it does not parse) and its diagnostics,
    the syntax errors (FL0xx) or else the rules' findings. Syntax errors are always reported,
    whatever `select` / `ignore` say. `flowlang check` and the language server both call this.
    The flow is this file's own tree; the diagnostics cover the files it includes too."""
    flow, _, found = _check(source, select, ignore)
    return flow, found


def check_source(
    source: Source,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> list[Diagnostic]:
    """The diagnostics of `check` alone."""
    return _check(source, select, ignore)[2]


def check_with_includes(
    source: Source,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> tuple[Source, list[Diagnostic]]:
    """The diagnostics of `check`, and the source with the files it includes (to show the
    lines of findings in those files)."""
    _, merged, found = _check(source, select, ignore)
    return merged, found


def _check(
    source: Source,
    select: Iterable[str] | None,
    ignore: Iterable[str] | None,
) -> tuple[nodes.Flow | None, Source, list[Diagnostic]]:
    # The files the flow includes are read (from `source.included`, else from disk) and
    # checked as part of it; a file that cannot be read or a syntax error in one is reported
    # instead of the rules' findings.
    from flowlang.includes import merge, needs_merge
    from flowlang.syntax.parser import parse_source

    try:
        flow = parse_source(source)
    except FlowSyntaxError as exc:
        return None, source, sorted(exc.diagnostics, key=lambda d: d.sort_key)
    if not needs_merge(flow):
        return flow, source, lint(flow, source, select=select, ignore=ignore)
    merged = merge(source, flow)
    if merged.diagnostics:
        return flow, merged.source, sorted(merged.diagnostics, key=lambda d: d.sort_key)
    found = lint(merged.flow, merged.source, select=select, ignore=ignore)
    return flow, merged.source, found
