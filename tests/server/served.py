"""Calls served in process, quickly: the server's Runner and a real store, with the simulator's
phone model playing Telnyx and the caller (no HTTP, no sender), so a test can fill a store with
real calls' histories by the dozen."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from datetime import datetime
from itertools import count
from typing import Any

from flowlang.offline.phone import CLOCK_START, FetchAnswer, Phone, PhoneError
from flowlang.offline.simulator import parse_input
from flowlang.program import Program
from flowlang.runtime.commands import Command, FetchRequest
from flowlang.runtime.events import FETCH_ENDED, CallInfo, Event
from flowlang.serve.backend import FETCH
from flowlang.serve.runner import Runner
from flowlang.serve.store import Store, open_store
from flowlang.serve.store.base import Outgoing
from flowlang.serve.telnyx.webhooks import parse_webhook
from flowlang.serve.versions import FlowVersions

START = 1_800_000_000.0


async def play(
    store: Store,
    program: Program,
    call_id: str,
    inputs: list[str],
    caller: str = "+15550001111",
    called: str = "+15550002222",
    redact: bool = False,
    started: float = START,
    occurred: datetime | None = None,
    stray_after: str | None = None,
) -> None:
    """Serve one incoming call of `program` whose caller does `inputs`; `started` is the
    server's clock at its first webhook (0.25 s more per webhook after it); `occurred`, when
    given, is when the call starts on Telnyx's clock (its webhooks' occurred_at), else the
    phone's own clock (CLOCK_START). With `stray_after` (an event type), the caller presses 5
    once that event is applied, a key the run does not wait for."""
    ticks = count()
    runner = Runner(
        store,
        FlowVersions(program, None, store.load_flow),
        clock=lambda: started + 0.25 * next(ticks),
        redact=redact,
    )
    phone = Phone(CallInfo(call_id, caller, called))
    queue: deque[dict[str, Any]] = deque([phone.incoming()])
    script = deque(parse_input(i) for i in inputs)
    fetches: deque[FetchRequest] = deque()
    while True:
        if queue:
            envelope = queue.popleft()
            if occurred is not None:
                stamp = datetime.fromisoformat(envelope["data"]["occurred_at"])
                moved = stamp - CLOCK_START + occurred
                envelope["data"]["occurred_at"] = moved.isoformat().replace("+00:00", "Z")
            handled = await runner.handle(parse_webhook(json.dumps(envelope).encode()))
            await _carried_out(store, call_id)
            if envelope["data"]["event_type"] == stray_after:
                stray_after = None
                queue.appendleft(phone.envelope("call.dtmf.received", digit="5"))
            change = handled.change
            for item in change.commands if change is not None else ():
                if isinstance(item, Command):
                    queue.extend(phone.send(item))
                elif isinstance(item, Outgoing) and item.kind == FETCH:
                    fetches.append(FetchRequest.from_row(item.body))
            continue
        if fetches and script and isinstance(script[0], FetchAnswer):
            answer = script.popleft()
            assert isinstance(answer, FetchAnswer)
            await _answer(runner, call_id, fetches.popleft(), answer)
            continue
        waiting = phone.waiting
        if not script or waiting is None:
            return
        if phone.state == "ended" and waiting.kind != "record":
            return
        try:
            queue.extend(phone.act(script.popleft()))
        except PhoneError as exc:
            raise AssertionError(f"the script does not fit the call: {exc}") from None


async def _carried_out(store: Store, call_id: str) -> None:
    # What a sender would do: every row the step queued is carried out at once.
    items = await store.claim("served", START, 30.0, call_id)
    await store.done([i.id for i in items])


async def _answer(runner: Runner, call_id: str, request: FetchRequest, answer: FetchAnswer) -> None:
    payload: dict[str, Any] = {
        "call_control_id": call_id,
        "client_state": request.client_state,
        "status": "ok" if answer.ok else "error",
    }
    if answer.result is not None:
        payload["result"] = answer.result
    else:
        payload["reason"] = "the backend answered HTTP 500"
    await runner.feed(call_id, Event(FETCH_ENDED, payload, id=f"fetch/{request.key}"))


def serve_calls(
    url: str,
    program: Program,
    calls: list[tuple[str, list[str]]],
    started: float = START,
    **kw: Any,
) -> None:
    """Serve each (call id, inputs) of `calls` one after the other into the store at `url`,
    the first at `started`, each 60 s after the one before."""

    async def go() -> None:
        store = open_store(url)
        try:
            for n, (call_id, inputs) in enumerate(calls):
                await play(store, program, call_id, inputs, started=started + 60 * n, **kw)
        finally:
            await store.close()

    asyncio.run(go())
