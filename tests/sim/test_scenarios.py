"""Scenario files: the parser's diagnostics, pass/fail rendering, coverage and `flowlang test`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flowlang.cli import main
from flowlang.diagnostics import Diagnostic, render_text
from flowlang.offline.phone import AiResult, HangUp, KeyDuringAi, Press, Silence
from flowlang.offline.scenario.report import side_by_side
from flowlang.offline.scenario.run import run_scenario
from flowlang.offline.scenario.syntax import Act, Expect, ScenarioSyntaxError, parse_scenarios
from flowlang.source import Source
from tests.sim.helpers import EXAMPLES, flow, program

MENU = flow(
    """\
    voice "Telnyx.KokoroTTS.af"

    main:
        answer
        say "Welcome to Acme."
        gather tries 2:
            say "For sales press 1. For support press 2."
            on digits "1":
                log "sales chosen"
                transfer "+13125550001"
            on digits "2": goto support
            on timeout: say "Nobody there?"
        hangup

    support:
        if caller == "+15550009999":
            say "Welcome back, friend."
        else:
            say "Please hold for support."
        transfer "+13125550002"
    """
)


def parse(text: str) -> object:
    return parse_scenarios(Source("t.scenarios", text))


def refused(text: str) -> Diagnostic:
    """The one diagnostic with which `text` is refused."""
    with pytest.raises(ScenarioSyntaxError) as caught:
        parse(text)
    (diagnostic,) = caught.value.diagnostics
    return diagnostic


def test_every_step_form_parses() -> None:
    text = flow(
        """\
        # a comment
        flow "other.flow"
        from "+15551112222"

        scenario "All the forms":
            to "+15553334444"
            press "1"
            press 1234#
            press key "0"
            silence
            hang up
            ai returns {"name": "Bob", "guests": 4}
            ai fails {"name": "Bob"}
            ai fails
            conversation ends
            expect say "Hello"   # a comment after a step
            expect hear "Hello"
            expect play "https://example.com/a.mp3"
            expect transfer "+13125550001"
            expect hangup
            expect hang up
            expect end completed
            expect step support
            expect log "sales"
            expect error "compare"
            expect error
        """
    )
    file = parse(text)
    scenario = file.scenarios[0]
    assert (file.flow, file.caller, scenario.called) == ("other.flow", "+15551112222",
                                                          "+15553334444")
    acts = [s.action for s in scenario.steps if isinstance(s, Act)]
    assert acts == [Press("1"), Press("1234#"), KeyDuringAi("0"), Silence(), HangUp(),
                    AiResult({"name": "Bob", "guests": 4}), AiResult({"name": "Bob"}, False),
                    AiResult({}, False), acts[-1]]
    expects = [(s.kind, s.value) for s in scenario.steps if isinstance(s, Expect)]
    assert expects == [("say", "Hello"), ("say", "Hello"),
                       ("play", "https://example.com/a.mp3"), ("transfer", "+13125550001"),
                       ("hangup", ""), ("hangup", ""), ("end", "completed"), ("step", "support"),
                       ("log", "sales"), ("error", "compare"), ("error", "")]


BROKEN = flow(
    """\
    flow "menu.flow"
    scenaro "typo":
    scenario "Bad steps":
        presss 1
        expect sya "Hello"
        ai returns {"name": }
        press "12
        expect end somehow
          silence
        press key "12"
    scenario "Bad steps":
        silence
    scenario "empty":
    press "1"
    """
)


def test_syntax_errors_are_positioned_and_hinted(golden) -> None:
    source = Source("broken.scenarios", BROKEN)
    with pytest.raises(ScenarioSyntaxError) as info:
        parse_scenarios(source)
    golden("sim/scenario_syntax_errors.txt",
           "".join(render_text(d, source) + "\n" for d in info.value.diagnostics))


@pytest.mark.parametrize(
    ("line", "help_"),
    [
        ('    Press "9"', 'steps are written in lowercase: write `press`, as in `press "1"`'),
        ("    Silence", "steps are written in lowercase: write `silence`"),
    ],
)
def test_a_step_written_with_a_capital_is_told_to_write_it_in_lowercase(
    line: str, help_: str
) -> None:
    diagnostic = refused(f'scenario "x":\n{line}\n')
    assert diagnostic.help == help_


def test_passing_scenario_reaches_its_points() -> None:
    prog = program(MENU)
    file = parse(flow(
        """\
        scenario "support":
            expect say "welcome to acme"
            press "2"
            expect step support
            expect say "Please hold"
            expect transfer "+1 312 555 0002"
            expect end transfer
        """
    ))
    result = run_scenario(prog, file.scenarios[0], file)
    assert result.passed, result.problem
    assert {"step:main", "step:support", "else:18"} <= result.reached


def test_a_failing_scenario_shows_both_conversations_side_by_side(golden) -> None:
    prog = program(MENU, "menu.flow")
    file = parse(flow(
        """\
        scenario "sales goes to the wrong number":
            expect say "Welcome"
            press "1"
            expect log "sales chosen"
            expect transfer "+13125559999"
        """
    ))
    result = run_scenario(prog, file.scenarios[0], file)
    assert not result.passed
    assert result.scenario_line == 5
    assert result.flow_line == 10
    golden("sim/scenario_failure.txt", side_by_side(result, "menu.scenarios", "menu.flow"))


def test_an_expect_written_after_the_action_it_came_before_says_so() -> None:
    # A transfer with a block is sent before the other side answers: `expect transfer` goes
    # above `transfer answered`, and the failure says where the transfer was.
    prog = program(flow(
        """\
        voice "Telnyx.KokoroTTS.af"

        main:
            answer
            transfer "+13125550001":
                on busy: hangup
        """
    ))
    file = parse(flow(
        """\
        scenario "the agent answers":
            transfer answered
            expect transfer "+13125550001"
        """
    ))
    result = run_scenario(prog, file.scenarios[0], file)
    assert not result.passed
    assert result.problem == (
        'expected `expect transfer "+13125550001"` after `transfer answered`, but instead: end:'
        " the caller was transferred (it happened before `transfer answered`: write the"
        " `expect` above that line)"
    )


def test_an_action_that_does_not_fit_fails_at_its_line(golden) -> None:
    prog = program(MENU, "menu.flow")
    file = parse(flow(
        """\
        scenario "ai result at a key press question":
            ai returns {"name": "Bob"}
        scenario "keys after the end":
            press "1"
            press "2"
        """
    ))
    first = run_scenario(prog, file.scenarios[0], file)
    second = run_scenario(prog, file.scenarios[1], file)
    assert (first.passed, first.scenario_line) == (False, 2)
    assert "asking for key presses" in (first.problem or "")
    assert (second.passed, second.scenario_line) == (False, 5)
    assert "already ended (transfer)" in (second.problem or "")
    golden("sim/scenario_action_failure.txt",
           side_by_side(second, "menu.scenarios", "menu.flow"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "menu.flow").write_text(MENU, encoding="utf-8")
    (tmp_path / "menu.scenarios").write_text(flow(
        """\
        scenario "sales":
            press "1"
            expect transfer "+13125550001"
        scenario "support":
            press "2"
            expect say "Please hold"
        """
    ), encoding="utf-8")
    return tmp_path


def test_flowlang_test_passes_and_lists_what_is_not_covered(project: Path, capsys,
                                                             golden) -> None:
    status = main(["test", str(project / "menu.flow"), "--coverage"])
    out = capsys.readouterr().out.replace(str(project), "<dir>")
    assert status == 0
    golden("sim/test_coverage.txt", out)


@pytest.mark.parametrize(
    ("floor", "status"), [("71", 0), ("71.4%", 0), ("72", 1), ("100", 1), ("0", 0)]
)
def test_fail_under_fails_a_flow_whose_coverage_is_under_it(
    project: Path, capsys, floor: str, status: int
) -> None:
    # Every scenario passes; 5 of the flow's 7 points are reached (71.4%).
    assert main(["test", str(project), "--fail-under", floor]) == status
    out = capsys.readouterr().out
    assert "2 passed, 0 failed" in out and "(71.4%)" in out
    said = f"is 71.4%, under --fail-under {floor.rstrip('%')}%: add scenarios that reach"
    assert (said in out) == bool(status)


@pytest.mark.parametrize("floor", ["ninety", "101", "-1", "nan"])
def test_fail_under_takes_a_percentage(project: Path, capsys, floor: str) -> None:
    assert main(["test", str(project), "--fail-under", floor]) == 2
    assert "give a percentage from 0 to 100, like 90" in capsys.readouterr().err


def test_coverage_json(project: Path, capsys) -> None:
    status = main(["test", str(project), "--coverage-format", "json"])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert status == 0
    assert "2 passed, 0 failed" in captured.err
    [report] = data["flows"]
    assert (report["points"], report["reached"]) == (7, 5)
    assert [m["point"] for m in report["missed"]] == ["on:12", "if:16"]
    assert report["missed"][1] == {"point": "if:16", "kind": "branch", "line": 16,
                                   "text": 'if caller == "+15550009999":'}


def test_flowlang_test_exits_1_on_a_failure_and_shows_it(project: Path, capsys) -> None:
    with (project / "menu.scenarios").open("a", encoding="utf-8") as f:
        f.write('scenario "wrong":\n    press "1"\n    expect step support\n')
    status = main(["test", str(project)])
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL  wrong" in out and "2 passed, 1 failed" in out
    assert "menu.scenarios:9: expected `expect step support`" in out


def test_flowlang_test_reports_a_broken_scenario_file(project: Path, capsys) -> None:
    (project / "menu.scenarios").write_text('scenario "x":\n    jump\n', encoding="utf-8")
    status = main(["test", str(project)])
    out = capsys.readouterr().out
    assert status == 1
    assert "error[FL901]: `jump` is not a scenario step" in out
    assert "1 file could not run" in out


@pytest.mark.parametrize("text", ["", "# only a comment\n\n# and another\n",
                                  'flow "menu.flow"\n'], ids=["empty", "comments", "no-block"])
def test_a_file_without_scenarios_is_an_error_not_a_pass(project: Path, capsys,
                                                         text: str) -> None:
    (project / "menu.scenarios").write_text(text, encoding="utf-8")
    status = main(["test", str(project)])
    out = capsys.readouterr().out
    assert status == 1
    assert "error[FL904]: no scenarios in this file" in out
    assert 'write one `scenario "...":` block' in out
    assert "1 file could not run" in out


def test_expect_step_of_a_step_the_flow_lacks_is_an_error_before_running(project: Path,
                                                                        capsys) -> None:
    (project / "menu.scenarios").write_text(
        'scenario "x":\n    press "1"\n    expect step nowhere\n', encoding="utf-8"
    )
    status = main(["test", str(project)])
    out = capsys.readouterr().out
    assert status == 1
    assert "error[FL901]: `nowhere` is not a step of menu.flow" in out
    assert "menu.scenarios:3:17" in out
    assert "^^^^^^^ no such step" in out
    assert "the steps of menu.flow are `main`" in out
    assert "nothing like it happened" not in out
    assert "1 file could not run" in out


def test_flowlang_test_reports_a_missing_flow(tmp_path: Path, capsys) -> None:
    (tmp_path / "lonely.scenarios").write_text('scenario "x":\n    silence\n', encoding="utf-8")
    assert main(["test", str(tmp_path)]) == 1
    assert "lonely.flow, cannot be read" in capsys.readouterr().out


@pytest.mark.parametrize("target", ["nothing-here", "empty-dir", "flow-without-scenarios"],
                         ids=["missing", "empty-folder", "flow-alone"])
def test_flowlang_test_usage_errors_exit_2(tmp_path: Path, capsys, target: str) -> None:
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "flow-without-scenarios.flow").write_text(MENU, encoding="utf-8")
    path = tmp_path / (target + ".flow" if target.startswith("flow") else target)
    assert main(["test", str(path)]) == 2
    assert capsys.readouterr().err.startswith("flowlang: error:")


def test_examples_pass_with_full_coverage(tmp_path: Path, capsys) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    status = main(["test", str(tmp_path / "examples"), "--coverage"])
    out = capsys.readouterr().out
    assert status == 0
    assert "0 failed" in out and "not reached" not in out


def test_a_file_named_twice_runs_once(project: Path, capsys) -> None:
    status = main(["test", str(project), str(project / "menu.scenarios"),
                   str(project / "menu.flow")])
    assert status == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out


def test_expect_play_matches_audio_not_speech() -> None:
    prog = program(flow(
        """\
        voice "Telnyx.KokoroTTS.af"
        main:
            answer
            play "https://example.com/hold.mp3"
            gather:
                play media "menu-prompt"
                on digits "1": say "You chose the hold music."
        """
    ))
    file = parse(flow(
        """\
        scenario "audio":
            expect play "hold.mp3"
            expect play "menu-prompt"
            press "1"
        scenario "speech is not audio":
            press "1"
            expect play "hold music"
        """
    ))
    assert run_scenario(prog, file.scenarios[0], file).passed
    assert not run_scenario(prog, file.scenarios[1], file).passed


def test_curly_quotes_pasted_from_word_are_named_and_the_line_shown_with_straight_ones() -> None:
    diagnostic = refused('scenario "ai":\n    expect say \u201cThanks Bob\u201d\n')
    assert "curly" in diagnostic.message
    assert diagnostic.help == 'type straight quotes: `expect say "Thanks Bob"`'


@pytest.mark.parametrize(
    ("written", "problem", "fix"),
    [
        ("312-555-0001", "is missing the `+` and the country code", "`+13125550001`"),
        ("0044 20 7946 0000", "starts with the international prefix `00`", "`+442079460000`"),
    ],
)
def test_an_expected_transfer_no_flow_can_make_is_an_error_at_the_number(
    written: str, problem: str, fix: str
) -> None:
    # A flow transfers only to numbers in international form (FL112); spaces and dashes are
    # ignored when matching, but a number without its `+` and country code never matches.
    diagnostic = refused(f'scenario "sales":\n    press "1"\n    expect transfer "{written}"\n')
    assert diagnostic.message == f'"{written}" {problem}, so no transfer of a flow can match it'
    assert diagnostic.span is not None and diagnostic.span.column == 21
    assert fix in (diagnostic.help or "")
    for fine in ("+1 312-555-0001", "sip:desk@example.com"):
        parse(f'scenario "sales":\n    press "1"\n    expect transfer "{fine}"\n')


def test_a_scenario_name_without_quotes_is_one_error_showing_it_quoted() -> None:
    diagnostic = refused('scenario sales:\n    press "1"\n    expect transfer "+13125550001"\n')
    assert diagnostic.message == "expected the scenario's name in double quotes"
    assert diagnostic.help == 'write it like `scenario "sales":`'


@pytest.mark.parametrize(
    "written", ['{name: "Bob"}', "{'name': 'Bob'}", "{ name : 'Bob' }"]
)
def test_an_ai_result_with_bare_or_single_quoted_names_shows_it_in_json(written: str) -> None:
    diagnostic = refused(f'scenario "ai":\n    ai returns {written}\n    expect say "Thanks Bob"\n')
    assert diagnostic.message == "put each field name in double quotes"
    assert diagnostic.help == 'write `{"name": "Bob"}`'


@pytest.mark.parametrize(
    ("written", "message"),
    [("[1, 2]", "the backend's answer must be a JSON object"),
     ('{"state": }', "the backend's answer is not valid JSON: Expecting value")],
)
def test_a_backend_answer_that_is_not_an_object_is_not_called_an_ai_result(
    written: str, message: str
) -> None:
    diagnostic = refused(f'scenario "order":\n    backend returns {written}\n')
    assert diagnostic.message == message
    assert "backend" in (diagnostic.help or "") and "guests" not in (diagnostic.help or "")
