"""The public names of the compiler and the runtime, pinned: what other modules may rely on."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "flowlang.compiler": ["build_program", "compile_flow", "compile_source"],
    "flowlang.runtime.interpreter": [
        "RECORDING_WAIT_SECS", "STATEMENT_LIMIT", "FlowRuntimeError", "Interpreter",
    ],
    "flowlang.runtime.expressions": [
        "EvalError", "arithmetic", "compare", "contains", "equal", "evaluate", "interpolate",
        "is_open", "is_plain_list", "lookup", "text_of", "truthy", "whole_number",
    ],
    "flowlang.runtime.state": [
        "CALL_DEPTH", "VERSION", "client_state", "command_id", "new_state", "problem",
        "read_client_state", "leg_client_state", "read_leg_state",
    ],
}


@pytest.mark.parametrize("module", list(PUBLIC), ids=list(PUBLIC))
def test_public_names_are_exported_and_exist(module: str) -> None:
    loaded = importlib.import_module(module)
    assert sorted(loaded.__all__) == sorted(PUBLIC[module])
    for name in loaded.__all__:
        assert hasattr(loaded, name), name


def test_program_offers_what_drivers_use() -> None:
    import attrs

    from flowlang.program import Program

    offered = {a.name for a in attrs.fields(Program)} | set(dir(Program))
    assert {"source", "digest", "steps", "blocks", "entry", "step", "coverage_points"} <= offered
