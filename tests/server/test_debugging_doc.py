"""docs/debugging.md shows what flowlang really prints: its incident is served again and every
command it shows is run, its output compared with the page."""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowlang.cli import main
from flowlang.cli.inputs import read_source
from flowlang.compiler import compile_source
from flowlang.serve.store import open_store
from tests.server.live import ROOT
from tests.server.served import play

PAGE = ROOT / "docs" / "debugging.md"
# The calls of the incident: id, what the caller did, their number, seconds after 15:04:12.
CALLS = [
    ("v3:x9-Hb3LaURLX1zXnIYw1A", ["1"], "+17735550123", 0),
    ("v3:PqVz0f2w6dN8mKkZt5YcOg", ["3"], "+13125550147", 95),
    ("v3:Lw7cT1sUeR4aBn9DhJ2xQe", ["2"], "+13125550188", 400),
]
AFTERNOON = datetime(2026, 11, 23, 15, 4, 12, tzinfo=UTC)


def blocks(kind: str) -> list[str]:
    """The page's fenced blocks of `kind` (`""`: the blocks with no kind), in order."""
    found: list[str] = []
    inside: str | None = None
    body: list[str] = []
    for line in PAGE.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.startswith("```"):
            body.append(line)
        elif inside is None:
            inside, body = line.strip()[3:], []
        else:
            if inside == kind:
                found.append("".join(body))
            inside = None
    return found


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> object:
    # The page shows times on a computer set to UTC.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield None
    monkeypatch.undo()
    time.tzset()


def test_the_incident_prints_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    utc: object
) -> None:
    monkeypatch.chdir(tmp_path)
    (flow,) = blocks("flow")
    Path("bakery.flow").write_text(flow, encoding="utf-8")
    program = compile_source(read_source("bakery.flow"))

    async def serve() -> None:
        store = open_store("sqlite:///flowlang.db")
        try:
            for call_id, inputs, caller, after in CALLS:
                moment = AFTERNOON.timestamp() + after
                await play(store, program, call_id, inputs, caller=caller, started=moment,
                           occurred=datetime.fromtimestamp(moment, UTC))
        finally:
            await store.close()

    asyncio.run(serve())
    fix = next(b for b in blocks("") if "goto cakes" in b).strip()
    for block in blocks("console"):
        commands = re.split(r"^\$ ", block, flags=re.M)[1:]
        for shown in commands:
            command, _, expected = shown.partition("\n")
            words = shlex.split(command)
            assert words[0] == "flowlang"
            if "--flow" in words:
                text = Path("bakery.flow").read_text(encoding="utf-8")
                Path("bakery.flow").write_text(
                    text.replace('on digits "3": goto hours', fix), encoding="utf-8")
            main(words[1:])
            assert capsys.readouterr().out.rstrip() == expected.rstrip(), command
    (written,) = [b for b in blocks("") if b.startswith("# Scenarios made")]
    assert Path("bakery.scenarios").read_text(encoding="utf-8") == written
