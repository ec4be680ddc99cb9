"""The SQLite store: one file in WAL mode, one IMMEDIATE transaction per webhook."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from flowlang.runtime.commands import MESSAGE
from flowlang.serve.store.base import Applied, OutboxItem, Step, StoredCall, StoreError

# Few indexes on purpose: every index is one more page written to the WAL on every webhook.
# Event ids are kept per call (a prefix of the key), so they go when their call goes; the
# periodic clean-up scans `calls`, which only holds calls in progress and recently finished.
SCHEMA = """
CREATE TABLE IF NOT EXISTS flows (
    digest TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    call_control_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL REFERENCES flows (digest),
    state TEXT NOT NULL,
    status TEXT NOT NULL,
    end_reason TEXT,
    updated REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    call_control_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    seen REAL NOT NULL,
    PRIMARY KEY (call_control_id, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    call_control_id TEXT NOT NULL,
    action TEXT NOT NULL,
    body TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_by_call ON outbox (call_control_id, sent, id);
"""

# outbox.sent: 0 waiting, 1 delivered to Telnyx, 2 dropped because the call's run was stopped.
_UNSENT, _SENT, _DROPPED = 0, 1, 2


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class SQLiteStore:
    """A Store in one SQLite file, safe to share between threads and between processes.

    Every apply is a `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock before
    reading: two workers handling events of one call run one after the other, and the second
    sees the first's state. WAL lets readers (the health check, the sender) run alongside.
    `synchronous=NORMAL` survives a crash of the process (kill -9) without an fsync per webhook;
    a power cut may lose the last moments.
    """

    def __init__(self, path: str, busy_timeout: float = 5.0) -> None:
        self.path = path
        if path != ":memory:":
            parent = Path(path).parent
            if not parent.is_dir():
                raise StoreError(f"cannot open the store {path}: folder {parent} does not exist")
        try:
            self._db = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Checkpoints (which fsync) every ~32 MB of WAL rather than SQLite's default 4 MB:
            # fewer pauses on a busy server; the WAL file is cut back after each one.
            self._db.execute("PRAGMA wal_autocheckpoint=8000")
            self._db.execute("PRAGMA journal_size_limit=67108864")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # One connection, used by one thread at a time; SQLite's own errors (a locked or closed
        # database, a full disk) become StoreError, which the server reports without a trace.
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc

    def ping(self) -> None:
        try:
            with self._locked():
                self._db.execute("SELECT count(*) FROM flows").fetchone()
        except StoreError as exc:
            raise StoreError(f"store does not answer: {exc}") from None

    def load_flow(self, digest: str) -> tuple[str, str] | None:
        with self._locked():
            row = self._db.execute(
                "SELECT name, text FROM flows WHERE digest = ?", (digest,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def apply(self, call_control_id: str, event_id: str | None, step: Step, now: float) -> Applied:
        # The hot path: the lock and the error translation are spelled out rather than taken
        # from `_locked`, whose generator costs as much as one of these statements.
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    applied = self._apply(call_control_id, event_id, step, now)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc
            return applied

    def _apply(self, call_control_id: str, event_id: str | None, step: Step, now: float) -> Applied:
        db = self._db
        # One query answers both questions: was this event seen, and where is the call?
        seen, digest, state, status, updated = db.execute(
            "SELECT (SELECT 1 FROM events WHERE call_control_id = ?1 AND event_id = ?2),"
            " c.digest, c.state, c.status, c.updated"
            " FROM (SELECT 1) LEFT JOIN calls c ON c.call_control_id = ?1",
            (call_control_id, event_id),
        ).fetchone()
        if seen:
            return Applied(duplicate=True)
        call = (
            StoredCall(call_control_id, digest, json.loads(state), status, updated)
            if digest is not None
            else None
        )
        change = step(call)
        if change is None:
            # Nothing changed, so nothing is written: a repeat of this event finds the same state
            # and changes nothing either.
            return Applied(duplicate=False)
        if event_id is not None:
            db.execute(
                "INSERT INTO events (call_control_id, event_id, seen) VALUES (?, ?, ?)",
                (call_control_id, event_id, now),
            )
        if change.source is not None:
            db.execute(
                "INSERT INTO flows (digest, name, text, created) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (digest) DO UPDATE SET created = excluded.created",
                (change.digest, change.source[0], change.source[1], now),
            )
        db.execute(
            "INSERT INTO calls (call_control_id, digest, state, status, end_reason, updated)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (call_control_id) DO UPDATE SET"
            " state = excluded.state, status = excluded.status,"
            " end_reason = excluded.end_reason, updated = excluded.updated",
            (
                call_control_id,
                change.digest,
                _dumps(change.state),
                change.status,
                change.end_reason,
                now,
            ),
        )
        if change.call_gone:
            # Text messages do not need the call: they are still sent after it is over.
            db.execute(
                "UPDATE outbox SET sent = ? WHERE call_control_id = ? AND sent = 0"
                " AND action != ?",
                (_DROPPED, call_control_id, MESSAGE),
            )
        db.executemany(
            "INSERT INTO outbox (call_control_id, action, body) VALUES (?, ?, ?)",
            [(call_control_id, c.action, _dumps(c.body)) for c in change.commands],
        )
        return Applied(duplicate=False, change=change)

    def pending_calls(self) -> list[str]:
        with self._locked():
            rows = self._db.execute(
                "SELECT call_control_id FROM outbox WHERE sent = 0"
                " GROUP BY call_control_id ORDER BY min(id)"
            ).fetchall()
        return [r[0] for r in rows]

    def unsent(self, call_control_id: str) -> list[OutboxItem]:
        with self._locked():
            rows = self._db.execute(
                "SELECT id, action, body FROM outbox WHERE call_control_id = ? AND sent = 0"
                " ORDER BY id",
                (call_control_id,),
            ).fetchall()
        return [OutboxItem(r[0], call_control_id, r[1], json.loads(r[2])) for r in rows]

    def mark_sent(self, item_ids: Collection[int]) -> None:
        if not item_ids:
            return
        with self._locked():
            self._db.executemany(
                "UPDATE outbox SET sent = ? WHERE id = ?", [(_SENT, i) for i in item_ids]
            )

    def abandon(self, call_control_id: str, reason: str, now: float) -> int:
        with self._locked():
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "UPDATE calls SET status = 'failed', end_reason = ?, updated = ?"
                    " WHERE call_control_id = ? AND status = 'active'",
                    (reason, now, call_control_id),
                )
                dropped = db.execute(
                    "UPDATE outbox SET sent = ? WHERE call_control_id = ? AND sent = 0",
                    (_DROPPED, call_control_id),
                ).rowcount
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return int(dropped)

    def cleanup(self, finished_before: float, idle_before: float) -> int:
        with self._locked():
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                gone = [
                    r[0]
                    for r in db.execute(
                        "SELECT call_control_id FROM calls WHERE"
                        " (status != 'active' AND updated < ?) OR updated < ?",
                        (finished_before, idle_before),
                    )
                ]
                for table in ("outbox", "events", "calls"):
                    db.executemany(
                        f"DELETE FROM {table} WHERE call_control_id = ?", [(c,) for c in gone]
                    )
                db.execute(
                    "DELETE FROM flows WHERE digest NOT IN (SELECT digest FROM calls)"
                    " AND created < ?",
                    (finished_before,),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return len(gone)

    def size_bytes(self) -> int:
        """Bytes the database occupies (pages in use), for benchmarks and operators."""
        with self._locked():
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
            size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def close(self) -> None:
        with self._locked():
            self._db.close()
