"""The language server: LSP requests over stdio (pygls) answered from checked documents."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import PositionCodec, TextDocument

from flowlang.analysis import BUILTIN_VARIABLES
from flowlang.diagnostics import Diagnostic, Severity
from flowlang.lint import check_as_included
from flowlang.lint.incremental import CheckCache
from flowlang.lsp import completion
from flowlang.lsp.document import Document
from flowlang.lsp.grammar import keywords
from flowlang.lsp.hover import hover_text
from flowlang.lsp.names import HOURS, STEP, VARIABLE
from flowlang.lsp.workspace import FlowProtocol, FlowWorkspace, lsp_lines
from flowlang.source import BOM, Source, Span, written_like
from flowlang.syntax import nodes

_NAME = re.compile(r"[^\W\d]\w*")
_GUESS = re.compile(r"did you mean `([^`]+)`")
# The rest of the word the cursor is in (a name, or a voice like Telnyx.KokoroTTS.af).
_WORD_REST = re.compile(r"[\w.-]*")
_WHAT = {STEP: "a step", VARIABLE: "a variable", HOURS: "an `hours` block"}
_KINDS = {
    completion.KEYWORD: types.CompletionItemKind.Keyword,
    completion.STEP_NAME: types.CompletionItemKind.Function,
    completion.VARIABLE_NAME: types.CompletionItemKind.Variable,
    completion.HOURS_NAME: types.CompletionItemKind.Constant,
    completion.FIELD: types.CompletionItemKind.Field,
    completion.VALUE: types.CompletionItemKind.Value,
}


class FlowServer(LanguageServer):
    """The server's state: the last checked version of each open document, and the last
    version that parsed (completion keeps offering its names while a line is half typed)."""

    def __init__(self, incremental: bool = True) -> None:
        from flowlang import __version__

        super().__init__("flowlang", __version__, protocol_cls=FlowProtocol)
        # With `incremental`, each open document keeps what its last check parsed and found,
        # and an edit is checked by redoing only what it changed (same findings, less time).
        self.incremental = incremental
        self.caches: dict[str, CheckCache] = {}
        self.checked: dict[str, tuple[int | None, Document]] = {}
        self.parsed: dict[str, Document] = {}
        self.selections: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...]]] = {}
        # The documents whose check after an edit is under way (one at a time per document).
        self.pending: dict[str, asyncio.Task[None]] = {}
        # Checks take turns: a document's cache serves one check at a time.
        self.lock = threading.Lock()
        # The include lines of the flows near the open documents, by file (see Nearby): which
        # of them include a shared file, found without reading them all at every keystroke.
        self.include_lines: dict[str, tuple[tuple[int, int], list[str]]] = {}

    def document(self, uri: str) -> Document:
        """The checked document at its current version (checked now if it is not yet)."""
        text_document = self.workspace.get_text_document(uri)
        version = text_document.version
        cached = self.checked.get(uri)
        # A file that is not open (an included one) has no version: it is read again.
        if cached is not None and version is not None and cached[0] == version:
            return cached[1]
        if version is None:
            # Not open: read from disk as `check` reads an included file. A pipe or device
            # (or a file that is missing or not UTF-8) counts as empty: its own problem is
            # reported at the `include` line of the file that includes it.
            from flowlang.includes import read_file

            try:
                text = read_file(_name(text_document))
            except (OSError, UnicodeDecodeError):
                text = ""
        else:
            text = text_document.source
        document = self._check(uri, _name(text_document), version, text)
        self._keep(uri, version, document)
        return document

    def _check(self, uri: str, name: str, version: int | None, text: str) -> Document:
        """Check one version of a document (safe to call from a worker thread)."""
        if uri not in self.selections:
            self.selections[uri] = _selection(uri)
        select, ignore = self.selections[uri]
        with self.lock:
            flows = _includers(name, self.include_lines)
            if flows:
                # A shared file is checked as part of the flows that include it: parsed here
                # for its names, its findings are what checking them finds in it.
                document = Document(Source(name, text), select=())
                document.diagnostics = check_as_included(
                    document.source, flows, select=select, ignore=ignore
                )
                return document
            cache = None
            if self.incremental and version is not None:
                cache = self.caches.setdefault(uri, CheckCache())
            return Document(Source(name, text), select, ignore, cache)

    def _keep(self, uri: str, version: int | None, document: Document) -> None:
        cached = self.checked.get(uri)
        if cached is not None and cached[0] is not None and version is not None:
            if cached[0] > version:
                return  # a later version was checked meanwhile (for a request)
        self.checked[uri] = (version, document)
        if document.flow is not None:
            self.parsed[uri] = document

    def family(self, uri: str, start: Document | None = None) -> list[str]:
        """The documents one flow is made of: this one, the files it includes (and they
        include), and the open documents that include any of them. Steps and variables are
        shared by them all. `start` stands for this document (a version of it that parses)."""
        members = self._included(uri, start)
        for other in list(self.workspace.text_documents):
            if other not in members:
                theirs = self._included(other)
                if set(theirs) & set(members):
                    members += [m for m in theirs if m not in members]
        return members

    def includers(self, uri: str) -> list[str]:
        """The other open documents that include `uri`, directly or through other files."""
        return [
            other
            for other in list(self.workspace.text_documents)
            if other != uri and uri in self._included(other)
        ]

    def _included(self, uri: str, start: Document | None = None) -> list[str]:
        from flowlang.includes import included_names

        found: list[str] = []
        stack = [uri]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.append(current)
            document = start if start is not None and current == uri else self.document(current)
            if document.flow is not None:
                names = included_names(document.source, document.flow)
                stack += [Path(name).as_uri() for name in reversed(names)]
        return found

    def names_for(self, uri: str, line: int) -> Document | None:
        """The version of the document whose steps and variables completion offers: this one;
        while it does not parse (a line is half written), the text without line `line`, else
        the last version that parsed (None if none did)."""
        document = self.document(uri)
        if document.index is not None:
            return document
        lines = document.source.text.split("\n")
        lines[line - 1] = ""
        without = Document(Source(document.source.name, "\n".join(lines)), select=())
        return without if without.index is not None else self.parsed.get(uri)

    def publish(self, uri: str) -> None:
        text_document = self.workspace.get_text_document(uri)
        self._publish(uri, text_document.version, self.document(uri))

    def _publish(self, uri: str, version: int | None, document: Document) -> None:
        lines = document.source.text.split("\n")
        if document.bom:
            lines[0] = BOM + lines[0]  # the editor's line 1, the mark first (see _place)
        codec = self.workspace.get_text_document(uri).position_codec
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=version,
                diagnostics=[_diagnostic(lines, codec, d) for d in document.diagnostics],
            )
        )

    def schedule(self, uri: str) -> None:
        """Check the document's latest version and publish its diagnostics, now if no check
        of it is under way. The check runs off the event loop, so edits are read meanwhile;
        when it ends, a version that is no longer the latest is not published: the latest is
        checked at once instead (fast typing costs one check at a time, never a queue)."""
        if uri not in self.pending:
            self.pending[uri] = asyncio.get_running_loop().create_task(self._publish_latest(uri))

    async def _publish_latest(self, uri: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            while uri in self.workspace.text_documents:
                text_document = self.workspace.get_text_document(uri)
                version = text_document.version
                cached = self.checked.get(uri)
                if cached is not None and cached[0] == version:
                    document = cached[1]
                else:
                    name, text = _name(text_document), text_document.source
                    document = await loop.run_in_executor(
                        None, self._check, uri, name, version, text
                    )
                    self._keep(uri, version, document)
                if self.workspace.get_text_document(uri).version == version:
                    self._publish(uri, version, document)
                    return
        finally:
            self.pending.pop(uri, None)

    def forget(self, uri: str) -> None:
        self.checked.pop(uri, None)
        self.caches.pop(uri, None)
        self.selections.pop(uri, None)
        self.parsed.pop(uri, None)
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()


def _includers(name: str, seen: dict[str, tuple[tuple[int, int], list[str]]]) -> list[Source]:
    """The flows beside the file `name` that include it, as `flowlang check` finds them (alone,
    a shared file's steps would be a flow that never answers); none for a buffer that is not a
    file on disk."""
    from flowlang.includes import Nearby

    return Nearby(seen=seen).includers(name) if os.path.isabs(name) else []


def _name(text_document: TextDocument) -> str:
    return text_document.path or text_document.uri


def _selection(uri: str) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """The rules [tool.flowlang] in the nearest pyproject.toml selects, as `check` reads them."""
    from flowlang.lint.config import ConfigError, ConfigFinder

    path = to_fs_path(uri)
    if path is None:
        return None, ()
    try:
        config = ConfigFinder().for_file(Path(path))
    except ConfigError:
        return None, ()  # `flowlang check` reports a broken configuration; typing goes on
    return config.select, tuple(config.ignore)


# ---------------------------------------------------------------------------------------------
# Positions: the server counts 1-based lines and characters, the client 0-based lines and its
# own code units (UTF-16 by default).


def _position(text_document: TextDocument, line: int, column: int) -> types.Position:
    return _place(text_document.lines, text_document.position_codec, line, column)


def _place(lines: Sequence[str], codec: PositionCodec, line: int, column: int) -> types.Position:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    # A byte order mark is not in the text checked, but it is the editor's first character.
    skipped = 1 if line == 1 and text.startswith(BOM) else 0
    units = codec.client_num_units(text[: max(0, column - 1) + skipped])
    return types.Position(line=max(0, line - 1), character=units)


def _range(text_document: TextDocument, span: Span | None) -> types.Range:
    return _span_range(text_document.lines, text_document.position_codec, span)


def _span_range(lines: Sequence[str], codec: PositionCodec, span: Span | None) -> types.Range:
    if span is None:
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    return types.Range(
        _place(lines, codec, span.line, span.column),
        _place(lines, codec, span.end_line, span.end_column),
    )


def _line_edits(text_document: TextDocument, new: str) -> list[types.TextEdit]:
    """The edits that make the document's text `new`: one for each run of lines that differ,
    so the editor keeps its cursor, bookmarks and folds on the lines left alone (and its undo
    history shows what changed)."""
    from difflib import SequenceMatcher

    old = text_document.lines
    lines = lsp_lines(new)
    codec = text_document.position_codec
    # With its "junk" heuristic (a line found all over, like a blank one, does not anchor a
    # match): 2,000 lines, every other one changed, take 0.16 s to compare instead of 1.7 s.
    return [
        types.TextEdit(
            types.Range(_line_start(old, codec, i1), _line_start(old, codec, i2)),
            "".join(lines[j1:j2]),
        )
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, lines).get_opcodes()
        if tag != "equal"
    ]


def _line_start(lines: Sequence[str], codec: PositionCodec, n: int) -> types.Position:
    """Where 0-based line `n` starts; past the last line, the end of the text (a last line
    without a line break ends after its last character, counted in the client's units)."""
    if n < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return types.Position(line=n, character=0)
    return types.Position(line=n - 1, character=codec.client_num_units(lines[-1]))


def _can_replace(ls: FlowServer) -> bool:
    """Whether the editor takes completions that may replace the rest of the word."""
    found = ls.client_capabilities.text_document
    completion = found.completion if found else None
    item = completion.completion_item if completion else None
    return bool(item and item.insert_replace_support)


def _point(text_document: TextDocument, position: types.Position) -> tuple[int, int]:
    """The 1-based line and column of a client position."""
    lines = text_document.lines
    server = text_document.position_codec.position_from_client_units(lines, position)
    skipped = 1 if server.line == 0 and lines and lines[0].startswith(BOM) else 0
    return server.line + 1, max(1, server.character + 1 - skipped)


# ---------------------------------------------------------------------------------------------
# Diagnostics


@cache
def rule_link(code: str) -> str | None:
    """The URI of the page that explains `code`: the rule's page, or a syntax error's section
    of docs/errors.md (None when neither is on this machine)."""
    from flowlang.lsp.reference import anchor, docs_path, syntax_error

    try:
        page = docs_path(f"rules/{code}.md")
        return page.as_uri()
    except FileNotFoundError:
        pass
    try:
        section = syntax_error(code)
        errors = docs_path("errors.md")
    except FileNotFoundError:
        return None
    return None if section is None else f"{errors.as_uri()}#{anchor(section.heading)}"


def _fix(lines: Sequence[str], d: Diagnostic) -> str | None:
    """What replaces the diagnostic's text when its help says "did you mean `X`?"."""
    match = _GUESS.search(d.help or "")
    span = d.span
    if match is None or span is None or span.line != span.end_line:
        return None
    guess = match.group(1)
    line = lines[span.line - 1] if lines else ""
    if span.line == 1:
        line = line.removeprefix(BOM)  # columns count in the text checked (see _place)
    written = line[span.column - 1 : span.end_column - 1]
    if written.startswith('"') and written.endswith('"') and not guess.startswith('"'):
        return f'"{guess}"'
    return guess


def _diagnostic(lines: Sequence[str], codec: PositionCodec, d: Diagnostic) -> types.Diagnostic:
    """The LSP form of `d`, placed in the `lines` of the text that was checked."""
    message = d.message + (f"\nhelp: {d.help}" if d.help else "")
    message += "".join(f"\nnote: {note}" for note in d.notes)
    link = rule_link(d.code)
    fix = _fix(lines, d)
    return types.Diagnostic(
        range=_span_range(lines, codec, d.span),
        message=message,
        severity=(
            types.DiagnosticSeverity.Error
            if d.severity is Severity.ERROR
            else types.DiagnosticSeverity.Warning
        ),
        code=d.code,
        code_description=None if link is None else types.CodeDescription(href=link),
        source="flowlang",
        data=None if fix is None else {"replace": fix},
    )


# ---------------------------------------------------------------------------------------------
# The features


_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def _plain_errors(handler: _Handler) -> _Handler:
    """`handler`, answering a request it cannot serve with a plain message (a refused rename,
    a file that cannot be read) instead of a Python exception's name and traceback."""

    @functools.wraps(handler)
    def answer(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except UnicodeDecodeError:
            raise _failed("the file is not UTF-8 text") from None
        except OSError as error:
            name = error.filename if error.filename is not None else "the file"
            reason = (error.strerror or "it cannot be read").lower()
            raise _failed(f"cannot read {name}: {reason}") from None
        except ValueError as error:
            raise _failed(str(error)) from None

    return answer  # type: ignore[return-value]


class Refusal(JsonRpcException):
    """A request the server answers with a plain message (a refused rename, a file that cannot
    be read): an everyday answer, not a fault, so the log is spared its traceback."""


def _failed(message: str) -> Refusal:
    return Refusal(message, code=types.LSPErrorCodes.RequestFailed.value)


class _NoRefusalTracebacks(logging.Filter):
    """Drops pygls's log of a `Refusal` with its traceback (the editor gets the message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], Refusal))


_QUIET = _NoRefusalTracebacks()


def create_server(incremental: bool = True) -> FlowServer:
    """A server with every feature registered (`incremental`: see FlowServer)."""
    server = FlowServer(incremental)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_QUIET)  # once: the same filter

    @server.feature(types.INITIALIZE)
    def initialize(ls: FlowServer, params: types.InitializeParams) -> None:
        # pygls has just made the workspace: make it again with documents whose lines end
        # where LSP's do (see flowlang.lsp.workspace).
        made = ls.workspace
        ls.protocol._workspace = FlowWorkspace(
            made.root_uri,
            made._sync_kind,
            list(made.folders.values()),
            made.position_encoding,
        )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: FlowServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: FlowServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: FlowServer, params: types.DidSaveTextDocumentParams) -> None:
        # The configuration beside the file may have changed: read it and check again.
        uri = params.text_document.uri
        ls.checked.pop(uri, None)
        ls.selections.pop(uri, None)
        ls.publish(uri)
        # The open documents that include it read it from disk, as `flowlang check` does:
        # what was just saved is new to them.
        for other in ls.includers(uri):
            ls.checked.pop(other, None)
            ls.caches.pop(other, None)
            ls.publish(other)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: FlowServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.forget(uri)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @_plain_errors
    def hover(ls: FlowServer, params: types.HoverParams) -> types.Hover | None:
        text_document = ls.workspace.get_text_document(params.text_document.uri)
        line, column = _point(text_document, params.position)
        uri = params.text_document.uri

        def others() -> list[Document]:
            return [ls.document(member) for member in ls.family(uri) if member != uri]

        text = hover_text(ls.document(uri), line, column, others)
        if text is None:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @_plain_errors
    def definition(ls: FlowServer, params: types.DefinitionParams) -> list[types.Location]:
        included = _included_file_at(ls, params.text_document.uri, params.position)
        if included is not None:
            return [included]
        return _occurrences(ls, params.text_document.uri, params.position, definitions=True)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @_plain_errors
    def references(ls: FlowServer, params: types.ReferenceParams) -> list[types.Location]:
        found = _occurrences(ls, params.text_document.uri, params.position, definitions=False)
        if not params.context.include_declaration:
            definitions = _occurrences(
                ls, params.text_document.uri, params.position, definitions=True
            )
            found = [f for f in found if f not in definitions]
        return found

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    @_plain_errors
    def prepare_rename(ls: FlowServer, params: types.PrepareRenameParams) -> types.Range | None:
        text_document = ls.workspace.get_text_document(params.text_document.uri)
        index = ls.document(params.text_document.uri).index
        if index is None:
            return None
        occurrence = index.at(*_point(text_document, params.position))
        return None if occurrence is None else _range(text_document, occurrence.span)

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    @_plain_errors
    def rename(ls: FlowServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        uri = params.text_document.uri
        text_document = ls.workspace.get_text_document(uri)
        index = ls.document(uri).index
        if index is None:
            raise ValueError("the flow has syntax errors: fix them before renaming")
        occurrence = index.at(*_point(text_document, params.position))
        if occurrence is None:
            return None
        new = params.new_name
        if not _NAME.fullmatch(new) or new in keywords():
            raise ValueError(
                f"`{new}` cannot name {_WHAT[occurrence.kind]}: use letters, digits and _, "
                "not starting with a digit, and not a word of the language"
            )
        if occurrence.kind == VARIABLE and new in BUILTIN_VARIABLES:
            raise ValueError(
                f"`{new}` cannot name a variable: the call sets it (a built-in variable)"
            )
        changes: dict[str, list[types.TextEdit]] = {}
        for member in ls.family(uri):
            theirs = ls.document(member).index
            if theirs is None:
                continue
            if new != occurrence.name and theirs.of(occurrence.kind, new):
                raise ValueError(f"this flow already has {_WHAT[occurrence.kind]} called `{new}`")
            member_document = ls.workspace.get_text_document(member)
            edits = [
                types.TextEdit(range=_range(member_document, o.span), new_text=new)
                for o in theirs.of(occurrence.kind, occurrence.name)
            ]
            if edits:
                changes[member] = edits
        return types.WorkspaceEdit(changes=changes)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[" ", '"', "{", "."]),
    )
    @_plain_errors
    def complete(ls: FlowServer, params: types.CompletionParams) -> types.CompletionList:
        uri = params.text_document.uri
        text_document = ls.workspace.get_text_document(uri)
        line, column = _point(text_document, params.position)
        document = ls.document(uri)
        named = ls.names_for(uri, line)
        # The steps and variables of the files of the same flow are offered too.
        others = (
            []
            if named is None
            else [ls.document(m) for m in ls.family(uri, named) if m != uri]
        )
        found = completion.suggestions(document, line, column, named, others)
        # Completing in the middle of a word (`sa|y`): an editor that can offers both to
        # insert before the rest and to replace the whole word (its user's setting decides).
        rest = _WORD_REST.match(document.line(line), column - 1)
        end = _position(text_document, line, column + (len(rest.group()) if rest else 0))
        replace = end != params.position and _can_replace(ls)
        items = []
        for s in found:
            start = _position(text_document, line, s.start)
            edit: types.TextEdit | types.InsertReplaceEdit = (
                types.InsertReplaceEdit(
                    s.insert, types.Range(start, params.position), types.Range(start, end)
                )
                if replace
                else types.TextEdit(types.Range(start, params.position), s.insert)
            )
            kind, detail = _KINDS[s.kind], s.detail or None
            items.append(types.CompletionItem(s.label, kind=kind, detail=detail, text_edit=edit))
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @_plain_errors
    def formatting(
        ls: FlowServer, params: types.DocumentFormattingParams
    ) -> list[types.TextEdit] | None:
        from flowlang.errors import FlowSyntaxError
        from flowlang.syntax.fmt import format_text

        text_document = ls.workspace.get_text_document(params.text_document.uri)
        text = text_document.source
        try:
            # As `flowlang fmt` writes it: with its line breaks and byte order mark.
            formatted = written_like(
                format_text(text.removeprefix(BOM), _name(text_document)), text
            )
        except FlowSyntaxError:
            return None  # the diagnostics say what to fix first
        return _line_edits(text_document, formatted)  # none for a tidy document

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    @_plain_errors
    def code_action(ls: FlowServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        actions = []
        for d in params.context.diagnostics:
            data: Any = d.data
            if not isinstance(data, dict) or not isinstance(data.get("replace"), str):
                continue
            new = data["replace"]
            edit = types.TextEdit(range=d.range, new_text=new)
            actions.append(
                types.CodeAction(
                    title=f"Replace with {new}",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[d],
                    is_preferred=True,
                    edit=types.WorkspaceEdit(changes={params.text_document.uri: [edit]}),
                )
            )
        return actions

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @_plain_errors
    def symbols(ls: FlowServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        text_document = ls.workspace.get_text_document(params.text_document.uri)
        flow = ls.document(params.text_document.uri).flow
        if flow is None:
            return []
        out = [
            types.DocumentSymbol(
                name=step.name.value,
                kind=types.SymbolKind.Function,
                range=_range(text_document, step.span),
                selection_range=_range(text_document, step.name.span),
                detail="step",
            )
            for step in flow.steps
        ]
        if flow.on_hangup is not None:
            where = _range(text_document, flow.on_hangup.span)
            out.append(
                types.DocumentSymbol(
                    name="on hangup",
                    kind=types.SymbolKind.Event,
                    range=where,
                    selection_range=where,
                )
            )
        return out

    @server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    @_plain_errors
    def folding(ls: FlowServer, params: types.FoldingRangeParams) -> list[types.FoldingRange]:
        flow = ls.document(params.text_document.uri).flow
        if flow is None:
            return []
        ends: dict[int, int] = {}
        for node in nodes.walk(flow):
            span = node.span
            if span is None or isinstance(node, nodes.Flow):
                continue
            end = span.end_line - (1 if span.end_column == 1 else 0)
            if end > span.line:
                ends[span.line] = max(end, ends.get(span.line, 0))
        return [
            types.FoldingRange(start_line=start - 1, end_line=end - 1)
            for start, end in sorted(ends.items())
        ]

    return server


def _occurrences(
    ls: FlowServer, uri: str, position: types.Position, definitions: bool
) -> list[types.Location]:
    """The definitions (or every occurrence) of the step, variable or `hours` at `position`, in
    this document and the files of the same flow."""
    text_document = ls.workspace.get_text_document(uri)
    index = ls.document(uri).index
    if index is None:
        return []
    occurrence = index.at(*_point(text_document, position))
    if occurrence is None:
        return []
    found: list[types.Location] = []
    for member in ls.family(uri):
        theirs = ls.document(member).index
        if theirs is None:
            continue
        member_document = ls.workspace.get_text_document(member)
        where = (
            theirs.definitions(occurrence.kind, occurrence.name)
            if definitions
            else theirs.of(occurrence.kind, occurrence.name)
        )
        found += [types.Location(uri=member, range=_range(member_document, o.span)) for o in where]
    return found


def _included_file_at(ls: FlowServer, uri: str, position: types.Position) -> types.Location | None:
    """The file an `include "PATH"` under `position` names."""
    from flowlang.includes import include_path
    from flowlang.lsp.hover import covers

    document = ls.document(uri)
    if document.flow is None:
        return None
    line, column = _point(ls.workspace.get_text_document(uri), position)
    for include in document.flow.includes:
        if covers(include.path.span, line, column):
            target = Path(include_path(document.source.name, include.path.text))
            start = types.Position(0, 0)
            return types.Location(uri=target.as_uri(), range=types.Range(start, start))
    return None


def serve_stdio(incremental: bool = True) -> None:
    """Answer one editor over standard input and output until it shuts the server down."""
    import gc

    # Each check makes and drops a syntax tree of up to a million objects, all freed by
    # reference counting (trees hold no cycles); with the default thresholds the cyclic
    # collector rescans them many times per check, a fifth of its time.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    create_server(incremental).start_io()
