"""Scenario tests for flows: the `.scenarios` format, running scenarios, and what they cover."""

from flowlang.offline.scenario.coverage import Coverage, coverage
from flowlang.offline.scenario.run import ScenarioResult, run_scenario
from flowlang.offline.scenario.syntax import (
    Scenario,
    ScenarioFile,
    ScenarioSyntaxError,
    parse_scenarios,
)

__all__ = [
    "Coverage",
    "Scenario",
    "ScenarioFile",
    "ScenarioResult",
    "ScenarioSyntaxError",
    "coverage",
    "parse_scenarios",
    "run_scenario",
]
