"""Step through a simulated call line by line, with breakpoints, in your terminal."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from flowlang.cli.inputs import UsageError, read_source
from flowlang.cli.simulate import (
    add_call_arguments,
    call_values,
    check_language,
    load_program,
    when,
)

PROMPT = "(debug) "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flow", metavar="FLOW", help="the .flow file to debug")
    parser.add_argument(
        "--break",
        dest="breaks",
        action="append",
        default=[],
        metavar="WHERE",
        help="stop there: a line (12), a line of an included file (common.flow:3) or a "
        "step's name (menu); repeatable",
    )
    add_call_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from flowlang.offline.debug.calls import SimulatedCall
    from flowlang.offline.debug.console import Console
    from flowlang.offline.debug.session import DebugError, Session

    source = read_source(args.flow)
    program = load_program(source)
    if program is None:
        return 1
    at = when(args.at, program)
    check_language(args, program)
    values = call_values(args)

    def start() -> SimulatedCall:
        return SimulatedCall(program, args.caller, args.called, args.language, at, values)

    session = Session(start)
    for where in args.breaks:
        try:
            session.add_breakpoint(where)
        except DebugError as exc:
            raise UsageError(f"--break {where}: {exc}") from None
    console = Console(session)
    out = sys.stdout
    out.write(
        f"Debugging {source.name}: a simulated call from {args.caller} to {args.called}.\n"
        "Type help for the commands: step (s) runs one line, continue (c) runs to a "
        "breakpoint, quit (q) stops.\n"
    )
    return loop(console, sys.stdin, out)


def loop(console: Any, stdin: TextIO, out: TextIO) -> int:
    """Show the session's answers to each line typed until the person quits (or input ends)."""
    terminal = stdin.isatty()
    if terminal:
        # Line editing and a history of what was typed (the arrow keys), for `input()`.
        import readline  # noqa: F401

    show(console.start(), out)
    while not console.done:
        try:
            if terminal:
                typed = input(PROMPT)
            else:
                out.write(PROMPT)
                out.flush()
                typed = stdin.readline()
                if not typed:
                    raise EOFError
                # Read from a file or a pipe: show what was typed, so the output reads as a session.
                out.write(typed if typed.endswith("\n") else typed + "\n")
        except EOFError:
            out.write("\n")
            break
        except KeyboardInterrupt:
            out.write("\n(type quit to stop)\n")
            continue
        try:
            lines = console.command(typed)
        except Exception as exc:  # noqa: BLE001 - a debugger bug must not end the session
            lines = [f"internal error in flowlang debug: {type(exc).__name__}: {exc} "
                     "(please report it; the session goes on)"]
        show(lines, out)
    return 0


def show(lines: list[str], out: TextIO) -> None:
    for line in lines:
        out.write(line + "\n")
    out.flush()
