"""The exact command stream of LANGUAGE.md's Acme example for a few callers, as golden files.

Each line is one command as `flowlang simulate --format jsonl` prints it; review changes as diffs
(`pytest --update-goldens`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.language_examples import SECTION_1
from tests.runtime.calls import Call

ACME = SECTION_1.lstrip("\n")

Script = Callable[[Call], None]


def sales(call: Call) -> None:
    call.press("1")


def three_timeouts(call: Call) -> None:
    for _ in range(3):
        call.press("", "timeout")
    call.settle()


def hours_then_support(call: Call) -> None:
    call.press("3")
    call.settle()
    call.press("9", "invalid")
    call.press("2")
    call.settle()
    call.press("123456#")
    call.settle()


SCRIPTS = {"sales": sales, "three_timeouts": three_timeouts, "support": hours_then_support}


@pytest.mark.parametrize("name", list(SCRIPTS), ids=list(SCRIPTS))
def test_acme_command_stream(name: str, golden: Callable[[str, str], None]) -> None:
    call = Call.of(ACME)
    call.start()
    call.settle()
    SCRIPTS[name](call)
    assert call.last.end is not None
    lines = [json.dumps(c.to_json(), ensure_ascii=False) for c in call.commands]
    lines.append(json.dumps({"end": call.last.end.reason}))
    golden(f"runtime/acme_{name}.jsonl", "\n".join(lines) + "\n")
