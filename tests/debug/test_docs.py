"""The session shown in docs/debugging.md is what `flowlang debug` prints for the same typing."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest

from flowlang.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
PAGE = ROOT / "docs" / "debugging.md"


def sessions() -> list[str]:
    blocks = re.findall(r"```text\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)
    return [b for b in blocks if b.startswith("$ flowlang debug ")]


def test_the_page_shows_a_whole_session() -> None:
    assert len(sessions()) == 1


@pytest.mark.parametrize("block", sessions(), ids=["session"])
def test_the_documented_session_is_what_the_debugger_prints(
    block: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command, shown = block.split("\n", 1)
    typed = "".join(line[len("(debug) "):] + "\n" for line in shown.splitlines()
                    if line.startswith("(debug) "))
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    assert main(shlex.split(command)[2:]) == 0
    assert capsys.readouterr().out == shown
