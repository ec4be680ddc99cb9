"""Carries out the outbox in the background: claimed under a lease, in order within each call,
retried with backoff through an outage, and a best-effort hangup when a call cannot go on."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from flowlang.serve.dial import DIAL
from flowlang.serve.metrics import Metrics
from flowlang.serve.store.base import (
    CALL_COMMAND,
    TEXT_MESSAGE,
    OutboxItem,
    Outgoing,
    Store,
    StoreError,
)
from flowlang.serve.telnyx.client import RetryPolicy, SendResult, log_retry

logger = logging.getLogger("flowlang.serve.app")

# Telnyx remembers a command_id for about a minute (docs/serve.md): within that time a command
# sent again is recognised and not carried out twice; after it, it would be. The margin keeps
# clear of the edge.
COMMAND_ID_MEMORY = 55.0

# Telnyx's codes for "this call is over" (90018) or "no such call" (90015, an id Telnyx no
# longer knows): nothing more can be done on it, not even a hangup.
CALL_GONE_CODES = frozenset({"90018", "90015"})

# Telnyx's refusal of `ai_assistant_start` because "an AI assistant is already running" on the
# call. A run stops its assistant (ai_assistant_stop, sent first, in order) before it starts
# another, so the one running is the one asked for: typically an earlier try of this very command
# reached Telnyx (its answer was lost, or its worker died) and Telnyx did not recognise the resend
# by its command_id. The command is taken as carried out and the run goes on as if it had been
# answered (without the conversation's id, which only Telnyx's answer gives).
ALREADY_RUNNING = ("ai_assistant_start", "90061")

# Actions whose repetition is harmless, so a doubtful one is re-sent whatever its age.
IDEMPOTENT = frozenset({"hangup"})

# Carries out one outbox row of a kind; returns how the try went. A handler for a kind other
# than Telnyx commands logs its own line (a backend fetch says what the backend answered).
Handler = Callable[[OutboxItem], Awaitable[SendResult]]


class Client(Protocol):
    """What the sender needs from the Telnyx client."""

    async def attempt(
        self, call_control_id: str, action: str, body: dict[str, Any], attempt: int = 1
    ) -> SendResult: ...

    def pause(self, result: SendResult, draw: float = 1.0) -> float: ...

    async def send_message(self, body: dict[str, Any], attempt: int = 1) -> SendResult: ...


def worker_name() -> str:
    """This process's name in leases: host, process id and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(32):08x}"


class Sender:
    """One drain task per call with rows to carry out; a call's rows go one after the other.

    A webhook only `wake`s the sender after its transaction committed, so its answer never waits
    on Telnyx. Rows are claimed from the store under a lease of `lease` seconds, so that with
    many workers each row is carried out by one; every `poll_every` seconds the sender also
    claims rows nobody holds (left by a worker that died, or due for another try).

    A transient failure (5xx, 429, a timeout) puts the row back with a pause that grows
    exponentially, with jitter and at least Telnyx's Retry-After; the call's other webhooks go on
    being applied meanwhile. A row still failing `policy.give_up_after` seconds after it was
    queued, a refusal (a 4xx; but see ALREADY_RUNNING), or a row that may already have reached
    Telnyx longer ago than Telnyx remembers its command_id, stops the call's run: its other rows
    are dropped and a hangup is queued, so no caller is left on a silent line (unless Telnyx said
    the call is over or unknown, or the hangup itself is what failed).
    """

    def __init__(
        self,
        store: Store,
        client: Client,
        clock: Callable[[], float],
        *,
        flush_delay: float = 0.05,
        lease: float = 30.0,
        poll_every: float = 1.0,
        policy: RetryPolicy | None = None,
        command_id_memory: float = COMMAND_ID_MEMORY,
        metrics: Metrics | None = None,
        worker: str | None = None,
        handlers: dict[str, Handler] | None = None,
        answered: Callable[[OutboxItem, SendResult], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._clock = clock
        self._lease = lease
        self._poll_every = poll_every
        self._policy = policy or RetryPolicy()
        self._memory = command_id_memory
        self._metrics = metrics
        self.worker = worker or worker_name()
        self._handlers: dict[str, Handler] = {
            CALL_COMMAND: self._call_command,
            TEXT_MESSAGE: self._text_message,
        }
        self._handlers.update(handlers or {})
        # Told of every Telnyx command carried out, with Telnyx's answer (a conversation's id).
        self._answered = answered
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._handoff: dict[str, list[OutboxItem]] = {}
        # When this worker's lease on each row it holds runs out (see _still_ours).
        self._leases: dict[int, float] = {}
        # Calls whose caller hung up while their drain task ran (see call_gone).
        self._gone: set[str] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._poller: asyncio.Task[None] | None = None
        # Rows carried out but not yet recorded as done, by call. They are written together, a
        # moment later, in one transaction for every call: one write per row was most of the
        # sender's cost. A crash in that moment only means a resend, which command_id absorbs.
        self._delivered: dict[str, set[int]] = {}
        self._flush_delay = flush_delay
        self._flush_handle: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()
        # Rows this worker claimed and has not finished with, and when each one's current try
        # started (None: not being tried): given back on an orderly close, so a restart need
        # not wait for the lease.
        self._held: dict[int, tuple[str, float | None]] = {}

    def register(self, kind: str, handler: Handler) -> None:
        """Have `handler` carry out the outbox rows of `kind`."""
        self._handlers[kind] = handler

    @property
    def busy(self) -> int:
        """How many calls have a drain task running."""
        return len(self._tasks)

    def wake(self, call_control_id: str) -> None:
        """Make sure the call's waiting rows get carried out (a drain task runs or re-checks)."""
        if call_control_id in self._tasks:
            self._again.add(call_control_id)
            return
        self._start(call_control_id, None)

    def take(self, call_control_id: str, items: list[OutboxItem]) -> None:
        """Carry out `items`, already claimed for this worker (by the webhook's own apply)."""
        for item in items:
            self._held[item.id] = (call_control_id, None)
            self._leases[item.id] = item.created + self._lease
        if call_control_id in self._tasks:
            self._handoff.setdefault(call_control_id, []).extend(items)
            self._again.add(call_control_id)
            return
        self._start(call_control_id, items)

    def call_gone(self, call_control_id: str) -> None:
        """The caller hung up (the store has dropped the call's waiting Call Control commands):
        those this worker already holds are dropped too, not sent to be refused."""
        if call_control_id in self._tasks:
            self._gone.add(call_control_id)
        handoff = self._handoff.get(call_control_id)
        if handoff:
            for item in handoff:
                if item.kind == CALL_COMMAND:
                    self._held.pop(item.id, None)
            self._handoff[call_control_id] = [i for i in handoff if i.kind != CALL_COMMAND]

    def _start(self, call_control_id: str, items: list[OutboxItem] | None) -> None:
        task = asyncio.get_running_loop().create_task(self._drain(call_control_id, items))
        self._tasks[call_control_id] = task

    async def resume(self) -> int:
        """Claim what is waiting (left by an earlier process, or by a worker that died), start
        the periodic claim; returns how many calls had rows waiting."""
        found = await self._poll()
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(self._poll_forever())
        return found

    async def _claim(self, call_control_id: str | None = None) -> list[OutboxItem]:
        now = self._clock()
        items = await self._store.claim(self.worker, now, self._lease, call_control_id)
        for item in items:
            self._held[item.id] = (item.call_control_id, None)
            self._leases[item.id] = now + self._lease
        return items

    async def _still_ours(self, items: list[OutboxItem], now: float) -> bool:
        """Renew the lease on `items` (a call's rows still to carry out, in order) once half of
        it has gone: a long run of slow tries must not let another worker take them over and
        send them too. False when the first of them is no longer this worker's to send."""
        if self._leases.get(items[0].id, now) - now > self._lease / 2:
            return True
        ids = [i.id for i in items]
        kept = await self._store.renew(self.worker, ids, now, self._lease)
        for item_id in ids:
            if item_id in kept:
                self._leases[item_id] = now + self._lease
            else:
                self._held.pop(item_id, None)
                self._leases.pop(item_id, None)
        if items[0].id in kept:
            return True
        log_event(
            logging.WARNING,
            event="lease_lost",
            call_control_id=items[0].call_control_id,
            rows=len(ids) - len(kept),
        )
        return False

    async def _poll(self) -> int:
        items = await self._claim()
        by_call: dict[str, list[OutboxItem]] = {}
        for item in items:
            by_call.setdefault(item.call_control_id, []).append(item)
        for call_control_id, claimed in by_call.items():
            if call_control_id in self._tasks:
                self._handoff.setdefault(call_control_id, []).extend(claimed)
                self._again.add(call_control_id)
            else:
                self._start(call_control_id, claimed)
        return len(by_call)

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self._poll_every)
            try:
                await self._poll()
            except StoreError as exc:
                log_event(logging.ERROR, event="sender_error", error=str(exc))

    async def idle(self) -> None:
        """Wait until no call has rows being carried out or waiting for a retry here (for tests
        and orderly shutdown)."""
        while True:
            if self._tasks:
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            elif self._timers:
                await asyncio.sleep(0.005)
            else:
                break
        await self.flush()

    async def close(self) -> None:
        """Stop; what is not carried out stays in the outbox for the next start (or another
        worker, once the lease runs out)."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        tasks = list(self._tasks.values())
        if self._poller is not None:
            tasks.append(self._poller)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        await asyncio.gather(*self._flushes, return_exceptions=True)
        try:
            await self.flush()
            held, self._held = self._held, {}
            for item_id, (_, tried) in held.items():
                if tried is not None:
                    # Cut off mid-try: Telnyx may have it.
                    await self._store.release([item_id], 0.0, doubt=tried, tried=False)
            await self._store.release_worker(self.worker)
        except StoreError as exc:
            log_event(logging.ERROR, event="sender_error", error=str(exc))

    async def flush(self) -> None:
        """Record every row carried out as done now."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        delivered, self._delivered = self._delivered, {}
        ids = [i for items in delivered.values() for i in items]
        try:
            await self._store.done(ids)
        except BaseException:
            # Not recorded: kept, so the next flush tries again rather than re-sending them.
            for call, items in delivered.items():
                self._delivered.setdefault(call, set()).update(items)
            raise

    def _delivered_one(self, item: OutboxItem) -> None:
        self._held.pop(item.id, None)
        self._delivered.setdefault(item.call_control_id, set()).add(item.id)
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._flush_delay, self._flush_later)

    def _flush_later(self) -> None:
        self._flush_handle = None
        task = asyncio.get_running_loop().create_task(self._flush_logged())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except StoreError as exc:
            log_event(logging.ERROR, event="sender_error", error=str(exc))

    def _wake_later(self, call_control_id: str, delay: float) -> None:
        def fire() -> None:
            self._timers.discard(handle)
            self.wake(call_control_id)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)

    async def _drain(self, call_control_id: str, items: list[OutboxItem] | None) -> None:
        try:
            while True:
                self._again.discard(call_control_id)
                if items is None:
                    items = self._handoff.pop(call_control_id, None)
                if items is None:
                    if call_control_id in self._delivered:
                        # Rows of this call carried out but not yet recorded still hold their
                        # lease, which would keep the rows behind them from being claimed.
                        await self.flush()
                    items = await self._claim(call_control_id)
                if not items:
                    if call_control_id in self._again:
                        items = None
                        continue
                    return
                await self._carry_out(call_control_id, items)
                items = None
                if call_control_id not in self._again:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one call's failure must not stop the sender
            log_event(
                logging.ERROR,
                event="sender_error",
                call_control_id=call_control_id,
                error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            self._tasks.pop(call_control_id, None)
            self._again.discard(call_control_id)
            self._gone.discard(call_control_id)
            for item_id in [i for i in self._leases if i not in self._held]:
                del self._leases[item_id]
            left = self._handoff.pop(call_control_id, None)
            if left:
                self._start(call_control_id, left)

    async def _carry_out(self, call_control_id: str, items: list[OutboxItem]) -> None:
        policy = self._policy
        for n, item in enumerate(items):
            if item.kind == CALL_COMMAND and call_control_id in self._gone:
                self._held.pop(item.id, None)
                continue
            started = self._clock()
            if not await self._still_ours(items[n:], started):
                return
            if (
                item.kind in (CALL_COMMAND, DIAL)
                and item.doubt is not None
                and started - item.doubt > self._memory
                and item.action not in IDEMPOTENT
            ):
                age = round(started - item.doubt)
                await self._stop(
                    item,
                    f"{item.action} may have reached Telnyx {age} s ago, longer than Telnyx"
                    " remembers its command_id, so it is not sent again",
                )
                return
            handler = self._handlers.get(item.kind)
            if handler is None:
                await self._stop(item, f"nothing here carries out outbox rows of kind {item.kind}")
                return
            self._held[item.id] = (call_control_id, started)
            result = await handler(item)
            self._held[item.id] = (call_control_id, None)
            running = _already_running(item, result)
            outcome = "sent" if running else _outcome(result)
            if self._metrics is not None:
                self._metrics.count(self._metrics.commands, item.action, outcome)
            if item.kind == CALL_COMMAND:
                _log_command(item, result, outcome, running)
            if running:
                self._delivered_one(item)
                continue
            if result.ok:
                self._delivered_one(item)
                if self._answered is not None and item.kind == CALL_COMMAND:
                    await self._tell(item, result)
                continue
            if result.status == "rejected" and item.kind != CALL_COMMAND:
                # A refused row of another kind (a text message) is logged above with
                # Telnyx's error; the run does not wait for it, so it goes on.
                self._delivered_one(item)
                continue
            if result.status == "rejected":
                gone = result.error_code in CALL_GONE_CODES
                await self._stop(item, _reason(item.action, result), hang_up=not gone)
                return
            wait = self._client.pause(result, random.random())
            if self._clock() + wait - item.created > policy.give_up_after:
                await self._stop(
                    item,
                    f"Telnyx could not be reached for {item.action} in"
                    f" {round(self._clock() - item.created)} s ({result.attempts} attempts)",
                )
                return
            if self._metrics is not None:
                self._metrics.count(self._metrics.retries, item.action)
            log_retry(call_control_id, item.action, item.body, result, wait)
            await self._store.release(
                [item.id], self._clock() + wait, doubt=started if result.doubtful else None
            )
            # The rows behind it wait too, those handed over since included: a call's rows
            # go out in order.
            behind = [*items[n + 1 :], *self._handoff.pop(call_control_id, [])]
            rest = [i.id for i in behind]
            await self._store.release(rest, 0.0, tried=False)
            for item_id in (item.id, *rest):
                self._held.pop(item_id, None)
            self._wake_later(call_control_id, wait)
            return

    async def _tell(self, item: OutboxItem, result: SendResult) -> None:
        assert self._answered is not None
        try:
            await self._answered(item, result)
        except StoreError as exc:
            # The answer is lost to the run, which then matches as it did without it.
            log_event(
                logging.ERROR,
                event="sender_error",
                call_control_id=item.call_control_id,
                error=f"Telnyx's answer to {item.action} was not recorded: {exc}",
            )

    async def _call_command(self, item: OutboxItem) -> SendResult:
        return await self._client.attempt(
            item.call_control_id, item.action, item.body, item.attempts + 1
        )

    async def _text_message(self, item: OutboxItem) -> SendResult:
        result = await self._client.send_message(item.body, item.attempts + 1)
        line: dict[str, Any] = {
            "event": "message",
            "call_control_id": item.call_control_id,
            "to": item.body.get("to"),
            "result": _outcome(result),
            "attempts": result.attempts,
            "http_status": result.http_status,
        }
        if result.ok:
            line["message_id"] = (result.data or {}).get("id")
        else:
            line["error_code"] = result.error_code
            line["detail"] = result.detail
        if item.doubt is not None:
            # An earlier try may have reached Telnyx (its answer was lost, or its worker died),
            # and `POST /messages` takes nothing to recognise a repeat: it is sent again, so the
            # phone may get it twice. At least once rather than perhaps never (docs/serve.md).
            line["may_repeat"] = True
        logger.log(logging.INFO if result.ok else logging.WARNING, json.dumps(line))
        return result

    async def _stop(self, item: OutboxItem, reason: str, hang_up: bool = True) -> None:
        call_control_id = item.call_control_id
        await self.flush()
        last = None
        # A call still to be placed (a DIAL row, keyed `dial:ID`) is no Telnyx call: nothing to
        # hang up (a hangup of `dial:ID` would only be refused).
        if hang_up and item.kind != DIAL and not (
            item.kind == CALL_COMMAND and item.action == "hangup"
        ):
            seed = f"{call_control_id}/{item.id}"
            command_id = "flowlang-stop-" + hashlib.sha256(seed.encode()).hexdigest()[:24]
            last = Outgoing(CALL_COMMAND, "hangup", {"command_id": command_id})
        dropped = await self._store.abandon(call_control_id, reason, self._clock(), last)
        # Rows handed over behind the failed one were dropped with the rest of the run.
        self._handoff.pop(call_control_id, None)
        for item_id in [i for i, (call, _) in self._held.items() if call == call_control_id]:
            del self._held[item_id]
        if item.kind == CALL_COMMAND and item.action == "hangup":
            # The hangup (the flow's, or the one sent when a run was stopped) is given up: the
            # run was over already, so it is not counted as a run stopped a second time.
            log_event(
                logging.WARNING,
                event="hangup_given_up",
                call_control_id=call_control_id,
                reason=reason,
            )
            return
        if self._metrics is not None:
            self._metrics.runs_stopped.inc()
        log_event(
            logging.WARNING,
            event="run_stopped",
            call_control_id=call_control_id,
            reason=reason,
            dropped_commands=dropped,
            hangup=last is not None,
        )
        if last is not None:
            self._again.add(call_control_id)


# Made once: `json.dumps` with options builds a new encoder on every call, and the server logs
# a line for every webhook and every command.
_LINE = json.JSONEncoder(ensure_ascii=False)


def log_event(severity: int, /, **fields: Any) -> None:
    """One JSON log line of the server's, `fields` in order (not even made when nothing listens
    at `severity`)."""
    if logger.isEnabledFor(severity):
        logger.log(severity, _LINE.encode(fields))


def _reason(action: str, result: SendResult) -> str:
    code = f" {result.error_code}" if result.error_code else ""
    detail = f": {result.detail}" if result.detail else ""
    return f"Telnyx refused {action} (HTTP {result.http_status}{code}){detail}"


def _outcome(result: SendResult) -> str:
    """A try's outcome as logs and metrics name it: `sent`, `rejected`, or `failed` (busy or
    unreachable, to be tried again: the client's "gave_up" is only this one try's)."""
    return "failed" if result.status == "gave_up" else result.status


def _already_running(item: OutboxItem, result: SendResult) -> bool:
    """Whether Telnyx refused `item` only because what it asks for is already so (see
    ALREADY_RUNNING): then it counts as sent."""
    return (
        item.kind == CALL_COMMAND
        and result.status == "rejected"
        and (item.action, result.error_code) == ALREADY_RUNNING
    )


def _log_command(item: OutboxItem, result: SendResult, outcome: str, running: bool) -> None:
    """The `command` log line of `item`, carried out as `outcome` says (see _already_running
    for `running`)."""
    line: dict[str, Any] = {
        "event": "command",
        "call_control_id": item.call_control_id,
        "kind": item.kind,
        "action": item.action,
        "command_id": item.body.get("command_id"),
        "result": outcome,
        "attempts": result.attempts,
        "http_status": result.http_status,
    }
    if not result.ok:
        line["error_code"] = result.error_code
        line["detail"] = result.detail
    if running:
        # Telnyx's refusal says the assistant runs: an earlier try of this command started it.
        line["already_running"] = True
    level = logging.INFO if result.ok or running else logging.WARNING
    logger.log(level, json.dumps(line))
