"""What a store of calls must do, and the records it holds; implementations live beside it."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any, Protocol

from attrs import frozen

from flowlang.runtime.commands import Command
from flowlang.serve.history import CallHistory, CallQuery, CallSummary

# A call's `status`: "active" while its run goes on, "ended" once the run is over (its last
# commands may still be in the outbox), "failed" when Telnyx refused a command or could not be
# reached, so the run was stopped and its unsent commands dropped.
STATUSES = ("active", "ended", "failed")

# The outbox kind of a Call Control command (`POST /calls/{id}/actions/{action}`). Other kinds
# (a backend request, a text message) are rows of their own kind, carried out by the sender's
# handler registered for that kind.
CALL_COMMAND = "call"
# The outbox kind of a text message (`POST /messages`, LANGUAGE.md 14): it needs no call, so it
# is still sent when the caller has hung up, and a refusal does not stop the run.
TEXT_MESSAGE = "message"


class StoreError(Exception):
    """The store cannot be opened or used (bad URL, unreadable file, database error)."""


@frozen
class StoredCall:
    """One call's run as stored: the flow version (`digest`) it runs and the interpreter state."""

    call_control_id: str
    digest: str
    state: dict[str, Any]
    status: str
    updated: float


@frozen
class Outgoing:
    """Something a call's run asks to be done outside the store, queued in the outbox: `kind`
    names who carries it out, `action` and `body` what (a Command is kind CALL_COMMAND)."""

    kind: str
    action: str
    body: dict[str, Any]


def outgoing(item: Command | Outgoing) -> Outgoing:
    """The outbox row for `item`: a Command is a Call Control command, or a text message."""
    if isinstance(item, Outgoing):
        return item
    if item.is_message:
        return Outgoing(TEXT_MESSAGE, item.action, item.body)
    return Outgoing(CALL_COMMAND, item.action, item.body)


@frozen
class CallChange:
    """What one event did to a call: its new state and status, and what to send next."""

    digest: str
    state: dict[str, Any]
    status: str
    end_reason: str | None = None
    commands: tuple[Command | Outgoing, ...] = ()
    # (name, text) of the flow `digest` names, when the call is new: saved with the call so that
    # it can finish on this version after the file changes.
    source: tuple[str, str] | None = None
    # The call itself is gone (the caller hung up): commands still waiting can never be carried
    # out, so they are dropped rather than sent to be refused (text messages are still sent).
    call_gone: bool = False
    # When the run's wait runs out (a recording awaited after the hangup), as a clock time:
    # `Store.expired` lists the call from then on. None: the wait has no limit of its own.
    expires: float | None = None
    # The event's record in the call's history (flowlang.serve.history), written with it.
    history: dict[str, Any] | None = None
    # The run ignored the event: only its `history` record is written, and the call (its state,
    # its time, its wait), its seen events and its outbox are left as they were, as when nothing
    # is written (a repeat of the event is looked at again, and ignored again).
    noted: bool = False


@frozen
class Applied:
    """The result of `Store.apply`: a duplicate event changes nothing; otherwise `change` (or
    None when the event did not concern a known call or the run ignored it), and the outbox
    rows it queued that the apply claimed at once (see `Store.apply`)."""

    duplicate: bool
    change: CallChange | None = None
    claimed: tuple[OutboxItem, ...] = ()


@frozen
class OutboxItem:
    """A row of the outbox, waiting to be carried out; `id` orders a call's rows.

    `attempts` counts the tries that failed; `created` is when it was queued; `doubt`, when set,
    is the time of the earliest try whose outcome is unknown (a timeout, a dropped connection,
    or a worker that died holding the row): the other side may have acted on it.
    """

    id: int
    call_control_id: str
    kind: str
    action: str
    body: dict[str, Any]
    created: float = 0.0
    attempts: int = 0
    doubt: float | None = None


@frozen
class Counts:
    """Store-wide figures for metrics: calls whose run goes on, rows waiting in the outbox."""

    active_calls: int
    outbox_depth: int


# The columns an OutboxItem is read from, in `item_from_row`'s order.
ITEM_COLUMNS = "id, call_control_id, kind, action, body, created, attempts, doubt"


def item_from_row(row: tuple[Any, ...]) -> OutboxItem:
    """The OutboxItem a row of ITEM_COLUMNS holds (the body is stored as JSON text)."""
    return OutboxItem(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7])


# Made once: `json.dumps` with options builds a new encoder on every call, and the store writes
# a call's state and history on every webhook.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """JSON text for the store: compact, and readable in a database browser."""
    return _COMPACT.encode(value)


def in_claim_order(calls: list[str], items: list[OutboxItem]) -> list[OutboxItem]:
    """`items` grouped by call in the order `calls` were claimed, each call's rows in order."""
    order = {c: n for n, c in enumerate(calls)}
    return sorted(items, key=lambda i: (order[i.call_control_id], i.id))


# Decides, inside the store's transaction, what an event does to the call (None: nothing).
Step = Callable[[StoredCall | None], CallChange | None]


class Store(Protocol):
    """Durable, transactional state shared by every worker that serves the same flow.

    Every method is a coroutine that never blocks the event loop (a store does its I/O on a
    thread of its own, or with an asynchronous driver).

    The outbox is shared by every worker: a row is carried out by the worker that `claim`ed it,
    under a lease; a worker that dies leaves its lease to run out, and then another claims the
    row. A call's rows are carried out in order: only a call's first unfinished row is claimable,
    and claiming it claims the rows behind it too.
    """

    async def ping(self) -> None:
        """Return when the store can be written; raise StoreError when it cannot."""

    async def load_flow(self, digest: str) -> tuple[str, str] | None:
        """The (name, text) saved under `digest`, or None."""

    async def apply(
        self,
        call_control_id: str,
        event_id: str | None,
        step: Step,
        now: float,
        claim: tuple[str, float] | None = None,
    ) -> Applied:
        """In one transaction: drop a seen `event_id`, load the call, run `step`, save its change
        (and its flow source) and queue its commands. Two applies for one call never interleave,
        whichever workers run them. With `claim` (worker, lease) the queued rows are claimed
        for that worker at once unless an earlier row of the call waits that the worker does
        not hold under a live lease: one transaction fewer than a separate `claim`."""

    async def claim(
        self,
        worker: str,
        now: float,
        lease: float,
        call_control_id: str | None = None,
        limit: int = 100,
    ) -> list[OutboxItem]:
        """Lease to `worker` until `now + lease` the due rows of up to `limit` calls (or of the
        one call named) that no live lease holds, oldest first, each call's rows in order. A
        row taken over from an expired lease gets its `doubt` set."""

    async def done(self, item_ids: Collection[int]) -> None:
        """Record that these rows were carried out (in one write)."""

    async def release(
        self,
        item_ids: Collection[int],
        not_before: float,
        doubt: float | None = None,
        tried: bool = True,
    ) -> None:
        """Give the rows back: claimable again from `not_before`, one more attempt counted
        when `tried`, and `doubt` recorded when the try's outcome is unknown."""

    async def renew(
        self, worker: str, item_ids: Collection[int], now: float, lease: float
    ) -> set[int]:
        """Extend to `now + lease` the lease `worker` holds on these rows; returns the ids it
        still held (a row whose lease ran out may have been taken over: it is not renewed)."""

    async def release_worker(self, worker: str) -> None:
        """Give back every row `worker` still holds (it is stopping in good order)."""

    async def unsent(self, call_control_id: str) -> list[OutboxItem]:
        """The call's rows not yet carried out, oldest first (claimed or not)."""

    async def abandon(
        self, call_control_id: str, reason: str, now: float, last: Outgoing | None = None
    ) -> int:
        """Stop a call's run: unfinished rows dropped (how many is returned), the status set to
        "failed" unless the run had already ended, and `last` (a best-effort hangup) queued."""

    async def cleanup(self, finished_before: float, idle_before: float) -> int:
        """Forget calls finished before `finished_before` or idle since `idle_before`, with
        their event ids and commands; returns how many calls were removed."""

    async def recent_calls(self, query: CallQuery) -> list[CallSummary]:
        """The calls with a history that `query` selects, the most recent first."""

    async def history(self, call_control_id: str) -> CallHistory | None:
        """Everything kept of the call (None when the store does not have it, or it has no
        history: a call being placed, or one cleaned up)."""

    async def expired(self, now: float, limit: int = 100) -> list[tuple[str, float]]:
        """Up to `limit` active calls whose wait has run out by `now` (their change's `expires`
        has passed), with that time, the longest overdue first."""

    async def counts(self) -> Counts:
        """How many calls are active and how many rows wait in the outbox."""

    async def close(self) -> None:
        """Release the store's resources."""


# A column each table of the store has had from the start: how a store's tables are told from
# another program's tables of the same name (each store adds the tables only it has).
STORE_KEYS = {
    "flows": "digest",
    "calls": "call_control_id",
    "events": "event_id",
    "outbox": "call_control_id",
    "health": "at",
    "history": "call_control_id",
}


def unreadable(tables: Collection[str], where: str) -> str | None:
    """Why a command that only reads (`flowlang calls`) cannot read the store at `where`, whose
    tables are `tables`, as it is; None when it can. It reads the calls' histories, which stores
    written before flowlang kept them lack: `flowlang serve` adds the table (and updates the rest
    of the layout), which such a command never does."""
    if "history" in tables:
        return None
    return (
        f"{where} was written by an older flowlang, which kept no history of its calls: start"
        " `flowlang serve` on it once to update it (the calls it takes from then on can be"
        " listed and shown)"
    )
