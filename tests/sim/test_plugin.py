"""The pytest plugin: one test item per scenario, failures shown side by side."""

from __future__ import annotations

import pytest

from tests.sim.helpers import EXAMPLES

pytest_plugins = ["pytester"]

FLOW = (EXAMPLES / "business_line.flow").read_text(encoding="utf-8")


def test_plugin_collects_one_item_per_scenario(pytester: pytest.Pytester) -> None:
    pytester.makefile(".flow", menu=FLOW)
    pytester.makefile(
        ".scenarios",
        menu='scenario "order desk":\n    press "2"\n    expect transfer "+13125550101"\n'
        'scenario "hours":\n    press "1"\n    expect step hours\n',
    )
    result = pytester.runpytest(
        "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio"
    )
    result.stdout.fnmatch_lines(["menu.scenarios::order desk", "menu.scenarios::hours"])
    outcome = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")
    outcome.assert_outcomes(passed=2)


def test_a_failing_scenario_fails_its_item_with_the_side_by_side_view(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".flow", menu=FLOW)
    pytester.makefile(
        ".scenarios",
        menu='scenario "good":\n    press "0"\n    expect transfer "+13125550100"\n'
        'scenario "bad":\n    press "0"\n    expect transfer "+19999999999"\n',
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*X    6 expect transfer \"+19999999999\"*? not found here*",
        "*menu.scenarios:6: expected `expect transfer \"+19999999999\"` after `press \"0\"`*",
    ])


def test_a_broken_scenario_file_is_one_failing_item(pytester: pytest.Pytester) -> None:
    pytester.makefile(".flow", menu=FLOW)
    pytester.makefile(".scenarios", menu='scenario "x":\n    jump\n')
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*error?FL901?: `jump` is not a scenario step*"])
