"""flowlang: telephone call flows for Telnyx, written as text.

The public API, loaded on first use so that `flowlang check` starts fast:

    flow = flowlang.parse(text, "menu.flow")          # a typed tree; FlowSyntaxError if not valid
    findings = flowlang.check_source(source)          # syntax errors and lint findings
    program = flowlang.compile_source(source)         # FlowCompileError when the flow has errors
    transcript = flowlang.simulate(program, ["1"])    # an offline call
    outcome = flowlang.Interpreter(program).start(flowlang.CallInfo("call-id"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "Source": "flowlang.source",
    "Span": "flowlang.source",
    "Diagnostic": "flowlang.diagnostics",
    "Severity": "flowlang.diagnostics",
    "render_text": "flowlang.diagnostics",
    "FlowError": "flowlang.errors",
    "FlowSyntaxError": "flowlang.errors",
    "FlowCompileError": "flowlang.errors",
    "parse": "flowlang.syntax.parser",
    "parse_source": "flowlang.syntax.parser",
    "format_flow": "flowlang.syntax.fmt",
    "format_text": "flowlang.syntax.fmt",
    "check_source": "flowlang.lint",
    "compile_flow": "flowlang.compiler",
    "compile_source": "flowlang.compiler",
    "Program": "flowlang.program",
    "Interpreter": "flowlang.runtime.interpreter",
    "CallInfo": "flowlang.runtime.events",
    "Event": "flowlang.runtime.events",
    "Command": "flowlang.runtime.commands",
    "Outcome": "flowlang.runtime.outcome",
    "simulate": "flowlang.offline.simulator",
}

__all__ = [
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

if TYPE_CHECKING:
    from flowlang.compiler import compile_flow, compile_source
    from flowlang.diagnostics import Diagnostic, Severity, render_text
    from flowlang.errors import FlowCompileError, FlowError, FlowSyntaxError
    from flowlang.lint import check_source
    from flowlang.offline.simulator import simulate
    from flowlang.program import Program
    from flowlang.runtime.commands import Command
    from flowlang.runtime.events import CallInfo, Event
    from flowlang.runtime.interpreter import Interpreter
    from flowlang.runtime.outcome import Outcome
    from flowlang.source import Source, Span
    from flowlang.syntax.fmt import format_flow, format_text
    from flowlang.syntax.parser import parse, parse_source


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flowlang' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
