"""A real editor client (pytest-lsp) talking to `flowlang lsp` over stdio, and helpers."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

# The console script an editor starts, from the environment running the tests.
FLOWLANG = str(Path(sys.executable).with_name("flowlang"))


# One server for the whole run (it starts in a few seconds); each test opens its own documents.
@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[FLOWLANG, "lsp", "--stdio"]),
    scope="session",
    loop_scope="session",
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=pytest_lsp.client_capabilities("visual-studio-code"))
    )
    yield lsp_client
    await lsp_client.shutdown_session()


async def open_flow(client: LanguageClient, path: Path, text: str) -> str:
    """Open `text` as the document at `path` and wait for its first diagnostics; the URI."""
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="flowlang", version=1, text=text)
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


def at(line: int, character: int) -> types.Position:
    """A 0-based position, as editors send them."""
    return types.Position(line=line, character=character)


async def formatting(client: LanguageClient, uri: str) -> list[types.TextEdit] | None:
    """What the server answers when the editor asks to format the document at `uri`."""
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            options=types.FormattingOptions(tab_size=4, insert_spaces=True),
        )
    )
    return None if edits is None else list(edits)


# A line with its line break, as LSP (and an editor) breaks lines: at "\r\n", "\r" or "\n".
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def applied(text: str, edits: Sequence[types.TextEdit]) -> str:
    """`text` with `edits` made as an editor makes them: every range read in the text before
    any edit (0-based lines, characters in UTF-16 code units). Fails on edits that overlap or
    on a position that is not the start or end of a character in a line of `text`."""
    lines = _LINE.findall(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        if position.line == len(lines):
            assert position.character == 0 and text[-1:] in ("\n", "\r"), position
            return len(text)
        line = lines[position.line].rstrip("\r\n")
        units = 0
        for index, character in enumerate(line):
            if units == position.character:
                return starts[position.line] + index
            units += 2 if ord(character) > 0xFFFF else 1
        assert units == position.character, (position, line)
        return starts[position.line] + len(line)

    spans = sorted((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits)
    for (_, end, _), (start, _, _) in zip(spans, spans[1:], strict=False):
        assert end <= start, spans
    for start, end, new in reversed(spans):
        assert start <= end
        text = text[:start] + new + text[end:]
    return text
