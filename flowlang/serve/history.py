"""A call's history as the server keeps it: one record per event applied, written with its change.

Each event that changed a call leaves one JSON record, in the store transaction that applied it:

    {"event": {"type": "call.gather.ended", "id": "...", "payload": {"status": "valid",
               "digits": "1", "client_state": "..."}, "leg": true},
     "time": "2026-11-23T16:00:04.512Z", "at": ["2026-11-23", 10, 0, 0],
     "queued": 2, "end": "hangup"}

`event.payload` holds only the fields the interpreter reads (READ_FIELDS), so neither the rest of
Telnyx's payload nor anything a backend did not send is kept. `time` is the instant the flow's
clock read (Telnyx's `occurred_at`, else the arrival), `at` that instant on the flow's clock as
the interpreter saw it (`LocalTime`), so a replay is exact. The first record of a call also has
`start`: `{"caller", "called", "inputs", "placed"}` (the event is then the one that started it).
`end` is how the run ended, when it did.

A webhook the run ignored (it was not what the run waited for: a late or repeated event, a key
pressed while nothing listened) leaves a record too, with `"ignored": true` and nothing queued,
written without touching the call (`CallChange.noted`); the routine ones are left out
(`worth_noting`). A replay feeds it and expects it ignored again; the run goes on unchanged.

What the step did is not copied here: its commands, text messages and backend request are the
`queued` outbox rows the same transaction wrote (every side effect is an outbox row, kept, with
what became of it, as long as the call), so a record costs one small row. Reading a history
hands each record its rows back (`Entry.rows`).

With `redact`, the call's own numbers are masked in every string of the record before it is
written (`mask`), so they never reach the disk there; the outbox rows, which must hold them to be
carried out, are masked as they are read (`mask_like`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from attrs import frozen

from flowlang.runtime.commands import Command, FetchRequest
from flowlang.runtime.events import CallInfo, Event, LocalTime
from flowlang.runtime.outcome import Outcome

# Payload fields the interpreter reads (tests/server/test_history.py checks it reads no other),
# and the hangup's source, for people. The call's own id is kept only on a transfer's new leg,
# where it differs (the interpreter tells the legs apart by it); the numbers are the start's.
READ_FIELDS = frozenset(
    {
        "client_state",
        "conversation_id",
        "digit",
        "digits",
        "hangup_cause",
        "hangup_source",
        "message_history",
        "partial_results",
        "reason",
        "recording_ended_at",
        "recording_started_at",
        "recording_urls",
        "result",
        "status",
    }
)


# Events the run ignores that are left out of the history, being routine: Telnyx sends them
# around commands whatever the flow does (a speech or a playback started, an AI gather's
# progress), and a key's own event during a key gather, whose end reports the keys.
ROUTINE = frozenset(
    {
        "call.speak.started",
        "call.playback.started",
        "call.ai_gather.partial_results",
        "call.ai_gather.message_history_updated",
    }
)


def worth_noting(event_type: str, waiting: str | None) -> bool:
    """Whether an event the run ignored (while `waiting` for what Outcome.waiting names) is
    written in the call's history, marked `ignored`: a late or stray event, a key pressed while
    nothing listened, not the routine ones (ROUTINE)."""
    if event_type in ROUTINE:
        return False
    return not (event_type == "call.dtmf.received" and waiting == "gather")


def mask(number: str) -> str:
    """`number` with every digit but the last four replaced by `*` (`+1555***1111` style)."""
    digits = sum(c.isdigit() for c in number)
    hidden = max(digits - 4, 0)
    out = []
    for c in number:
        if c.isdigit() and hidden:
            out.append("*")
            hidden -= 1
        else:
            out.append(c)
    return "".join(out)


def redact(value: Any, numbers: Iterable[str]) -> Any:
    """`value` (JSON data) with each of `numbers` masked wherever it appears in a string."""
    found = sorted({n for n in numbers if n and sum(c.isdigit() for c in n) > 4}, key=len,
                   reverse=True)
    if not found:
        return value
    pattern = re.compile("|".join(re.escape(n) for n in found))
    return _masked(value, pattern)


def _masked(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda m: mask(m.group()), value)
    if isinstance(value, dict):
        return {k: _masked(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, pattern) for v in value]
    return value


def as_object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (records are read leniently)."""
    return value if isinstance(value, dict) else {}


def local_time_json(at: LocalTime | None) -> list[Any] | None:
    return None if at is None else [at.date, at.hour, at.minute, at.weekday]


def local_time_from(data: Any) -> LocalTime | None:
    """The LocalTime `local_time_json` wrote (None when absent or not that shape)."""
    if not isinstance(data, list) or len(data) != 4:
        return None
    return LocalTime(str(data[0]), int(data[1]), int(data[2]), int(data[3]))


def event_json(event: Event, leg: bool = False) -> dict[str, Any]:
    payload = as_object(event.payload)
    kept = {k: v for k, v in payload.items() if k in READ_FIELDS}
    data: dict[str, Any] = {"type": event.type, "id": event.id, "payload": kept}
    if leg:
        kept["call_control_id"] = payload.get("call_control_id")
        data["leg"] = True
    return data


def commands_json(commands: Iterable[Command]) -> list[dict[str, Any]]:
    return [{"action": c.action, "body": c.body} for c in commands]


def mask_like(value: Any, masked: Iterable[str]) -> Any:
    """`value` with every number that `masked` numbers (`mask`'s output) stand for masked the
    same way: each `*` stands for one digit."""
    patterns = [
        "".join(r"\d" if c == "*" else re.escape(c) for c in m)
        for m in sorted(set(masked), key=len, reverse=True)
        if "*" in m
    ]
    if not patterns:
        return value
    return _masked(value, re.compile("|".join(patterns)))


def record(
    event: Event,
    outcome: Outcome,
    instant: str | None,
    at: LocalTime | None,
    *,
    leg: bool = False,
    start: CallInfo | None = None,
    inputs: dict[str, Any] | None = None,
    placed: bool = False,
    numbers: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The history record of one applied event (its `queued` count is added by the runner,
    which makes the outbox rows); `start` for the call's first (with the `inputs` a placed call
    starts with); `numbers` to mask (`--redact`)."""
    data: dict[str, Any] = {
        "event": event_json(event, leg),
        "time": instant,
        "at": local_time_json(at),
    }
    if outcome.end is not None:
        data["end"] = outcome.end.reason
    if start is not None:
        data["start"] = {
            "caller": start.caller,
            "called": start.called,
            "inputs": inputs,
            "placed": placed,
        }
    return data if numbers is None else redact(data, numbers)


@frozen
class Delivery:
    """One outbox row of the call and what became of it: `kind`, `action` and `body` as queued,
    `key` its `command_id` (a fetch: its request key), `state` "sent", "dropped" (the run was
    stopped or the caller had hung up) or "waiting", the `attempts` that failed, and `queued`
    (its time)."""

    kind: str
    action: str
    body: dict[str, Any]
    key: str | None
    state: str
    attempts: int
    queued: float


@frozen
class Entry:
    """One record of a call's history: `data` as above, `applied` the server's clock when it was
    applied (seconds since the epoch), and `rows`: the outbox rows it queued, in order."""

    applied: float
    data: dict[str, Any]
    rows: tuple[Delivery, ...] = ()

    @property
    def commands(self) -> tuple[Command, ...]:
        """The Telnyx commands and text messages the step sent, in order."""
        return tuple(Command(r.action, r.body) for r in self.rows if r.kind in COMMAND_KINDS)

    @property
    def fetch(self) -> FetchRequest | None:
        """The backend request the step made, if any."""
        found = [r for r in self.rows if r.kind == FETCH_KIND]
        return FetchRequest.from_row(found[0].body) if found else None


# Outbox kinds (flowlang.serve.store.base, flowlang.serve.backend): what a step queues.
COMMAND_KINDS = ("call", "message")
FETCH_KIND = "fetch"


@frozen
class CallSummary:
    """One call in the list of recent calls: when it started (`started`, the server's clock),
    its numbers (masked when recorded with --redact), the flow version, how it stands."""

    call_control_id: str
    started: float
    caller: str
    called: str
    digest: str
    flow: str
    status: str
    end_reason: str | None
    updated: float

    def to_json(self) -> dict[str, Any]:
        """The call as `flowlang calls --json` and `calls show --json` give it."""
        return {
            "id": self.call_control_id,
            "started": self.started,
            "from": self.caller,
            "to": self.called,
            "flow": self.flow,
            "version": self.digest,
            "status": self.status,
            "end": self.end_reason,
        }


@frozen
class CallHistory:
    """Everything the store keeps of one call: its summary, its records in order (each with the
    outbox rows it queued), and every outbox row of the call, in order (with those the server
    queued itself: the hangup of a run it stopped)."""

    summary: CallSummary
    entries: tuple[Entry, ...]
    deliveries: tuple[Delivery, ...]


@frozen
class CallQuery:
    """Which calls to list: by `status` ("active", "ended", "failed"), a `number` the caller or
    the called number contains, started at or after `since` and before `until` (epoch seconds),
    whose id starts with `prefix`; the newest `limit`."""

    status: str | None = None
    number: str | None = None
    since: float | None = None
    until: float | None = None
    prefix: str | None = None
    limit: int = 50


# The calls that have a history (not the rows of calls being placed), newest first, with their
# first record; a filter that is NULL does not apply. Both stores run it (see recent_params).
RECENT_CALLS = (
    "SELECT c.call_control_id, c.digest, c.status, c.end_reason, c.updated, h.applied, h.data,"
    " coalesce(f.name, '') FROM calls c"
    " JOIN history h ON h.id = (SELECT min(id) FROM history WHERE call_control_id ="
    " c.call_control_id)"
    " LEFT JOIN flows f ON f.digest = c.digest"
    " WHERE (CAST(%(status)s AS TEXT) IS NULL OR c.status = %(status)s)"
    " AND (CAST(%(since)s AS DOUBLE PRECISION) IS NULL OR h.applied >= %(since)s)"
    " AND (CAST(%(until)s AS DOUBLE PRECISION) IS NULL OR h.applied < %(until)s)"
    " AND (CAST(%(prefix)s AS TEXT) IS NULL"
    " OR substr(c.call_control_id, 1, length(%(prefix)s)) = %(prefix)s)"
    " ORDER BY h.applied DESC, h.id DESC LIMIT %(limit)s"
)


def recent_params(query: CallQuery, no_limit: Any) -> dict[str, Any]:
    """RECENT_CALLS's parameters for `query`; `no_limit` is the store's LIMIT for "all" (the
    number filter is applied afterwards, to every call the rest selects)."""
    return {
        "status": query.status,
        "since": query.since,
        "until": query.until,
        "prefix": query.prefix,
        "limit": no_limit if query.number is not None else query.limit,
    }


# outbox.sent, as the stores keep it -> the word of a Delivery.
DELIVERY_STATES = {0: "waiting", 1: "sent", 2: "dropped"}


def _summary(row: tuple[Any, ...]) -> CallSummary:
    """The CallSummary of a row (id, digest, status, end_reason, updated, applied, first
    record's JSON, flow name)."""
    call_control_id, digest, status, end_reason, updated, applied, data, flow = row
    start = as_object(as_object(json.loads(data)).get("start"))
    return CallSummary(
        call_control_id,
        float(applied),
        str(start.get("caller") or ""),
        str(start.get("called") or ""),
        digest,
        flow,
        status,
        end_reason,
        float(updated),
    )


def recent_from_rows(rows: Iterable[tuple[Any, ...]], query: CallQuery) -> list[CallSummary]:
    """The calls of the stores' list query, filtered by number, the newest `query.limit`."""
    found = [s for s in map(_summary, rows) if matches(s, query)]
    return found[: query.limit]


def history_from_rows(
    call_control_id: str,
    call: tuple[Any, ...],
    entries: list[tuple[Any, ...]],
    deliveries: list[tuple[Any, ...]],
) -> CallHistory:
    """A CallHistory from the stores' rows: the call's (digest, status, end_reason, updated,
    flow name), its records (applied, data) in order, its outbox rows (delivery_from)."""
    digest, status, end_reason, updated, flow = call
    first_applied, first = entries[0]
    summary = _summary(
        (call_control_id, digest, status, end_reason, updated, first_applied, first, flow)
    )
    rows = [delivery_from(row, (summary.caller, summary.called)) for row in deliveries]
    records = []
    taken = 0
    for applied, data in entries:
        record = as_object(json.loads(data))
        queued = record.get("queued")
        count = queued if isinstance(queued, int) and queued > 0 else 0
        records.append(Entry(float(applied), record, tuple(rows[taken : taken + count])))
        taken += count
    return CallHistory(summary, tuple(records), tuple(rows))


def matches(summary: CallSummary, query: CallQuery) -> bool:
    """Whether `summary` passes the query's number filter (digits compared, so `555 0100`,
    `+15550100` and `5550100` all find +15550100)."""
    if query.number is None:
        return True
    wanted = re.sub(r"[^0-9*]", "", query.number)
    return any(wanted in re.sub(r"[^0-9*]", "", n) for n in (summary.caller, summary.called))


def delivery_from(row: tuple[Any, ...], masked: tuple[str, ...] = ()) -> Delivery:
    """A Delivery from (kind, action, body JSON, sent, attempts, created), with the numbers
    `masked` stands for (a call recorded with --redact) masked in its body."""
    kind, action, body, sent, attempts, created = row
    data = mask_like(as_object(json.loads(body)), masked)
    key = data.get("command_id") or data.get("key")
    return Delivery(kind, action, data, key if isinstance(key, str) else None,
                    DELIVERY_STATES.get(int(sent), "waiting"), int(attempts), float(created))
