"""The server's copy of open documents, with lines as LSP counts them; and its protocol.

pygls splits a document with `str.splitlines()`, which also breaks at U+2028, U+2029, form
feeds, U+0085 and more; LSP (and every editor) ends a line only at "\\n", "\\r\\n" or "\\r".
Such a character in a string pasted from a word processor would shift every line below it: an
incremental edit would land on the wrong line, and the server's copy would drift from the
editor's. Here a document's `lines` (used to apply edits and to map positions) follow LSP."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import TextDocument, Workspace

# A line and its end: "\r\n", "\r" or "\n" (or none, for the last line).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def lsp_lines(text: str) -> list[str]:
    """`text` split into lines, each keeping its line break, where LSP breaks lines."""
    return _LINE.findall(text)


class FlowTextDocument(TextDocument):
    """A pygls document whose lines end only at "\\n", "\\r\\n" and "\\r"."""

    _split: tuple[str, tuple[str, ...]] | None = None

    @property
    def lines(self) -> Sequence[str]:
        # Split once per version of the text: each position the server sends reads them.
        source = self.source
        if self._split is None or self._split[0] is not source:
            self._split = (source, tuple(lsp_lines(source)))
        return self._split[1]


class FlowWorkspace(Workspace):
    """A pygls workspace whose documents are `FlowTextDocument`s."""

    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return FlowTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self.position_codec,
        )


class _Refused:
    """A request whose parameters could not be read: its answer is `error`."""

    def __init__(self, msg_id: int | str, error: JsonRpcException) -> None:
        self.id = msg_id
        self.error = error


class FlowProtocol(LanguageServerProtocol):
    """pygls's protocol, except that a request whose parameters do not fit its method (a
    negative position, a missing field) is answered with an error, as JSON-RPC says: pygls
    logs it and sends nothing, and the editor waits for an answer that never comes."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "method" in data and isinstance(data.get("id"), int | str):
                return _Refused(data["id"], exc)
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Refused):
            self._send_response(message.id, None, message.error.to_response_error())
            return
        super().handle_message(message)
