"""`flowlang check`, `rule` and `graph` as a person runs them: output and exit status."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from flowlang.cli import main

CLEAN = 'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    say "Hello."\n    hangup\n'
WARNS = 'main:\n    transfer "+13125550001"\n'  # FL202 no-answer
ERRS = "main:\n    answer\n    goto nowhere\n"  # FL101


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder with its own pyproject.toml, so the repository's config does not apply."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "extra", "status", "summary"),
    [
        (CLEAN, [], 0, "All checks passed (1 file)."),
        (WARNS, [], 0, "Found 1 warning in 1 file."),
        (WARNS, ["--strict"], 1, "Found 1 warning in 1 file."),
        (ERRS, [], 1, "Found 1 error in 1 file."),
    ],
    ids=["clean", "warnings-pass", "strict-warnings-fail", "errors-fail"],
)
def test_exit_status_and_summary(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    extra: list[str],
    status: int,
    summary: str,
) -> None:
    write(workdir, "a.flow", text)
    assert main(["check", "a.flow", *extra]) == status
    assert capsys.readouterr().out.splitlines()[-1] == summary


def test_folders_are_searched_for_flow_files(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "flows/a.flow", CLEAN)
    write(workdir, "flows/deep/b.flow", ERRS)
    write(workdir, "flows/notes.txt", "not a flow")
    assert main(["check", "flows"]) == 1
    out = capsys.readouterr().out
    assert "flows/deep/b.flow:3:10" in out
    assert out.splitlines()[-1] == "Found 1 error in 1 file."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "missing.flow"], "missing.flow: no such file or folder"),
        (["check", "bad.flow"], "not UTF-8"),
        (["check", "a.flow", "--select", "E501"], "`E501` is not a rule code"),
        (["rule", "FL999"], "no rule `FL999`"),
    ],
    ids=["missing-file", "not-utf8", "bad-select", "unknown-rule"],
)
def test_usage_errors_exit_2_with_one_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    write(workdir, "a.flow", CLEAN)
    (workdir / "bad.flow").write_bytes(b"main:\n    say \"\xff\"\n")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err
    assert "Traceback" not in err


def test_a_missing_file_is_named_and_the_others_are_still_checked(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "a.flow", ERRS)
    assert main(["check", "a.flow", "nope.flow"]) == 2
    out, err = capsys.readouterr()
    assert err == "flowlang: error: nope.flow: no such file or folder\n"
    assert "a.flow:3:10" in out
    assert out.splitlines()[-1] == "Found 1 error in 1 file; 1 file could not be read."


def test_select_and_ignore(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(workdir, "a.flow", "main:\n    say \"Hi\"\n    goto nowhere\n")
    main(["check", "a.flow", "--format", "json", "--select", "FL1,FL2"])
    assert '"FL403"' not in capsys.readouterr().out
    assert main(["check", "a.flow", "--ignore", "FL101", "--ignore", "FL2,FL4"]) == 0
    assert capsys.readouterr().out.strip() == "All checks passed (1 file)."


def test_suppression_comment_on_the_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n'
        "    goto nowhere  # flowlang: ignore[FL101]\n"
        "    goto other  # flowlang: ignore[FL104, FL101]\n"
    )
    write(workdir, "a.flow", text)
    assert main(["check", "a.flow"]) == 0
    assert capsys.readouterr().out.strip() == "All checks passed (1 file)."


def test_pyproject_config_applies(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(workdir, "pyproject.toml", '[tool.flowlang]\nignore = ["FL101"]\nstrict = true\n')
    write(workdir, "sub/a.flow", ERRS)
    write(workdir, "sub/b.flow", WARNS)
    assert main(["check", "sub/a.flow"]) == 0
    assert main(["check", "sub"]) == 1  # strict: the warning of b.flow fails the run
    capsys.readouterr()
    assert main(["check", "sub", "--no-config"]) == 1
    assert "FL101" in capsys.readouterr().out


@pytest.mark.parametrize("empty", ["", ",,,", " , "], ids=["empty", "commas", "spaces"])
def test_an_empty_select_is_a_usage_error_not_a_pass(
    workdir: Path, capsys: pytest.CaptureFixture[str], empty: str
) -> None:
    # An unset variable in CI (`--select "$RULES"`) must not silence every check.
    write(workdir, "a.flow", ERRS)
    assert main(["check", "a.flow", "--select", empty]) == 2
    out, err = capsys.readouterr()
    assert "All checks passed" not in out
    assert len(err.strip().splitlines()) == 1
    assert "--select names no rule code" in err
    assert "leave out --select to check every rule" in err


def test_an_empty_select_in_the_config_is_a_usage_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "pyproject.toml", "[tool.flowlang]\nselect = []\n")
    write(workdir, "a.flow", ERRS)
    assert main(["check", "a.flow"]) == 2
    out, err = capsys.readouterr()
    assert "All checks passed" not in out
    assert "select names no rule code" in err
    assert "remove the `select` line" in err


def test_an_empty_ignore_still_checks_everything(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "a.flow", ERRS)
    assert main(["check", "a.flow", "--ignore", ""]) == 1
    assert "FL101" in capsys.readouterr().out


def test_bad_config_is_a_usage_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(workdir, "pyproject.toml", "[tool.flowlang]\nselect = 3\n")
    write(workdir, "a.flow", CLEAN)
    assert main(["check", "a.flow"]) == 2
    assert "`select` must be a list of rule codes" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"], ids=["json", "sarif", "github"])
def test_every_format_reports_the_same_finding(
    workdir: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    write(workdir, "a.flow", ERRS)
    assert main(["check", "a.flow", "--format", fmt]) == 1
    out = capsys.readouterr().out
    assert "FL101" in out and "`nowhere`" in out


def test_a_missing_file_is_named_in_the_json_and_sarif_logs(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # CI uploads the log even when the run fails: it says that a file was not checked, rather
    # than looking like a clean run of the files that were.
    write(workdir, "a.flow", ERRS)
    assert main(["check", "a.flow", "gone.flow", "--format", "json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["summary"]["unreadable"] == 1
    assert document["summary"]["errors"] >= 1
    assert main(["check", "a.flow", "gone.flow", "--format", "sarif"]) == 2
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["results"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["message"]["text"] == "gone.flow: no such file or folder"


def test_a_clean_sarif_run_says_it_succeeded(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "a.flow", CLEAN)
    assert main(["check", "a.flow", "--format", "sarif"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]


def _sarif_places(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, list[object]]:
    """The %SRCROOT% a `check --format sarif` run names, and its results' artifact locations."""
    main(["check", *args, "--format", "sarif"])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    places = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    return run["originalUriBaseIds"]["%SRCROOT%"]["uri"], places


def test_sarif_paths_are_named_from_the_git_repository_root_when_run_in_a_subfolder(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `cd flows && flowlang check --format sarif .`: code scanning matches a result to a file
    # by its path from the repository's root.
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    repo = workdir / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write(repo, "flows/sub dir/a.flow", ERRS)
    write(workdir, "other/b.flow", ERRS)
    monkeypatch.chdir(repo / "flows")
    root, places = _sarif_places(capsys, ".", str(repo / "flows" / "sub dir" / "a.flow"))
    assert root == repo.as_uri() + "/"
    expected = {"uri": "flows/sub%20dir/a.flow", "uriBaseId": "%SRCROOT%"}
    # Named relative to here or by its full path, a file in the repository is named from its root.
    assert places == [expected, expected]
    # Outside the repository, a file keeps its full path.
    root, places = _sarif_places(capsys, "../../other/b.flow")
    assert places == [{"uri": (workdir / "other" / "b.flow").as_uri()}]


def test_sarif_paths_are_named_from_github_workspace_when_it_holds_the_files(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(workdir, "flows/a.flow", ERRS)
    monkeypatch.chdir(workdir / "flows")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workdir))
    root, places = _sarif_places(capsys, "a.flow")
    assert root == workdir.as_uri() + "/"
    assert places == [{"uri": "flows/a.flow", "uriBaseId": "%SRCROOT%"}]
    # A workspace that does not hold the files is not their root: here (no repository) is.
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workdir / "elsewhere"))
    root, places = _sarif_places(capsys, "a.flow")
    assert root == (workdir / "flows").as_uri() + "/"
    assert places == [{"uri": "a.flow", "uriBaseId": "%SRCROOT%"}]


def test_github_annotations_name_files_from_the_git_repository_root_off_a_runner(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    subprocess.run(["git", "init", "-q", str(workdir)], check=True)
    write(workdir, "flows/a.flow", ERRS)
    monkeypatch.chdir(workdir / "flows")
    assert main(["check", "a.flow", "--format", "github"]) == 1
    assert capsys.readouterr().out.startswith("::error file=flows/a.flow,line=3,")


def test_rule_prints_its_documentation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "unknown-step"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FL101 unknown-step (error)")
    assert "## Why is this bad?" in out and "## Use instead" in out


@pytest.mark.parametrize("code", ["FL041", "fl041"])
def test_rule_explains_a_syntax_error_from_docs_errors(
    capsys: pytest.CaptureFixture[str], code: str
) -> None:
    from flowlang.lsp.reference import syntax_error

    assert main(["rule", code]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FL041 an expression nested too deeply (syntax error)\n")
    section = syntax_error("FL041")
    assert section is not None and section.body in out
    assert out.endswith("(docs/errors.md#fl041-an-expression-nested-too-deeply)\n")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("FL1011", "no rule `FL1011` (did you mean `FL101` or `FL111`?)"),
        ("unknwn-step", "no rule `unknwn-step` (did you mean `unknown-step`?)"),
        ("FL0411", "no syntax error `FL0411` (did you mean `FL011` or `FL041`?)"),
        ("FL025", "no syntax error `FL025`; codes starting with FL0 are syntax errors"),
        ("FL999", "no rule `FL999`; run `flowlang rule` to list them"),
    ],
    ids=["code-typo", "name-typo", "syntax-typo", "unknown-syntax", "nothing-near"],
)
def test_an_unknown_code_is_refused_with_the_codes_one_typo_away(
    capsys: pytest.CaptureFixture[str], code: str, message: str
) -> None:
    assert main(["rule", code]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_rule_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    from flowlang.lint.registry import all_rules

    assert main(["rule"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [r.code for r in all_rules()]


def test_graph_draws_mermaid_and_dot(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    gather:\n'
        '        say "Press 1."\n        on digits "1": transfer "+13125550001"\n'
        "        on invalid: hangup\n        on timeout: goto main\n"
    )
    write(workdir, "a.flow", text)
    assert main(["graph", "a.flow"]) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("flowchart TD\n")
    assert '-->|"1"|' in mermaid and '-->|"timeout"|' in mermaid
    assert main(["graph", "a.flow", "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph flow {") and '[label="invalid"]' in dot


def test_graph_of_a_broken_flow_shows_the_syntax_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "a.flow", "main:\n    goto\n")
    assert main(["graph", "a.flow"]) == 1
    assert "error[FL" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("select", "ignore", "code", "wanted"),
    [
        (None, (), "FL101", True),
        (None, ("FL101",), "FL202", True),
        (None, ("FL101",), "FL101", False),
        (None, ("FL1",), "FL102", False),
        (("FL3",), (), "FL101", False),
        (("FL3",), ("FL301",), "FL302", True),
        (("FL3",), ("FL301",), "FL301", False),
        (("FL301",), ("FL3",), "FL301", True),
        (("FL301",), ("FL301",), "FL301", False),
    ],
    ids=[
        "default-all",
        "ignore-other",
        "ignore-exact",
        "ignore-prefix",
        "select-other-family",
        "select-family-ignore-one-keeps-rest",
        "select-family-ignore-one-drops-it",
        "specific-select-beats-broad-ignore",
        "ignore-wins-a-tie",
    ],
)
def test_selection_longest_match_wins(
    select: tuple[str, ...] | None, ignore: tuple[str, ...], code: str, wanted: bool
) -> None:
    from flowlang.lint.selection import Selection

    assert Selection(select=select, ignore=ignore).wants(code) is wanted


def test_graph_shows_conditions_and_the_hangup_handler() -> None:
    from flowlang.graph import to_mermaid
    from flowlang.syntax.parser import parse

    text = (
        'voice "v"\n\nmain:\n    answer\n    if caller == "+1":\n        hangup\n'
        '    elif caller == "+2":\n        transfer "+3"\n    say "x"\n    hangup\n\n'
        'on hangup:\n    log "bye"\n'
    )
    drawn = to_mermaid(parse(text))
    assert '{"if caller == #quot;+1#quot;"}' in drawn
    assert '{"elif caller == #quot;+2#quot;"}' in drawn
    assert '(["on hangup"])' in drawn


def test_an_unknown_setting_lists_every_top_level_word(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "a.flow", 'voise "x"\nmain:\n    answer\n')
    assert main(["check", "a.flow"]) == 1
    out = capsys.readouterr().out
    assert "did you mean `voice`?" in out
    for word in ("`timezone`", "`sms_from`", "`outbound from`", '`include "FILE"`',
                 "`input NAME`", "`languages:`", "`hours NAME:`", "`on hangup:`"):
        assert word in out


@pytest.mark.parametrize("name", ["menu.scenarios", "menu.txt"])
def test_checking_a_scenario_file_points_to_flowlang_test(
    workdir: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    write(workdir, name, 'scenario "sales":\n    press "1"\n    expect transfer "+1"\n')
    assert main(["check", name]) == 1
    out = capsys.readouterr().out
    assert "this looks like a scenario file (tests of a flow), not a flow" in out
    assert "run it with `flowlang test" in out
    assert "the settings are `voice` and `language`" not in out


def test_a_whole_scenario_file_given_to_check_is_one_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Every line of it is not a flow line: one error that says which command reads it.
    scenarios = Path(__file__).resolve().parents[2] / "examples" / "pin_entry.scenarios"
    assert main(["check", str(scenarios)]) == 1
    out = capsys.readouterr().out
    assert out.count("error[") == 1 and "Found 1 error in 1 file." in out
    assert f"run it with `flowlang test {scenarios}`" in out


def test_a_scenario_file_starting_with_flow_points_to_flowlang_test_by_its_name(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "menu.scenarios", 'flow "menu.flow"\n')
    assert main(["check", "menu.scenarios"]) == 1
    assert "run it with `flowlang test menu.scenarios`" in capsys.readouterr().out
