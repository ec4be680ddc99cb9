"""The `flowlang` command itself: `--version`, what it prints when given no command, and its
number options."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

from flowlang.cli import SUBCOMMANDS, main


def test_version_names_the_installed_package(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"flowlang {version('flowlang')}"


def test_no_command_lists_every_command_and_succeeds(capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: flowlang")
    for name in SUBCOMMANDS:
        assert f"\n    {name} " in out, name
    assert "flowlang COMMAND --help" in out


@pytest.mark.parametrize(
    "command",
    [["-c", "from flowlang.cli import entry; entry()"], ["-m", "flowlang"]],
    ids=["console-script", "python-m"],
)
def test_the_console_script_with_no_arguments_exits_0(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "simulate" in done.stdout and done.stderr == ""


NUMBERS = [
    (["serve", "x.flow", "--port", "abc"], "argument --port: 'abc' is not a whole number"),
    (["fuzz", "x.flow", "--seed", "1.5"], "argument --seed: '1.5' is not a whole number"),
    (["dial", "--to", "+1", "--concurrency", "two"], "'two' is not a whole number"),
    (["dial", "--to", "+1", "--rate", "fast"], "argument --rate: 'fast' is not a number"),
    (["dial", "--to", "+1", "--poll", "1s"], "argument --poll: '1s' is not a number"),
]


@pytest.mark.parametrize(("argv", "message"), NUMBERS, ids=[n[0][-2] for n in NUMBERS])
def test_a_number_option_that_is_not_a_number_says_so_in_words(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "invalid" not in err
