"""The tutorial shows what flowlang really prints: its copied simulate output is kept current."""

from __future__ import annotations

import re
import shlex
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


ORDER_CHAPTER = TUTORIAL.parent / "tutorial-order.md"


def test_the_order_lookup_chapter_simulates_and_tests_as_it_shows(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    text = ORDER_CHAPTER.read_text(encoding="utf-8")
    flow, _ = re.findall(r"```flow\n(.*?)```", text, flags=re.S)
    (scenarios,) = re.findall(r"```\n(scenario .*?)```", text, flags=re.S)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop.flow").write_text(flow, encoding="utf-8")
    (tmp_path / "shop.scenarios").write_text(scenarios, encoding="utf-8")
    answer = 'fetch={"found": true, "state": "on its way"}'
    assert main(["simulate", "shop.flow", "--input", "123456#", "--input", answer]) == 0
    printed = capsys.readouterr().out.strip()
    shown = re.findall(r"```text\n(.*?)```", text, flags=re.S)
    assert printed in [block.strip() for block in shown]
    assert main(["check", "--no-config", "shop.flow"]) == 0
    assert main(["test", "shop.scenarios", "--coverage"]) == 0
    out = capsys.readouterr().out
    assert "5 passed, 0 failed" in out and "(100%)" in out


def test_the_order_lookup_chapter_says_a_list_in_the_answer_as_it_shows(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    text = ORDER_CHAPTER.read_text(encoding="utf-8")
    flow, listed = re.findall(r"```flow\n(.*?)```", text, flags=re.S)
    said = 'say "Order {order as digits} is {status.state}."\n'
    assert said in flow, "section 6 changes the last `say` of shop.flow"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop.flow").write_text(flow.replace(said, listed.strip() + "\n"), encoding="utf-8")
    assert main(["check", "--no-config", "shop.flow"]) == 0
    capsys.readouterr()
    typed = text.split("\n## 6.", 1)[1].split("```sh\n", 1)[1].split("\n", 1)[0]
    argv = shlex.split(typed)
    assert argv[:3] == ["flowlang", "simulate", "shop.flow"]
    assert main(argv[1:]) == 0
    printed = capsys.readouterr().out.strip()
    assert 'say "Order 1 2 3 4 5 6 is on its way. It holds A1, B2 and C3."' in printed
    shown = re.findall(r"```text\n(.*?)```", text, flags=re.S)
    assert printed == shown[-1].strip()


def test_the_first_flow_checks_and_its_typo_is_shown_as_check_prints_it(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    first = blocks("flow")[0]
    shown = [text.strip() for text in blocks("text")]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bakery.flow").write_text(first, encoding="utf-8")
    assert main(["check", "bakery.flow"]) == 0
    assert capsys.readouterr().out.strip() in shown
    (tmp_path / "bakery.flow").write_text(first.replace("    say", "    sya"), encoding="utf-8")
    assert main(["check", "bakery.flow"]) == 1
    assert capsys.readouterr().out.strip() in shown


def test_the_office_flow_of_the_voicemail_chapter_is_whole_and_runs_each_way(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    chapter = TUTORIAL.with_name("tutorial-beyond-the-menu.md").read_text(encoding="utf-8")
    section = chapter.split("\n## 3.", 1)[1].split("\n## 4.", 1)[0]
    whole = re.findall(r"```flow\n(.*?)```", section, flags=re.S)
    assert len(whole) == 1 and whole[0].startswith("voice"), "section 3 shows office.flow whole"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "office.flow").write_text(whole[0], encoding="utf-8")
    assert main(["check", "office.flow"]) == 0
    # The two runs the chapter types: answered ends at the transfer; busy takes a message.
    assert main(["simulate", "office.flow", "--input", "answered"]) == 0
    assert "The call ended: the caller was transferred to +13125550170." in capsys.readouterr().out
    assert main(["simulate", "office.flow", "--input", "busy", "--input", "saved=20"]) == 0
    out = capsys.readouterr().out
    assert 'text +13125550100: "New voicemail from +15550001111: https:' in out
    assert out.rstrip().endswith("The call ended: the flow hung up.")
