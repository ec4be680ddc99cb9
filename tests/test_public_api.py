"""The public API of the `flowlang` package: small, pinned, and every name importable."""

from __future__ import annotations

import subprocess
import sys

import pytest

import flowlang

PUBLIC = [
    "CallInfo",
    "Command",
    "Diagnostic",
    "Event",
    "FlowCompileError",
    "FlowError",
    "FlowSyntaxError",
    "Interpreter",
    "Outcome",
    "Program",
    "Severity",
    "Source",
    "Span",
    "check_source",
    "compile_flow",
    "compile_source",
    "format_flow",
    "format_text",
    "parse",
    "parse_source",
    "render_text",
    "simulate",
]


def test_the_public_api_is_exactly_this() -> None:
    assert flowlang.__all__ == PUBLIC
    assert sorted(flowlang._EXPORTS) == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_all_imports_are_exported(name: str) -> None:
    value = getattr(flowlang, name)
    assert value.__module__.startswith("flowlang.")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        flowlang.nothing  # noqa: B018


def test_importing_the_package_loads_no_parser() -> None:
    code = (
        "import sys, flowlang; "
        "print('flowlang.syntax.parser' in sys.modules, 'lark' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_api_runs_a_call_end_to_end() -> None:
    text = 'voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    say "Hello."\n    hangup\n'
    program = flowlang.compile_source(flowlang.Source("hello.flow", text))
    outcome = flowlang.Interpreter(program).start(flowlang.CallInfo("call-1"))
    assert [c.action for c in outcome.commands] == ["answer"]
    assert outcome.waiting == "answer"
