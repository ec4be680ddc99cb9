"""Check .flow files for syntax errors and likely mistakes (files, or folders of *.flow)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

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
    from pathlib import Path

    from flowlang.cli.inputs import UsageError, collect_files, read_source
    from flowlang.includes import Nearby
    from flowlang.lint import check_as_included, check_with_includes
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
    problems: list[str] = []
    for raw in args.paths:
        try:
            files.extend(collect_files([raw]))
        except UsageError as exc:
            print(f"flowlang: error: {exc}", file=sys.stderr)
            problems.append(str(exc))
    if not files and not problems:
        raise UsageError(f"no .flow files found in {' '.join(args.paths)}")
    # A big flow is a million small objects that live until the command ends; the cyclic
    # collector would rescan them all again and again (quadratic time) and can free nothing:
    # syntax trees and graphs hold no reference cycles, so reference counting frees them.
    gc.disable()
    finder = ConfigFinder()
    strict = bool(args.strict)
    checked: list[Checked] = []
    sources = []
    catalogs: dict[str, Source] = {}
    for path in files:
        try:
            source = read_source(path)
            if str(path).endswith(".texts"):
                # A translation catalog is checked with the flow it translates.
                catalogs[source.name] = read_source(_translated(str(path)))
            sources.append((path, source))
        except UsageError as exc:
            print(f"flowlang: error: {exc}", file=sys.stderr)
            problems.append(str(exc))
    # A file another checked file includes is checked as part of that flow (its steps may
    # `return` to calls made there), not as a flow of its own; a finding in it is shown once.
    included = _included_by_others(source for _, source in sources)
    nearby = Nearby({os.path.normpath(source.name): source for _, source in sources})
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
        part_of = [catalogs[source.name]] if source.name in catalogs else nearby.includers(
            source.name
        )
        if part_of:
            # A shared file checked by itself is checked as part of the flows beside it that
            # include it: alone, its steps would be a flow that never answers, whose `return`
            # goes nowhere. Only what is found in it is its own.
            found = check_as_included(source, part_of, select=select, ignore=ignore)
        else:
            source, found = check_with_includes(source, select=select, ignore=ignore)
        fresh = []
        for d in found:
            key = (d.file, d.code, d.span, d.message)
            if key not in shown:
                shown.add(key)
                fresh.append(d)
        checked.append(Checked(source, tuple(fresh)))
    report = Report(tuple(checked), tuple(problems))
    sys.stdout.write(_render(args.format, report))
    return 2 if problems else report.exit_status(strict)


def _included_by_others(sources: Iterable[Source]) -> set[str]:
    """The names of the files that a file no other file includes includes, directly or not
    (read from the include lines: a quick look, so a library file is not parsed and checked
    twice). Files that only include each other in a circle are left to be checked."""
    from flowlang.includes import include_lines

    includes = {
        os.path.normpath(source.name): include_lines(source.name, source.text)
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


def _translated(catalog: str) -> str:
    """The flow a translation catalog `NAME.LANGUAGE.texts` belongs to: `NAME.flow` beside it;
    UsageError when there is none."""
    from flowlang.cli.inputs import UsageError

    folder, file = os.path.split(catalog)
    parts = file.split(".")
    flow = os.path.join(folder, ".".join(parts[:-2]) + ".flow") if len(parts) > 2 else ""
    if not flow or not os.path.isfile(flow):
        raise UsageError(
            f"{catalog}: a translation catalog is checked with the flow it translates, and"
            f" there is no {flow or 'NAME.flow'} beside it (a catalog is named"
            " NAME.LANGUAGE.texts, like clinic.es-US.texts for clinic.flow)"
        )
    return flow


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
