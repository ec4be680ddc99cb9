"""The SQLite store: one file in WAL mode, one IMMEDIATE transaction per webhook, on a thread."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import sqlite3
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

from attrs import frozen

from flowlang.serve.history import (
    RECENT_CALLS,
    CallHistory,
    CallQuery,
    CallSummary,
    history_from_rows,
    recent_from_rows,
    recent_params,
)
from flowlang.serve.store.base import (
    CALL_COMMAND,
    ITEM_COLUMNS,
    STORE_KEYS,
    Applied,
    Counts,
    OutboxItem,
    Outgoing,
    Step,
    StoredCall,
    StoreError,
    dumps,
    in_claim_order,
    item_from_row,
    outgoing,
    unreadable,
)

T = TypeVar("T")

# Few indexes on purpose: every index is one more page written to the WAL on every webhook.
# Event ids are kept per call (a prefix of the key), so they go when their call goes; the
# periodic clean-up scans `calls`, which only holds calls in progress and recently finished.
# `outbox_waiting` is partial: it holds only rows not yet carried out, so claiming never scans
# the rows already sent.
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
CREATE TABLE IF NOT EXISTS health (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    call_control_id TEXT NOT NULL,
    applied REAL NOT NULL,
    data TEXT NOT NULL
);
"""

# Columns the outbox gained with leases; a store file from an earlier version gets them added.
OUTBOX_COLUMNS = {
    "kind": "TEXT NOT NULL DEFAULT 'call'",
    "created": "REAL NOT NULL DEFAULT 0",
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "not_before": "REAL NOT NULL DEFAULT 0",
    "claimed_by": "TEXT",
    "claimed": "REAL",
    "lease_until": "REAL",
    "doubt": "REAL",
}

# Columns the calls table gained since; a store file from an earlier version gets them added.
# `expires`: when the run's wait runs out (Store.expired), NULL for almost every call.
CALLS_COLUMNS = {"expires": "REAL"}

INDEXES = """
CREATE INDEX IF NOT EXISTS calls_expiring ON calls (expires) WHERE expires IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_by_call ON outbox (call_control_id, sent, id);
CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (id) WHERE sent = 0;
CREATE INDEX IF NOT EXISTS history_by_call ON history (call_control_id, id);
"""

# The history module writes its query with psycopg's %(name)s; SQLite spells them :name.
_RECENT_CALLS = re.sub(r"%\((\w+)\)s", r":\1", RECENT_CALLS)

# outbox.sent: 0 waiting, 1 carried out, 2 dropped because the call's run was stopped.
_UNSENT, _SENT, _DROPPED = 0, 1, 2

# A row of the call waiting that the claiming worker does not hold: the new rows must wait
# behind it. (Rows the worker holds are ahead of the new ones in its own queue for the call.)
_WAITING_ELSEWHERE = (
    "SELECT 1 FROM outbox WHERE call_control_id = ? AND sent = 0"
    " AND (claimed_by IS NOT ? OR lease_until < ?) LIMIT 1"
)

# The first unfinished row of each call, when it is due and no live lease holds it.
_HEADS = (
    "SELECT o.call_control_id FROM outbox o"
    " WHERE o.sent = 0 AND o.not_before <= :now"
    " AND (o.lease_until IS NULL OR o.lease_until < :now)"
    " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.call_control_id = o.call_control_id"
    " AND p.sent = 0 AND p.id < o.id)"
)


class SQLiteStore:
    """A Store in one SQLite file, safe to share between processes on one machine.

    Every apply is a `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock before
    reading: two workers handling events of one call run one after the other, and the second
    sees the first's state. WAL lets readers run alongside. `synchronous=NORMAL` survives a crash
    of the process (kill -9) without an fsync per webhook; a power cut may lose the last moments.

    The connection lives on one thread of its own, so the event loop never waits on the disk;
    each method hands its work to that thread.
    """

    def __init__(
        self,
        path: str,
        busy_timeout: float = 5.0,
        checkpoint_every: float = 0.5,
        read_only: bool = False,
    ) -> None:
        """Open the store in the SQLite file `path`, making its tables in a new or empty file and
        updating those an older flowlang made. StoreError for a file with other tables: it is
        another program's database.

        `read_only`, for a command that only reads (`flowlang calls`): nothing is written, the
        tables are read as they are; a file without them, or one too old to read, is refused
        (StoreError)."""
        self.path = path
        self._file: tuple[int, int] | None = None
        if path != ":memory:":
            parent = Path(path).parent
            if not parent.is_dir():
                raise StoreError(f"cannot open the store {path}: folder {parent} does not exist")
        try:
            self._db = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            # Before anything is written (even the journal mode): a file that is not a store.
            refusal = _refusal(self._db, path, read_only)
            if refusal is not None:
                self._db.close()
                raise StoreError(refusal)
            if read_only:
                self._db.execute("PRAGMA query_only=ON")
            else:
                self._prepare()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from None
        # Reading takes no write lock: the server writing the file goes on meanwhile.
        self._begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        self._checkpointer: _Checkpointer | None = None
        if path != ":memory:":
            self._file = _identity(path)
            if not read_only:
                self._checkpointer = _Checkpointer(path, checkpoint_every)
        self._closed = False
        # Work waiting for the store's thread. A thread of its own rather than an executor:
        # handing it work is one C-level queue put, and a busy server hands it work often.
        # Work is handed over once per turn of each event loop (the first piece of the turn
        # schedules the hand-over): the webhooks read in one turn wake the thread once, and go
        # into one transaction. On a busy server the thread then wakes for a batch rather than
        # for each webhook, and each wake-up costs more than a small transaction's work.
        self._jobs: queue.SimpleQueue[list[_Job]] = queue.SimpleQueue()
        self._pending: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        # Set by the thread as it ends (closed): later work is refused at once.
        self._lock = threading.Lock()
        self._ended = False
        self._thread = threading.Thread(target=self._serve, name="flowlang-sqlite", daemon=True)
        self._thread.start()

    def _prepare(self) -> None:
        """The file made ready for the server: write-ahead log, its tables made, and those of an
        older flowlang updated to the current layout."""
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # The WAL is copied back into the file by a thread of its own (_Checkpointer), so
        # webhooks never wait for a checkpoint (about 30 ms, every ~1,600 webhooks, when
        # this connection did it). This connection still checkpoints if the WAL reaches
        # ~32 MB: the file cannot grow without bound should that thread fall behind.
        self._db.execute("PRAGMA wal_autocheckpoint=8000")
        self._db.execute("PRAGMA journal_size_limit=67108864")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        for table, columns in (("outbox", OUTBOX_COLUMNS), ("calls", CALLS_COLUMNS)):
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, spec in columns.items():
                if name not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {spec}")
        self._db.executescript(INDEXES)

    @classmethod
    def check(cls, path: str) -> None:
        """Open the file at `path` (creating the schema) and close it again; StoreError when
        that fails. For a command line that wants to report a bad path before it starts."""
        store = cls(path)
        store._closed = True
        store._jobs.put([_Job(store._shut, None, None, last=True)])
        store._thread.join()

    async def _run(self, work: Callable[[], T]) -> T:
        """Run `work` on the store's thread, inside a transaction shared with whatever other
        work is waiting (see `_serve`); its result, or its error, once that transaction is
        committed."""
        if self._closed:
            raise StoreError(f"{self.path}: the store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._hand_over, loop)
        pending.append(_Job(work, loop, future))
        return await future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        jobs = self._pending.pop(loop, None)
        if not jobs:
            return
        with self._lock:
            if not self._ended:
                self._jobs.put(jobs)
                return
        self._hand_back(jobs, self._failed(jobs, "the store is closed"))

    def _serve(self) -> None:
        # Group commit: everything handed over while the last transaction ran goes into the
        # next one (a piece that fails rolls back only its own writes: see _batch). A busy
        # server pays one thread hop, one BEGIN and one COMMIT for many webhooks instead of one
        # each, and nobody is told of a write before it is committed.
        jobs = self._jobs
        while True:
            batch = jobs.get()
            with contextlib.suppress(queue.Empty):
                while not batch[-1].last:
                    batch.extend(jobs.get_nowait())
            last = batch.pop() if batch[-1].last else None
            if batch:
                self._hand_back(batch, self._batch(batch))
            if last is not None:
                # Closing: the connection goes, and work that raced the close is refused.
                self._hand_back([last], [self._outside(last)])
                refused: list[_Job] = []
                with self._lock, contextlib.suppress(queue.Empty):
                    self._ended = True
                    while True:
                        refused.extend(jobs.get_nowait())
                self._hand_back(refused, self._failed(refused, "the store is closed"))
                return

    def _outside(self, job: _Job) -> _Outcome:
        try:
            return (True, job.work())
        except Exception as exc:  # noqa: BLE001 - handed to the job's waiter
            return (False, self._error(exc))

    @staticmethod
    def _hand_back(jobs: list[_Job], outcomes: list[_Outcome]) -> None:
        """Each outcome to its waiter, on the waiter's event loop (from any thread)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, _Outcome]]] = {}
        for job, outcome in zip(jobs, outcomes, strict=True):
            if job.loop is not None:
                by_loop.setdefault(job.loop, []).append((job, outcome))
        for loop, settled in by_loop.items():
            # A loop that is closed has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, settled)

    def _batch(self, jobs: list[_Job]) -> list[_Outcome]:
        if self._file is not None and _identity(self.path) != self._file:
            return self._failed(
                jobs,
                f"the store file {self.path} was deleted or replaced while the server ran;"
                " calls in progress are in the old file: put it back, or restart the server",
            )
        if len(jobs) > 1:
            together = self._together(jobs)
            if together is not None:
                return together
        db = self._db
        several = len(jobs) > 1
        outcomes: list[_Outcome] = []
        try:
            db.execute(self._begin)
            for job in jobs:
                if several:
                    db.execute("SAVEPOINT job")
                try:
                    value = _kept(job.work())
                except Exception as exc:  # noqa: BLE001 - handed to the job's waiter
                    if not db.in_transaction:
                        # SQLite gave up the whole transaction (a full disk, an I/O error).
                        return self._failed(jobs, str(exc))
                    db.execute("ROLLBACK TO job" if several else "ROLLBACK")
                    if several:
                        db.execute("RELEASE job")
                    outcomes.append((False, self._error(exc)))
                    continue
                if several:
                    db.execute("RELEASE job")
                outcomes.append((True, value))
            if db.in_transaction:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            return self._failed(jobs, str(exc))
        return outcomes

    def _together(self, jobs: list[_Job]) -> list[_Outcome] | None:
        # The common case first: every piece of work succeeds, so none needs a savepoint of
        # its own. Each statement lets go of the GIL, and on a busy server each time costs a
        # hand-over to the event loop's thread and back, so two fewer statements per webhook
        # count. When a piece fails, everything is rolled back and the batch runs again with
        # savepoints (work only reads and writes the store, so running it again is safe).
        db = self._db
        outcomes: list[_Outcome] = []
        try:
            db.execute(self._begin)
            for job in jobs:
                outcomes.append((True, _kept(job.work())))
            db.execute("COMMIT")
        except Exception:  # noqa: BLE001 - the batch runs again, piece by piece
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            return None
        return outcomes

    def _error(self, exc: Exception) -> Exception:
        # SQLite's own errors (a locked or closed database, a full disk) become StoreError,
        # which the server reports without a trace; others (a step's own) go back as they are.
        if isinstance(exc, sqlite3.Error):
            return StoreError(f"{self.path}: {exc}")
        return exc

    def _failed(self, jobs: list[_Job], reason: str) -> list[_Outcome]:
        return [(False, StoreError(f"{self.path}: {reason}")) for _ in jobs]

    async def ping(self) -> None:
        def write() -> None:
            self._db.execute("INSERT OR REPLACE INTO health (id, at) VALUES (1, julianday())")

        try:
            await self._run(write)
        except StoreError as exc:
            raise StoreError(f"store cannot be written: {exc}") from None

    async def load_flow(self, digest: str) -> tuple[str, str] | None:
        def read() -> tuple[str, str] | None:
            row = self._db.execute(
                "SELECT name, text FROM flows WHERE digest = ?", (digest,)
            ).fetchone()
            return (row[0], row[1]) if row else None

        return await self._run(read)

    async def apply(
        self,
        call_control_id: str,
        event_id: str | None,
        step: Step,
        now: float,
        claim: tuple[str, float] | None = None,
    ) -> Applied:
        return await self._run(lambda: self._apply(call_control_id, event_id, step, now, claim))

    def _apply(
        self,
        call_control_id: str,
        event_id: str | None,
        step: Step,
        now: float,
        claim: tuple[str, float] | None,
    ) -> Applied:
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
        if change.noted:
            db.execute(
                "INSERT INTO history (call_control_id, applied, data) VALUES (?, ?, ?)",
                (call_control_id, now, dumps(change.history)),
            )
            return Applied(duplicate=False, change=change)
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
            "INSERT INTO calls"
            " (call_control_id, digest, state, status, end_reason, updated, expires)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (call_control_id) DO UPDATE SET"
            " state = excluded.state, status = excluded.status,"
            " end_reason = excluded.end_reason, updated = excluded.updated,"
            " expires = excluded.expires",
            (
                call_control_id,
                change.digest,
                dumps(change.state),
                change.status,
                change.end_reason,
                now,
                change.expires,
            ),
        )
        if change.history is not None:
            db.execute(
                "INSERT INTO history (call_control_id, applied, data) VALUES (?, ?, ?)",
                (call_control_id, now, dumps(change.history)),
            )
        if change.call_gone:
            db.execute(
                "UPDATE outbox SET sent = ? WHERE call_control_id = ? AND sent = 0 AND kind = ?",
                (_DROPPED, call_control_id, CALL_COMMAND),
            )
        if not change.commands:
            return Applied(duplicate=False, change=change)
        rows = list(map(outgoing, change.commands))
        if (
            claim is not None
            and not db.execute(_WAITING_ELSEWHERE, (call_control_id, *claim[:1], now)).fetchone()
        ):
            worker, lease = claim
            claimed = tuple(
                OutboxItem(
                    db.execute(
                        "INSERT INTO outbox (call_control_id, kind, action, body, created,"
                        " claimed_by, claimed, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                        " RETURNING id",
                        (
                            call_control_id,
                            o.kind,
                            o.action,
                            dumps(o.body),
                            now,
                            worker,
                            now,
                            now + lease,
                        ),
                    ).fetchone()[0],
                    call_control_id,
                    o.kind,
                    o.action,
                    o.body,
                    now,
                )
                for o in rows
            )
            return Applied(duplicate=False, change=change, claimed=claimed)
        db.executemany(
            "INSERT INTO outbox (call_control_id, kind, action, body, created)"
            " VALUES (?, ?, ?, ?, ?)",
            [(call_control_id, o.kind, o.action, dumps(o.body), now) for o in rows],
        )
        return Applied(duplicate=False, change=change)

    async def claim(
        self,
        worker: str,
        now: float,
        lease: float,
        call_control_id: str | None = None,
        limit: int = 100,
    ) -> list[OutboxItem]:
        def claim() -> list[OutboxItem]:
            db = self._db
            params = {"now": now, "call": call_control_id, "limit": limit}
            one = " AND o.call_control_id = :call" if call_control_id is not None else ""
            calls = [r[0] for r in db.execute(f"{_HEADS}{one} ORDER BY o.id LIMIT :limit", params)]
            if not calls:
                return []
            marks = ",".join("?" * len(calls))
            rows = db.execute(
                "UPDATE outbox SET"
                " doubt = CASE WHEN lease_until IS NOT NULL THEN coalesce(doubt, claimed)"
                " ELSE doubt END,"
                " claimed_by = ?, claimed = ?, lease_until = ?"
                f" WHERE sent = 0 AND call_control_id IN ({marks}) RETURNING {ITEM_COLUMNS}",
                (worker, now, now + lease, *calls),
            ).fetchall()
            return in_claim_order(calls, list(map(item_from_row, rows)))

        return await self._run(claim)

    async def done(self, item_ids: Collection[int]) -> None:
        if not item_ids:
            return
        await self._run(
            lambda: self._db.executemany(
                "UPDATE outbox SET sent = ?, lease_until = NULL WHERE id = ? AND sent = 0",
                [(_SENT, i) for i in item_ids],
            )
        )

    async def release(
        self,
        item_ids: Collection[int],
        not_before: float,
        doubt: float | None = None,
        tried: bool = True,
    ) -> None:
        if not item_ids:
            return
        await self._run(
            lambda: self._db.executemany(
                "UPDATE outbox SET claimed_by = NULL, lease_until = NULL, not_before = ?,"
                " attempts = attempts + ?, doubt = coalesce(doubt, ?) WHERE id = ? AND sent = 0",
                [(not_before, int(tried), doubt, i) for i in item_ids],
            )
        )

    async def renew(
        self, worker: str, item_ids: Collection[int], now: float, lease: float
    ) -> set[int]:
        if not item_ids:
            return set()
        marks = ",".join("?" * len(item_ids))

        def renew() -> set[int]:
            rows = self._db.execute(
                f"UPDATE outbox SET lease_until = ? WHERE id IN ({marks}) AND sent = 0"
                " AND claimed_by = ? AND lease_until >= ? RETURNING id",
                (now + lease, *item_ids, worker, now),
            ).fetchall()
            return {r[0] for r in rows}

        return await self._run(renew)

    async def release_worker(self, worker: str) -> None:
        await self._run(
            lambda: self._db.execute(
                "UPDATE outbox SET claimed_by = NULL, lease_until = NULL"
                " WHERE claimed_by = ? AND sent = 0",
                (worker,),
            )
        )

    async def unsent(self, call_control_id: str) -> list[OutboxItem]:
        def read() -> list[OutboxItem]:
            rows = self._db.execute(
                f"SELECT {ITEM_COLUMNS} FROM outbox"
                f" WHERE call_control_id = ? AND sent = 0 ORDER BY id",
                (call_control_id,),
            ).fetchall()
            return [item_from_row(r) for r in rows]

        return await self._run(read)

    async def abandon(
        self, call_control_id: str, reason: str, now: float, last: Outgoing | None = None
    ) -> int:
        def abandon() -> int:
            db = self._db
            db.execute(
                "UPDATE calls SET status = 'failed', end_reason = ?, updated = ?"
                " WHERE call_control_id = ? AND status = 'active'",
                (reason, now, call_control_id),
            )
            dropped = db.execute(
                "UPDATE outbox SET sent = ? WHERE call_control_id = ? AND sent = 0",
                (_DROPPED, call_control_id),
            ).rowcount
            if last is not None:
                db.execute(
                    "INSERT INTO outbox (call_control_id, kind, action, body, created)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (call_control_id, last.kind, last.action, dumps(last.body), now),
                )
            return int(dropped)

        return await self._run(abandon)

    async def cleanup(self, finished_before: float, idle_before: float) -> int:
        def cleanup() -> int:
            db = self._db
            gone = [
                r[0]
                for r in db.execute(
                    "SELECT call_control_id FROM calls WHERE"
                    " (status != 'active' AND updated < ?) OR updated < ?",
                    (finished_before, idle_before),
                )
            ]
            for table in ("outbox", "events", "history", "calls"):
                db.executemany(
                    f"DELETE FROM {table} WHERE call_control_id = ?", [(c,) for c in gone]
                )
            # Rows of calls the store never had (the hangup of an unknown call).
            db.execute(
                "DELETE FROM outbox WHERE created < ?"
                " AND call_control_id NOT IN (SELECT call_control_id FROM calls)",
                (finished_before,),
            )
            db.execute(
                "DELETE FROM flows WHERE digest NOT IN (SELECT digest FROM calls) AND created < ?",
                (finished_before,),
            )
            return len(gone)

        return await self._run(cleanup)

    async def recent_calls(self, query: CallQuery) -> list[CallSummary]:
        def read() -> list[CallSummary]:
            rows = self._db.execute(
                _RECENT_CALLS, recent_params(query, no_limit=-1)
            ).fetchall()
            return recent_from_rows(rows, query)

        return await self._run(read)

    async def history(self, call_control_id: str) -> CallHistory | None:
        def read() -> CallHistory | None:
            db = self._db
            call = db.execute(
                "SELECT c.digest, c.status, c.end_reason, c.updated, coalesce(f.name, '')"
                " FROM calls c LEFT JOIN flows f ON f.digest = c.digest"
                " WHERE c.call_control_id = ?",
                (call_control_id,),
            ).fetchone()
            entries = db.execute(
                "SELECT applied, data FROM history WHERE call_control_id = ? ORDER BY id",
                (call_control_id,),
            ).fetchall()
            if call is None or not entries:
                return None
            deliveries = db.execute(
                "SELECT kind, action, body, sent, attempts, created FROM outbox"
                " WHERE call_control_id = ? ORDER BY id",
                (call_control_id,),
            ).fetchall()
            return history_from_rows(call_control_id, call, entries, deliveries)

        return await self._run(read)

    async def expired(self, now: float, limit: int = 100) -> list[tuple[str, float]]:
        def read() -> list[tuple[str, float]]:
            rows = self._db.execute(
                "SELECT call_control_id, expires FROM calls WHERE expires IS NOT NULL"
                " AND expires <= ? AND status = 'active' ORDER BY expires LIMIT ?",
                (now, limit),
            ).fetchall()
            return [(str(c), float(e)) for c, e in rows]

        return await self._run(read)

    async def counts(self) -> Counts:
        def read() -> Counts:
            active, depth = self._db.execute(
                "SELECT (SELECT count(*) FROM calls WHERE status = 'active'),"
                " (SELECT count(*) FROM outbox WHERE sent = 0)"
            ).fetchone()
            return Counts(int(active), int(depth))

        return await self._run(read)

    async def size_bytes(self) -> int:
        """Bytes the database occupies (pages in use), for benchmarks and operators."""

        def read() -> int:
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
            size = self._db.execute("PRAGMA page_size").fetchone()[0]
            return int((pages - free) * size)

        return await self._run(read)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Work already queued is finished first: the thread takes its jobs in order.
        loop = asyncio.get_running_loop()
        closed: asyncio.Future[None] = loop.create_future()
        self._hand_over(loop)
        self._jobs.put([_Job(self._shut, loop, closed, last=True)])
        await closed

    def _shut(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._db.close()


class _Checkpointer:
    """Copies the WAL back into the store file every `every` seconds, from a thread and a
    connection of its own. A PASSIVE checkpoint never blocks the writer: it copies what is
    committed, while webhooks go on being written to the WAL."""

    def __init__(self, path: str, every: float) -> None:
        self._path = path
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="flowlang-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return  # the store's own connection checkpoints as SQLite does by default
        try:
            while not self._stop.wait(self._every):
                # A failure (a full disk) is the writer's to report; the next try may succeed.
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            db.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@frozen
class _Job:
    """Work for the store's thread, and where its outcome goes."""

    work: Callable[[], Any]
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[Any] | None
    # The close: run after the work before it, outside any transaction; the thread then ends.
    last: bool = False


# (True, result) or (False, the error to raise).
_Outcome = tuple[bool, Any]


def _kept(value: T) -> T | None:
    """What a piece of work returns, as its waiter may have it. A cursor must never leave the
    store's thread: freed on the event loop's, it resets its statement (the connection's cached
    one) while the store's thread may be running it, and SQLite fails with "API misuse"."""
    return None if isinstance(value, sqlite3.Cursor) else value


def _settle(settled: list[tuple[_Job, _Outcome]]) -> None:
    for job, (ok, value) in settled:
        if job.future is None or job.future.done():  # its waiter was cancelled
            continue
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)


def _refusal(db: sqlite3.Connection, path: str, read_only: bool) -> str | None:
    """Why the open SQLite file at `path` is not to be used as a store, None when it is one
    (or is empty and to be made one; with `read_only`, when it can be read as it is). Only
    reads.

    A store is a file with flowlang's `flows` and `calls`, or (a file from an earlier version)
    one with only tables of flowlang's; either way each with its key column."""
    tables = sorted(
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    )
    if not tables:
        if not read_only:
            return None
        return (
            f"there are no calls in {path}: no `flowlang serve` has kept calls there (give the"
            " --store URL `flowlang serve` uses)"
        )
    ours = [t for t in tables if t in STORE_KEYS and STORE_KEYS[t] in _columns(db, t)]
    if {"flows", "calls"} <= set(ours) or len(ours) == len(tables):
        return unreadable(tables, path) if read_only else None
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    return (
        f"{path} is not a flowlang store (it has other tables: {shown}): give a new file, or"
        " the --store URL `flowlang serve` uses"
    )


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)
