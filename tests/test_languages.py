"""Flows in several languages: `languages:`, catalogs beside the flow, the caller's `language`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from flowlang.cli import main
from flowlang.compiler import compile_source
from flowlang.lint import check_source
from flowlang.offline.scenario.coverage import coverage
from flowlang.runtime.events import CallInfo
from flowlang.source import Source
from tests.runtime.calls import CALL_ID, Call

FLOW = """voice "Telnyx.KokoroTTS.af"
language "en-US"
languages:
    "en-US" voice "Telnyx.KokoroTTS.af"
    "es-US" voice "AWS.Polly.Lupe-Neural"

main:
    answer
    say "Hello {caller}."
    say "Para español, oprima 2." language "es-US" voice "AWS.Polly.Lupe-Neural"
    gather digits 1 tries 2:
        say "Press 1."
        reprompt "Sorry."
        on digits "2":
            set language = "es-US"
            goto ask
        on digits "1": goto ask

ask:
    say "Hello {caller}."
    ai_gather into booking:
        greeting "How many guests?"
        field guests integer "How many people are coming"
        on valid: say "Thanks."
    assistant id "assistant-123":
        greeting "How can I help?"
"""

CATALOG = """# Spanish
"Hello {caller}." = "Hola {caller}."
"Press 1." = "Oprima 1."
"Sorry." = "Perdón."
"How many guests?" = "¿Cuántas personas?"
"Thanks." = "Gracias."
"How can I help?" = "¿En qué puedo ayudarle?"
"""


@pytest.fixture
def flow_path(tmp_path: Path) -> Path:
    path = tmp_path / "line.flow"
    path.write_text(FLOW, encoding="utf-8")
    (tmp_path / "line.es-US.texts").write_text(CATALOG, encoding="utf-8")
    return path


def call_of(path: Path, language: str | None = None) -> Call:
    call = Call(compile_source(Source(str(path), path.read_text(encoding="utf-8"))))
    call.info = CallInfo(CALL_ID, "+15550001111", "+15550002222", language)
    return call


def bodies(call: Call) -> list[tuple[str, dict[str, object]]]:
    return [
        (c.action, {k: v for k, v in c.body.items() if k not in ("client_state", "command_id")})
        for c in call.commands
    ]


def test_the_flow_checks_clean_with_its_catalog(flow_path: Path) -> None:
    assert [d.code for d in check_source(Source(str(flow_path), FLOW)) if d.is_error] == []


def test_after_the_caller_chooses_spanish_every_text_follows(flow_path: Path) -> None:
    call = call_of(flow_path)
    call.start()
    call.settle()
    first = bodies(call)
    assert first[1] == (
        "speak",
        {"payload": "Hello +15550001111.", "voice": "Telnyx.KokoroTTS.af", "language": "en-US"},
    )
    # A `say` that names its own language is said as written.
    assert first[2][1]["payload"] == "Para español, oprima 2."
    call.press("3", status="invalid")
    reprompt = bodies(call)[-1]
    assert reprompt[1]["payload"] == "Sorry. Press 1."
    call.press("2")
    call.settle()
    said = bodies(call)
    assert said[-2] == (
        "speak",
        {"payload": "Hola +15550001111.", "voice": "AWS.Polly.Lupe-Neural", "language": "es-US"},
    )
    action, ai = said[-1]
    assert action == "gather_using_ai"
    assert (ai["greeting"], ai["voice"], ai["language"]) == (
        "¿Cuántas personas?",
        "AWS.Polly.Lupe-Neural",
        "es",
    )
    call.event("call.ai_gather.ended", status="valid", result={"guests": 2})
    call.settle()
    assert bodies(call)[-2][1]["payload"] == "Gracias."
    action, started = bodies(call)[-1]
    assert action == "ai_assistant_start"
    # Today's API (LANGUAGE.md 16): both are per-call overrides inside `assistant`.
    assert started["assistant"]["greeting"] == "¿En qué puedo ayudarle?"
    assert started["assistant"]["voice_settings"] == {"voice": "AWS.Polly.Lupe-Neural"}
    assert "voice" not in started


def test_a_call_can_start_in_another_language_and_keeps_it_in_its_state(
    flow_path: Path,
) -> None:
    call = call_of(flow_path, language="es-US")
    call.start()
    assert json.loads(json.dumps(call.state))["vars"]["language"] == "es-US"
    call.settle()
    assert bodies(call)[1][1]["payload"] == "Hola +15550001111."
    assert bodies(call)[-1][1]["payload"] == "Oprima 1."
    unknown = call_of(flow_path, language="fr-FR")
    unknown.start()
    assert unknown.state["vars"]["language"] == "en-US"


def test_coverage_counts_each_languages_texts(flow_path: Path) -> None:
    program = compile_source(Source(str(flow_path), FLOW))
    points = program.coverage_points()
    assert "es-US:9" in points and "es-US:10" not in points and "es-US:11" in points
    call = call_of(flow_path)
    call.start()
    call.settle()
    report = coverage(program, call.reached)
    missed = {m.point for m in report.missed}
    assert "es-US:9" in missed and "step:ask" in missed


def test_check_names_the_text_and_language_missing_and_stale_entries(flow_path: Path) -> None:
    catalog = flow_path.with_name("line.es-US.texts")
    catalog.write_text(
        CATALOG.replace('"Thanks." = "Gracias."\n', '"Thank you." = "Gracias."\n'),
        encoding="utf-8",
    )
    found = [(Path(d.file).name, d.code, d.span.line if d.span else 0, d.message)
             for d in check_source(Source(str(flow_path), FLOW))]
    assert ("line.flow", "FL872", 24, "this text has no es-US translation") in found
    assert ("line.es-US.texts", "FL873", 6, "the flow does not say this text (any more)") in found


def test_a_catalog_line_in_curly_quotes_is_shown_typed_straight_and_a_stale_one_in_quotes(
    flow_path: Path,
) -> None:
    # A translator's word processor types “ ” for `"`; the line is shown as it should be.
    catalog = flow_path.with_name("line.es-US.texts")
    catalog.write_text(
        CATALOG.replace('"Thanks." = "Gracias."', "\u201cThanks.\u201d = \u201cGracias.\u201d")
        .replace('"Sorry."', '"Sorry"'),
        encoding="utf-8",
    )
    found = {d.message: d for d in check_source(Source(str(flow_path), FLOW))
             if Path(d.file).name == "line.es-US.texts"}
    curly = found["these are curly \u201csmart\u201d quotes (from Word or email)"]
    assert curly.span is not None and (curly.span.line, curly.span.column) == (6, 1)
    assert curly.help == 'type straight quotes: `"Thanks." = "Gracias."`'
    stale = found["the flow does not say this text (any more)"]
    assert stale.help == 'did the flow\'s text change? it now says "Sorry."'


def test_a_format_the_catalogs_language_cannot_say_is_reported_in_the_catalog(
    tmp_path: Path,
) -> None:
    # LANGUAGE.md 12: `check` reports a format not available in a language. A caller who
    # chose German hears the catalog's text worded in de-DE, which has no `money`.
    flow = (
        'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\nlanguages:\n'
        '    "en-US" voice "Telnyx.KokoroTTS.af"\n    "de-DE" voice "AWS.Polly.Vicki-Neural"\n\n'
        'main:\n    answer\n    set due = "12.5"\n    say "You owe {due as money}."\n'
    )
    path = tmp_path / "bill.flow"
    path.write_text(flow, encoding="utf-8")
    catalog = tmp_path / "bill.de-DE.texts"
    catalog.write_text(
        '"You owe {due as money}." = "Sie schulden {due as money}."\n', encoding="utf-8"
    )
    found = [(Path(d.file).name, d.code, d.span.line if d.span else 0, d.message)
             for d in check_source(Source(str(path), flow)) if d.is_error]
    assert found == [("bill.de-DE.texts", "FL820", 1, "`money` cannot be said in `de-DE`")]
    catalog.write_text('"You owe {due as money}." = "Sie schulden {due}."\n', encoding="utf-8")
    assert [d.code for d in check_source(Source(str(path), flow)) if d.is_error] == []


def test_fmt_puts_a_catalog_in_the_flows_order_and_keeps_comments(
    flow_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = flow_path.with_name("line.es-US.texts")
    lines = CATALOG.splitlines()
    catalog.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n", encoding="utf-8")
    assert main(["fmt", "--check", str(flow_path)]) == 1
    assert main(["fmt", str(flow_path)]) == 0
    assert catalog.read_text(encoding="utf-8") == CATALOG
    assert main(["fmt", "--check", str(flow_path)]) == 0
    catalog.write_text(CATALOG + "not a line\n", encoding="utf-8")
    assert main(["fmt", str(flow_path)]) == 1
    assert catalog.read_text(encoding="utf-8") == CATALOG + "not a line\n"


def test_fmt_keeps_a_catalogs_windows_line_breaks_and_byte_order_mark(
    flow_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = flow_path.with_name("line.es-US.texts")
    lines = CATALOG.splitlines()
    written = "\r\n".join([lines[0], *reversed(lines[1:])]) + "\r\n"
    catalog.write_bytes(("\ufeff" + written).encode())
    assert main(["fmt", str(flow_path)]) == 0
    assert catalog.read_bytes() == ("\ufeff" + CATALOG.replace("\n", "\r\n")).encode()
    assert main(["fmt", "--check", str(flow_path)]) == 0


def test_a_version_covers_its_catalogs(flow_path: Path) -> None:
    program = compile_source(Source(str(flow_path), FLOW))
    stored = program.source.stored()
    catalog = flow_path.with_name("line.es-US.texts")
    catalog.write_text(CATALOG.replace("Gracias.", "Muchas gracias."), encoding="utf-8")
    changed = compile_source(Source(str(flow_path), FLOW))
    assert changed.digest != program.digest
    again = compile_source(Source.from_stored(program.source.name, stored))
    assert again.digest == program.digest
    assert dict(dict(again.translations)["es-US"])["Thanks."].text == "Gracias."


def test_simulate_starts_in_the_language_asked_for(
    flow_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["simulate", str(flow_path), "--language", "es-US", "--format", "jsonl"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[1]["body"]["payload"] == "Hola +15550001111."
    assert main(["simulate", str(flow_path), "--language", "fr-FR"]) == 2
    assert "the flow speaks en-US, es-US" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["simulate", "test", "debug"])
def test_a_catalog_error_shows_the_catalogs_line_wherever_it_stops_a_command(
    flow_path: Path, command: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = flow_path.with_name("line.es-US.texts")
    catalog.write_text(CATALOG.replace('"Gracias."', '"Gracias {name}."'), encoding="utf-8")
    flow_path.with_suffix(".scenarios").write_text('scenario "hello":\n    expect hangup\n')
    monkeypatch.setattr("sys.stdin", io.StringIO("quit\n"))
    target = flow_path.with_suffix(".scenarios") if command == "test" else flow_path
    assert main([command, str(target)]) != 0
    shown = capsys.readouterr()
    # As `flowlang check` shows it: the catalog's line under the finding, with its carets.
    assert (
        '6 | "Thanks." = "Gracias {name}."\n'
        "  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ values differ\n"
    ) in shown.out + shown.err
    if command != "test":
        assert f"{flow_path}: cannot {command}: 1 error to fix first\n" in shown.err


def test_check_given_a_catalog_checks_it_with_the_flow_it_translates(
    flow_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(flow_path.parent)
    # A catalog is not a flow: read as one, each of its lines was an error of its own.
    assert main(["check", "line.es-US.texts"]) == 0
    assert capsys.readouterr().out == "All checks passed (1 file).\n"
    Path("line.es-US.texts").write_text(
        CATALOG.replace('"Gracias."', '"Gracias {name}."'), encoding="utf-8"
    )
    assert main(["check", "line.es-US.texts", "line.flow"]) == 1
    out = capsys.readouterr().out
    assert out.count("error[FL874]") == 1 and "--> line.es-US.texts:6:1" in out
    Path("line.es-US.texts").rename("other.es-US.texts")
    assert main(["check", "other.es-US.texts"]) == 2
    assert "there is no other.flow beside it" in capsys.readouterr().err
