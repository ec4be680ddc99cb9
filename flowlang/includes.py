"""`include "PATH"` (LANGUAGE.md 15): the included files read and merged into one flow tree.

The merged tree is the including file's tree with the steps of every included file added after
its own, as if written there. To keep each finding pointing into the file where it is, the
included trees are renumbered: the lines of the Nth included file become N * LINE_BLOCK + line,
and `locate` turns a finding about the merged tree back into one about the right file. Its steps
(and any other list of named definitions a file has, such as opening hours) come in; its
settings, `on hangup:` and `languages:` serve it only when it is run by itself.

A file included twice (two files include the same third) comes in once; a file that includes
itself, directly or through others, is an error, as is a file that cannot be read.
"""

from __future__ import annotations

import glob
import os
import posixpath
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import attrs
from attrs import frozen

from flowlang.diagnostics import Diagnostic, Severity
from flowlang.errors import FlowSyntaxError
from flowlang.source import BOM, LINE_BLOCK, NotAFile, Source, Span, near_file, read_regular
from flowlang.syntax import nodes

__all__ = ["Merged", "NotAFile", "included_names", "locate", "merge", "needs_merge", "read_file"]

Read = Callable[[str], str]

# The parts of a file that serve only that file: its settings, `on hangup:`, includes and
# languages. (Comments do come in: a `# flowlang: ignore[...]` line works in every file.)
_OWN = frozenset({"settings", "on_hangup", "includes", "languages"})


def read_file(name: str) -> str:
    """The text of the file `name` (UTF-8, without a byte order mark); OSError (NotAFile for
    anything but a regular file, refused before a byte is read) or UnicodeDecodeError."""
    return read_regular(name).decode("utf-8").removeprefix(BOM)


@frozen
class Merged:
    """A flow with its included files: the merged `flow`, the `source` that knows every file,
    and the `diagnostics` found while reading them (unreadable files, cycles, syntax errors)."""

    flow: nodes.Flow
    source: Source
    diagnostics: tuple[Diagnostic, ...]


def include_path(including: str, written: str) -> str:
    """The name of the file `include "written"` in file `including` means."""
    return os.path.normpath(os.path.join(os.path.dirname(including), written))


def included_names(source: Source, flow: nodes.Flow) -> list[str]:
    """The names of the files `flow` (read from `source`) includes itself, in order."""
    return [include_path(source.name, inc.path.text) for inc in flow.includes]


def needs_merge(flow: nodes.Flow) -> bool:
    """Whether `flow` brings in other files: includes, or the catalogs of its languages."""
    return bool(flow.includes) or len(flow.speaks) > 1


def merge(source: Source, flow: nodes.Flow, read: Read | None = None) -> Merged:
    """Read every file `flow` includes (through `source.included` when the source already
    carries them, as a stored version does; else from disk) and merge their steps in; read
    the translation catalog of each of its languages after the first, where there is one."""
    given = {s.name: s for s in source.included}
    reader = read or read_file
    files: list[Source] = []
    broken: list[Source] = []
    known: set[str] = {os.path.normpath(source.name)}
    problems: list[Diagnostic] = []

    def visit(here: Source, tree: nodes.Flow, chain: tuple[str, ...]) -> None:
        for inc in tree.includes:
            if not inc.path.text.strip():
                problems.append(_unnamed(here, inc))
                continue
            name = include_path(here.name, inc.path.text)
            if name in chain:
                problems.append(_cycle(here, inc, (*chain, name)))
                continue
            if name in known:
                continue
            known.add(name)
            if name in given:
                text = given[name].text
            else:
                try:
                    text = reader(name)
                except (OSError, UnicodeDecodeError) as exc:
                    problems.append(_unreadable(here, inc, name, exc))
                    continue
            part = Source(name, text)
            try:
                parsed = _parsed(name, text)
            except FlowSyntaxError as exc:
                problems.extend(exc.diagnostics)
                broken.append(part)
                continue
            files.append(part)
            visit(part, parsed, (*chain, name))

    visit(source, flow, (os.path.normpath(source.name),))
    # Every list of top-level definitions (steps, and any other kind the file has, such as
    # opening hours) comes in; what belongs to a file itself does not (see the module notes).
    lists = {
        a.name: list(getattr(flow, a.name))
        for a in attrs.fields(nodes.Flow)
        if a.name not in _OWN and isinstance(getattr(flow, a.name), tuple)
    }
    for number, part in enumerate(files, start=1):
        moved = _moved(part.name, part.text, number * LINE_BLOCK)
        for name, items in lists.items():
            items += getattr(moved, name)
    changes: dict[str, Any] = {name: tuple(items) for name, items in lists.items()}
    merged = attrs.evolve(flow, **changes)
    # A file with syntax errors is kept after the others (no lines of the merged flow come from
    # it), so its errors can still show the line they are about.
    bundle = Source(source.name, source.text, (*files, *broken), _catalogs(source, flow, reader))
    return Merged(merged, bundle, tuple(problems))


def _catalogs(source: Source, flow: nodes.Flow, read: Read) -> tuple[Source, ...]:
    from flowlang.catalog import catalog_name

    given = {s.name: s for s in source.catalogs}
    found: list[Source] = []
    for spoken in flow.speaks[1:]:
        name = catalog_name(source.name, spoken.language.text)
        if name in given:
            found.append(given[name])
            continue
        try:
            found.append(Source(name, read(name)))
        except (OSError, UnicodeDecodeError):
            continue  # check reports every text as untranslated, naming the file to create
    return tuple(found)


# A shared file is included by many flows: `flowlang check` of a folder reads it once, and
# renumbers it once per place it takes. Trees are immutable, so sharing them is safe.
@lru_cache(maxsize=256)
def _parsed(name: str, text: str) -> nodes.Flow:
    from flowlang.syntax.parser import parse_source

    return parse_source(Source(name, text))


@lru_cache(maxsize=256)
def _moved(name: str, text: str, offset: int) -> nodes.Flow:
    tree: nodes.Flow = nodes.moved(_parsed(name, text), offset)
    return tree


def _cycle(here: Source, inc: nodes.Include, chain: tuple[str, ...]) -> Diagnostic:
    start = chain.index(chain[-1])
    circle = " includes ".join(f"`{name}`" for name in chain[start:])
    return Diagnostic(
        "FL081",
        Severity.ERROR,
        f"these files include each other in a circle: {circle}",
        here.name,
        inc.span,
        label="includes a file that includes this one",
        help="move the steps both files need into a third file, and include that from each",
    )


def _unnamed(here: Source, inc: nodes.Include) -> Diagnostic:
    return Diagnostic(
        "FL080",
        Severity.ERROR,
        "include needs a file name",
        here.name,
        inc.path.span or inc.span,
        label="no file name",
        help='write the path of the file to include, such as `include "shared/common.flow"`',
    )


def _unreadable(here: Source, inc: nodes.Include, name: str, exc: Exception) -> Diagnostic:
    if isinstance(exc, NotAFile) and not exc.folder:
        return Diagnostic(
            "FL080",
            Severity.ERROR,
            f"the included file `{name}` is not a regular file (it is a pipe, socket or"
            " device)",
            here.name,
            inc.path.span or inc.span,
            label="not a file",
            help="include a .flow file; the path is relative to the file that includes it",
        )
    reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
        getattr(exc, "strerror", None) or str(exc)
    )
    near = near_file(name) if isinstance(exc, FileNotFoundError) else None
    meant = ""
    if near is not None:
        written = inc.path.text.replace("\\", "/")
        meant = f"did you mean `{posixpath.join(posixpath.dirname(written), near)}`? "
    return Diagnostic(
        "FL080",
        Severity.ERROR,
        f"the included file `{name}` cannot be read ({reason})",
        here.name,
        inc.path.span or inc.span,
        label="no such file" if isinstance(exc, FileNotFoundError) else "cannot read",
        help=f"{meant}the path is relative to the file that includes it; check its spelling"
        " and folder",
    )


_LINE = re.compile(r"\bline (\d+)\b")


def locate(diagnostic: Diagnostic, source: Source) -> Diagnostic:
    """A finding about the merged flow of `source`, pointing into the file it is about; a line
    it mentions in another file is named with that file."""
    if not source.included and not source.catalogs:
        return diagnostic
    file = diagnostic.file
    span = diagnostic.span
    if span is not None and span.line > LINE_BLOCK:
        part, line = source.locate(span.line)
        file = part.name
        span = Span(line, span.column, span.end_line - (span.line - line), span.end_column)

    def name_lines(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            part, line = source.locate(int(match.group(1)))
            return f"line {line}" if part.name == file else f"line {line} of {part.name}"

        return _LINE.sub(one, text)

    return attrs.evolve(
        diagnostic,
        file=file,
        span=span,
        message=name_lines(diagnostic.message),
        help=None if diagnostic.help is None else name_lines(diagnostic.help),
        notes=tuple(name_lines(n) for n in diagnostic.notes),
    )


# An `include "PATH"` line, read without parsing the file (its first string).
_INCLUDE_LINE = re.compile(r'^include[ ]+"((?:[^"\\\n]|\\[^\n])*)"', re.MULTILINE)


def include_lines(name: str, text: str) -> list[str]:
    """The files the `include` lines of the flow `name` (its `text`) name, read from the lines
    without parsing: a quick look, for finding which flows include a file."""
    from flowlang.syntax.strings import decode

    if "include" not in text:
        return []
    return [
        include_path(name, decode(found.group(0)[found.group(0).index('"') :], 1, 1, []).text)
        for found in _INCLUDE_LINE.finditer(text)
    ]


class Nearby:
    """Which flows near a file include it: those in its folder, in the folder above, and in
    that folder's other folders (`include "shared/common.flow"`, `"../shared/common.flow"`).
    Each folder is listed once and each file's include lines read once (`known`: the files
    already read, by name), however many files are asked about."""

    def __init__(
        self,
        known: dict[str, Source] | None = None,
        seen: dict[str, tuple[tuple[int, int], list[str]]] | None = None,
    ) -> None:
        self._known = known or {}
        # Kept by a long-lived caller (the language server): each file's include lines by its
        # modification time and size, so an unchanged file is not read again.
        self._seen = seen
        self._listed: set[str] = set()
        # Each included file (absolute) and the flows found to include it.
        self._includers: dict[str, list[str]] = {}

    def includers(self, name: str) -> list[Source]:
        """The flows near the file `name` that include it, read (unreadable ones left out)."""
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
            known = self._known.get(candidate)
            try:
                found.append(known or Source(candidate, read_file(candidate)))
            except (OSError, UnicodeDecodeError):
                continue
        return found

    def _list(self, pattern: str) -> None:
        if pattern in self._listed:
            return
        self._listed.add(pattern)
        for name in sorted(os.path.normpath(p) for p in glob.glob(pattern)):
            targets = self._targets(name)
            for target in targets:
                flows = self._includers.setdefault(os.path.abspath(target), [])
                if name not in flows:
                    flows.append(name)

    def _targets(self, name: str) -> list[str]:
        source = self._known.get(name)
        if source is not None:
            return include_lines(name, source.text)
        try:
            if self._seen is None:
                return include_lines(name, read_file(name))
            stat = os.stat(name)
            stamp = (stat.st_mtime_ns, stat.st_size)
            kept = self._seen.get(name)
            if kept is None or kept[0] != stamp:
                kept = self._seen[name] = (stamp, include_lines(name, read_file(name)))
            return kept[1]
        except (OSError, UnicodeDecodeError):
            return []
