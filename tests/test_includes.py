"""`include "PATH"` (LANGUAGE.md 15): files merged into one flow, findings in the right file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flowlang.cli import main
from flowlang.compiler import compile_source
from flowlang.errors import FlowError
from flowlang.includes import merge
from flowlang.lint import check_source
from flowlang.offline.scenario.coverage import coverage
from flowlang.source import LINE_BLOCK, Source
from flowlang.syntax.fmt import format_text
from flowlang.syntax.parser import parse_source

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "includes"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def source_of(path: Path) -> Source:
    return Source(str(path), path.read_text(encoding="utf-8"))


def findings(path: Path) -> list[tuple[str, str, int, int]]:
    return [
        (Path(d.file).name, d.code, d.span.line if d.span else 0, d.span.column if d.span else 0)
        for d in check_source(source_of(path))
    ]


def test_included_steps_are_part_of_the_flow() -> None:
    source = source_of(FIXTURES / "other_line.flow")
    merged = merge(source, parse_source(source))
    assert merged.diagnostics == ()
    assert [s.name.value for s in merged.flow.steps] == ["main", "operator", "ask_pin", "operator"]
    assert [s.name for s in merged.source.included] == [str(FIXTURES / "shared" / "common.flow")]
    # The included lines are numbered in a block of their own, and located back.
    ask_pin = merged.flow.steps[2]
    assert ask_pin.span is not None and ask_pin.span.line == LINE_BLOCK + 4
    part, line = merged.source.locate(ask_pin.span.line)
    assert (Path(part.name).name, line) == ("common.flow", 4)
    assert merged.source.line(ask_pin.span.line) == "ask_pin:"


def test_a_finding_in_an_included_file_points_into_that_file() -> None:
    assert findings(FIXTURES / "line.flow") == [("common.flow", "FL501", 6, 38)]


def test_a_step_defined_in_two_files_names_both_places() -> None:
    (found,) = check_source(source_of(FIXTURES / "other_line.flow"))
    assert found.code == "FL102"
    assert Path(found.file).name == "common.flow" and found.span is not None
    assert found.span.line == 11
    assert f"first at line 10 of {FIXTURES / 'other_line.flow'}" in found.message


def test_a_called_step_also_defined_in_the_including_file_is_one_error(tmp_path: Path) -> None:
    # As in the reuse tutorial, with the flow's own `verify:` kept beside the included one.
    (tmp_path / "shared.flow").write_text('verify:\n    log "shared"\n    return\n')
    (tmp_path / "main.flow").write_text(
        'include "shared.flow"\n\nmain:\n    answer\n    call verify\n    hangup\n\n'
        'verify:\n    log "own"\n    return\n'
    )
    (found,) = check_source(source_of(tmp_path / "main.flow"))
    assert found.code == "FL102"


def test_files_that_include_each_other_are_an_error() -> None:
    (found,) = check_source(source_of(FIXTURES / "cycle_a.flow"))
    assert found.code == "FL081"
    assert Path(found.file).name == "cycle_b.flow"
    assert "cycle_a.flow` includes `" in found.message


def test_a_missing_included_file_is_an_error_at_its_path() -> None:
    (found,) = check_source(source_of(FIXTURES / "missing.flow"))
    assert (found.code, found.span and found.span.line, found.span and found.span.column) == (
        "FL080",
        1,
        9,
    )
    assert "comon.flow" in found.message and "relative to the file" in (found.help or "")
    # The file meant is beside it, named as the include would write it (an editor's quick fix).
    assert (found.help or "").startswith("did you mean `shared/common.flow`? ")


@pytest.mark.parametrize(
    ("written", "meant"),
    [("parts/common", "parts/common.flow"), ("parts/Common.flow", "parts/common.flow"),
     ("nothing/like/it.flow", None)],
)
def test_a_missing_include_names_the_file_probably_meant(
    tmp_path: Path, written: str, meant: str | None
) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "common.flow").write_text('helper:\n    log "x"\n')
    (tmp_path / "a.flow").write_text(f'include "{written}"\n\nmain:\n    answer\n')
    (found,) = check_source(source_of(tmp_path / "a.flow"))
    assert found.code == "FL080"
    hint = f"did you mean `{meant}`? " if meant else ""
    assert (found.help or "") == (
        f"{hint}the path is relative to the file that includes it; check its spelling and folder"
    )


def test_a_syntax_error_in_an_included_file_is_reported_there() -> None:
    (found,) = check_source(source_of(FIXTURES / "broken_include.flow"))
    assert (Path(found.file).name, found.code) == ("broken.part", "FL006")
    with pytest.raises(FlowError):
        compile_source(source_of(FIXTURES / "broken_include.flow"))


def test_a_file_included_twice_comes_in_once(tmp_path: Path) -> None:
    (tmp_path / "a.flow").write_text('include "b.flow"\ninclude "c.flow"\n\nmain:\n    answer\n'
                                     "    call b\n    call c\n    call d\n")
    (tmp_path / "b.flow").write_text('include "d.flow"\n\nb:\n    log "b"\n')
    (tmp_path / "c.flow").write_text('include "d.flow"\n\nc:\n    log "c"\n')
    (tmp_path / "d.flow").write_text('d:\n    log "d"\n')
    source = source_of(tmp_path / "a.flow")
    merged = merge(source, parse_source(source))
    assert [s.name.value for s in merged.flow.steps] == ["main", "b", "d", "c"]
    assert check_source(source) == []


def test_check_renders_the_included_files_line_and_json_and_sarif_locations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", str(FIXTURES / "line.flow")]) == 1
    text = capsys.readouterr().out
    assert f"--> {FIXTURES / 'shared' / 'common.flow'}:6:38" in text
    assert '6 |         say "Please enter your PIN, {name}."' in text
    main(["check", str(FIXTURES / "line.flow"), "--format", "json"])
    (diagnostic,) = json.loads(capsys.readouterr().out)["diagnostics"]
    assert (diagnostic["file"], diagnostic["line"]) == (str(FIXTURES / "shared/common.flow"), 6)
    main(["check", str(FIXTURES / "line.flow"), "--format", "sarif"])
    (result,) = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("shared/common.flow")
    assert location["region"]["startLine"] == 6


def test_check_of_a_folder_checks_a_shared_file_through_the_flows_that_include_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "lines"
    shutil.copytree(FIXTURES, folder)
    for name in ("cycle_a", "cycle_b", "missing", "broken_include"):
        (folder / f"{name}.flow").unlink()
    main(["check", str(folder), "--format", "json"])
    found = json.loads(capsys.readouterr().out)["diagnostics"]
    # common.flow is not checked alone (its `return` has a call in the flows that include
    # it), and its one problem for line.flow is shown once.
    assert sorted((Path(d["file"]).name, d["code"]) for d in found) == [
        ("common.flow", "FL102"),
        ("common.flow", "FL501"),
    ]


def test_fmt_formats_each_file_and_puts_includes_first() -> None:
    text = 'voice "v"\ninclude "a.flow"\n\nmain:\n    answer\n'
    assert format_text(text) == 'include "a.flow"\nvoice "v"\n\nmain:\n    answer\n'


def test_coverage_counts_and_names_the_included_files_points() -> None:
    program = compile_source(source_of(EXAMPLES / "clinic.flow"))
    report = coverage(program, {"step:main"})
    files = {Path(m.file).name if m.file else None for m in report.missed}
    assert files == {None, "common.flow"}
    verify = next(m for m in report.missed if m.point == "step:verify")
    assert (verify.line, verify.text) == (7, "verify:")


def test_a_stored_version_keeps_every_file_and_rebuilds_without_the_disk(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "shared", tmp_path / "shared")
    flow = tmp_path / "clinic.flow"
    shutil.copy(EXAMPLES / "clinic.flow", flow)
    program = compile_source(source_of(flow))
    stored = program.source.stored()
    shutil.rmtree(tmp_path / "shared")
    again = compile_source(Source.from_stored(program.source.name, stored))
    assert again.digest == program.digest
    plain = "main:\n    answer\n"
    assert Source.from_stored("x.flow", plain) == Source("x.flow", plain)


def test_simulate_names_the_included_file_of_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    main(["simulate", str(EXAMPLES / "clinic.flow"), "--input", "1", "--input", "01311980"])
    out = capsys.readouterr().out
    common = EXAMPLES / "shared" / "common.flow"
    assert f"step verify ({common} line 7)" in out
    assert f"  {common} line 12 ask" in out
    assert "  line 14   say \"Your next appointment" in out


HOURS = "hours office:\n    mon-fri 9:00-17:00\n"
USES_HOURS = (
    'include "hours.flow"\ntimezone "America/Chicago"\nvoice "Telnyx.KokoroTTS.af"\n\n'
    "main:\n    answer\n"
    '    if open office:\n        say "We are open."\n    hangup\n'
)


def test_a_file_of_opening_hours_alone_can_be_included(tmp_path: Path) -> None:
    (tmp_path / "hours.flow").write_text(HOURS, encoding="utf-8")
    (tmp_path / "line.flow").write_text(USES_HOURS, encoding="utf-8")
    assert findings(tmp_path / "line.flow") == []
    program = compile_source(source_of(tmp_path / "line.flow"))
    assert [h.name for h in program.hours] == ["office"]
    # Checked or run by itself, it has no step for a call to start at.
    assert findings(tmp_path / "hours.flow") == [("hours.flow", "FL105", 1, 7)]
    (tmp_path / "empty.flow").write_text('include "hours.flow"\n', encoding="utf-8")
    with pytest.raises(FlowError, match="no steps"):
        compile_source(source_of(tmp_path / "empty.flow"))


def test_opening_hours_defined_in_two_files_name_both_places(tmp_path: Path) -> None:
    (tmp_path / "hours.flow").write_text(HOURS, encoding="utf-8")
    line = tmp_path / "line.flow"
    line.write_text(USES_HOURS.replace("\nmain:", "\nhours office:\n    daily 0:00-1:00\n\nmain:"))
    (found,) = check_source(source_of(line))
    assert (found.code, Path(found.file).name) == ("FL826", "hours.flow")
    assert found.span is not None and found.span.line == 1
    assert f"first at line 5 of {line}" in found.message


def test_a_shared_step_this_flow_does_not_use_is_not_reported(tmp_path: Path) -> None:
    (tmp_path / "shared.flow").write_text(
        'goodbye:\n    say "Goodbye."\n    hangup\n\nunused:\n    hangup\n', encoding="utf-8"
    )
    line = tmp_path / "line.flow"
    line.write_text(
        'include "shared.flow"\nvoice "Telnyx.KokoroTTS.af"\n\n'
        "main:\n    answer\n    goto goodbye\n\nlost:\n    hangup\n",
        encoding="utf-8",
    )
    # The flow's own unreachable step is reported; the shared file's unused step is not.
    assert findings(line) == [("line.flow", "FL103", 8, 1)]


def test_a_missing_voice_in_an_included_file_says_where_the_voice_goes(tmp_path: Path) -> None:
    (tmp_path / "shared.flow").write_text(
        'voice "Telnyx.KokoroTTS.af"\n\ngoodbye:\n    say "Goodbye."\n', encoding="utf-8"
    )
    line = tmp_path / "line.flow"
    line.write_text('include "shared.flow"\n\nmain:\n    answer\n    goto goodbye\n')
    (found,) = check_source(source_of(line))
    assert (found.code, Path(found.file).name) == ("FL403", "shared.flow")
    assert found.help is not None and "the flow that includes this file" in found.help


def test_a_shared_file_checked_by_itself_is_checked_as_part_of_the_flows_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Alone, its steps would be a flow that never answers and whose `return` goes nowhere.
    assert main(["check", str(EXAMPLES / "shared" / "common.flow")]) == 0
    assert capsys.readouterr().out == "All checks passed (1 file).\n"
    # Two lines in a folder of their own include it from the folder beside it; a mistake in
    # it is reported once, at its own line, and the lines' own mistakes are not its.
    (tmp_path / "lines").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "x.flow").write_text(
        'verify:\n    log "checking"\n    goto wrapup\n\nwrap_up:\n    log "done"\n'
    )
    for name in ("a", "b"):
        (tmp_path / "lines" / f"{name}.flow").write_text(
            'include "../shared/x.flow"\n\nmain:\n    answer\n    call verify\n    goto nowhere\n'
        )
    monkeypatch.chdir(tmp_path / "shared")
    assert main(["check", "x.flow"]) == 1
    out = capsys.readouterr().out
    assert out.count("error[FL101]") == 1 and "--> x.flow:3:10" in out
    assert "nowhere" not in out and "FL202" not in out and "FL870" not in out
    # Nobody includes it any more: it is checked as the flow it then is.
    for name in ("a", "b"):
        (tmp_path / "lines" / f"{name}.flow").unlink()
    assert main(["check", "x.flow"]) == 1
    assert "FL202" in capsys.readouterr().out
