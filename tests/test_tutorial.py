"""The tutorial shows what flowlang really prints: its copied simulate output is kept current."""

from __future__ import annotations

import re
from pathlib import Path

from flowlang.cli import main

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), flags=re.S)


def test_the_finished_bakery_flow_simulates_as_the_tutorial_shows(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bakery.flow").write_text(blocks("flow")[-1], encoding="utf-8")
    assert main(["simulate", "bakery.flow", "--input", "1"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed in [text.strip() for text in blocks("text")]


ASSISTANT_CHAPTER = TUTORIAL.parent / "tutorial-assistant.md"


def test_the_assistant_chapter_shows_what_flowlang_prints(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    text = ASSISTANT_CHAPTER.read_text(encoding="utf-8")
    (flow,) = re.findall(r"```flow\n(.*?)```", text, flags=re.S)
    shown = [t.strip() for t in re.findall(r"```text\n(.*?)```", text, flags=re.S)]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bakery.flow").write_text(flow, encoding="utf-8")
    for given in ("end", "key=0"):
        assert main(["simulate", "bakery.flow", "--input", given]) == 0
        assert capsys.readouterr().out.strip() in shown
    without_id = flow.replace(flow.splitlines()[6], "    assistant:")
    (tmp_path / "bakery.flow").write_text(without_id, encoding="utf-8")
    assert main(["check", "bakery.flow"]) == 1
    assert shown[0] in capsys.readouterr().out
