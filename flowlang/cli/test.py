"""Run the scenario tests kept next to your flows, and show what they do not cover."""

from __future__ import annotations

import argparse
import sys
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help=".scenarios files, .flow files (their .scenarios beside them) or "
        "folders (default: the current folder)",
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="list the steps, handlers and branches no scenario reached",
    )
    parser.add_argument(
        "--coverage-format",
        choices=("text", "json"),
        default=None,
        help="text (default) or json; json goes to standard output alone, the "
        "test results to standard error",
    )
    parser.add_argument(
        "--junit",
        metavar="FILE",
        help="also write the results to FILE as JUnit XML, the test report CI systems read",
    )
    parser.add_argument(
        "--fail-under",
        metavar="PERCENT",
        help="fail (exit status 1) when a flow's coverage is under PERCENT, like 90; implies "
        "--coverage",
    )


def run(args: argparse.Namespace) -> int:
    from flowlang.cli.inputs import UsageError, path_problem
    from flowlang.offline.scenario import junit
    from flowlang.offline.scenario.coverage import coverage, render_json, render_text
    from flowlang.offline.scenario.report import summary_line, totals
    from flowlang.offline.scenario.run import run_scenario
    from flowlang.offline.scenario.suite import NoScenarios, find, load

    for raw in args.paths:
        problem = path_problem(raw)
        if problem is not None:
            raise UsageError(problem.replace("reading a flow", "reading scenarios"))
    try:
        files = find(args.paths)
    except NoScenarios as exc:
        raise UsageError(str(exc)) from None
    floor = _percent(args.fail_under) if args.fail_under is not None else None
    want_coverage = args.coverage or args.coverage_format is not None or floor is not None
    as_json = args.coverage_format == "json"
    out = sys.stderr if as_json else sys.stdout
    passed = failed = broken = 0
    reached: dict[str, set[str]] = {}
    programs: dict[str, object] = {}
    suites: list[junit.Suite] = []
    for path in files:
        loaded = load(path)
        out.write(f"{path}\n")
        if not loaded.ok:
            broken += 1
            out.write(loaded.problems)
            out.write(f"  cannot run the scenarios of {path}\n")
            suites.append(junit.Suite(str(path), problems=loaded.problems))
            continue
        assert loaded.file is not None and loaded.flow_path is not None
        flow_name = str(loaded.flow_path)
        programs.setdefault(flow_name, loaded.program)
        seen = reached.setdefault(flow_name, set())
        cases: list[junit.Case] = []
        for scenario in loaded.file.scenarios:
            started = time.perf_counter()
            result = run_scenario(loaded.program, scenario, loaded.file)
            case = junit.case(result, time.perf_counter() - started, str(path), flow_name)
            cases.append(case)
            seen.update(result.reached)
            out.write(f"  {summary_line(result)}\n")
            if result.passed:
                passed += 1
            else:
                failed += 1
                out.write(case.details)
        suites.append(junit.Suite(str(path), tuple(cases)))
    out.write(totals(passed, failed, broken) + "\n")
    if args.junit is not None:
        try:
            with open(args.junit, "w", encoding="utf-8") as xml:
                xml.write(junit.render(suites))
        except OSError as exc:
            reason = exc.strerror or exc
            raise UsageError(f"--junit {args.junit}: cannot write the file ({reason})") from None
    if want_coverage:
        reports = [coverage(programs[name], reached[name]) for name in programs]
        if as_json:
            sys.stdout.write(render_json(reports))
        else:
            sys.stdout.write("\n" + render_text(reports))
        under = [r for r in reports if floor is not None and r.percent < floor]
        for report in under:
            out.write(
                f"coverage of {report.flow} is {report.percent:g}%, under --fail-under"
                f" {floor:g}%: add scenarios that reach what is listed as not reached\n"
            )
        if under:
            return 1
    return 1 if failed or broken else 0


def _percent(text: str) -> float:
    from flowlang.cli.inputs import UsageError

    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise UsageError(f"--fail-under {text}: give a percentage from 0 to 100, like 90")
    return value
