"""Try many random callers on a flow to find calls that fail, loop, get stuck or say nothing."""

from __future__ import annotations

import argparse
import sys

from flowlang.cli.inputs import UsageError, read_source, whole_number


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("give a number of 1 or more")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flow", metavar="FLOW", help="the .flow file to try")
    parser.add_argument(
        "--examples",
        type=_positive,
        default=200,
        metavar="N",
        help="how many random calls to try (default 200)",
    )
    parser.add_argument(
        "--seed",
        type=whole_number,
        default=0,
        metavar="N",
        help="change it to try other random calls (default 0)",
    )
    parser.add_argument(
        "--max-inputs",
        type=_positive,
        default=30,
        metavar="N",
        help="the most caller actions in one call (default 30)",
    )


def run(args: argparse.Namespace) -> int:
    from flowlang.cli.simulate import load_program
    from flowlang.offline.fuzz import fuzz, simulate_command

    source = read_source(args.flow)
    program = load_program(source, doing="fuzz")
    if program is None:
        return 1
    if args.examples > 100_000:
        raise UsageError("--examples: at most 100000")
    report = fuzz(program, args.examples, args.seed, args.max_inputs)
    finding = report.finding
    if finding is None:
        print(f"Tried {report.examples} random calls on {args.flow}: no problem found.")
        return 0
    where = f" (line {finding.line})" if finding.line else ""
    what = {
        "error": "a call ended in an error",
        "stuck": "a call got stuck",
        "empty": "the caller heard an empty value",
        "crash": "the simulator crashed",
    }[finding.kind]
    print(f"Problem found in {args.flow}: {what}{where}.")
    print(f"  {finding.message}")
    count = len(finding.inputs)
    print(
        f"The shortest caller behaviour found that shows it ({count} input"
        f"{'s' if count != 1 else ''}):"
    )
    print(f"  {simulate_command(args.flow, finding.inputs, finding.at, finding.values)}")
    sys.stdout.flush()
    return 1
