"""The flowlang linter: `lint` a parsed flow, or `check_source` for syntax errors and findings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flowlang.diagnostics import Diagnostic
from flowlang.errors import FlowSyntaxError
from flowlang.source import Source
from flowlang.syntax import nodes

if TYPE_CHECKING:
    from flowlang.lint.incremental import CheckCache

__all__ = ["check", "check_source", "lint"]


def lint(
    flow: nodes.Flow,
    source: Source,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    cache: CheckCache | None = None,
) -> list[Diagnostic]:
    """Every finding of the rules about `flow`, sorted by place.

    `select` / `ignore` hold rule codes or prefixes (`FL3` is every gather rule); a line with
    `# flowlang: ignore[FL301]` drops those findings on that line. For a flow merged with the
    files it includes (`source.included`), each finding points into the file it is about.
    With a `cache` (see `check`), the local rules run only on the steps that changed.
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
    rules = [r for r in all_rules() if selection.wants(r.code)]
    if cache is None:
        context = Context.build(flow, source)
    else:
        context = cache.context(flow, source, [r for r in rules if r.local])
    table = suppressed_lines(flow.comments)
    found: list[Diagnostic] = []
    for rule in rules:
        findings = cache.findings(rule) if cache is not None and rule.local else rule.check(context)
        for f in findings:
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
    cache: CheckCache | None = None,
) -> tuple[nodes.Flow | None, list[Diagnostic]]:
    """Parse `source` and lint it: the flow (None if it does not parse) and its diagnostics,
    the syntax errors (FL0xx) or else the rules' findings. Syntax errors are always reported,
    whatever `select` / `ignore` say. `flowlang check` and the language server both call this.
    The flow is this file's own tree; the diagnostics cover the files it includes too.

    `cache` is for checking one version of a file after another (an editor's): the same
    CheckCache for each, and only what an edit changed is parsed and linted again."""
    flow, _, found = _check(source, select, ignore, cache)
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


def check_as_included(
    source: Source,
    flows: Iterable[Source],
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> list[Diagnostic]:
    """What checking `flows` finds in the file `source` they include, each finding once and
    named as `source` is: a shared file is checked as part of the flows that use it. The
    text of `source` is the one checked, not the file on disk (an editor's unsaved text)."""
    import os

    import attrs

    from flowlang.includes import include_path

    here = os.path.abspath(source.name)
    found: dict[tuple[object, ...], Diagnostic] = {}
    for flow in flows:
        # Named as the flow's include line names it, so that merging takes this text.
        written = os.path.relpath(here, os.path.dirname(os.path.abspath(flow.name)))
        named = include_path(flow.name, written)
        given = Source(flow.name, flow.text, included=(Source(named, source.text),))
        for d in _check(given, select, ignore)[2]:
            if os.path.abspath(d.file) == here:
                d = attrs.evolve(d, file=source.name)
                found.setdefault((d.code, d.span, d.message), d)
    return sorted(found.values(), key=lambda d: d.sort_key)


def _check(
    source: Source,
    select: Iterable[str] | None,
    ignore: Iterable[str] | None,
    cache: CheckCache | None = None,
) -> tuple[nodes.Flow | None, Source, list[Diagnostic]]:
    # The files the flow includes are read (from `source.included`, else from disk) and
    # checked as part of it; a file that cannot be read or a syntax error in one is reported
    # instead of the rules' findings.
    from flowlang.includes import merge, needs_merge
    from flowlang.syntax.parser import parse_source

    try:
        flow = parse_source(source) if cache is None else cache.parser.parse(source)
    except FlowSyntaxError as exc:
        return None, source, sorted(exc.diagnostics, key=lambda d: d.sort_key)
    if not needs_merge(flow):
        return flow, source, lint(flow, source, select=select, ignore=ignore, cache=cache)
    merged = merge(source, flow)
    if merged.diagnostics:
        return flow, merged.source, sorted(merged.diagnostics, key=lambda d: d.sort_key)
    found = lint(merged.flow, merged.source, select=select, ignore=ignore)
    return flow, merged.source, found
