"""A simulated outbound call comes from the flow's `outbound from` number, as a placed call does
(on a placed call Telnyx reports `from` as the number it was placed from)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowlang.cli import main
from flowlang.compiler import compile_source
from flowlang.offline.simulator import simulate
from flowlang.source import Source

FLOW = """\
voice "Telnyx.KokoroTTS.af"
outbound from "+13125550199"
input patient

main:
    say "Hello {patient}, this is {caller} calling {called}."
    hangup
"""


def test_the_simulated_call_comes_from_the_outbound_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "reminder.flow"
    path.write_text(FLOW)
    assert main(["simulate", str(path), "--with", "patient=Ann"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Call from +13125550199 to +15550002222"
    assert "this is +13125550199 calling +15550002222." in out


def test_from_still_chooses_the_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "reminder.flow"
    path.write_text(FLOW)
    assert main(["simulate", str(path), "--with", "patient=Ann", "--from", "+13125550000"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Call from +13125550000 to +15550002222"


def test_the_simulator_gives_the_flow_the_outbound_number_as_caller() -> None:
    program = compile_source(Source("reminder.flow", FLOW))
    transcript = simulate(program, [], values={"patient": "Ann"})
    said = [c.body.get("payload") for c in transcript.commands if c.action == "speak"]
    assert said == ["Hello Ann, this is +13125550199 calling +15550002222."]
