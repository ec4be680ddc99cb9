"""Format document over LSP, on random documents: the edits make the document what `flowlang
fmt` writes, with the document's line breaks; a tidy document gets none."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pytest_lsp import LanguageClient

from flowlang.cli import main
from flowlang.syntax.fmt import format_flow, format_text
from tests.lsp.conftest import applied, formatting, open_flow
from tests.strategies import flows

pytestmark = pytest.mark.asyncio(loop_scope="session")

BOM = "\ufeff"
_NUMBERS = itertools.count()


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A random flow as someone may have saved it: maybe untidy (its own indentation width,
    spaces at line ends, comments with emoji at any indentation, extra blank lines), with
    "\\n" or "\\r\\n" line breaks or a mix, maybe a byte order mark, maybe no last line break."""
    lines = format_flow(draw(flows(max_steps=3))).splitlines()
    if draw(st.booleans(), label="untidy"):
        width = draw(st.sampled_from([1, 2, 3, 4, 8]), label="indent width")
        untidy = []
        for line in lines:
            depth = (len(line) - len(line.lstrip(" "))) // 4
            untidy.append(" " * (width * depth) + line.lstrip(" "))
            if draw(st.integers(0, 5)) == 0:
                untidy[-1] += " " * draw(st.integers(1, 3))
            if draw(st.integers(0, 5)) == 0:
                indent = draw(st.sampled_from([0, 2, 4, 8]))
                untidy.append(" " * indent + "# call \N{TELEPHONE RECEIVER} us")
            if draw(st.integers(0, 8)) == 0:
                untidy.append("")
        lines = untidy
    breaks = draw(
        st.sampled_from(["\n", "\r\n", "mixed"]).flatmap(
            lambda kind: st.lists(
                st.sampled_from(["\n", "\r\n"]) if kind == "mixed" else st.just(kind),
                min_size=len(lines),
                max_size=len(lines),
            )
        ),
        label="line breaks",
    )
    if draw(st.booleans(), label="no last line break"):
        breaks[-1] = ""
    text = "".join(line + end for line, end in zip(lines, breaks, strict=True))
    return (BOM if draw(st.booleans(), label="byte order mark") else "") + text


def fmt_output(document: str) -> str:
    """What the formatter writes for `document`: its layout, with the line breaks of its first
    line break, and its byte order mark."""
    text = document.removeprefix(BOM)
    first = re.search(r"\r\n|\r|\n", text)
    end = "\r\n" if first is not None and first.group() == "\r\n" else "\n"
    return document[: len(document) - len(text)] + format_text(text).replace("\n", end)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("formatting")


async def format_and_close(client: LanguageClient, path: Path, text: str) -> list[types.TextEdit]:
    """The edits the server answers for `text` opened as `path`, which is closed again."""
    uri = await open_flow(client, path, text)
    edits = await formatting(client, uri)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=uri))
    )
    # Closing clears its diagnostics; waited for here, so that no later test takes them for its own.
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert edits is not None, text
    return edits


@settings(max_examples=40, deadline=None)
@given(document=documents())
async def test_the_edits_make_the_document_what_fmt_writes(
    client: LanguageClient, folder: Path, document: str
) -> None:
    expected = fmt_output(document)
    path = folder / f"random{next(_NUMBERS)}.flow"
    edits = await format_and_close(client, path, document)
    assert applied(document, edits) == expected
    # No edit writes what is already there: a tidy document gets none at all.
    assert all(applied(document, [e]) != document for e in edits)
    assert (edits == []) == (document == expected)
    # `flowlang fmt` writes the same file on disk; the result is tidy for both.
    path.write_bytes(document.encode("utf-8"))
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes().decode("utf-8") == expected
    assert await format_and_close(client, path, expected) == []
