"""Helpers for the simulator tests: compile flow text, run the CLI, drop correlation fields."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from flowlang.cli import main
from flowlang.compiler import compile_source
from flowlang.source import Source

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
EXAMPLE_FLOWS = sorted(EXAMPLES.glob("*.flow"))
VOICE = 'voice "Telnyx.KokoroTTS.af"\n'
CORRELATION = ("client_state", "command_id")


def flow(text: str) -> str:
    """Flow text written indented inside a test, with the indentation removed."""
    return textwrap.dedent(text)


def chain(steps: int) -> str:
    """A flow that is a straight run of `steps` steps, each saying something and going to the
    next, the last hanging up: long, but no loop."""
    body = "main:\n    answer\n    goto s0\n"
    for i in range(steps):
        after = f"goto s{i + 1}" if i < steps - 1 else "hangup"
        body += f'\ns{i}:\n    say "Step {i}."\n    {after}\n'
    return VOICE + body


def program(text: str, name: str = "test.flow") -> Any:
    return compile_source(Source(name, text))


def write_flow(tmp_path: Path, text: str, name: str = "test.flow") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def simulate_jsonl(
    capsys: pytest.CaptureFixture[str], path: Path, *inputs: str, extra: tuple[str, ...] = ()
) -> tuple[int, list[dict[str, Any]]]:
    argv = ["simulate", str(path), "--format", "jsonl", *extra]
    for i in inputs:
        argv += ["--input", i]
    status = main(argv)
    out = capsys.readouterr().out
    return status, [json.loads(line) for line in out.splitlines()]


def bare(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The jsonl lines without the correlation fields (client_state, command_id)."""
    out = []
    for line in lines:
        if "body" in line:
            body = {k: v for k, v in line["body"].items() if k not in CORRELATION}
            kind = "request" if "request" in line else "action"
            out.append({kind: line[kind], "body": body})
        else:
            out.append(line)
    return out
