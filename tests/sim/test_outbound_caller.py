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


def test_an_input_left_out_is_empty_with_a_warning_that_a_placed_call_needs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "call.flow"
    path.write_text(FLOW)
    assert main(["simulate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err.count("warning: no value for the flow's `input patient`") == 1
    assert "the server refuses to place a call without it: give --with patient=VALUE" in err
    assert 'say "Hello , this is +13125550199' in out


def test_a_scenario_with_a_value_for_no_input_of_the_flow_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "call.flow").write_text(FLOW)
    (tmp_path / "call.scenarios").write_text(
        'scenario "Ann":\n    with patient "Ann"\n    with pateint "Ann"\n    expect hangup\n'
    )
    assert main(["test", str(tmp_path / "call.scenarios")]) == 1
    out = capsys.readouterr().out
    assert "error[FL904]: `with pateint`: the flow has no `input pateint`" in out
    assert "the flow's inputs are `patient`" in out
