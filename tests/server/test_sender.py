"""The sender keeps a call's commands in order, whatever arrives while one of them is tried."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from flowlang.runtime.commands import Command
from flowlang.serve.dial import DIAL
from flowlang.serve.sender import COMMAND_ID_MEMORY, Sender
from flowlang.serve.store import CallChange, Outgoing, StoredCall, open_store
from flowlang.serve.store.base import OutboxItem
from flowlang.serve.telnyx.client import SendResult


class HeldClient:
    """A Telnyx stand-in whose first try of `answer` waits to be let go, then fails (a 503)."""

    def __init__(self) -> None:
        self.tries: list[str] = []
        self.answer_started = asyncio.Event()
        self.let_go = asyncio.Event()

    async def attempt(
        self, call_control_id: str, action: str, body: dict[str, Any], attempt: int = 1
    ) -> SendResult:
        self.tries.append(action)
        if action == "answer" and attempt == 1:
            self.answer_started.set()
            await self.let_go.wait()
            return SendResult("gave_up", attempt, 503)
        return SendResult("sent", attempt, 200)

    def pause(self, result: SendResult, draw: float = 1.0) -> float:
        return 0.05

    async def send_message(self, body: dict[str, Any], attempt: int = 1) -> SendResult:
        raise AssertionError("no text message here")


def answer(call: StoredCall | None) -> CallChange | None:
    answering = (Command("answer", {"command_id": "a"}),)
    return CallChange("d", {}, "active", commands=answering, source=("m.flow", "main:\n"))


def speak(call: StoredCall | None) -> CallChange | None:
    assert call is not None
    return CallChange("d", {}, "active", commands=(Command("speak", {"command_id": "s"}),))


def test_a_command_claimed_behind_one_that_fails_waits_for_its_retry() -> None:
    async def go() -> list[str]:
        store = open_store("sqlite:///:memory:")
        client = HeldClient()
        sender = Sender(store, client, time.time, worker="w1")
        try:
            first = await store.apply("c1", "e1", answer, time.time(), claim=("w1", 30.0))
            sender.take("c1", list(first.claimed))
            await asyncio.wait_for(client.answer_started.wait(), 5)
            # While the answer is being tried, the next event's speak is claimed for this
            # worker in the webhook's own apply and handed to the call's running task...
            second = await store.apply("c1", "e2", speak, time.time(), claim=("w1", 30.0))
            assert [i.action for i in second.claimed] == ["speak"]
            sender.take("c1", list(second.claimed))
            # ...and the answer then fails: the speak must wait for the answer's next try.
            client.let_go.set()
            await asyncio.wait_for(sender.idle(), 5)
            assert await store.unsent("c1") == []
            return client.tries
        finally:
            await sender.close()
            await store.close()

    assert asyncio.run(go()) == ["answer", "answer", "speak"]


class SlowClient:
    """A Telnyx stand-in that takes 0.3 s to accept each command."""

    def __init__(self) -> None:
        self.tries: list[int] = []

    async def attempt(
        self, call_control_id: str, action: str, body: dict[str, Any], attempt: int = 1
    ) -> SendResult:
        await asyncio.sleep(0.3)
        self.tries.append(body["n"])
        return SendResult("sent", attempt, 200)

    def pause(self, result: SendResult, draw: float = 1.0) -> float:
        return 0.05

    async def send_message(self, body: dict[str, Any], attempt: int = 1) -> SendResult:
        raise AssertionError("no text message here")


def test_rows_tried_for_longer_than_the_lease_stay_this_workers() -> None:
    def five(call: StoredCall | None) -> CallChange | None:
        speaks = tuple(Command("speak", {"command_id": f"s{n}", "n": n}) for n in range(5))
        return CallChange("d", {}, "active", commands=speaks, source=("m.flow", "main:\n"))

    async def go() -> tuple[list[int], list[int]]:
        store = open_store("sqlite:///:memory:")
        client = SlowClient()
        # Five tries of 0.3 s: 1.5 s, longer than the 1 s lease.
        sender = Sender(store, client, time.time, lease=1.0, worker="w1")
        taken_over: list[int] = []
        try:
            applied = await store.apply("c1", "e1", five, time.time(), claim=("w1", 1.0))
            sender.take("c1", list(applied.claimed))
            done = asyncio.ensure_future(sender.idle())
            while not done.done():
                # Another worker looks for rows whose lease ran out, all along.
                other = await store.claim("w2", time.time(), 1.0)
                taken_over += [i.body["n"] for i in other]
                await asyncio.sleep(0.05)
            await done
            return client.tries, taken_over
        finally:
            await sender.close()
            await store.close()

    tries, taken_over = asyncio.run(go())
    assert tries == [0, 1, 2, 3, 4] and taken_over == []


class TimingOut:
    """A Telnyx stand-in whose first answer never comes (a timeout: the command may have
    reached Telnyx), and whose clock then moves on by `later` seconds before the next try."""

    def __init__(self, now: list[float], later: float) -> None:
        self.now = now
        self.later = later
        self.tries: list[str] = []

    async def send(self, action: str) -> SendResult:
        self.tries.append(action)
        if len(self.tries) == 1:
            self.now[0] += self.later
            return SendResult("gave_up", 1, detail="no answer within 5 s", doubtful=True)
        return SendResult("sent", 1, 200)

    async def attempt(
        self, call_control_id: str, action: str, body: dict[str, Any], attempt: int = 1
    ) -> SendResult:
        return await self.send(action)

    async def dial(self, item: OutboxItem) -> SendResult:
        return await self.send(item.action)

    def pause(self, result: SendResult, draw: float = 1.0) -> float:
        return 0.0

    async def send_message(self, body: dict[str, Any], attempt: int = 1) -> SendResult:
        raise AssertionError("no text message here")


@pytest.mark.parametrize(
    ("row", "later", "tries"),
    [
        # Retried within Telnyx's memory of the command_id: a second copy is harmless.
        (Outgoing("call", "speak", {"command_id": "s"}), 10.0, ["speak", "speak"]),
        # Past it, Telnyx could say it twice: the run is stopped and the call hung up instead.
        (Outgoing("call", "speak", {"command_id": "s"}), 100.0, ["speak", "hangup"]),
        # A call to place, past it, could ring twice: it is given up (nothing to hang up).
        (Outgoing(DIAL, "dial", {"command_id": "flowlang-dial-1"}), 100.0, ["dial"]),
    ],
    ids=["speak-within-memory", "speak-past-memory", "dial-past-memory"],
)
def test_a_command_that_may_have_reached_telnyx_is_resent_only_within_its_memory(
    row: Outgoing, later: float, tries: list[str]
) -> None:
    assert 10.0 < COMMAND_ID_MEMORY < 100.0  # the two `later`s fall either side of it
    now = [1000.0]

    def one(call: StoredCall | None) -> CallChange | None:
        return CallChange("d", {}, "active", commands=(row,), source=("m.flow", "main:\n"))

    async def go() -> list[str]:
        store = open_store("sqlite:///:memory:")
        client = TimingOut(now, later)
        sender = Sender(store, client, lambda: now[0], worker="w1", handlers={DIAL: client.dial})
        try:
            applied = await store.apply("c1", "e1", one, now[0], claim=("w1", 30.0))
            sender.take("c1", list(applied.claimed))
            # The next try comes after a pause: wait (5 s at most) until nothing is left.
            for _ in range(100):
                await asyncio.wait_for(sender.idle(), 5)
                if not await store.unsent("c1"):
                    break
                await asyncio.sleep(0.05)
            return client.tries
        finally:
            await sender.close()
            await store.close()

    assert asyncio.run(go()) == tries
