"""Sends the outbox's commands to Telnyx in the background, in order within each call."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from flowlang.runtime.commands import MESSAGE
from flowlang.serve.store.base import Store, StoreError
from flowlang.serve.telnyx.client import SendResult

logger = logging.getLogger("flowlang.serve.app")


class Client(Protocol):
    """What the sender needs from the Telnyx client."""

    async def send(self, call_control_id: str, action: str, body: dict[str, Any]) -> SendResult:
        ...

    async def send_message(self, body: dict[str, Any]) -> SendResult: ...


class Sender:
    """One drain task per call with unsent commands; a call's commands go one after the other.

    A webhook only `wake`s the sender after its transaction committed, so its answer never waits
    on Telnyx. A command Telnyx refuses (a 4xx such as 90018, call already ended) or that cannot
    be delivered after the client's retries stops that call's run: it is marked failed and its
    other unsent commands are dropped, so the store never holds a run that cannot go on.
    """

    def __init__(
        self,
        store: Store,
        client: Client,
        clock: Callable[[], float],
        flush_delay: float = 0.05,
    ) -> None:
        self._store = store
        self._client = client
        self._clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        # Commands delivered but not yet recorded as sent. They are written together, a moment
        # later, in one transaction for every call: one write per command was most of the
        # sender's cost. A crash in that moment only means a resend, which command_id absorbs.
        self._delivered: set[int] = set()
        self._flush_delay = flush_delay
        self._flush_handle: asyncio.TimerHandle | None = None

    @property
    def busy(self) -> int:
        """How many calls have a drain task running."""
        return len(self._tasks)

    def wake(self, call_control_id: str) -> None:
        """Make sure the call's unsent commands get sent (a drain task runs or re-checks)."""
        if call_control_id in self._tasks:
            self._again.add(call_control_id)
            return
        task = asyncio.get_running_loop().create_task(self._drain(call_control_id))
        self._tasks[call_control_id] = task

    async def resume(self) -> int:
        """Wake every call with unsent commands (after a restart); returns how many."""
        calls = self._store.pending_calls()
        for call_control_id in calls:
            self.wake(call_control_id)
        return len(calls)

    async def idle(self) -> None:
        """Wait until no call has commands being sent (for tests and orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self.flush()

    async def close(self) -> None:
        """Stop sending; what is unsent stays in the outbox for the next start."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._flush_later()

    def flush(self) -> None:
        """Record every delivered command as sent now."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        delivered, self._delivered = self._delivered, set()
        self._store.mark_sent(delivered)

    def _delivered_one(self, item_id: int) -> None:
        self._delivered.add(item_id)
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._flush_delay, self._flush_later)

    def _flush_later(self) -> None:
        self._flush_handle = None
        try:
            self.flush()
        except StoreError as exc:
            logger.error(json.dumps({"event": "sender_error", "error": str(exc)}))

    async def _drain(self, call_control_id: str) -> None:
        try:
            while True:
                self._again.discard(call_control_id)
                items = [
                    i for i in self._store.unsent(call_control_id) if i.id not in self._delivered
                ]
                if not items:
                    if call_control_id in self._again:
                        continue
                    return
                for item in items:
                    if item.action == MESSAGE:
                        # A text message refused by Telnyx is logged with its error; the flow
                        # does not wait for messages, so the call's run goes on regardless.
                        sent = await self._client.send_message(item.body)
                        _log_message(call_control_id, item.body, sent)
                        self._delivered_one(item.id)
                        continue
                    result = await self._client.send(call_control_id, item.action, item.body)
                    _log_command(call_control_id, item.action, item.body, result)
                    if result.ok:
                        self._delivered_one(item.id)
                        continue
                    self._stop(call_control_id, _reason(item.action, result))
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one call's failure must not stop the sender
            logger.error(
                json.dumps(
                    {
                        "event": "sender_error",
                        "call_control_id": call_control_id,
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                )
            )
        finally:
            self._tasks.pop(call_control_id, None)
            self._again.discard(call_control_id)

    def _stop(self, call_control_id: str, reason: str) -> None:
        self.flush()
        dropped = self._store.abandon(call_control_id, reason, self._clock())
        logger.warning(
            json.dumps(
                {
                    "event": "run_stopped",
                    "call_control_id": call_control_id,
                    "reason": reason,
                    "dropped_commands": dropped,
                }
            )
        )


def _reason(action: str, result: SendResult) -> str:
    if result.status == "rejected":
        code = f" {result.error_code}" if result.error_code else ""
        detail = f": {result.detail}" if result.detail else ""
        return f"Telnyx refused {action} (HTTP {result.http_status}{code}){detail}"
    return f"Telnyx could not be reached for {action} after {result.attempts} attempts"


def _log_message(call_control_id: str, body: dict[str, Any], result: SendResult) -> None:
    line: dict[str, Any] = {
        "event": "message",
        "call_control_id": call_control_id,
        "to": body.get("to"),
        "result": result.status,
        "attempts": result.attempts,
        "http_status": result.http_status,
    }
    if result.ok and result.data is not None:
        line["message_id"] = result.data.get("id")
    if not result.ok:
        line["error_code"] = result.error_code
        line["detail"] = result.detail
    logger.log(logging.INFO if result.ok else logging.WARNING, json.dumps(line))


def _log_command(
    call_control_id: str, action: str, body: dict[str, Any], result: SendResult
) -> None:
    line = {
        "event": "command",
        "call_control_id": call_control_id,
        "action": action,
        "command_id": body.get("command_id"),
        "result": result.status,
        "attempts": result.attempts,
        "http_status": result.http_status,
    }
    if not result.ok:
        line["error_code"] = result.error_code
        line["detail"] = result.detail
    level = logging.INFO if result.ok else logging.WARNING
    logger.log(level, json.dumps(line))
