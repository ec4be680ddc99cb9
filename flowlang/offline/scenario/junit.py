"""`flowlang test --junit FILE`: the results as JUnit XML, the test report CI systems read."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import PurePath

from attrs import frozen

from flowlang.offline.scenario.report import failure_line, side_by_side
from flowlang.offline.scenario.run import ScenarioResult
from flowlang.offline.scenario.syntax import SUFFIX

# Characters XML 1.0 cannot hold, not even escaped (most control characters): a document
# with one is refused whole by the CI system reading it.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


@frozen
class Case:
    """One scenario as it ran: its `name` and `line` in the scenario file, how long it took,
    and for a failure the one-line `message` and the `details` the text output shows."""

    name: str
    line: int
    seconds: float
    message: str | None = None
    details: str = ""


def case(result: ScenarioResult, seconds: float, scenario_file: str, flow_file: str) -> Case:
    """The Case of `result`, a scenario of `scenario_file` played on `flow_file`."""
    name, line = result.scenario.name, result.scenario.span.line
    if result.passed:
        return Case(name, line, seconds)
    message = failure_line(result, scenario_file)
    return Case(name, line, seconds, message, side_by_side(result, scenario_file, flow_file))


@frozen
class Suite:
    """One scenario file: how its scenarios went, or the `problems` (the rendered diagnostics)
    that kept it from running."""

    file: str
    cases: tuple[Case, ...] = ()
    problems: str | None = None


def _classname(file: str) -> str:
    # As Jenkins groups test cases: dotted, like a module (`flows/menu.scenarios`: flows.menu).
    return PurePath(file).as_posix().removesuffix(SUFFIX).strip("/").replace("/", ".")


def _suite(suite: Suite) -> ET.Element:
    element = ET.Element("testsuite", name=_xml(suite.file), file=_xml(suite.file))
    classname = _xml(_classname(suite.file))
    if suite.problems is not None:
        # A test case of its own, so that a report counting test cases shows the file as red.
        name = PurePath(suite.file).name
        testcase = ET.SubElement(
            element, "testcase", name=_xml(name), classname=classname, file=_xml(suite.file)
        )
        error = ET.SubElement(
            testcase, "error", message=_xml(f"cannot run the scenarios of {suite.file}")
        )
        error.text = _xml(suite.problems)
    for c in suite.cases:
        testcase = ET.SubElement(
            element,
            "testcase",
            name=_xml(c.name),
            classname=classname,
            file=_xml(suite.file),
            line=str(c.line),
            time=f"{c.seconds:.3f}",
        )
        if c.message is not None:
            failure = ET.SubElement(testcase, "failure", message=_xml(c.message))
            failure.text = _xml(c.details)
    failures = sum(1 for c in suite.cases if c.message is not None)
    element.set("tests", str(len(suite.cases) + (suite.problems is not None)))
    element.set("failures", str(failures))
    element.set("errors", str(int(suite.problems is not None)))
    element.set("skipped", "0")
    element.set("time", f"{sum(c.seconds for c in suite.cases):.3f}")
    return element


def render(suites: Iterable[Suite]) -> str:
    """A `<testsuites>` document: a `<testsuite>` per scenario file, a `<testcase>` per
    scenario, a failed one with a `<failure>` whose message is the text output's failure line
    and whose text is the side-by-side conversation; a file that could not run is a test case
    with an `<error>`."""
    root = ET.Element("testsuites", name="flowlang test")
    for suite in suites:
        root.append(_suite(suite))
    for total in ("tests", "failures", "errors"):
        root.set(total, str(sum(int(s.get(total, "0")) for s in root)))
    root.set("time", f"{sum(float(s.get('time', '0')) for s in root):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
