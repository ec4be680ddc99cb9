"""Run the scenario tests kept next to your flows, and show what they do not cover."""

from __future__ import annotations

import argparse
import sys


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


def run(args: argparse.Namespace) -> int:
    from flowlang.cli.inputs import UsageError, path_problem
    from flowlang.offline.scenario.coverage import coverage, render_json, render_text
    from flowlang.offline.scenario.report import side_by_side, summary_line, totals
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
    want_coverage = args.coverage or args.coverage_format is not None
    as_json = args.coverage_format == "json"
    out = sys.stderr if as_json else sys.stdout
    passed = failed = broken = 0
    reached: dict[str, set[str]] = {}
    programs: dict[str, object] = {}
    for path in files:
        loaded = load(path)
        out.write(f"{path}\n")
        if not loaded.ok:
            broken += 1
            out.write(loaded.problems)
            out.write(f"  cannot run the scenarios of {path}\n")
            continue
        assert loaded.file is not None and loaded.flow_path is not None
        flow_name = str(loaded.flow_path)
        programs.setdefault(flow_name, loaded.program)
        seen = reached.setdefault(flow_name, set())
        for scenario in loaded.file.scenarios:
            result = run_scenario(loaded.program, scenario, loaded.file)
            seen.update(result.reached)
            out.write(f"  {summary_line(result)}\n")
            if result.passed:
                passed += 1
            else:
                failed += 1
                out.write(side_by_side(result, str(path), flow_name))
    out.write(totals(passed, failed, broken) + "\n")
    if want_coverage:
        reports = [coverage(programs[name], reached[name]) for name in programs]
        if as_json:
            sys.stdout.write(render_json(reports))
        else:
            sys.stdout.write("\n" + render_text(reports))
    return 1 if failed or broken else 0
