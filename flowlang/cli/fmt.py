"""Rewrite .flow files in the one canonical layout (--check and --diff report without writing)."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from flowlang.cli.inputs import UsageError, collect_files, read_text

if TYPE_CHECKING:
    from flowlang.source import Source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help=".flow files or folders; `-` formats standard input to standard output",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name the files that would change",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="write nothing; print what would change as a unified diff",
    )


def run(args: argparse.Namespace) -> int:
    from flowlang.diagnostics import render_text
    from flowlang.errors import FlowSyntaxError
    from flowlang.source import BOM, Source, written_like
    from flowlang.syntax.fmt import format_text

    if args.paths == ["-"]:
        return _standard_input(args)
    files = collect_files(args.paths)
    if not files:
        raise UsageError("no .flow files found in " + ", ".join(args.paths))
    write = not (args.check or args.diff)
    changed: list[Path] = []
    unchanged = failed = unreadable = unwritable = 0
    for path in files:
        try:
            written = read_text(path)
        except UsageError as exc:
            print(f"flowlang: error: {exc}", file=sys.stderr)
            unreadable += 1
            continue
        source = Source(str(path), written.removeprefix(BOM))
        try:
            formatted = written_like(format_text(source.text, source.name), written)
        except FlowSyntaxError as exc:
            for diagnostic in exc.diagnostics:
                sys.stderr.write(render_text(diagnostic, source))
            failed += 1
            continue
        # Compared as written: the parser reads a lone `\r` (an old Mac's line break) as the
        # `\n` fmt writes.
        jobs = [(path, written, formatted)]
        if "languages" in source.text:
            catalogs, broken = _catalog_jobs(source)
            jobs += catalogs
            failed += broken
        for target, before, after in jobs:
            if after == before:
                unchanged += 1
                continue
            if args.diff:
                sys.stdout.write(_diff(target, before, after))
            if args.check:
                print(f"would reformat {target}")
            if not write:
                changed.append(target)
            else:
                try:
                    _write_safely(target, after)
                except OSError as exc:
                    reason = exc.strerror or exc
                    print(
                        f"flowlang: error: {target}: cannot write the file ({reason})",
                        file=sys.stderr,
                    )
                    unwritable += 1
                    continue
                changed.append(target)
                print(f"reformatted {target}", file=sys.stderr)
    summary = _summary(len(changed), unchanged, failed, write, unreadable, unwritable)
    print(summary, file=sys.stderr)
    if unreadable or unwritable:
        return 2
    if failed or (args.check and changed):
        return 1
    return 0


def _write_safely(target: Path, text: str) -> None:
    """Write `text` over `target` so that a failure (a full disk) leaves the file as it was:
    into a new file beside it first, then moved over it in one step. Through a symbolic link
    the file it points to is replaced (the link stays), with its permissions."""
    import contextlib
    import os
    import shutil
    import tempfile

    real = target.resolve()
    handle, temporary = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    try:
        # `newline=""`: the line breaks as given (Windows would add a "\r" before each "\n").
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        shutil.copymode(real, temporary)
        os.replace(temporary, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _standard_input(args: argparse.Namespace) -> int:
    """Format what comes on standard input (an editor's buffer) and print it."""
    from flowlang.diagnostics import render_text
    from flowlang.errors import FlowSyntaxError
    from flowlang.source import BOM, Source, not_utf8, written_like
    from flowlang.syntax.fmt import format_text

    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(not_utf8("<stdin>", data, exc)) from None
    source = Source("<stdin>", text.removeprefix(BOM))
    try:
        formatted = written_like(format_text(source.text, source.name), text)
    except FlowSyntaxError as exc:
        for diagnostic in exc.diagnostics:
            sys.stderr.write(render_text(diagnostic, source))
        return 1
    if args.diff:
        sys.stdout.write(_diff(Path("<stdin>"), text, formatted))
    elif not args.check:
        # As bytes: a console on Windows would add a "\r" before each "\n" (and may not be
        # UTF-8); the editor reading it wants the text with its own line breaks.
        sys.stdout.flush()
        sys.stdout.buffer.write(formatted.encode("utf-8"))
    return 1 if args.check and formatted != text else 0


def _catalog_jobs(source: Source) -> tuple[list[tuple[Path, str, str]], int]:
    """The translation catalogs beside a flow that speaks several languages, each with its
    tidy text (the flow's order); and how many could not be tidied (a line it cannot read)."""
    from flowlang.catalog import catalog_name, format_catalog, parse_catalog
    from flowlang.source import BOM, Source, read_regular, written_like
    from flowlang.syntax.parser import parse_source

    flow = parse_source(source)
    jobs: list[tuple[Path, str, str]] = []
    broken = 0
    for spoken in flow.speaks[1:]:
        target = Path(catalog_name(source.name, spoken.language.text))
        try:
            text = read_regular(str(target)).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        catalog = parse_catalog(Source(str(target), text.removeprefix(BOM)), spoken.language.text)
        if catalog.problems:
            print(
                f"{target}: a line cannot be read (`flowlang check` shows it); "
                "fix it, then run fmt again",
                file=sys.stderr,
            )
            broken += 1
            continue
        jobs.append((target, text, written_like(format_catalog(catalog, flow), text)))
    return jobs, broken


def _diff(path: Path, before: str, after: str) -> str:
    """A unified diff of the lines as they read, without their line breaks (a Windows "\r\n"
    would show as part of every line); like git's, it marks a last line without a line break.
    Line breaks that fmt makes all alike are told of once, in a line before the diff."""
    from flowlang.source import LINE_BREAK

    old, new = _lines(before), _lines(after)
    diff = difflib.unified_diff(
        [text + ("\n" if end else "") for text, end in old],
        [text + ("\n" if end else "") for text, end in new],
        fromfile=f"{path} (before)",
        tofile=f"{path} (formatted)",
    )
    shown = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff
    )
    ends = {end for _, end in new if end}
    other = sum(1 for _, end in old if end and end not in ends)
    if len(ends) != 1 or not other:
        return shown
    (end,) = ends
    first = LINE_BREAK.search(before)
    what = "only line breaks change" if not shown else "line breaks change too"
    lines = "1 line ends" if other == 1 else f"{other} lines end"
    kinds = " or ".join(sorted(_shown(e) for e in {e for _, e in old if e and e != end}))
    windows = " (Windows line breaks)" if end == "\r\n" else ""
    like = ", as the first line does" if first is not None and first.group() == end else ""
    note = f"{path}: {what}: {lines} in {kinds}; formatted, every line ends in {_shown(end)}"
    return f"{note}{windows}{like}\n{shown}"


def _lines(text: str) -> list[tuple[str, str]]:
    """Each line of `text` and the line break that ends it ("" for a last line without one)."""
    from flowlang.source import LINE_BREAK

    pieces = LINE_BREAK.split(text)
    breaks = [m.group() for m in LINE_BREAK.finditer(text)]
    lines = list(zip(pieces, [*breaks, ""], strict=True))
    return lines[:-1] if lines and lines[-1] == ("", "") else lines


def _shown(end: str) -> str:
    """A line break as written in a string: `"\\r\\n"`."""
    return '"' + end.replace("\r", "\\r").replace("\n", "\\n") + '"'


def _summary(
    changed: int,
    unchanged: int,
    failed: int,
    write: bool,
    unreadable: int = 0,
    unwritable: int = 0,
) -> str:
    def files(n: int) -> str:
        return f"{n} file" + ("" if n == 1 else "s")

    parts = []
    if changed:
        parts.append(f"{files(changed)} {'reformatted' if write else 'would be reformatted'}")
    if unchanged:
        parts.append(f"{files(unchanged)} already formatted")
    if failed:
        parts.append(f"{files(failed)} with syntax errors (fix them, then run fmt again)")
    if unreadable:
        parts.append(f"{files(unreadable)} could not be read")
    if unwritable:
        left = "it was" if unwritable == 1 else "they were"
        parts.append(f"{files(unwritable)} could not be written (left as {left})")
    return ", ".join(parts) + "."
