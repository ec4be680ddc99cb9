"""An `include` of a device, a named pipe or nothing is an FL080 error at its line, found at once:
reading `/dev/zero` never ends, and opening a pipe with no writer waits for ever. Each check runs
in a subprocess with a timeout, so a regression fails in seconds instead of hanging the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BODY = "\nmain:\n    answer\n    hangup\n"


def flowlang(*words: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "flowlang", *words],
        capture_output=True, text=True, timeout=20, cwd=cwd, env=env, check=False,
    )


@pytest.fixture
def pipe(tmp_path: Path) -> str:
    os.mkfifo(tmp_path / "pipe.flow")
    return "pipe.flow"


@pytest.mark.parametrize("command", ["check", "simulate"])
@pytest.mark.parametrize("target", ["/dev/zero", "pipe"])
def test_including_a_device_or_pipe_is_an_error_at_the_include_line(
    tmp_path: Path, pipe: str, command: str, target: str
) -> None:
    name = pipe if target == "pipe" else target
    (tmp_path / "main.flow").write_text(f'include "{name}"\n{BODY}')
    done = flowlang(command, "main.flow", cwd=tmp_path)
    assert done.returncode == 1
    shown = done.stdout + done.stderr
    assert "error[FL080]: the included file" in shown and "is not a regular file" in shown
    assert "main.flow:1:9" in shown and "Traceback" not in shown


def test_an_included_folder_is_said_to_be_one(tmp_path: Path) -> None:
    (tmp_path / "shared.flow").mkdir()
    (tmp_path / "main.flow").write_text(f'include "shared.flow"\n{BODY}')
    done = flowlang("check", "main.flow", cwd=tmp_path)
    assert done.returncode == 1
    assert "cannot be read (Is a directory)" in done.stdout
    assert "pipe, socket or device" not in done.stdout


def test_an_empty_include_asks_for_a_file_name(tmp_path: Path) -> None:
    (tmp_path / "main.flow").write_text(f'include ""\n{BODY}')
    done = flowlang("check", "main.flow", cwd=tmp_path)
    assert done.returncode == 1
    assert "error[FL080]: include needs a file name" in done.stdout
    assert "Is a directory" not in done.stdout


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_a_pipe_in_place_of_a_translation_catalog_is_not_read(
    tmp_path: Path, command: str
) -> None:
    (tmp_path / "bilingual.flow").write_text((ROOT / "examples" / "bilingual.flow").read_text())
    os.mkfifo(tmp_path / "bilingual.es-US.texts")
    done = flowlang(command, "bilingual.flow", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    # check: every text is untranslated, as with no catalog; fmt: the flow is tidied.
    assert done.returncode == (1 if command == "check" else 0), done.stdout + done.stderr
