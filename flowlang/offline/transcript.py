"""A recorded call told in the simulator's words: each line with its time and its `.flow` line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import frozen

from flowlang.offline.conversation import Line, conversation, ending, show
from flowlang.offline.replay import RecordedCall, RecordedStep, describe, retrace
from flowlang.offline.simulator import Requested, Sent
from flowlang.serve.history import COMMAND_KINDS, FETCH_KIND, Delivery, Entry, commands_json


@frozen
class Timed:
    """A line of the call's conversation and `seconds` after the call's start it happened (the
    time of the event that caused it: Telnyx's `occurred_at`, else its arrival); for a command
    or a backend request, the outbox row that carried it (`delivery`)."""

    line: Line
    seconds: float | None
    delivery: Delivery | None = None
    # The index of the step that caused it in (start, *steps), when known.
    step: int | None = None


def timed_lines(call: RecordedCall) -> tuple[list[Timed], Any]:
    """The call's conversation lines with their times, and the transcript they come from."""
    retraced = retrace(call)
    transcript = retraced.transcript
    lines = conversation(transcript, call.program)
    steps = (call.start, *call.steps)
    origin = steps[0].when
    # Every entry of a transcript gives one line of its conversation (then the end's).
    if len(lines) != len(transcript.entries) + 1 or origin is None:
        return [Timed(line, None) for line in lines], transcript
    # Ignored events queued nothing and have no lines.
    rows = [_rows(e) for e in call.history.entries if e.data.get("ignored") is not True]
    out: list[Timed] = []
    step = 0
    for index, line in enumerate(lines[:-1]):
        while step < len(retraced.marks) - 1 and index >= retraced.marks[step]:
            step += 1
        when = steps[step].when
        seconds = (when - origin).total_seconds() if when is not None else None
        entry = transcript.entries[index]
        kind = "command" if isinstance(entry, Sent) else "fetch" if isinstance(entry, Requested) \
            else None
        found = rows[step][kind].pop(0) if kind and rows[step][kind] else None
        out.append(Timed(line, seconds, found, step))
    last = steps[-1].when
    out.append(Timed(lines[-1], (last - origin).total_seconds() if last is not None else None))
    return out, transcript


def _rows(entry: Entry) -> dict[str, list[Delivery]]:
    """A record's outbox rows by what the transcript shows them as: commands, requests."""
    return {
        "command": [r for r in entry.rows if r.kind in COMMAND_KINDS],
        "fetch": [r for r in entry.rows if r.kind == FETCH_KIND],
    }


def fate(delivery: Delivery | None) -> str:
    """What became of a command, when it is worth saying (it was not simply sent at once)."""
    if delivery is None or (delivery.state == "sent" and not delivery.attempts):
        return ""
    if delivery.state == "sent":
        tries = delivery.attempts + 1
        return f"  (sent after {tries} tries)"
    if delivery.state == "dropped":
        return "  (not sent: the call was over or the run was stopped)"
    return "  (not sent yet)"


def offset(seconds: float | None) -> str:
    """`+4.2s`, `+2m05.0s`: how long after the start."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"+{seconds:.1f}s"
    minutes, rest = divmod(seconds, 60)
    return f"+{int(minutes)}m{rest:04.1f}s"


def render_call(call: RecordedCall) -> str:
    """The transcript of `flowlang calls show`: the simulate transcript's lines, each after the
    time it happened, then how the call ended and what became of its commands."""
    timed, transcript = timed_lines(call)
    source = call.program.source
    out = []
    # Each event the run ignored, shown before the lines of the steps that came after it.
    ignored = call.ignored()
    origin = call.start.when
    for item in timed[:-1]:
        while ignored and item.step is not None and ignored[0][0] <= item.step - 1:
            out.append(_ignored_line(ignored.pop(0)[1], origin))
        out.append(f"{offset(item.seconds):>9}  {show(item.line, source)}{fate(item.delivery)}")
    out.extend(_ignored_line(step, origin) for _, step in ignored)
    summary = call.history.summary
    out.append("")
    if summary.status == "active":
        out.append("The call is still in progress.")
    elif summary.status == "failed":
        out.append(f"The call was stopped: {summary.end_reason or 'a command failed'}.")
    else:
        out.append(ending([t.line for t in timed], transcript.end, source))
    out.extend(_deliveries(call))
    return "\n".join(out) + "\n"


def _ignored_line(step: RecordedStep, origin: datetime | None) -> str:
    """An event the run ignored, as `calls show` lists it among the lines."""
    when = step.when
    seconds = (when - origin).total_seconds() if when is not None and origin is not None \
        else None
    return f"{offset(seconds):>9}    ignored   {describe(step)} (not what the flow waited for)"


def _deliveries(call: RecordedCall) -> list[str]:
    deliveries = call.history.deliveries
    if not deliveries:
        return []
    counts: dict[str, int] = {}
    for d in deliveries:
        counts[d.state] = counts.get(d.state, 0) + 1
    parts = [f"{n} {state}" for state, n in counts.items()]
    out = [f"Commands to Telnyx and requests: {', '.join(parts)}."]
    # Rows no step of the flow queued: the server's own (the hangup of a run it stopped).
    count = sum(len(e.rows) for e in call.history.entries)
    for d in deliveries[count:]:
        out.append(f"  the server itself: {d.action}{fate(d) or '  (sent)'}")
    return out


def call_json(call: RecordedCall) -> dict[str, Any]:
    """`flowlang calls show --json`: the call's summary, its steps as recorded, and its
    conversation lines with their times."""
    summary = call.history.summary
    timed, transcript = timed_lines(call)
    return {
        **summary.to_json(),
        "steps": [
            {"applied": e.applied, **e.data, "commands": commands_json(e.commands),
             "fetch": e.fetch.to_row() if e.fetch is not None else None}
            for e in call.history.entries
        ],
        "lines": [
            {"seconds": t.seconds, "kind": t.line.kind, "text": t.line.text,
             "line": t.line.flow_line}
            for t in timed
        ],
        "deliveries": [
            {"kind": d.kind, "action": d.action, "body": d.body, "key": d.key, "state": d.state,
             "attempts": d.attempts, "queued": d.queued}
            for d in call.history.deliveries
        ],
    }
