"""Sends the outbox's commands to Telnyx in the background, in order within each call."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from flowlang.store.base import Store
from flowlang.telnyx.client import SendResult

logger = logging.getLogger("flowlang.server")

# Runs a blocking store call off the event loop (the server's store thread).
Blocking = Callable[..., Awaitable[Any]]


class Client(Protocol):
    """What the sender needs from the Telnyx client."""

    async def send(self, call_control_id: str, action: str, body: dict[str, Any]) -> SendResult:
        ...


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
        blocking: Blocking,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._client = client
        self._blocking = blocking
        self._clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()

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
        calls: list[str] = await self._blocking(self._store.pending_calls)
        for call_control_id in calls:
            self.wake(call_control_id)
        return len(calls)

    async def idle(self) -> None:
        """Wait until no call has commands being sent (for tests and orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def close(self) -> None:
        """Stop sending; what is unsent stays in the outbox for the next start."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _drain(self, call_control_id: str) -> None:
        try:
            while True:
                self._again.discard(call_control_id)
                item = await self._blocking(self._store.next_command, call_control_id)
                if item is None:
                    if call_control_id in self._again:
                        continue
                    return
                result = await self._client.send(call_control_id, item.action, item.body)
                _log_command(call_control_id, item.action, item.body, result)
                if result.ok:
                    await self._blocking(self._store.mark_sent, item.id)
                    continue
                reason = _reason(item.action, result)
                dropped = await self._blocking(
                    self._store.abandon, call_control_id, reason, self._clock()
                )
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


def _reason(action: str, result: SendResult) -> str:
    if result.status == "rejected":
        code = f" {result.error_code}" if result.error_code else ""
        detail = f": {result.detail}" if result.detail else ""
        return f"Telnyx refused {action} (HTTP {result.http_status}{code}){detail}"
    return f"Telnyx could not be reached for {action} after {result.attempts} attempts"


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
