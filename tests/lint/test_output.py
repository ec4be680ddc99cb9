"""`flowlang check` output: golden snapshots (text, json, github) and a schema-valid SARIF log."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.lint import check_source, github_format, json_format, sarif, text_format
from flowlang.lint.registry import all_rules
from flowlang.lint.report import Checked, Report
from flowlang.source import Source, Span

HERE = Path(__file__).resolve().parent
SCHEMA = HERE.parent / "data" / "sarif-schema-2.1.0.json"
SNAPSHOTS = ["FL101", "FL201", "FL301", "FL502", "FL702"]


def report_of(*codes: str) -> Report:
    files = []
    for code in codes:
        path = HERE / "fixtures" / f"{code}.flow"
        source = Source(f"fixtures/{code}.flow", path.read_text(encoding="utf-8"))
        files.append(Checked(source, tuple(check_source(source))))
    return Report(tuple(files))


@pytest.mark.parametrize("code", SNAPSHOTS, ids=SNAPSHOTS)
def test_text_output_matches_golden(code: str, golden: Callable[[str, str], None]) -> None:
    golden(f"lint/{code}.txt", text_format.render(report_of(code)))


@pytest.mark.parametrize("code", SNAPSHOTS, ids=SNAPSHOTS)
def test_json_output_matches_golden(code: str, golden: Callable[[str, str], None]) -> None:
    golden(f"lint/{code}.json", json_format.render(report_of(code)))


@pytest.mark.parametrize("code", SNAPSHOTS, ids=SNAPSHOTS)
def test_github_output_matches_golden(
    code: str, golden: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    golden(f"lint/{code}.github.txt", github_format.render(report_of(code)))


def test_github_annotations_name_files_from_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `cd flows && flowlang check --format github .` on a runner: GitHub attaches an
    # annotation to a path from the repository's root, not from where check ran.
    (tmp_path / "flows" / "sub dir").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "flows")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    source = Source("sub dir/w.flow", "main:\n    answer\n    goto nowhere\n")
    report = Report((Checked(source, tuple(check_source(source))),))
    assert github_format.render(report).startswith("::error file=flows/sub dir/w.flow,line=3,")
    # Outside the workspace, with no git repository around, the path stays as it was given.
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "elsewhere"))
    assert github_format.render(report).startswith("::error file=sub dir/w.flow,line=3,")
    monkeypatch.delenv("GITHUB_WORKSPACE")
    assert github_format.render(report).startswith("::error file=sub dir/w.flow,line=3,")


def test_syntax_error_is_rendered_like_a_finding(golden: Callable[[str, str], None]) -> None:
    source = Source("broken.flow", "main:\n    answer\n    goto\n")
    report = Report((Checked(source, tuple(check_source(source))),))
    assert report.errors >= 1
    golden("lint/syntax_error.txt", text_format.render(report))


# RFC 3986: a URI reference has no spaces nor characters outside ASCII (they are
# percent-encoded); an absolute URI starts with a scheme. jsonschema checks `uri` only when an
# optional package is installed, and never `uri-reference` in a draft 4 schema: checked here.
URI_REFERENCE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:" + URI_REFERENCE.pattern)
FORMATS = jsonschema.FormatChecker()
FORMATS.checks("uri")(lambda value: not isinstance(value, str) or bool(URI.fullmatch(value)))
FORMATS.checks("uri-reference")(
    lambda value: not isinstance(value, str) or bool(URI_REFERENCE.fullmatch(value))
)


def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=FORMATS)


def test_sarif_output_validates_against_the_sarif_2_1_0_schema() -> None:
    syntax = Source("broken.flow", "main:\n    goto\n")
    report = Report(
        (*report_of(*SNAPSHOTS).files, Checked(syntax, tuple(check_source(syntax))))
    )
    log = json.loads(sarif.render(report))
    sarif_validator().validate(log)
    run = log["runs"][0]
    assert len(run["results"]) == len(report.diagnostics)
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_sarif_locations_are_uris_for_paths_with_spaces_accents_and_commas(tmp_path) -> None:
    text = "main:\n    answer\n    goto nowhere\n"
    names = ["flows/sub dir/ñandú, v2.flow", str(tmp_path / "my flows" / "a b.flow")]
    report = Report(
        tuple(Checked(s, tuple(check_source(s))) for s in (Source(n, text) for n in names))
    )
    log = json.loads(sarif.render(report))
    sarif_validator().validate(log)
    run = log["runs"][0]
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert locations[0] == {
        "uri": "flows/sub%20dir/%C3%B1and%C3%BA%2C%20v2.flow",
        "uriBaseId": "%SRCROOT%",
    }
    assert locations[1] == {"uri": (tmp_path / "my flows" / "a b.flow").as_uri()}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path.cwd().as_uri() + "/"


def test_sarif_artifacts_list_the_files_findings_are_in() -> None:
    flow = Source("main.flow", "main:\n    answer\n    hangup\n")
    found = check_source(Source("shared/common.flow", "main:\n    goto nowhere\n"))
    log = json.loads(sarif.render(Report((Checked(flow, tuple(found)),))))
    uris = [a["location"]["uri"] for a in log["runs"][0]["artifacts"]]
    assert uris == ["main.flow", "shared/common.flow"]


def test_the_schema_check_catches_an_invalid_log() -> None:
    log = json.loads(sarif.render(report_of("FL101")))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator().validate(log)


def test_the_schema_check_catches_a_uri_that_is_a_bare_path() -> None:
    log = json.loads(sarif.render(Report(())))
    log["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "docs/rules/FL101.md"
    with pytest.raises(jsonschema.ValidationError, match="is not a 'uri'"):
        sarif_validator().validate(log)


def test_sarif_rules_carry_their_documentation() -> None:
    log = json.loads(sarif.render(Report(())))
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {r.code for r in all_rules()}
    for r in all_rules():
        d = rules[r.code]
        assert d["name"] == r.name
        assert d["shortDescription"]["text"] == r.summary
        assert d["fullDescription"]["text"] == r.description
        assert "## Why is this bad?" in d["help"]["markdown"]
        # The pages have no public address, and a helpUri must be an absolute URI.
        assert "helpUri" not in d
        assert d["defaultConfiguration"]["level"] == r.severity.value


def test_json_output_has_the_documented_shape() -> None:
    document = json.loads(json_format.render(report_of("FL101", "FL202")))
    assert document["version"] == 1
    assert document["summary"] == {
        "files": 2,
        "files_with_findings": 2,
        "errors": 2,
        "warnings": 1,
        "unreadable": 0,
    }
    first = document["diagnostics"][0]
    assert set(first) == {
        "file", "code", "rule", "severity", "message", "label", "help", "notes",
        "line", "column", "end_line", "end_column",
    }
    assert (first["code"], first["rule"], first["line"]) == ("FL101", "unknown-step", 7)


def test_json_findings_are_sorted_by_file_line_and_column_across_files() -> None:
    def checked(name: str, text: str, *more: Source) -> Checked:
        found = [d for s in (Source(name, text), *more) for d in check_source(s)]
        return Checked(Source(name, text), tuple(found))

    bad = "main:\n    answer\n    goto nowhere\n"
    # As `check z.flow a.flow` gives them, z.flow's included shared/common.flow with it.
    report = Report((
        checked("z.flow", bad, Source("shared/common.flow", bad)),
        checked("a.flow", "main:\n    answer\n    goto a\n    goto b\n"),
    ))
    document = json.loads(json_format.render(report))
    places = [(d["file"], d["line"], d["column"]) for d in document["diagnostics"]]
    assert places == sorted(places)
    assert list(dict.fromkeys(p[0] for p in places)) == ["a.flow", "shared/common.flow", "z.flow"]


def test_github_output_escapes_separators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    source = Source("a,b:c.flow", "main:\n    answer\n    goto nowhere\n")
    out = github_format.render(Report((Checked(source, tuple(check_source(source))),)))
    assert out.startswith("::error file=a%2Cb%3Ac.flow,line=3,col=10,endLine=3,endColumn=17,")
    assert ",title=FL101::`goto` target `nowhere` is not a step in this flow\n" in out


# A line of a flow as a user may write it: any characters but line breaks, with astral ones
# (emoji, musical symbols: two UTF-16 code units each) made likely.
_ASTRAL = st.characters(min_codepoint=0x10000)
_LINE_CHARS = st.one_of(
    _ASTRAL, st.characters(exclude_categories=("Cs",), exclude_characters="\r\n")
)


def _at_utf16(line: str, column: int) -> str:
    """The character at 1-based `column` of `line`, counted in UTF-16 code units."""
    units = line.encode("utf-16-le")[2 * (column - 1) :]
    return units.decode("utf-16-le")[:1]


@given(st.text(_LINE_CHARS, min_size=1, max_size=30), st.data())
def test_utf16_columns_point_at_the_same_character(line: str, data: st.DataObject) -> None:
    column = data.draw(st.integers(1, len(line)), label="column")
    source = Source("a.flow", f"main:\n{line}\n")
    span = source.utf16(Span.point(2, column))
    assert _at_utf16(line, span.column) == line[column - 1]
    assert _at_utf16(line, span.end_column) == line[column : column + 1]


def test_utf16_columns_past_the_end_of_a_line_stay_one_each() -> None:
    source = Source("a.flow", "main:\n    say \"😀\"\n")
    assert source.utf16(Span(2, 10, 2, 11)) == Span(2, 10, 2, 12)
    assert source.utf16(Span(2, 12, 2, 14)) == Span(2, 13, 2, 15)


_SAID = st.characters(
    exclude_categories=("Cs", "Cc"), exclude_characters='"\\{}\u2028\u2029\x85'
)


@settings(max_examples=25, deadline=None)
@given(st.text(st.one_of(_ASTRAL, _SAID), max_size=12))
def test_sarif_and_github_columns_find_the_finding_after_astral_characters(
    before: str,
) -> None:
    line = f'    say "{before}{{nme}}"'
    source = Source("a.flow", f'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n{line}\n')
    found = tuple(d for d in check_source(source) if d.code == "FL501")
    report = Report((Checked(source, found),))
    region = json.loads(sarif.render(report))["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"
    ]["region"]
    annotation = re.search(r",col=(\d+),endLine=5,endColumn=(\d+),", github_format.render(report))
    assert annotation is not None
    for start, end in ((region["startColumn"], region["endColumn"]), map(int, annotation.groups())):
        assert _at_utf16(line, start) == "n"
        assert _at_utf16(line, end) == "}"
