"""A call's history in the store, on SQLite and PostgreSQL alike: written with the event's change
and only then, listed and filtered, read back in order, cleaned up with the call, numbers masked
before they reach the disk with --redact; and a served call replays exactly."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any

import attrs
import pytest

from flowlang.offline.replay import load_call, replay
from flowlang.offline.transcript import render_call
from flowlang.runtime.commands import Command
from flowlang.serve.history import CallQuery, mask, redact
from flowlang.serve.store import CallChange, Store, StoredCall, open_store
from tests.server.scenarios import EVERYTHING, program
from tests.server.served import START, play, serve_calls
from tests.server.test_store import run

SOURCE = ("main.flow", "main:\n    answer\n")


def first(caller: str = "+15550001111") -> dict[str, Any]:
    return {
        "event": {"type": "call.initiated", "id": "e1", "payload": {}},
        "time": "2026-11-23T16:00:00Z",
        "at": ["2026-11-23", 10, 0, 0],
        "queued": 1,
        "start": {"caller": caller, "called": "+15550002222", "inputs": None, "placed": False},
    }


def started(caller: str = "+15550001111", status: str = "active"):
    def step(call: StoredCall | None) -> CallChange | None:
        return CallChange("d1", {}, status, commands=(Command("answer", {"command_id": "a"}),),
                          source=SOURCE, history=first(caller))

    return step


def stepped(n: int, status: str = "active"):
    def step(call: StoredCall | None) -> CallChange | None:
        assert call is not None
        return CallChange(call.digest, {"n": n}, status, end_reason=None,
                          history={"event": {"type": "call.speak.ended", "id": f"e{n}"}, "n": n})

    return step


def test_each_event_leaves_one_record_in_order_beside_its_outbox_rows(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("c1", "e1", started(), now=10.0)
        await store.apply("c1", "e2", stepped(2), now=11.0)
        await store.apply("c1", "e3", stepped(3, "ended"), now=12.5)
        # A repeated event and one that changes nothing leave no record.
        await store.apply("c1", "e3", stepped(4), now=13.0)
        await store.apply("c1", "e5", lambda call: None, now=14.0)
        (item,) = await store.claim("w", now=15.0, lease=30.0)
        await store.done([item.id])
        found = await store.history("c1")
        assert found is not None
        assert [e.applied for e in found.entries] == [10.0, 11.0, 12.5]
        assert [e.data.get("n") for e in found.entries] == [None, 2, 3]
        assert found.entries[0].data == first()
        summary = found.summary
        assert (summary.caller, summary.called, summary.flow) == (
            "+15550001111", "+15550002222", "main.flow")
        assert (summary.started, summary.updated, summary.status) == (10.0, 12.5, "ended")
        (delivery,) = found.deliveries
        assert (delivery.action, delivery.key, delivery.state) == ("answer", "a", "sent")
        assert found.entries[0].rows == (delivery,) and found.entries[1].rows == ()
        assert found.entries[0].commands == (Command("answer", {"command_id": "a"}),)
        assert await store.history("nobody") is None

    run(store_url, test)


def test_a_step_that_fails_leaves_neither_record_nor_change(store_url: str) -> None:
    def broken(call: StoredCall | None) -> CallChange | None:
        raise RuntimeError("the step failed")

    async def test(store: Store) -> None:
        await store.apply("c1", "e1", started(), now=10.0)
        with pytest.raises(RuntimeError):
            await store.apply("c1", "e2", broken, now=11.0)
        found = await store.history("c1")
        assert found is not None and len(found.entries) == 1

    run(store_url, test)


def test_recent_calls_are_listed_newest_first_and_filtered(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("v3:aaa", "e1", started("+15550001111", "ended"), now=100.0)
        await store.apply("v3:abb", "e1", started("+13125550100"), now=200.0)
        await store.apply("v3:ccc", "e1", started("+15550001111", "ended"), now=300.0)
        # A call being placed has a row but no history: it is not a call to list.
        await store.apply("dial:x", None, lambda c: CallChange("d1", {}, "active",
                                                               source=SOURCE), now=400.0)

        async def ids(**query: Any) -> list[str]:
            return [c.call_control_id for c in await store.recent_calls(CallQuery(**query))]

        assert await ids() == ["v3:ccc", "v3:abb", "v3:aaa"]
        assert await ids(limit=2) == ["v3:ccc", "v3:abb"]
        assert await ids(status="active") == ["v3:abb"]
        assert await ids(number="312 555 0100") == ["v3:abb"]
        assert await ids(number="0001111", limit=1) == ["v3:ccc"]
        assert await ids(since=150.0, until=300.0) == ["v3:abb"]
        assert await ids(prefix="v3:a") == ["v3:abb", "v3:aaa"]

    run(store_url, test)


def test_a_cleaned_up_call_takes_its_history_with_it(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("old", "e1", started(status="ended"), now=10.0)
        await store.apply("new", "e1", started(status="ended"), now=1000.0)
        assert await store.cleanup(finished_before=500.0, idle_before=0.0) == 1
        assert await store.history("old") is None
        assert [c.call_control_id for c in await store.recent_calls(CallQuery())] == ["new"]

    run(store_url, test)


def test_a_record_keeps_every_payload_field_the_interpreter_reads() -> None:
    from flowlang.runtime import interpreter
    from flowlang.serve.history import READ_FIELDS

    text = Path(interpreter.__file__).read_text(encoding="utf-8")
    read = set(re.findall(r'payload\.get\("(\w+)"', text))
    assert read, "the interpreter's reading of payloads has changed shape: update this test"
    # The call's own id is kept where it tells the legs apart (on a transfer's new leg).
    assert read - {"call_control_id"} <= READ_FIELDS


def test_mask_keeps_the_last_four_digits() -> None:
    assert mask("+15550001111") == "+*******1111"
    assert mask("555-0100") == "***-0100"
    assert mask("123") == "123"
    assert redact({"a": ["call +15550001111 now"], "b": 7}, ["+15550001111"]) == {
        "a": ["call +*******1111 now"], "b": 7}


def test_a_served_call_replays_exactly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/calls.db"
    serve_calls(url, program(EVERYTHING), [("v3:one", ["1", "1234#", "9"])])
    call = load_call(url, "v3:one")
    assert call.program.digest == program(EVERYTHING).digest
    assert call.call.caller == "+15550001111"
    kinds = [s.event.type for s in call.steps]
    assert "call.gather.ended" in kinds and "call.speak.started" not in kinds
    assert all(s.applied >= START for s in call.steps)
    result = replay(call)
    assert result.ok and result.steps == len(call.steps) + 1


def test_an_ignored_event_is_recorded_and_replayed_as_ignored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/calls.db"
    # A key pressed during the welcome, when the flow listens for none.
    serve_calls(url, program(EVERYTHING), [("v3:one", ["1", "1234#", "9"])],
                stray_after="call.answered")
    call = load_call(url, "v3:one")
    kinds = [(s.event.type, s.ignored) for s in call.events]
    assert kinds[:2] == [("call.answered", False), ("call.dtmf.received", True)]
    assert [s for s in call.events if s.ignored] == [call.events[1]]
    assert call.events[1].event.payload["digit"] == "5"
    assert call.steps == tuple(s for s in call.events if not s.ignored)
    result = replay(call)
    assert result.ok and result.steps == len(call.events) + 1
    shown = render_call(call).splitlines()
    stray = next(n for n, line in enumerate(shown) if "ignored" in line)
    assert 'ignored   call.dtmf.received: digit "5"' in shown[stray]
    assert 'say "Welcome."' in shown[stray - 1] and "play" in shown[stray + 1]
    # Routine events the run ignores (a speech started, each key of a gather) are left out.
    assert {t for t, ignored in kinds if ignored} == {"call.dtmf.received"}
    assert len([k for k in kinds if k[1]]) == 1


def test_a_recorded_ignored_event_the_replay_does_not_ignore_is_a_mismatch(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/calls.db"
    serve_calls(url, program(EVERYTHING), [("v3:one", ["1", "1234#", "9"])])
    call = load_call(url, "v3:one")
    events = list(call.events)
    events[1] = attrs.evolve(events[1], ignored=True)
    result = replay(attrs.evolve(call, events=tuple(events)))
    assert result.mismatch is not None and result.mismatch.index == 2
    assert result.mismatch.recorded["ignored"] is True


def test_an_ignored_event_leaves_a_record_and_nothing_else(store_url: str) -> None:
    def noted(call: StoredCall | None) -> CallChange | None:
        assert call is not None
        return CallChange(call.digest, call.state, call.status, noted=True,
                          history={"event": {"type": "call.dtmf.received", "id": "e2"},
                                   "ignored": True})

    async def test(store: Store) -> None:
        await store.apply("c1", "e1", started(), now=10.0)
        await store.apply("c1", "e2", noted, now=11.0)
        # Not marked seen: a repeat is looked at again, as an event that changed nothing is.
        assert not (await store.apply("c1", "e2", noted, now=12.0)).duplicate
        found = await store.history("c1")
        assert found is not None
        assert [e.data.get("ignored") for e in found.entries] == [None, True, True]
        assert found.summary.updated == 10.0 and found.summary.status == "active"
        assert [e.rows for e in found.entries[1:]] == [(), ()]

    run(store_url, test)


def test_with_redact_the_callers_number_never_reaches_the_disk(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/calls.db"
    serve_calls(url, program(EVERYTHING), [("v3:one", ["1", "1234#", "9"])],
                caller="+13125550147", redact=True)
    with sqlite3.connect(tmp_path / "calls.db") as db:
        stored = "".join(row[0] for row in db.execute("SELECT data FROM history"))
    assert "+13125550147" not in stored and "3125550147" not in stored
    assert "+*******0147" in stored
    call = load_call(url, "v3:one")
    assert call.history.summary.caller == "+*******0147"
    assert replay(call).ok


SAYS_THE_NUMBER = """\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    say "You are calling from {caller}."
    sms "{caller}" "Thanks for calling, {caller}." from "+13125550199"
    hangup
"""


def test_a_redacted_call_shows_and_replays_with_the_number_masked_everywhere(
    tmp_path: Path
) -> None:
    from flowlang.compiler import compile_source
    from flowlang.source import Source

    url = f"sqlite:///{tmp_path}/calls.db"
    flow = compile_source(Source("says.flow", SAYS_THE_NUMBER))
    serve_calls(url, flow, [("v3:one", [])], caller="+13125550147", redact=True)
    call = load_call(url, "v3:one")
    said = [c.body.get("payload") or c.body.get("text") for c in call.start.commands
            + tuple(c for s in call.steps for c in s.commands)]
    assert "You are calling from +*******0147." in said
    assert "Thanks for calling, +*******0147." in said
    assert "+13125550147" not in repr(call.history)
    assert replay(call).ok


def test_the_histories_of_calls_served_together_stay_apart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/calls.db"
    flow = program(EVERYTHING)

    async def go() -> None:
        store = open_store(url)
        try:
            await asyncio.gather(
                play(store, flow, "v3:a", ["1", "1234#", "9"]),
                play(store, flow, "v3:b", ["2", 'ai={"name": "Bob", "guests": 2}']),
                play(store, flow, "v3:c", ["hangup"]),
            )
        finally:
            await store.close()

    asyncio.run(go())
    for call_id in ("v3:a", "v3:b", "v3:c"):
        assert replay(load_call(url, call_id)).ok
