"""pytest plugin: collects `.scenarios` files, one test item per scenario, so `pytest` runs them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flowlang.offline.scenario.syntax import Scenario

# pytest loads this plugin in every run, so flowlang itself is imported only when a scenario
# file is collected.
SUFFIX = ".scenarios"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == SUFFIX:
        collector: pytest.Collector = ScenarioFileCollector.from_parent(parent, path=file_path)
        return collector
    return None


class ScenarioProblem(Exception):
    """A scenario failed, or its file or flow could not be read; the text says how."""


class ScenarioFileCollector(pytest.File):
    """A `.scenarios` file: one item per scenario (one failing item when it cannot be loaded)."""

    def collect(self) -> Iterator[pytest.Item]:
        from flowlang.offline.scenario.suite import load

        loaded = load(self.path)
        if not loaded.ok or loaded.file is None:
            yield BrokenScenarioFile.from_parent(
                self, name=self.path.name, problems=loaded.problems
            )
            return
        for scenario in loaded.file.scenarios:
            yield ScenarioItem.from_parent(
                self, name=scenario.name, scenario=scenario, loaded=loaded
            )


class _ScenarioReport(pytest.Item):
    """An item whose failure is a ScenarioProblem: shown as its text, with no Python trace."""

    # Plugins such as pytest-lsp read `item.funcargs` in their runtest hooks, and fail on an
    # item without it; a scenario takes no fixtures.
    funcargs: dict[str, Any] = {}

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str:
        if isinstance(excinfo.value, ScenarioProblem):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class ScenarioItem(_ScenarioReport):
    """One scenario, run against its flow."""

    def __init__(self, *, scenario: Scenario, loaded: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.loaded = loaded

    def runtest(self) -> None:
        from flowlang.offline.scenario.report import side_by_side
        from flowlang.offline.scenario.run import run_scenario

        result = run_scenario(self.loaded.program, self.scenario, self.loaded.file)
        if not result.passed:
            raise ScenarioProblem(
                side_by_side(result, str(self.loaded.path), str(self.loaded.flow_path))
            )

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.scenario.span.line - 1, f"scenario: {self.scenario.name}"


class BrokenScenarioFile(_ScenarioReport):
    """A scenario file (or its flow) with errors: fails with the diagnostics."""

    def __init__(self, *, problems: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problems = problems

    def runtest(self) -> None:
        raise ScenarioProblem(self.problems)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenarios: {self.path.name}"
