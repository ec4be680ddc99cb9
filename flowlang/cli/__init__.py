"""The `flowlang` command line: one subcommand module each, dispatched from here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from flowlang.cli.inputs import UsageError

# Subcommand name -> module under flowlang.cli. Each module has a one-line docstring (the help),
# `add_arguments(parser)` and `run(args) -> int`, and imports its heavy dependencies inside `run`
# so that `flowlang check` starts fast.
SUBCOMMANDS = {
    "check": "check",
    "fmt": "fmt",
    "rule": "rule",
    "graph": "graph",
    "simulate": "simulate",
    "debug": "debug",
    "test": "test",
    "fuzz": "fuzz",
    "serve": "serve",
    "dial": "dial",
    "calls": "calls",
    "replay": "replay",
    "lsp": "lsp",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowlang",
        description="Write, check, simulate, test and serve Telnyx call flows (.flow files).",
        epilog="Run `flowlang COMMAND --help` for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"flowlang {_version()}")
    # Not required: `flowlang` alone lists the commands (see main).
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(f"flowlang.cli.{module_name}")
        summary = (module.__doc__ or "").strip().splitlines()[0]
        command = sub.add_parser(name, help=summary, description=summary)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flowlang")
    except PackageNotFoundError:
        return "(not installed: run from a source tree)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `flowlang` console script; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    inputs: list[str] = []
    if words[:1] == ["simulate"]:
        from flowlang.cli.simulate import take_inputs

        words, inputs = take_inputs(words)
    if words[:1] == ["calls"]:
        from flowlang.cli.calls import take_dashed

        words = take_dashed(words)
    parser = build_parser()
    args = parser.parse_args(words)
    if args.command is None:
        # Nothing asked is no mistake: show what there is to ask, and succeed.
        parser.print_help()
        return 0
    if inputs:
        args.inputs = [*inputs, *(args.inputs or ())]
    try:
        status: int = args._run(args)
    except UsageError as exc:
        print(f"flowlang: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return status


def entry() -> None:
    sys.exit(main())
