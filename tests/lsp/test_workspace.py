"""The server's copy of a document (flowlang.lsp.workspace)."""

from __future__ import annotations

from lsprotocol import types

from flowlang.lsp.workspace import FlowTextDocument


def test_lines_are_split_once_per_version() -> None:
    # Each position the server sends (every item of a completion list, every place a rename
    # writes) reads the document's lines: split again each time, a completion of the 1,250
    # steps of a 5,000-line flow took a second.
    text = "main:\n    answer\n"
    incremental = types.TextDocumentSyncKind.Incremental
    document = FlowTextDocument("file:///tmp/a.flow", text, sync_kind=incremental)
    lines = document.lines
    assert document.lines is lines
    assert lines == ("main:\n", "    answer\n")
    start = types.Position(line=1, character=4)
    document.apply_change(
        types.TextDocumentContentChangePartial(range=types.Range(start, start), text="# ")
    )
    assert document.lines == ("main:\n", "    # answer\n")
    assert document.lines is document.lines
