"""List the calls a server kept, or show one as a transcript: `flowlang calls [show ID]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flowlang.cli.inputs import UsageError

if TYPE_CHECKING:
    from flowlang.offline.replay import RecordedCall
    from flowlang.serve.history import CallQuery, CallSummary
    from flowlang.serve.store import Store

DEFAULT_STORE = "sqlite:///flowlang.db"
DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000
# The options whose value may start with `-` (a mistaken `--since -5m`): see take_dashed.
_TIME_OPTIONS = ("--since", "--until")
T = TypeVar("T")

# How a call ended, in words (the store's end reason starts with one of these).
ENDINGS = {
    "hangup": "hung up",
    "transfer": "transferred",
    "completed": "ran to its end",
    "error": "error",
}


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=DEFAULT_STORE,
        metavar="URL",
        help=f"the store `flowlang serve` keeps its calls in ({DEFAULT_STORE})",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "words",
        nargs="*",
        metavar="show ID",
        help="`show ID`: one call as a transcript (ID or the start of it); nothing: the list",
    )
    add_store_argument(parser)
    parser.add_argument(
        "--status",
        choices=("active", "ended", "failed"),
        help="only calls in progress (active), over (ended), or stopped by a failure (failed)",
    )
    parser.add_argument(
        "--number", metavar="NUMBER", help="only calls from or to a number containing NUMBER"
    )
    parser.add_argument(
        "--since",
        metavar="TIME",
        help="only calls started since TIME: 2026-11-23, 2026-11-23T14:05 (this computer's"
        " time, or with an offset), or a while ago: 30m, 12h, 7d",
    )
    parser.add_argument("--until", metavar="TIME", help="only calls started before TIME")
    parser.add_argument(
        "--limit",
        default=str(DEFAULT_LIMIT),
        metavar="N",
        help=f"at most N calls, newest first ({DEFAULT_LIMIT}; 1 to {MAX_LIMIT})",
    )
    parser.add_argument("--json", action="store_true", help="JSON for programs, not a table")


def read_store(url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    """`work` done on the store at `url`, opened for it as it is (never written, nor updated to
    the current layout: see open_store); UsageError for a store that cannot be opened or read,
    in the store's words."""
    from flowlang.serve.store import StoreError, open_store

    try:
        store = open_store(url, read_only=True)
    except StoreError as exc:
        raise UsageError(str(exc)) from None

    async def go() -> T:
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def load(url: str, call_id: str) -> RecordedCall:
    """The recorded call `call_id` (or the one whose id starts so) from the store at `url`."""
    from flowlang.offline.replay import ReplayError, read_call

    async def work(store: Store) -> RecordedCall:
        return await read_call(store, call_id)

    try:
        return read_store(url, work)
    except ReplayError as exc:
        raise UsageError(str(exc)) from None


def take_dashed(words: list[str]) -> list[str]:
    """`words` with `--since -5m` written `--since=-5m`: argparse takes a value starting with
    `-` for an option and says only "expected one argument"; `moment` explains it instead."""
    out: list[str] = []
    pending = False
    for word in words:
        if pending and word[:1] == "-" and word[1:2].isdigit():
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
        pending = word in _TIME_OPTIONS
    return out


def moment(text: str, until: bool = False) -> float:
    """Epoch seconds from `--since`/`--until`: a date, a date and time, or a while ago."""
    from flowlang.cli.serve import duration
    from flowlang.clock import FIRST_YEAR, LAST_YEAR

    option = "--until" if until else "--since"
    try:
        return datetime.now().timestamp() - duration(text)
    except argparse.ArgumentTypeError:
        pass
    if text.strip().startswith("-"):
        raise UsageError(
            f"{option} {_shown(text)}: write a while ago without a minus sign, like"
            f" {option} {_shown(text.strip().lstrip('-'))}"
        )
    try:
        when = datetime.fromisoformat(text.strip().replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a time: write 2026-11-23, 2026-11-23T14:05 or a while"
            " ago like 30m, 12h or 7d"
        ) from None
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise UsageError(
            f"{option} {_shown(text)} is out of range: give a date between {FIRST_YEAR} and"
            f" {LAST_YEAR}"
        )
    return when.timestamp()


def limit(text: str) -> int:
    """The number `--limit` gives; UsageError, saying what to write, for anything else."""
    cleaned = text.strip()
    if not cleaned.isdecimal() or not 1 <= int(cleaned) <= MAX_LIMIT:
        raise UsageError(f"--limit {_shown(text)}: write a whole number from 1 to {MAX_LIMIT}")
    return int(cleaned)


def _shown(text: str) -> str:
    """`text` as given, quoted when it holds a line break or other invisible character."""
    return text if text.isprintable() else repr(text)


def query(args: argparse.Namespace) -> CallQuery:
    from flowlang.serve.history import CallQuery

    since = moment(args.since) if args.since else None
    until = moment(args.until, until=True) if args.until else None
    if since is not None and until is not None and since >= until:
        # `--since 1h --until 2h`: no call starts in between; the two were swapped.
        raise UsageError(
            f"--since {args.since} is not before --until {args.until}, so no call can match:"
            f" did you mean --since {args.until} --until {args.since}?"
        )
    return CallQuery(
        status=args.status,
        number=args.number,
        since=since,
        until=until,
        limit=limit(str(args.limit)),
    )


def run(args: argparse.Namespace) -> int:
    words = args.words
    if not words:
        return _list(args)
    if words[0] == "show" and len(words) == 2:
        return _show(args, words[1])
    raise UsageError(
        "write `flowlang calls` for the list, or `flowlang calls show ID` for one call"
    )


def clock(seconds: float) -> str:
    """Epoch seconds as this computer's date and time, to the second."""
    return datetime.fromtimestamp(seconds).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def length(seconds: float) -> str:
    """A call's length in words a person reads at a glance: `42s`, `3m05s`, `1h02m`."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def ending(summary: CallSummary) -> str:
    """How the call ended (or that it goes on), in a few words."""
    if summary.status == "active":
        return "in progress"
    reason = summary.end_reason or ""
    if summary.status == "failed":
        return f"failed: {reason}" if reason else "failed"
    word, _, message = reason.partition(": ")
    said = ENDINGS.get(word, word or "ended")
    return f"{said}: {message}" if message else said


def summary_json(summary: CallSummary) -> dict[str, Any]:
    return {**summary.to_json(), "seconds": round(summary.updated - summary.started, 3)}


def _list(args: argparse.Namespace) -> int:
    wanted = query(args)

    async def work(store: Store) -> list[CallSummary]:
        return await store.recent_calls(wanted)

    calls = read_store(args.store, work)
    if args.json:
        print(json.dumps([summary_json(c) for c in calls], indent=2, ensure_ascii=False))
        return 0
    if not calls:
        print("No calls found" + (" that match." if _filtered(args) else " in this store."))
        return 0
    head = ("When", "From", "To", "Flow", "Ended", "Length", "Call")
    rows = [
        (
            clock(c.started),
            c.caller,
            c.called,
            f"{Path(c.flow).name} {c.digest[:8]}",
            ending(c),
            length(c.updated - c.started) if c.status != "active" else "",
            c.call_control_id,
        )
        for c in calls
    ]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head) - 1)]
    for row in (head, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
    plural = "s" if len(calls) != 1 else ""
    print(f"\n{len(calls)} call{plural}; `flowlang calls show ID` shows one.")
    return 0


def _filtered(args: argparse.Namespace) -> bool:
    return any((args.status, args.number, args.since, args.until))


def _show(args: argparse.Namespace, call_id: str) -> int:
    from flowlang.offline.transcript import call_json, render_call

    call = load(args.store, call_id)
    if args.json:
        print(json.dumps(call_json(call), indent=2, ensure_ascii=False))
        return 0
    summary = call.history.summary
    took = "" if summary.status == "active" else f", {length(summary.updated - summary.started)}"
    print(f"Call {summary.call_control_id}")
    print(f"  from {summary.caller} to {summary.called}, {clock(summary.started)}{took}")
    print(f"  flow {summary.flow}, version {summary.digest[:12]}: {ending(summary)}")
    print()
    sys.stdout.write(render_call(call))
    return 0
