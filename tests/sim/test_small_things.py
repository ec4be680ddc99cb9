"""The small things a person meets in `simulate` and `graph`: inputs from a file, the
interactive help, the jsonl end line of a flow that cannot run, and a drawing that reads well."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from flowlang.cli import main
from flowlang.cli.simulate import add_arguments, interactive, take_inputs
from flowlang.compiler import compile_source
from flowlang.graph import to_dot, to_mermaid
from flowlang.source import Source
from flowlang.syntax.parser import parse
from tests.sim.helpers import VOICE, flow, write_flow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

MENU = VOICE + flow(
    """\
    main:
        answer
        gather tries 1:
            say "Press 1."
            on digits "1": say "One."
            on invalid: hangup
            on timeout: hangup
        hangup
    """
)


def jsonl(capsys) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_inputs_come_from_a_file_one_a_line(tmp_path: Path, capsys) -> None:
    path = write_flow(tmp_path, MENU)
    given = tmp_path / "inputs.txt"
    given.write_text("# the caller\n\n1\n", encoding="utf-8")
    assert main(["simulate", str(path), "--inputs", str(given), "--format", "jsonl"]) == 0
    lines = jsonl(capsys)
    assert lines[-3]["body"]["payload"] == "One."  # type: ignore[index]


@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["plain", "byte-order-mark"])
def test_inputs_come_from_standard_input(tmp_path: Path, capsys, monkeypatch, bom: str) -> None:
    # An editor on Windows may start the text with a byte-order mark: it is not an input.
    path = write_flow(tmp_path, MENU)
    monkeypatch.setattr("sys.stdin", io.StringIO(bom + "1\n"))
    assert main(["simulate", str(path), "--inputs", "-", "--format", "jsonl"]) == 0
    assert jsonl(capsys)[-3]["body"]["payload"] == "One."  # type: ignore[index]


def test_a_bad_line_in_the_inputs_file_is_a_usage_error(tmp_path: Path, capsys) -> None:
    path = write_flow(tmp_path, MENU)
    given = tmp_path / "inputs.txt"
    given.write_text("1\nai=nope\n", encoding="utf-8")
    assert main(["simulate", str(path), "--inputs", str(given)]) == 2
    assert f"--inputs {given}: line 2: `ai=nope`" in capsys.readouterr().err


def test_the_inputs_file_error_counts_blank_and_comment_lines(tmp_path: Path, capsys) -> None:
    path = write_flow(tmp_path, MENU)
    given = tmp_path / "inputs.txt"
    given.write_text("# the caller\n\nbogus\n", encoding="utf-8")
    assert main(["simulate", str(path), "--inputs", str(given)]) == 2
    assert f"--inputs {given}: line 3: `bogus` is not a caller input" in capsys.readouterr().err


def test_an_input_from_the_file_that_does_not_fit_names_its_line(tmp_path: Path,
                                                                 capsys) -> None:
    given = tmp_path / "inputs.txt"
    given.write_text("# first the assistant\n4321#\n", encoding="utf-8")
    flow_path = EXAMPLES / "ai_receptionist.flow"
    assert main(["simulate", str(flow_path), "--inputs", str(given)]) == 2
    err = capsys.readouterr().err
    assert f"--inputs {given}: line 2: input 1 (4321#)" in err


REMINDER = EXAMPLES / "appointment_reminder.flow"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("patient", "--with patient: no value; write it as NAME=VALUE, like --with patient=VALUE"),
        ("nope=1", "--with nope=1: no input `nope` in the flow"),
        ("=x", "--with =x: no name before the `=`"),
    ],
    ids=["no-equals", "undeclared", "no-name"],
)
@pytest.mark.parametrize("command", ["simulate", "debug"])
def test_a_wrong_with_is_a_usage_error_naming_the_inputs(
    capsys, given: str, message: str, command: str
) -> None:
    assert main([command, str(REMINDER), "--with", given]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err
    assert "the flow's inputs are `patient`, `day`, `time`" in err


def test_with_on_a_flow_without_inputs_says_so(tmp_path: Path, capsys) -> None:
    path = write_flow(tmp_path, MENU)
    assert main(["simulate", str(path), "--with", "name=Ann", "--input", "1"]) == 2
    assert "this flow has no `input` lines" in capsys.readouterr().err


def test_an_input_given_twice_is_a_usage_error(capsys) -> None:
    argv = ["simulate", str(REMINDER), "--with", "day=Monday", "--with", "day=Friday"]
    assert main(argv) == 2
    assert "--with day=...: given twice" in capsys.readouterr().err


def test_the_interactive_call_gets_the_with_values(capsys) -> None:
    program = compile_source(Source(str(REMINDER), REMINDER.read_text(encoding="utf-8")))
    out = io.StringIO()
    values = {"patient": "Ann Lee", "day": "Tuesday", "time": "10 AM"}
    interactive(program, "+1", "+2", io.StringIO("human\nquit\n"), out, values=values)
    assert "Ann Lee" in out.getvalue()


def test_many_inputs_are_appended_in_place() -> None:
    # argparse's own `append` copies the list on every use: 20,000 inputs took 11.7 s.
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    action = next(a for a in parser._actions if a.dest == "inputs")
    namespace = argparse.Namespace(inputs=None)
    action(parser, namespace, "1")
    kept = namespace.inputs
    action(parser, namespace, "2")
    assert namespace.inputs is kept and kept == ["1", "2"]
    assert parser.parse_args(["x.flow", "--input", "1", "--input", "2"]).inputs == ["1", "2"]


def test_the_interactive_help_offers_only_what_the_flow_can_take_now() -> None:
    text = (EXAMPLES / "business_line.flow").read_text(encoding="utf-8")
    program = compile_source(Source("business_line.flow", text))
    out = io.StringIO()
    interactive(program, "+15550001111", "+15550002222", io.StringIO("foo\nhelp\nquit\n"), out)
    shown = out.getvalue()
    assert "`foo` is not something the caller can do now." in shown
    assert "ai=" not in shown and "fetch=" not in shown and "key=" not in shown
    assert shown.count("Press keys (like 1 or 1234#)") == 3


def test_jsonl_of_a_flow_with_check_errors_ends_with_an_error_line(tmp_path: Path, capsys) -> None:
    path = write_flow(tmp_path, flow("main:\n    goto nowhere\n"))
    assert main(["simulate", str(path), "--format", "jsonl"]) == 1
    captured = capsys.readouterr()
    (line,) = [json.loads(x) for x in captured.out.splitlines()]
    assert line["end"] == "error"
    assert "cannot simulate: 1 error to fix first" in line["message"]
    assert "nowhere" in line["message"]


IF_WITHOUT_ELSE = VOICE + flow(
    """\
    main:
        answer
        say "Welcome to Acme."
        if caller == "+13125550100":
            say "Hello boss."
        transfer "+13125550001"
    """
)


def test_the_no_arrow_of_an_if_without_else_is_labelled() -> None:
    mermaid = to_mermaid(parse(IF_WITHOUT_ELSE))
    assert '-->|"yes"|' in mermaid and '-->|"no"|' in mermaid
    assert '[label="no"]' in to_dot(parse(IF_WITHOUT_ELSE))


def test_say_lines_are_drawn() -> None:
    mermaid = to_mermaid(parse(IF_WITHOUT_ELSE))
    assert "say #quot;Welcome to Acme.#quot;" in mermaid
    assert 'label="say \\"Hello boss.\\""' in to_dot(parse(IF_WITHOUT_ELSE))


def test_say_and_play_boxes_show_what_the_caller_hears_not_the_escapes() -> None:
    from flowlang.analysis import analyze
    from flowlang.graph import drawing

    flow = parse('main:\n    say "He said \\"hi\\" {{x}} {caller}"\n    play "C:\\\\a.wav"\n')
    texts = [b.text for b in drawing(analyze(flow).graph).boxes]
    assert 'say "He said "hi" {x} {caller}"' in texts
    assert 'play "C:\\a.wav"' in texts


def test_labels_escape_what_mermaid_and_graphviz_would_read_as_code() -> None:
    flow = parse('main:\n    say "#quot; a\\\\nb <i>&amp; `x`"\n    say "style:\\"x\\";"\n')
    mermaid = to_mermaid(flow)
    assert '["say #quot;#35;quot; a#92;nb #60;i#62;#38;amp; #96;x#96;#quot;"]' in mermaid
    assert '["say #quot;style#58;#quot;x#quot;;#quot;"]' in mermaid
    assert 'label="say \\"#quot; a\\\\nb <i>&amp;amp; `x`\\""' in to_dot(flow)


def test_ends_are_not_circles_sized_to_their_text() -> None:
    dot = to_dot(parse(IF_WITHOUT_ELSE))
    end = next(line for line in dot.splitlines() if "transfer +13125550001" in line)
    assert "circle" not in end and "octagon" in end
    assert '>"transfer +13125550001"]' in to_mermaid(parse(IF_WITHOUT_ELSE))


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.flow")))
def test_every_example_draws(name: str) -> None:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert to_dot(parse(text)).startswith("digraph flow {")


def test_inputs_are_taken_out_before_argparse_in_one_pass() -> None:
    words = ["simulate", "a.flow", "--input", "1", "--input=2", "--format", "jsonl", "--input"]
    assert take_inputs(words) == (
        ["simulate", "a.flow", "--format", "jsonl", "--input"],
        ["1", "2"],
    )
    assert take_inputs(["simulate", "--", "--input", "1"]) == (
        ["simulate", "--", "--input", "1"],
        [],
    )


def test_input_and_inputs_together_are_a_usage_error(tmp_path: Path, capsys) -> None:
    path = write_flow(tmp_path, MENU)
    given = tmp_path / "inputs.txt"
    given.write_text("1\n", encoding="utf-8")
    assert main(["simulate", str(path), "--input", "1", "--inputs", str(given)]) == 2
    assert "not both" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("silence", "timeout"),  # the scenario word
        ("Timeout", "timeout"),
        ("hang up", "hangup"),
        ("press 1", "1"),
        ('press "12#"', "12#"),
        ("no-answer", "no_answer"),
        ('{"found": true}', 'fetch={"found": true} (the backend\'s answer) or ai={"found": true}'),
    ],
)
def test_an_input_written_another_way_is_shown_as_simulate_takes_it(given: str, meant: str) -> None:
    from flowlang.offline.simulator import InputError, parse_input

    with pytest.raises(InputError) as caught:
        parse_input(given)
    assert str(caught.value).startswith(f"`{given}` is not a caller input: did you mean {meant}")
