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
    "test": "test",
    "fuzz": "fuzz",
    "serve": "serve",
    "dial": "dial",
    "lsp": "lsp",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowlang",
        description="Write, check, simulate, test and serve Telnyx call flows (.flow files).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(f"flowlang.cli.{module_name}")
        summary = (module.__doc__ or "").strip().splitlines()[0]
        command = sub.add_parser(name, help=summary, description=summary)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `flowlang` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
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
