"""Inputs at the edges: very deep, very big, not a file, not UTF-8. Each gets a clear answer,
never a traceback or a hang (bench/bench_limits.py measures their time and memory)."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.cli import main
from flowlang.errors import FlowSyntaxError
from flowlang.syntax.parser import parse

HEAD = 'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n'


def nested_ifs(levels: int, innermost: str = "hangup") -> str:
    lines = [HEAD.rstrip("\n")]
    for depth in range(1, levels + 1):
        lines.append("    " * depth + 'if caller == "x":')
    lines.append("    " * (levels + 1) + innermost)
    return "\n".join(lines) + "\n"


def codes(text: str) -> list[str]:
    with pytest.raises(FlowSyntaxError) as caught:
        parse(text)
    return [d.code for d in caught.value.diagnostics]


def test_blocks_nested_500_deep_are_a_syntax_error_in_check_and_fmt(tmp_path: Path, capsys) -> None:
    path = tmp_path / "deep.flow"
    path.write_text(nested_ifs(500), encoding="utf-8")
    assert main(["check", "--no-config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "error[FL040]: blocks are nested more than 100 levels deep here" in out
    assert main(["fmt", str(path)]) == 1
    err = capsys.readouterr().err
    assert "FL040" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "condition",
    ["not " * 500 + "caller", " or ".join(f'caller == "{i}"' for i in range(5000))],
    ids=["500 nots", "5000 ors"],
)
def test_a_condition_nested_500_deep_is_a_syntax_error(condition: str) -> None:
    assert codes(HEAD + f"    if {condition}:\n        hangup\n") == ["FL041"]


@pytest.mark.parametrize(
    ("line", "fix"),
    [
        ("set total = " + " + ".join(["1"] * 200), "`set` part of the sum to a variable first"),
        ("if " + " or ".join(f'caller == "{i}"' for i in range(200)) + ":\n        hangup",
         "use `in [...]` instead of a long chain of `or`"),
    ],
    ids=["sum", "condition"],
)
def test_a_too_deep_expression_is_called_an_expression_with_a_fix_for_its_kind(
    line: str, fix: str
) -> None:
    with pytest.raises(FlowSyntaxError) as caught:
        parse(HEAD + f"    {line}\n")
    (problem,) = caught.value.diagnostics
    assert problem.code == "FL041"
    assert problem.message == "this expression is nested more than 100 levels deep"
    assert problem.help is not None and fix in problem.help


def test_at_the_limits_every_tool_works(tmp_path: Path, capsys) -> None:
    # 100 levels of blocks, and a 99-level condition in the innermost: no RecursionError.
    condition = "not " * 48 + "(" + " or ".join(f'caller == "{i}"' for i in range(50)) + ")"
    text = nested_ifs(98, f"if {condition}:\n" + "    " * 100 + "hangup")
    path = tmp_path / "limits.flow"
    path.write_text(text, encoding="utf-8")
    assert main(["check", "--no-config", str(path)]) == 0
    assert main(["fmt", "--check", str(path)]) == 0
    assert main(["graph", str(path)]) == 0
    assert main(["simulate", str(path)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_5_mb_string_is_read_in_little_memory() -> None:
    # The string token's regular expression used to keep ~120 bytes per character (896 MB).
    text = HEAD + '    say "' + "a" * 5_000_000 + '"\n'
    tracemalloc.start()
    try:
        flow = parse(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(flow.steps[0].body[1].text.text) == 5_000_000
    assert peak < 60_000_000


def test_a_long_line_of_interpolations_is_decoded_whole() -> None:
    text = HEAD + '    log "' + "ab{caller} " * 100_000 + '"\n'
    parts = parse(text).steps[0].body[1].text.parts
    assert len(parts) == 200_001
    assert parts[0] == "ab" and parts[-1] == " "


@pytest.mark.parametrize("command", ["check", "fmt", "simulate"])
def test_a_named_pipe_is_refused_not_waited_on(tmp_path: Path, capsys, command: str) -> None:
    fifo = tmp_path / "x.flow"
    os.mkfifo(fifo)
    assert main([command, str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["simulate", "graph", "fuzz", "debug"])
def test_a_folder_where_a_flow_is_expected_is_called_a_folder(
    tmp_path: Path, capsys, command: str
) -> None:
    folder = tmp_path / "dir.flow"
    folder.mkdir()
    assert main([command, str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{folder}: a folder, not a file; give the path of a .flow file" in err
    assert "pipe" not in err


def test_replay_flow_reads_through_the_same_check() -> None:
    # `replay --flow` reads its flow with read_source, like the commands above.
    from flowlang.cli.inputs import UsageError, read_source

    with pytest.raises(UsageError, match="a folder, not a file"):
        read_source(Path(__file__).parent)


@pytest.mark.parametrize("command", ["check", "fmt", "simulate", "graph", "fuzz", "debug", "test"])
def test_a_symbolic_link_loop_is_named_the_same_everywhere(
    tmp_path: Path, capsys, command: str
) -> None:
    loop = tmp_path / "loop.flow"
    loop.symlink_to(loop)
    assert main([command, str(loop)]) == 2
    err = capsys.readouterr().err
    assert f"{loop}: a symbolic link that points back to itself" in err
    assert "no such file" not in err and "Too many levels" not in err


@pytest.mark.parametrize("command", ["check", "simulate", "graph", "fuzz", "debug", "test"])
def test_a_dash_says_standard_input_is_not_read_here(capsys, command: str) -> None:
    assert main([command, "-"]) == 2
    err = capsys.readouterr().err
    assert "from standard input is not supported here; give a file path" in err
    assert "no such file" not in err and "cannot read" not in err


def test_a_file_that_is_not_utf8_is_never_all_checks_passed(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.flow"
    bad.write_bytes(b"\xff\xfe not utf-8")
    assert main(["check", "--no-config", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "not UTF-8" in err
    assert out.strip() == "Nothing was checked: 1 file could not be read."
    (tmp_path / "good.flow").write_text(HEAD + "    hangup\n", encoding="utf-8")
    assert main(["check", "--no-config", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert out.strip() == "No problems in 1 file checked, but 1 file could not be read."


def test_a_huge_line_is_shown_as_a_window_around_the_error(tmp_path: Path, capsys) -> None:
    # A 2-million-character line printed about 4 MB (the line and its underline).
    path = tmp_path / "long.flow"
    text = 'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    say "' + "a" * 2_000_000
    path.write_text(text + '" bogus\n', encoding="utf-8")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert len(out) < 2_000
    lines = out.splitlines()
    shown = next(line for line in lines if line.startswith("5 | "))
    carets = lines[lines.index(shown) + 1]
    assert shown.startswith("5 | …") and shown.endswith('" bogus')
    assert carets.index("^") == shown.index("bogus") and "^^^^^ unknown option" in carets


def test_a_window_is_cut_at_both_ends_with_the_caret_under_the_span() -> None:
    from flowlang.diagnostics import Diagnostic, Severity, render_text
    from flowlang.source import Source, Span

    line = "x" * 1_000 + "HERE" + "y" * 1_000
    source = Source("w.flow", line + "\n")
    found = Diagnostic("FL001", Severity.ERROR, "m", "w.flow", Span(1, 1001, 1, 1005), "here")
    shown, carets = render_text(found, source).splitlines()[3:5]
    assert shown.startswith("1 | …x") and shown.endswith("y…")
    assert shown[carets.index("^"):carets.index("^") + 4] == "HERE"
    assert carets.endswith("^^^^ here")


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
       st.text(st.characters(blacklist_categories=("Cs",)), max_size=20))
def test_a_byte_that_is_not_utf8_is_placed_by_line_and_column(before: str, after: str) -> None:
    from flowlang.source import not_utf8

    data = before.encode() + b"\xff" + after.encode()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = not_utf8("f.flow", data, exc)
    lines = before.split("\n")
    # As an editor counts: the line, and the characters before it on that line, plus one.
    assert f"(line {len(lines)}, column {len(lines[-1]) + 1})" in message
