"""The `flowlang` command itself: `--version`, and what it prints when given no command."""

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
