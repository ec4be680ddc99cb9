"""The store contract, run against SQLite and PostgreSQL alike: dedupe, one transaction per
event, ordered outbox claimed under leases, cleanup; then what is particular to each."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from flowlang.runtime.commands import Command
from flowlang.serve.store import CallChange, Outgoing, Store, StoredCall, StoreError, open_store
from flowlang.serve.store.sqlite import SQLiteStore
from tests.server.postgres import Link

SOURCE = ("main.flow", "main:\n    answer\n")


def start(commands: tuple[Command, ...] = (Command("answer", {"command_id": "a"}),)):
    def step(call: StoredCall | None) -> CallChange | None:
        assert call is None
        return CallChange("d1", {"n": 0}, "active", commands=commands, source=SOURCE)

    return step


def bump(call: StoredCall | None) -> CallChange | None:
    if call is None:
        return None
    n = call.state["n"] + 1
    return CallChange(call.digest, {"n": n}, "active", commands=(Command("speak", {"n": n}),))


def run(url: str, test: Callable[[Store], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        store = open_store(url)
        try:
            return await test(store)
        finally:
            await store.close()

    return asyncio.run(go())


async def peek(store: Store, call: str) -> StoredCall | None:
    seen: list[StoredCall | None] = []
    await store.apply(call, None, lambda c: seen.append(c) or None, now=0.0)
    return seen[0]


def test_a_new_call_is_saved_with_its_flow_and_commands(store_url: str) -> None:
    async def test(store: Store) -> None:
        applied = await store.apply("c1", "e1", start(), now=10.0)
        assert not applied.duplicate and applied.change is not None
        assert await store.load_flow("d1") == SOURCE
        (item,) = await store.unsent("c1")
        assert (item.kind, item.action, item.body) == ("call", "answer", {"command_id": "a"})
        assert item.created == 10.0 and item.attempts == 0 and item.doubt is None

    run(store_url, test)


def test_a_seen_event_id_changes_nothing(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start(), now=10.0)
        await store.apply("c1", "e2", bump, now=11.0)
        again = await store.apply("c1", "e2", bump, now=12.0)
        assert again.duplicate and again.change is None
        call = await peek(store, "c1")
        assert call is not None and call.state == {"n": 1}

    run(store_url, test)


def test_an_event_for_an_unknown_call_leaves_no_trace(store_url: str) -> None:
    async def test(store: Store) -> None:
        assert (await store.apply("ghost", "e9", lambda c: None, now=1.0)).change is None
        await store.apply("ghost", "e9", start(), now=2.0)
        assert len(await store.unsent("ghost")) == 1

    run(store_url, test)


def test_rows_of_any_kind_are_queued_in_order(store_url: str) -> None:
    commands = (
        Command("answer", {"i": 1}),
        Outgoing("fetch", "GET", {"url": "https://example.test/"}),
        Command("speak", {"i": 2}),
    )

    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start(commands), 1.0)
        items = await store.unsent("c1")
        assert [(i.kind, i.action) for i in items] == [
            ("call", "answer"),
            ("fetch", "GET"),
            ("call", "speak"),
        ]

    run(store_url, test)


def test_a_claim_takes_each_calls_rows_in_order_and_only_once(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply(
            "a", "ea", start((Command("answer", {"i": 1}), Command("speak", {"i": 2}))), 1.0
        )
        await store.apply("b", "eb", start((Command("answer", {"i": 3}),)), 2.0)
        claimed = await store.claim("w1", now=5.0, lease=30.0)
        assert [(i.call_control_id, i.body["i"]) for i in claimed] == [("a", 1), ("a", 2), ("b", 3)]
        # Held by w1's lease: nobody else gets them, not even for one call by name.
        assert await store.claim("w2", now=6.0, lease=30.0) == []
        assert await store.claim("w2", now=6.0, lease=30.0, call_control_id="a") == []
        await store.done([claimed[0].id])
        assert [i.body["i"] for i in await store.unsent("a")] == [2]
        await store.done([claimed[1].id, claimed[2].id])
        assert await store.unsent("a") == [] and await store.unsent("b") == []
        assert await store.claim("w2", now=7.0, lease=30.0) == []

    run(store_url, test)


def test_rows_queued_behind_a_held_row_wait_for_it(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start(), 1.0)
        (first,) = await store.claim("w1", now=2.0, lease=30.0, call_control_id="c1")
        await store.apply("c1", "e2", bump, 3.0)
        # The new speak must not overtake the answer that w1 is still sending.
        assert await store.claim("w2", now=4.0, lease=30.0) == []
        await store.done([first.id])
        (second,) = await store.claim("w2", now=5.0, lease=30.0)
        assert second.action == "speak"

    run(store_url, test)


def test_a_dead_workers_rows_are_taken_over_after_the_lease_with_doubt(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start(), 1.0)
        (held,) = await store.claim("w1", now=2.0, lease=10.0)
        assert held.doubt is None
        assert await store.claim("w2", now=11.0, lease=10.0) == []
        (taken,) = await store.claim("w2", now=12.5, lease=10.0)
        assert taken.id == held.id
        # w1 may have sent it just before it died: from the time w1 claimed it.
        assert taken.doubt == 2.0

    run(store_url, test)


def test_a_lease_is_renewed_only_by_the_worker_that_still_holds_it(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start((Command("answer", {}), Command("speak", {}))), 1.0)
        first, second = await store.claim("w1", now=2.0, lease=10.0)
        assert await store.renew("w2", [first.id], now=5.0, lease=10.0) == set()
        assert await store.renew("w1", [first.id, second.id], now=5.0, lease=10.0) == {
            first.id,
            second.id,
        }
        # Renewed to 15: nobody takes them over at 13.
        assert await store.claim("w2", now=13.0, lease=10.0) == []
        # Once a lease has run out the rows may be someone else's: no renewing then.
        assert await store.renew("w1", [first.id], now=15.5, lease=10.0) == set()
        taken = await store.claim("w2", now=16.0, lease=10.0)
        assert [i.id for i in taken] == [first.id, second.id]

    run(store_url, test)


def test_a_released_row_waits_its_turn_and_counts_its_attempts(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start((Command("answer", {}), Command("speak", {}))), 1.0)
        first, second = await store.claim("w1", now=2.0, lease=30.0)
        await store.release([first.id], not_before=10.0, doubt=2.5)
        await store.release([second.id], not_before=0.0, tried=False)
        assert await store.claim("w2", now=9.0, lease=30.0) == []
        again = await store.claim("w2", now=10.0, lease=30.0)
        assert [(i.action, i.attempts, i.doubt) for i in again] == [
            ("answer", 1, 2.5),
            ("speak", 0, None),
        ]

    run(store_url, test)


def test_a_step_that_raises_rolls_everything_back(store_url: str) -> None:
    def boom(call: StoredCall | None) -> CallChange | None:
        raise RuntimeError("interpreter bug")

    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start(), now=1.0)
        with pytest.raises(RuntimeError):
            await store.apply("c1", "e2", boom, now=2.0)
        assert (await store.apply("c1", "e2", bump, now=3.0)).change is not None

    run(store_url, test)


def test_concurrent_applies_stand_or_fall_alone(store_url: str) -> None:
    # Applies that arrive together may share a transaction (SQLite commits them as a group):
    # one that raises must undo its own writes only, and the others must all be kept.
    def half_done(call: StoredCall | None) -> CallChange | None:
        raise RuntimeError("interpreter bug")

    async def test(store: Store) -> None:
        calls = [f"c{n}" for n in range(20)]
        await asyncio.gather(*(store.apply(c, "e1", start(), now=1.0) for c in calls))
        outcomes = await asyncio.gather(
            *(store.apply(c, "e2", half_done if c == "c7" else bump, now=2.0) for c in calls),
            return_exceptions=True,
        )
        assert [type(o).__name__ for o in outcomes].count("RuntimeError") == 1
        assert isinstance(outcomes[7], RuntimeError)
        for c in calls:
            call = await peek(store, c)
            assert call is not None and call.state == {"n": 0 if c == "c7" else 1}
            assert len(await store.unsent(c)) == (1 if c == "c7" else 2)
        # c7's event was not recorded as seen: its redelivery is applied.
        assert (await store.apply("c7", "e2", bump, now=3.0)).change is not None

    run(store_url, test)


def test_a_workers_new_rows_are_claimed_behind_rows_it_holds(store_url: str) -> None:
    async def test(store: Store) -> None:
        first = await store.apply("c1", "e1", start(), 1.0, claim=("w1", 30.0))
        assert [i.action for i in first.claimed] == ["answer"]
        # w1 still sends the answer; the speak goes to w1 too, behind it, in the same apply.
        second = await store.apply("c1", "e2", bump, 2.0, claim=("w1", 30.0))
        assert [i.action for i in second.claimed] == ["speak"]
        # Another worker's new rows wait behind w1's instead.
        third = await store.apply("c1", "e3", bump, 3.0, claim=("w2", 30.0))
        assert third.change is not None and third.claimed == ()
        # So do w1's own once its lease has run out: another worker may have taken them over.
        fourth = await store.apply("c1", "e4", bump, 40.0, claim=("w1", 30.0))
        assert fourth.change is not None and fourth.claimed == ()

    run(store_url, test)


def test_abandon_stops_the_run_drops_rows_and_queues_the_last_one(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start((Command("answer", {}), Command("speak", {}))), 1.0)
        hangup = Outgoing("call", "hangup", {"command_id": "stop"})
        assert await store.abandon("c1", "telnyx 90018", 2.0, hangup) == 2
        assert [i.action for i in await store.unsent("c1")] == ["hangup"]
        call = await peek(store, "c1")
        assert call is not None and call.status == "failed"

    run(store_url, test)


def test_cleanup_forgets_finished_and_idle_calls_only(store_url: str) -> None:
    def finish(call: StoredCall | None) -> CallChange | None:
        assert call is not None
        return CallChange(call.digest, call.state, "ended", end_reason="hangup")

    async def test(store: Store) -> None:
        await store.apply("done", "e1", start(), now=100.0)
        await store.apply("done", "e2", finish, now=100.0)
        await store.apply("live", "e3", start(), now=100.0)
        await store.apply("idle", "e4", start(), now=1.0)
        hangup = Outgoing("call", "hangup", {})
        await store.abandon("never-known", "unknown call", 100.0, hangup)
        assert await store.cleanup(finished_before=150.0, idle_before=50.0) == 2
        assert [i.call_control_id for i in await store.claim("w", 200.0, 30.0)] == ["live"]
        assert await store.load_flow("d1") == SOURCE
        # The event ids were forgotten with the calls, so a late duplicate of e1 finds no call.
        assert (await store.apply("done", "e1", lambda c: c and None, now=200.0)).change is None

    run(store_url, test)


def test_counts(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("a", "e1", start((Command("answer", {}), Command("speak", {}))), 1.0)
        await store.apply("b", "e2", start(), 1.0)
        counts = await store.counts()
        assert (counts.active_calls, counts.outbox_depth) == (2, 3)

    run(store_url, test)


def test_concurrent_workers_never_both_advance_a_call(store_url: str) -> None:
    async def worker(name: int) -> None:
        store = open_store(store_url)
        try:
            for i in range(30):
                await store.apply("c1", f"{name}-{i}", bump, now=1.0)
                # Every event delivered twice, at once: applied once.
                await asyncio.gather(
                    store.apply("c1", f"{name}-{i}-x", bump, now=1.0),
                    store.apply("c1", f"{name}-{i}-x", bump, now=1.0),
                )
        finally:
            await store.close()

    async def test(store: Store) -> None:
        await store.apply("c1", "start", start(), now=0.0)
        await asyncio.gather(*(worker(n) for n in range(3)))
        call = await peek(store, "c1")
        assert call is not None and call.state == {"n": 180}
        bodies = [item.body.get("n") for item in await store.unsent("c1")]
        assert bodies == [None, *range(1, 181)]

    run(store_url, test)


def test_concurrent_claims_take_each_row_once(store_url: str) -> None:
    async def test(store: Store) -> None:
        for n in range(40):
            await store.apply(
                f"c{n}", "e", start((Command("answer", {}), Command("speak", {}))), 1.0
            )
        others = [open_store(store_url) for _ in range(3)]
        try:
            claims = await asyncio.gather(
                *(
                    s.claim(f"w{n}", 2.0, 30.0, limit=5)
                    for n, s in enumerate(others)
                    for _ in range(4)
                )
            )
        finally:
            for other in others:
                await other.close()
        taken = [item.id for batch in claims for item in batch]
        assert len(taken) == len(set(taken)) == 80

    run(store_url, test)


def test_health_check_fails_once_closed(store_url: str) -> None:
    async def test() -> None:
        store = open_store(store_url)
        await store.ping()
        await store.close()
        with pytest.raises(StoreError):
            await store.ping()

    asyncio.run(test())


URLS = [
    ("other-scheme", "mysql://db/flows", "unsupported store URL"),
    ("no-scheme", "flowlang.db", "unsupported store URL"),
    ("no-path", "sqlite://", "no path"),
    ("bad-postgres", "postgresql://host/db?bogus=1", "not a valid PostgreSQL URL"),
]


@pytest.mark.parametrize(("url", "message"), [u[1:] for u in URLS], ids=[u[0] for u in URLS])
def test_bad_store_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


@pytest.mark.parametrize("password", ["SE@CRET", "SE/CRET"])
def test_a_password_with_a_character_to_encode_is_explained_without_showing_it(
    password: str,
) -> None:
    # libpq cuts such a URL at the wrong place, then names a piece of the password as the host.
    with pytest.raises(StoreError) as caught:
        open_store(f"postgresql://flowlang:{password}@db.internal:5432/flowlang")
    message = str(caught.value)
    assert "CRET" not in message
    assert "@ as %40 and / as %2F" in message and "PGPASSWORD" in message


def test_an_unreachable_postgres_is_a_store_error(postgres: Any) -> None:
    async def test() -> None:
        store = open_store("postgresql://postgres@127.0.0.1:1/none")
        with pytest.raises(StoreError, match="cannot reach PostgreSQL at 127.0.0.1:1"):
            await store.ping()
        await store.close()

    asyncio.run(test())


def test_a_host_that_never_answers_is_reported_after_the_urls_connect_timeout(
    postgres: Any,
) -> None:
    # A listener that accepts nothing: the connection is never answered, as behind a firewall
    # that drops the packets. The URL's own connect_timeout (2 s) is kept, not replaced by ours.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as silent:
        port = silent.getsockname()[1]

        async def test() -> None:
            store = open_store(f"postgresql://postgres@127.0.0.1:{port}/none?connect_timeout=2")
            started = time.monotonic()
            with pytest.raises(StoreError) as caught:
                await asyncio.wait_for(store.ping(), 10)
            assert time.monotonic() - started < 4
            assert str(caught.value).startswith(
                f"cannot reach PostgreSQL at 127.0.0.1:{port}: no answer within 2 seconds"
            )
            await store.close()

        asyncio.run(test())


def test_serving_again_after_a_network_cut_is_not_held_up_by_an_unanswered_try(
    postgres: Any,
) -> None:
    # A try to connect made while the network was cut is never answered: libpq alone would
    # wait for it for minutes, and the pool tries nothing else meanwhile.
    link = Link(postgres.port)
    url = link.url(postgres.database())

    async def test() -> None:
        store = open_store(url)
        try:
            await store.ping()
            link.cut()
            cut_off = asyncio.create_task(store.ping())  # its pooled connection was ended
            while not link.held:
                await asyncio.sleep(0.01)
            link.mend()
            with contextlib.suppress(StoreError):
                await cut_off
            deadline = time.monotonic() + 10
            while True:
                try:
                    await store.ping()
                    break
                except StoreError:
                    assert time.monotonic() < deadline, "still not serving after 10 seconds"
        finally:
            await store.close()

    try:
        asyncio.run(test())
    finally:
        link.close()


@pytest.mark.parametrize(
    ("query", "idle", "unacknowledged"),
    [("", "30", "60000"), ("&keepalives_idle=120&tcp_user_timeout=5000", "120", "5000")],
    ids=["ours", "the-urls"],
)
def test_idle_connections_are_probed_so_a_network_cut_is_noticed(
    postgres: Any, query: str, idle: str, unacknowledged: str
) -> None:
    # And a statement the network cut as it went is given up after a minute, not a quarter
    # of an hour of the operating system's retransmissions.
    async def test(store: Store) -> None:
        async with store._connection() as conn:
            options = conn.pgconn.info
        values = {o.keyword.decode(): (o.val or b"").decode() for o in options}
        assert values["keepalives"] == "1" and values["keepalives_idle"] == idle
        assert values["tcp_user_timeout"] == unacknowledged

    run(postgres.database() + query, test)


def test_a_missing_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/nowhere/x.db")


def test_relative_and_absolute_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run("sqlite:///rel.db", lambda s: s.ping())
    assert (tmp_path / "rel.db").exists()
    run(f"sqlite:///{tmp_path}/abs.db", lambda s: s.ping())
    assert (tmp_path / "abs.db").exists()
    run("sqlite:///:memory:", lambda s: s.ping())


def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    SQLiteStore.check(str(tmp_path / "w.db"))
    with sqlite3.connect(tmp_path / "w.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_from_before_leases_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY, call_control_id TEXT NOT NULL,"
            " action TEXT NOT NULL, body TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0)"
        )
        db.execute("INSERT INTO outbox (call_control_id, action, body) VALUES ('c', 'speak', '{}')")

    async def test(store: Store) -> None:
        (item,) = await store.claim("w", 1.0, 30.0)
        assert (item.kind, item.action) == ("call", "speak")

    run(f"sqlite:///{path}", test)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_deleted_or_replaced_file_is_noticed(tmp_path: Path, how: str) -> None:
    path = tmp_path / "calls.db"

    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start(), 1.0)
        for name in ("calls.db", "calls.db-wal", "calls.db-shm"):
            if (tmp_path / name).exists():
                os.unlink(tmp_path / name)
        if how == "replaced":
            SQLiteStore.check(str(path))
        with pytest.raises(StoreError, match="deleted or replaced"):
            await store.ping()
        with pytest.raises(StoreError, match="deleted or replaced"):
            await store.apply("c1", "e2", bump, 2.0)

    run(f"sqlite:///{path}", test)


def test_a_refusal_after_the_run_ended_keeps_its_end(store_url: str) -> None:
    def finish(call: StoredCall | None) -> CallChange | None:
        assert call is not None
        return CallChange(call.digest, call.state, "ended", end_reason="hangup", call_gone=True)

    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start((Command("answer", {}), Command("speak", {}))), 1.0)
        await store.apply("c1", "e2", finish, 2.0)
        assert await store.unsent("c1") == []
        await store.abandon("c1", "Telnyx refused speak", now=3.0)
        call = await peek(store, "c1")
        assert call is not None and call.status == "ended"

    run(store_url, test)


def waiting(expires: float | None, status: str = "active") -> Callable[..., CallChange]:
    def step(call: StoredCall | None) -> CallChange:
        return CallChange("d1", {"n": 0}, status, source=SOURCE, expires=expires)

    return step


def test_expired_lists_the_active_calls_whose_wait_ran_out(store_url: str) -> None:
    async def test(store: Store) -> None:
        await store.apply("c1", "e1", waiting(100.0), 1.0)
        await store.apply("c2", "e1", waiting(50.0), 1.0)
        await store.apply("c3", "e1", waiting(None), 1.0)
        await store.apply("c4", "e1", waiting(10.0, "ended"), 1.0)
        assert await store.expired(49.0) == []
        assert await store.expired(99.0) == [("c2", 50.0)]
        assert await store.expired(100.0) == [("c2", 50.0), ("c1", 100.0)]
        assert await store.expired(100.0, limit=1) == [("c2", 50.0)]
        # A change without a limit (the wait changed) takes the call off the list.
        await store.apply("c2", "e2", waiting(None), 2.0)
        assert await store.expired(1000.0) == [("c1", 100.0)]

    run(store_url, test)


def test_a_file_from_before_wait_limits_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE calls (call_control_id TEXT PRIMARY KEY, digest TEXT NOT NULL,"
            " state TEXT NOT NULL, status TEXT NOT NULL, end_reason TEXT, updated REAL NOT NULL)"
            " WITHOUT ROWID"
        )
        db.execute("INSERT INTO calls VALUES ('old', 'd0', '{}', 'active', NULL, 1.0)")

    async def test(store: Store) -> None:
        assert await store.expired(1e12) == []
        await store.apply("c1", "e1", waiting(5.0), 1.0)
        assert await store.expired(5.0) == [("c1", 5.0)]

    run(f"sqlite:///{path}", test)


def test_a_worker_starting_beside_busy_ones_takes_no_table_lock(postgres: Any) -> None:
    # A worker restarted while others apply webhooks must not lock their tables to check the
    # schema: that stalled them, and deadlocked with their applies.
    import psycopg

    url = postgres.database()
    run(url, lambda s: s.ping())  # the first worker creates the schema

    async def test() -> None:
        async with await psycopg.AsyncConnection.connect(url) as busy:
            async with busy.transaction():
                # What a worker's apply holds while it runs: a row of `calls` being written.
                await busy.execute("LOCK TABLE calls, history, outbox IN ROW EXCLUSIVE MODE")
                late = open_store(url.replace("?", "?connect_timeout=3&", 1))
                try:
                    await asyncio.wait_for(late.ping(), 5)
                finally:
                    await late.close()

    asyncio.run(test())


def test_no_sqlite_cursor_leaves_the_stores_thread(tmp_path: Path) -> None:
    # A cursor freed on another thread resets the connection's cached statement while the
    # store's thread may be running it ("bad parameter or other API misuse").
    async def test(store: Store) -> None:
        await store.apply("c1", "e1", start((Command("answer", {}), Command("speak", {}))), 1.0)
        first, second = await store.claim("w1", now=2.0, lease=30.0)
        assert await store.release([first.id], not_before=3.0) is None
        assert await store.done([second.id]) is None
        assert await store.release_worker("w1") is None

    run(f"sqlite:///{tmp_path}/calls.db", test)


def test_work_from_one_turn_of_the_loop_shares_one_sqlite_transaction(tmp_path: Path) -> None:
    # The store's thread is woken once per turn of the event loop, not once per webhook.
    async def test(store: Store) -> None:
        assert isinstance(store, SQLiteStore)
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        calls = [f"c{n}" for n in range(20)]
        await asyncio.gather(*(store.apply(c, "e1", start(), now=1.0) for c in calls))
        store._db.set_trace_callback(None)
        assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
        # Nothing failed, so no piece needed a savepoint of its own.
        assert not any(s.startswith("SAVEPOINT") for s in statements)
        for c in calls:
            assert await peek(store, c) is not None

    run(f"sqlite:///{tmp_path}/calls.db", test)


def test_work_from_another_loop_after_the_close_is_refused_not_left_waiting(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(str(tmp_path / "calls.db"))
    other = asyncio.new_event_loop()
    try:
        # One turn of the other loop: its work is queued, to be handed over on the next turn.
        work = other.create_task(store.apply("c1", "e1", start(), now=1.0))
        other.call_soon(other.stop)
        other.run_forever()
        asyncio.run(store.close())
        # The hand-over comes after the store's thread has ended: refused, not lost.
        with pytest.raises(StoreError, match="closed"):
            other.run_until_complete(asyncio.wait_for(work, 5))
    finally:
        other.close()


def test_the_wal_is_copied_back_into_the_file_by_a_thread_of_its_own(tmp_path: Path) -> None:
    # The writer's own checkpoint (which stalled every webhook for ~30 ms) is only a safety
    # net at ~32 MB of WAL: the few pages written here reach the file through the
    # checkpointer's thread.
    import shutil
    import time

    async def test() -> None:
        store = SQLiteStore(str(tmp_path / "calls.db"), checkpoint_every=0.05)
        try:
            await asyncio.gather(*(store.apply(f"c{n}", "e1", start(), 1.0) for n in range(5)))
            deadline = time.monotonic() + 5
            found = 0
            while found < 5 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                # The store file alone, without its WAL: only what was checkpointed.
                shutil.copyfile(tmp_path / "calls.db", tmp_path / "copy.db")
                with contextlib.closing(sqlite3.connect(tmp_path / "copy.db")) as copy:
                    # No table there yet, or a copy torn by a checkpoint writing pages as it
                    # was made ("malformed"): look again.
                    with contextlib.suppress(sqlite3.DatabaseError):
                        found = copy.execute("SELECT count(*) FROM calls").fetchone()[0]
            assert found == 5
        finally:
            await store.close()

    asyncio.run(test())
