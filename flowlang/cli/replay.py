"""Replay a real call offline: check it, try its caller on a new version, or make it a test."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowlang.cli.calls import add_store_argument, load
from flowlang.cli.inputs import UsageError, read_source
from flowlang.source import Source

if TYPE_CHECKING:
    from flowlang.offline.replay import Mismatch, RecordedCall
    from flowlang.program import Program


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("call", metavar="ID", help="the call (its id, or the start of it)")
    add_store_argument(parser)
    parser.add_argument(
        "--flow",
        metavar="NEW.flow",
        help="play the same caller on this version of the flow and show, side by side, what"
        " they would now hear differently",
    )
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help="add the call to FILE (a .scenarios file; `-`: print it) as a scenario: what the"
        " caller did, and what they hear from the recorded flow (or from --flow's)",
    )


def run(args: argparse.Namespace) -> int:
    from flowlang.offline.replay import replay

    call = load(args.store, args.call)
    new = _compile(args.flow) if args.flow else None
    if args.scenario:
        return _scenario(call, new, args.scenario, args.flow)
    if new is not None:
        return _what_if(call, new, args.flow)
    result = replay(call)
    name = f"{call.history.summary.flow} ({call.program.digest[:12]})"
    if result.mismatch is None:
        print(
            f"Replayed call {call.call_control_id} on {name}: {result.steps} events, the same"
            " commands at every one."
        )
        return 0
    sys.stdout.write(_mismatch(call, result.mismatch, result.steps))
    return 1


def _compile(path: str) -> Program:
    from flowlang.compiler import compile_source
    from flowlang.diagnostics import render_text
    from flowlang.errors import FlowError

    source = read_source(path)
    try:
        return compile_source(source)
    except FlowError as exc:
        shown = "".join(render_text(d, exc.source or source) + "\n" for d in exc.diagnostics)
        message = f"{path} has errors; fix them and replay again\n{shown}"
        raise UsageError(message.rstrip()) from None


def _show(what: dict[str, Any]) -> list[str]:
    out = [
        f"    {c['action']} {json.dumps(c['body'], ensure_ascii=False)}"
        for c in what["commands"]
    ]
    if what.get("fetch"):
        out.append(f"    fetch {json.dumps(what['fetch'], ensure_ascii=False)}")
    if what.get("ignored"):
        out.append("    (nothing: the event was ignored)")
    elif not out:
        out.append("    (no command)")
    if what.get("end"):
        out.append(f"    the run ended: {what['end']}")
    return out


def _mismatch(call: RecordedCall, mismatch: Mismatch, steps: int) -> str:
    step = mismatch.step
    what = "the start of the call" if mismatch.index == 0 else f"event {mismatch.index}"
    when = f" at {step.instant}" if step.instant else ""
    out = [
        f"Call {call.call_control_id} does not replay the same: at {what} ({step.event.type}"
        f"{when}, {mismatch.index + 1} of {len(call.events) + 1} compared), the run parts"
        " from the recording.",
        "  recorded:",
        *_show(mismatch.recorded),
        "  replayed:",
        *_show(mismatch.replayed),
        "",
        f"The same events through the same flow version ({call.program.digest[:12]}) must give"
        " the same commands: this is a bug in flowlang. Please report it with this output and",
        f"`flowlang calls show {call.call_control_id} --json`.",
    ]
    return "\n".join(out) + "\n"


def _what_if(call: RecordedCall, new: Program, path: str) -> int:
    from flowlang.offline.scenario.report import columns
    from flowlang.offline.whatif import compare

    comparison = compare(call, new)
    recorded = f"{Path(call.history.summary.flow).name} ({call.program.digest[:8]}), as it went"
    out = columns(comparison.rows, recorded, f"{path}, the same caller")
    out.append("")
    if comparison.stopped:
        out.append(f"From here on the caller's recorded behaviour does not fit {path}:"
                   f" {comparison.stopped}")
    count = comparison.differences
    if count == 0:
        out.append(f"The caller would hear exactly the same from {path}.")
    else:
        plural = "s" if count != 1 else ""
        out.append(f"The caller would hear {count} thing{plural} differently from {path}"
                   " (marked X).")
    print("\n".join(out))
    return 0


def _scenario(call: RecordedCall, new: Program | None, target: str, flow: str | None) -> int:
    from flowlang.offline.replay import ReplayError
    from flowlang.offline.scenario.recorded import scenario_text

    path = None if target == "-" else Path(target)
    before = None if path is None else _scenarios_file(path)
    try:
        text = scenario_text(call, new)
    except ReplayError as exc:
        raise UsageError(str(exc)) from None
    if path is None:
        sys.stdout.write(text)
        return 0
    if before is not None:
        # The same call made a scenario before: it is there already; adding it again would
        # give the file two scenarios of one name (FL904), so it is left as it is.
        name = _names(Source("new.scenarios", text))[0]
        if name in _names(Source(str(path), before)):
            print(f'{path} already has the call as scenario "{name}"; nothing added.')
            return 0
    try:
        with path.open("a", encoding="utf-8") as out:
            if before is None:
                out.write(_header(call, path, flow))
            elif before and not before.endswith("\n\n"):
                out.write("\n" if before.endswith("\n") else "\n\n")
            out.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"Added the call as a scenario to {path}; `flowlang test {path}` runs it.")
    return 0


def _scenarios_file(path: Path) -> str | None:
    """The text of the scenario file the call is to be added to (None: a new file); a
    UsageError, before anything is written, for a path that is not a `.scenarios` file, or
    a file that cannot be read or does not parse."""
    from flowlang.errors import FlowError
    from flowlang.offline.scenario.syntax import parse_scenarios

    if path.suffix != ".scenarios":
        instead = path.with_suffix(".scenarios").name if path.stem else "calls.scenarios"
        what = "a flow" if path.suffix == ".flow" else "not a .scenarios file"
        raise UsageError(
            f"--scenario {path}: {path.name} is {what}, not a scenarios file; give a file"
            f" ending in .scenarios, such as {instead}"
        )
    if not path.exists() and not path.is_symlink():
        return None
    source = read_source(path, "give the path of a .scenarios file")
    try:
        parse_scenarios(source)
    except FlowError as exc:
        first = exc.diagnostics[0]
        where = f"line {first.span.line}: " if first.span is not None else ""
        raise UsageError(
            f"{path} has errors, so the call was not added to it ({where}{first.message});"
            f" fix them first: `flowlang test {path}` shows them all"
        ) from None
    return source.text


def _names(source: Source) -> list[str]:
    from flowlang.offline.scenario.syntax import parse_scenarios

    return [s.name for s in parse_scenarios(source).scenarios]


def _header(call: RecordedCall, path: Path, flow: str | None) -> str:
    """The top of a new scenario file: which flow it tests, when it is not the one beside it."""
    lines = [f"# Scenarios made from real calls (`flowlang replay ID --scenario {path.name}`)"]
    tested = Path(flow) if flow else Path(call.history.summary.flow)
    if tested.exists() and tested.resolve() != path.with_suffix(".flow").resolve():
        try:
            relative = tested.resolve().relative_to(path.parent.resolve())
        except ValueError:
            relative = tested.resolve()
        lines.append(f'flow "{relative}"')
    return "\n".join(lines) + "\n\n"
