"""`flowlang test --junit FILE`: the JUnit XML CI systems read, checked by parsing it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowlang.cli import main
from flowlang.offline.scenario.junit import Case, Suite, render
from tests.sim.helpers import flow
from tests.sim.test_scenarios import MENU

SCENARIOS = flow(
    """\
    scenario "sales":
        press "1"
        expect transfer "+13125550001"
    scenario "wrong":
        press "1"
        expect step support
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "menu.flow").write_text(MENU, encoding="utf-8")
    (tmp_path / "menu.scenarios").write_text(SCENARIOS, encoding="utf-8")
    return tmp_path


def run_junit(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, ET.Element]:
    report = project / "out" / "junit.xml"
    report.parent.mkdir()
    status = main(["test", str(project), "--junit", str(report)])
    return status, capsys.readouterr().out, ET.parse(report).getroot()


def test_a_passing_and_a_failing_scenario_are_two_test_cases_of_one_suite(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, root = run_junit(project, capsys)
    assert status == 1
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    (suite,) = root
    scenarios = str(project / "menu.scenarios")
    assert (suite.tag, suite.get("name"), suite.get("tests"), suite.get("failures")) == (
        "testsuite", scenarios, "2", "1"
    )
    passing, failing = suite
    assert [c.get("name") for c in suite] == ["sales", "wrong"]
    assert [c.get("line") for c in suite] == ["1", "4"]
    assert {c.get("file") for c in suite} == {scenarios}
    assert list(passing) == []
    (failure,) = failing
    assert failure.tag == "failure"
    # The same words the text output shows: its failure line, and the whole side-by-side block.
    message = failure.get("message")
    assert message == (
        f"{scenarios}:6: expected `expect step support` after `press \"1\"`,"
        " but nothing like it happened"
    )
    assert f"  {message}\n" in out
    assert failure.text and failure.text in out
    assert "X" in failure.text and "the call (" in failure.text


def test_a_scenario_file_that_cannot_run_is_a_test_case_in_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "menu.scenarios").write_text('scenario "x":\n    jump\n', encoding="utf-8")
    status, out, root = run_junit(project, capsys)
    assert status == 1
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    ((testcase,),) = root
    (error,) = testcase
    assert (testcase.get("name"), error.tag) == ("menu.scenarios", "error")
    assert error.get("message") == f"cannot run the scenarios of {project / 'menu.scenarios'}"
    assert "error[FL901]: `jump` is not a scenario step" in (error.text or "")
    assert error.get("message") in out


def test_a_junit_file_that_cannot_be_written_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = project / "no such folder" / "junit.xml"
    assert main(["test", str(project), "--junit", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"--junit {target}: cannot write the file (No such file or directory)" in err


# Scenario names and failure messages come from the user's files: any text at all.
_TEXT = st.text(max_size=20)


@given(st.lists(st.tuples(_TEXT, st.none() | _TEXT, _TEXT), max_size=4), _TEXT)
def test_any_names_and_messages_give_a_document_that_parses(
    cases: list[tuple[str, str | None, str]], file: str
) -> None:
    suite = Suite(file, tuple(Case(n, 1, 0.0, m, d) for n, m, d in cases))
    root = ET.fromstring(render([suite]).encode("utf-8"))
    (parsed,) = root
    assert len(parsed) == len(cases) == int(parsed.get("tests", ""))
    for element, (name, message, _) in zip(parsed, cases, strict=True):
        # A character XML cannot hold, such as a control character, is shown as U+FFFD.
        assert _same_but_unholdable(element.get("name", ""), name)
        failures = element.findall("failure")
        assert len(failures) == (message is not None)
        if message is not None:
            assert _same_but_unholdable(failures[0].get("message", ""), message)


def _same_but_unholdable(got: str, given: str) -> bool:
    if len(got) != len(given):
        return False
    return all(g == w or g == "\ufffd" for g, w in zip(got, given, strict=True))
