"""Check .flow files for syntax errors and likely mistakes (files, or folders of *.flow)."""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flowlang.diagnostics import Diagnostic
    from flowlang.lint.report import Report
    from flowlang.source import Source

FORMATS = ("text", "json", "sarif", "github")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".flow files or folders")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--select",
        action="append",
        metavar="CODES",
        help="report only these rules: codes or prefixes, comma-separated (FL101,FL3)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="CODES",
        help="do not report these rules: codes or prefixes, comma-separated",
    )
    parser.add_argument("--strict", action="store_true", help="exit with status 1 on warnings too")
    parser.add_argument(
        "--no-config",
        action="store_true",
        help="ignore [tool.flowlang] in pyproject.toml files",
    )


def run(args: argparse.Namespace) -> int:
    import gc

    from flowlang.cli.inputs import UsageError, collect_files, read_source
    from flowlang.lint import check_with_includes
    from flowlang.lint.config import Config, ConfigError, ConfigFinder
    from flowlang.lint.registry import all_rules
    from flowlang.lint.report import Checked, Report
    from flowlang.lint.selection import SelectionError, check_known, parse_codes

    try:
        cli_select = None if args.select is None else parse_codes(
            args.select, "--select",
            "leave out --select to check every rule, or give codes like --select FL101,FL3",
        )
        cli_ignore = parse_codes(args.ignore or (), "--ignore")
        known = [r.code for r in all_rules()]
        check_known(cli_select or (), known, "--select")
        check_known(cli_ignore, known, "--ignore")
    except SelectionError as exc:
        raise UsageError(str(exc)) from None
    # A file that is missing or cannot be read is named on stderr and makes the status 2, but
    # the other files are still checked and reported.
    files = []
    unreadable = 0
    for raw in args.paths:
        try:
            files.extend(collect_files([raw]))
        except UsageError as exc:
            print(f"flowlang: error: {exc}", file=sys.stderr)
            unreadable += 1
    if not files and not unreadable:
        raise UsageError(f"no .flow files found in {' '.join(args.paths)}")
    # A big flow is a million small objects that live until the command ends; the cyclic
    # collector would rescan them all again and again (quadratic time) and can free nothing:
    # syntax trees and graphs hold no reference cycles, so reference counting frees them.
    gc.disable()
    finder = ConfigFinder()
    strict = bool(args.strict)
    checked: list[Checked] = []
    sources = []
    for path in files:
        try:
            sources.append((path, read_source(path)))
        except UsageError as exc:
            print(f"flowlang: error: {exc}", file=sys.stderr)
            unreadable += 1
    # A file another checked file includes is checked as part of that flow (its steps may
    # `return` to calls made there), not as a flow of its own; a finding in it is shown once.
    included = _included_by_others(source for _, source in sources)
    nearby = _Nearby({os.path.normpath(source.name): source for _, source in sources})
    shown: set[tuple[object, ...]] = set()
    for path, source in sources:
        if os.path.normpath(source.name) in included:
            continue
        try:
            config = Config() if args.no_config else finder.for_file(Path(path))
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        strict = strict or config.strict
        select = cli_select if cli_select is not None else config.select
        ignore = (*config.ignore, *cli_ignore)
        part_of = nearby.includers(source.name)
        if part_of:
            # A shared file checked by itself is checked as part of the flows beside it that
            # include it: alone, its steps would be a flow that never answers, whose `return`
            # goes nowhere. Only what is found in it is its own.
            found = _found_in(source, part_of, select, ignore)
        else:
            source, found = check_with_includes(source, select=select, ignore=ignore)
        fresh = []
        for d in found:
            key = (d.file, d.code, d.span, d.message)
            if key not in shown:
                shown.add(key)
                fresh.append(d)
        checked.append(Checked(source, tuple(fresh)))
    report = Report(tuple(checked), unreadable)
    sys.stdout.write(_render(args.format, report))
    return 2 if unreadable else report.exit_status(strict)


_INCLUDE = re.compile(r'^include[ ]+"((?:[^"\\\n]|\\[^\n])*)"', re.MULTILINE)


def _included_by_others(sources: Iterable[Source]) -> set[str]:
    """The names of the files that a file no other file includes includes, directly or not
    (read from the include lines: a quick look, so a library file is not parsed and checked
    twice). Files that only include each other in a circle are left to be checked."""
    includes = {
        os.path.normpath(source.name): _include_lines(source.name, source.text)
        for source in sources
    }
    included = {name for names in includes.values() for name in names}
    todo = [name for name in includes if name not in included]
    covered: set[str] = set()
    while todo:
        for name in includes.get(todo.pop(), ()):
            if name not in covered:
                covered.add(name)
                todo.append(name)
    return covered


def _found_in(
    source: Source, flows: list[Source], select: Iterable[str] | None, ignore: Iterable[str]
) -> list[Diagnostic]:
    """What checking `flows` finds in the file `source` they include, each finding once."""
    import attrs

    from flowlang.lint import check_with_includes

    here = os.path.abspath(source.name)
    found: dict[tuple[object, ...], Diagnostic] = {}
    for flow in flows:
        for d in check_with_includes(flow, select=select, ignore=ignore)[1]:
            if os.path.abspath(d.file) == here:
                d = attrs.evolve(d, file=source.name)
                found.setdefault((d.code, d.span, d.message), d)
    return sorted(found.values(), key=lambda d: d.sort_key)


class _Nearby:
    """Which flows near a file include it: those in its folder, in the folder above, and in
    that folder's other folders (`include "shared/common.flow"`, `"../shared/common.flow"`).
    Each folder is listed once and each file's include lines read once (`known`: the files
    already read), however many files are asked about."""

    def __init__(self, known: dict[str, Source]) -> None:
        self._known = known
        self._listed: set[str] = set()
        # Each included file (absolute) and the flows found to include it.
        self._includers: dict[str, list[str]] = {}

    def includers(self, name: str) -> list[Source]:
        from flowlang.cli.inputs import UsageError, read_source

        here = os.path.normpath(name)
        folder = os.path.dirname(here)
        parent = os.path.dirname(folder) if folder else ".."
        for pattern in (os.path.join(folder or ".", "*.flow"), os.path.join(parent, "*.flow"),
                        os.path.join(parent, "*", "*.flow")):
            self._list(pattern)
        found = []
        for candidate in self._includers.get(os.path.abspath(here), []):
            if os.path.normpath(candidate) == here:
                continue
            try:
                found.append(self._known.get(candidate) or read_source(candidate))
            except UsageError:
                continue
        return found

    def _list(self, pattern: str) -> None:
        if pattern in self._listed:
            return
        self._listed.add(pattern)
        for name in sorted(os.path.normpath(p) for p in glob.glob(pattern)):
            source = self._known.get(name)
            try:
                text = source.text if source is not None else Path(name).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for target in _include_lines(name, text):
                flows = self._includers.setdefault(os.path.abspath(target), [])
                if name not in flows:
                    flows.append(name)


def _include_lines(name: str, text: str) -> list[str]:
    """The files a flow's `include` lines name (read from the lines, without parsing)."""
    from flowlang.includes import include_path
    from flowlang.syntax.strings import decode

    if "include" not in text:
        return []
    return [
        include_path(name, decode(found.group(0)[found.group(0).index('"') :], 1, 1, []).text)
        for found in _INCLUDE.finditer(text)
    ]


def _render(fmt: str, report: Report) -> str:
    if fmt == "json":
        from flowlang.lint import json_format

        return json_format.render(report)
    if fmt == "sarif":
        from flowlang.lint import sarif

        return sarif.render(report)
    if fmt == "github":
        from flowlang.lint import github_format

        return github_format.render(report)
    from flowlang.lint import text_format

    return text_format.render(report)
