"""What `flowlang lsp` writes to its standard error, which editors show as the server's log."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.lsp.conftest import FLOWLANG


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_a_refused_request_logs_no_traceback(tmp_path: Path) -> None:
    # Renaming while a line is half typed is refused with a plain message: an everyday answer,
    # not a fault of the server, so its log stays free of Python tracebacks.
    uri = (tmp_path / "half.flow").as_uri()
    messages: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": uri,
                    "languageId": "flowlang",
                    "version": 1,
                    "text": "main:\n    answer\n    goto\n",
                }
            },
        },
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "textDocument/rename",
            "params": {
                "textDocument": {"uri": uri},
                "position": {"line": 0, "character": 1},
                "newName": "start",
            },
        },
        {"jsonrpc": "2.0", "id": 3, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    done = subprocess.run(
        [FLOWLANG, "lsp"],
        input=b"".join(_frame(m) for m in messages),
        capture_output=True,
        timeout=60,
    )
    assert b"fix them before renaming" in done.stdout  # the refusal reached the editor
    assert b"Traceback" not in done.stderr, done.stderr.decode()
