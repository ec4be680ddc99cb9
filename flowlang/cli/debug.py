"""Step through a simulated (or recorded) call line by line, with breakpoints, in your terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from flowlang.cli.calls import add_store_argument, load
from flowlang.cli.inputs import UsageError, read_source
from flowlang.cli.simulate import (
    DEFAULT_CALLED,
    DEFAULT_CALLER,
    add_call_arguments,
    call_values,
    check_language,
    load_program,
    when,
)

PROMPT = "(debug) "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "flow", metavar="FLOW", nargs="?", help="the .flow file to debug (a simulated call)"
    )
    parser.add_argument(
        "--call",
        metavar="ID",
        default=None,
        help="debug this real call instead, as `flowlang serve` recorded it (its id, or the "
        "start of it): its events are fed in as the call goes",
    )
    add_store_argument(parser)
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
    if args.call is not None:
        if args.flow is not None:
            raise UsageError(
                "give a FLOW to debug a simulated call, or --call ID to debug a recorded one, "
                "not both"
            )
        return recorded(args)
    if args.flow is None:
        raise UsageError("give the .flow file to debug (or --call ID for a recorded call)")
    return simulated(args)


def simulated(args: argparse.Namespace) -> int:
    from flowlang.offline.debug.calls import SimulatedCall

    source = read_source(args.flow)
    program = load_program(source, doing="debug")
    if program is None:
        return 1
    at = when(args.at, program)
    check_language(args, program)
    values = call_values(args, program)

    def start() -> SimulatedCall:
        return SimulatedCall(program, args.caller, args.called, args.language, at, values)

    from flowlang.offline.simulator import calling_number

    caller = calling_number(program, args.caller)
    heading = f"Debugging {source.name}: a simulated call from {caller} to {args.called}."
    return debug(start, args.breaks, [heading])


def recorded(args: argparse.Namespace) -> int:
    from flowlang.offline.debug.replayed import ReplayedCall

    given = [name for name, value in (("--from", args.caller != DEFAULT_CALLER),
                                      ("--to", args.called != DEFAULT_CALLED),
                                      ("--at", args.at), ("--language", args.language),
                                      ("--with", args.values)) if value]
    if given:
        raise UsageError(
            f"{given[0]} sets up a simulated call; a recorded call (--call) has its own"
        )
    call = load(args.store, args.call)

    def start() -> ReplayedCall:
        return ReplayedCall(call)

    summary = call.history.summary
    started = datetime.fromtimestamp(summary.started, UTC)
    heading = [
        f"Debugging call {call.call_control_id} from {call.call.caller} to "
        f"{call.call.called}, started {started:%Y-%m-%d %H:%M:%S} UTC, on "
        f"{summary.flow} (version {call.program.digest[:12]}).",
        "Its events come from the recording, one by one, as the call goes.",
    ]
    parted = start().parted
    if parted is not None:
        heading.append(f"note: {parted}")
    return debug(start, args.breaks, heading)


def debug(start: Callable[[], Any], breaks: list[str], heading: list[str]) -> int:
    """Debug the calls `start` makes, with breakpoints at `breaks`, after `heading`."""
    from flowlang.offline.debug.console import Console
    from flowlang.offline.debug.session import DebugError, Session

    session = Session(start)
    for where in breaks:
        try:
            session.add_breakpoint(where)
        except DebugError as exc:
            raise UsageError(f"--break {where}: {exc}") from None
    out = sys.stdout
    show([
        *heading,
        "Type help for the commands: step (s) runs one line, continue (c) runs to a "
        "breakpoint, quit (q) stops.",
    ], out)
    return loop(Console(session), sys.stdin, out)


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
