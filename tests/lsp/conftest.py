"""A real editor client (pytest-lsp) talking to `flowlang lsp` over stdio, and helpers."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
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
