"""The served flow's versions: the file's current one for new calls, older ones by digest."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from flowlang.errors import FlowError
from flowlang.includes import read_file
from flowlang.program import Program
from flowlang.source import Source

logger = logging.getLogger("flowlang.serve.app")

Compile = Callable[[Source], Program]
LoadSaved = Callable[[str], Awaitable["tuple[str, str] | None"]]


def _compile_source(source: Source) -> Program:
    from flowlang.compiler import compile_source

    return compile_source(source)


class FlowVersions:
    """Hands out the program new calls start on, and the one each call in progress runs.

    The flow file, the files it includes and its translation catalogs are looked at again (size
    and modification time) whenever a call starts; when one changed the flow is re-read and
    compiled, and if that fails the last good version stays in service and the problem is
    logged. Calls in progress keep the version they started with: it is found by digest, in
    memory or (after a restart) compiled again from the store's copy, which holds the text of
    every included file and catalog as it was.
    """

    def __init__(
        self,
        initial: Program,
        path: Path | None = None,
        load_saved: LoadSaved | None = None,
        compile: Compile = _compile_source,
    ) -> None:
        self._current = initial
        self._path = path
        self._load_saved = load_saved
        self._compile = compile
        self._by_digest: dict[str, Program] = {initial.digest: initial}
        self._seen = self._stamp()

    def _stamp(self) -> tuple[tuple[int, int] | None, ...] | None:
        if self._path is None:
            return None
        source = self._current.source
        files = [str(self._path), *(s.name for s in (*source.included, *source.catalogs))]
        return tuple(_file_stamp(name) for name in files)

    def current(self) -> Program:
        """The program for a new call: the flow file as it is now, if it still compiles."""
        stamp = self._stamp()
        if (
            self._path is not None
            and stamp is not None
            and stamp[0] is not None
            and (stamp != self._seen)
        ):
            self._seen = stamp
            self._reload(self._path)
        return self._current

    def _reload(self, path: Path) -> None:
        try:
            text = read_file(str(path))  # never waits on a pipe put in the flow's place
            program = self._compile(Source(str(path), text))
        except (OSError, UnicodeDecodeError, FlowError) as exc:
            logger.error(
                json.dumps(
                    {
                        "event": "flow_reload_failed",
                        "path": str(path),
                        "error": _where(exc) + str(exc),
                        "keeping": self._current.digest,
                    }
                )
            )
            return
        if program.digest != self._current.digest:
            logger.info(
                json.dumps(
                    {
                        "event": "flow_reloaded",
                        "path": str(path),
                        "digest": program.digest,
                        "previous": self._current.digest,
                    }
                )
            )
        self._current = program
        self._by_digest[program.digest] = program
        # The new version may include other files: watch those from now on.
        self._seen = self._stamp()

    def get(self, digest: str) -> Program | None:
        """The version named `digest` if it is in memory (see `load` for the store's copy)."""
        return self._by_digest.get(digest)

    async def load(self, digest: str) -> Program | None:
        """The version named `digest`, or None when neither memory nor the store has it."""
        program = self._by_digest.get(digest)
        if program is not None or self._load_saved is None:
            return program
        saved = await self._load_saved(digest)
        if saved is None:
            return None
        try:
            program = self._compile(Source.from_stored(saved[0], saved[1]))
        except FlowError as exc:
            logger.error(
                json.dumps({"event": "flow_version_broken", "digest": digest, "error": str(exc)})
            )
            return None
        self._by_digest[digest] = program
        return program


def _file_stamp(name: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(name)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def _where(exc: Exception) -> str:
    """`line L, column C: ` of a flow error's first finding (empty for other errors)."""
    if isinstance(exc, FlowError) and exc.diagnostics:
        first = exc.diagnostics[0]
        if first.span is not None:
            return f"line {first.span.line}, column {first.span.column}: {first.code} "
    return ""
