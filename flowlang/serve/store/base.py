"""What a store of calls must do, and the records it holds; implementations live beside it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol

from attrs import frozen

from flowlang.runtime.commands import Command

# A call's `status`: "active" while its run goes on, "ended" once the run is over (its last
# commands may still be in the outbox), "failed" when Telnyx refused a command or could not be
# reached, so the run was stopped and its unsent commands dropped.
STATUSES = ("active", "ended", "failed")


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
class CallChange:
    """What one event did to a call: its new state and status, and the commands to send next."""

    digest: str
    state: dict[str, Any]
    status: str
    end_reason: str | None = None
    commands: tuple[Command, ...] = ()
    # (name, text) of the flow `digest` names, when the call is new: saved with the call so that
    # it can finish on this version after the file changes.
    source: tuple[str, str] | None = None
    # The call itself is gone (the caller hung up): commands still waiting can never be carried
    # out, so they are dropped rather than sent to be refused (text messages are still sent).
    call_gone: bool = False


@frozen
class Applied:
    """The result of `Store.apply`: a duplicate event changes nothing; otherwise `change` (or
    None when the event did not concern a known call or the run ignored it)."""

    duplicate: bool
    change: CallChange | None = None


@frozen
class OutboxItem:
    """A command waiting to be sent for a call; `id` orders a call's commands."""

    id: int
    call_control_id: str
    action: str
    body: dict[str, Any]


# Decides, inside the store's transaction, what an event does to the call (None: nothing).
Step = Callable[[StoredCall | None], CallChange | None]


class Store(Protocol):
    """Durable, transactional state shared by every worker that serves the same flow."""

    def ping(self) -> None:
        """Return when the store answers; raise StoreError when it does not."""

    def load_flow(self, digest: str) -> tuple[str, str] | None:
        """The (name, text) saved under `digest`, or None."""

    def apply(self, call_control_id: str, event_id: str | None, step: Step, now: float) -> Applied:
        """In one transaction: drop a seen `event_id`, load the call, run `step`, save its change
        (and its flow source) and queue its commands. Two applies for one call never interleave."""

    def pending_calls(self) -> list[str]:
        """Calls with commands not yet sent, oldest first."""

    def unsent(self, call_control_id: str) -> list[OutboxItem]:
        """The call's commands not yet sent, oldest first."""

    def mark_sent(self, item_ids: Collection[int]) -> None:
        """Record that these commands were delivered to Telnyx (in one write)."""

    def abandon(self, call_control_id: str, reason: str, now: float) -> int:
        """Stop a call's run: unsent commands dropped (how many is returned), and the status set
        to "failed" unless the run had already ended."""

    def cleanup(self, finished_before: float, idle_before: float) -> int:
        """Forget calls finished before `finished_before` or idle since `idle_before`, with
        their event ids and commands; returns how many calls were removed."""

    def close(self) -> None:
        """Release the store's resources."""
