"""The SQLite store: dedupe, one transaction per event, ordered outbox, cleanup, URLs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flowlang.runtime.commands import Command
from flowlang.serve.store import CallChange, StoredCall, StoreError, open_store
from flowlang.serve.store.sqlite import SQLiteStore

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


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(str(tmp_path / "calls.db"))
    yield s
    s.close()


def test_a_new_call_is_saved_with_its_flow_and_commands(store: SQLiteStore) -> None:
    applied = store.apply("c1", "e1", start(), now=10.0)
    assert not applied.duplicate and applied.change is not None
    assert store.load_flow("d1") == SOURCE
    (item,) = store.unsent("c1")
    assert (item.action, item.body) == ("answer", {"command_id": "a"})


def test_a_seen_event_id_changes_nothing(store: SQLiteStore) -> None:
    store.apply("c1", "e1", start(), now=10.0)
    store.apply("c1", "e2", bump, now=11.0)
    again = store.apply("c1", "e2", bump, now=12.0)
    assert again.duplicate and again.change is None
    seen: list[StoredCall | None] = []
    store.apply("c1", None, lambda c: seen.append(c) or None, now=13.0)
    assert seen[0] is not None and seen[0].state == {"n": 1}


def test_an_event_for_an_unknown_call_leaves_no_trace(store: SQLiteStore) -> None:
    assert store.apply("ghost", "e9", lambda c: None, now=1.0).change is None
    store.apply("ghost", "e9", start(), now=2.0)
    assert len(store.unsent("ghost")) == 1


def test_the_outbox_keeps_each_calls_order(store: SQLiteStore) -> None:
    store.apply("a", "ea", start((Command("answer", {"i": 1}), Command("speak", {"i": 2}))), 1.0)
    store.apply("b", "eb", start((Command("answer", {"i": 3}),)), 2.0)
    assert store.pending_calls() == ["a", "b"]
    items = store.unsent("a")
    assert [item.body["i"] for item in items] == [1, 2]
    store.mark_sent([items[0].id])
    assert [item.body["i"] for item in store.unsent("a")] == [2]
    store.mark_sent([items[1].id])
    assert store.unsent("a") == []
    assert store.pending_calls() == ["b"]


def test_a_step_that_raises_rolls_everything_back(store: SQLiteStore) -> None:
    store.apply("c1", "e1", start(), now=1.0)

    def boom(call: StoredCall | None) -> CallChange | None:
        raise RuntimeError("interpreter bug")

    with pytest.raises(RuntimeError):
        store.apply("c1", "e2", boom, now=2.0)
    assert store.apply("c1", "e2", bump, now=3.0).change is not None


def test_abandon_stops_the_run_and_drops_unsent_commands(store: SQLiteStore) -> None:
    store.apply("c1", "e1", start((Command("answer", {}), Command("speak", {}))), 1.0)
    assert store.abandon("c1", "telnyx 90018", now=2.0) == 2
    assert store.unsent("c1") == []
    seen: list[StoredCall | None] = []
    store.apply("c1", None, lambda c: seen.append(c) or None, now=3.0)
    assert seen[0] is not None and seen[0].status == "failed"


def test_cleanup_forgets_finished_and_idle_calls_only(store: SQLiteStore) -> None:
    def finish(call: StoredCall | None) -> CallChange | None:
        assert call is not None
        return CallChange(call.digest, call.state, "ended", end_reason="hangup")

    store.apply("done", "e1", start(), now=100.0)
    store.apply("done", "e2", finish, now=100.0)
    store.apply("live", "e3", start(), now=100.0)
    store.apply("idle", "e4", start(), now=1.0)
    assert store.cleanup(finished_before=150.0, idle_before=50.0) == 2
    assert store.pending_calls() == ["live"]
    assert store.load_flow("d1") == SOURCE
    # The event ids were forgotten with the calls, so a late duplicate of e1 now finds no call.
    assert store.apply("done", "e1", lambda c: c and None, now=200.0).change is None


def test_two_processes_never_both_advance_a_call(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    first = SQLiteStore(path)
    first.apply("c1", "start", start(), now=0.0)
    stores = [first, SQLiteStore(path), SQLiteStore(path)]

    def worker(store: SQLiteStore, name: int) -> None:
        for i in range(40):
            store.apply("c1", f"{name}-{i}", bump, now=1.0)

    threads = [threading.Thread(target=worker, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen: list[StoredCall | None] = []
    first.apply("c1", None, lambda c: seen.append(c) or None, now=2.0)
    assert seen[0] is not None and seen[0].state == {"n": 120}
    bodies = [item.body.get("n") for item in first.unsent("c1")]
    assert bodies == [None, *range(1, 121)]
    for s in stores:
        s.close()


def test_health_check_fails_once_closed(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "x.db"))
    store.ping()
    store.close()
    with pytest.raises(StoreError):
        store.ping()


URLS = [
    ("other-scheme", "postgres://db/flows", "unsupported store URL"),
    ("no-scheme", "flowlang.db", "unsupported store URL"),
    ("no-path", "sqlite://", "no path"),
]


@pytest.mark.parametrize(("url", "message"), [u[1:] for u in URLS], ids=[u[0] for u in URLS])
def test_bad_store_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_a_missing_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/nowhere/x.db")


def test_relative_and_absolute_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///rel.db").close()
    assert (tmp_path / "rel.db").exists()
    open_store(f"sqlite:///{tmp_path}/abs.db").close()
    assert (tmp_path / "abs.db").exists()
    memory = open_store("sqlite:///:memory:")
    memory.ping()
    memory.close()


def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    import sqlite3

    SQLiteStore(str(tmp_path / "w.db")).close()
    with sqlite3.connect(tmp_path / "w.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_refusal_after_the_run_ended_keeps_its_end(store: SQLiteStore) -> None:
    def finish(call: StoredCall | None) -> CallChange | None:
        assert call is not None
        return CallChange(call.digest, call.state, "ended", end_reason="hangup", call_gone=True)

    store.apply("c1", "e1", start((Command("answer", {}), Command("speak", {}))), 1.0)
    store.apply("c1", "e2", finish, 2.0)
    assert store.unsent("c1") == []
    store.abandon("c1", "Telnyx refused speak", now=3.0)
    seen: list[StoredCall | None] = []
    store.apply("c1", None, lambda c: seen.append(c) or None, now=4.0)
    assert seen[0] is not None and seen[0].status == "ended"
