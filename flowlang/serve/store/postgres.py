"""The PostgreSQL store, for many workers on one database: psycopg 3 and its connection pool."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import select
import time
from collections.abc import AsyncIterator, Collection
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

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

# CREATE INDEX IF NOT EXISTS locks its table (SHARE) even when the index is there, so a worker
# starting beside busy ones takes those locks in the order an apply writes the tables (history,
# then outbox): in the other order the two wait for each other, a deadlock.
SCHEMA = """
CREATE TABLE IF NOT EXISTS flows (
    digest TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    call_control_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL REFERENCES flows (digest),
    state TEXT NOT NULL,
    status TEXT NOT NULL,
    end_reason TEXT,
    updated DOUBLE PRECISION NOT NULL
);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS expires DOUBLE PRECISION;
CREATE INDEX IF NOT EXISTS calls_expiring ON calls (expires) WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
    call_control_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    seen DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (call_control_id, event_id)
);
CREATE TABLE IF NOT EXISTS outbox (
    id BIGSERIAL PRIMARY KEY,
    call_control_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    body TEXT NOT NULL,
    sent SMALLINT NOT NULL DEFAULT 0,
    created DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before DOUBLE PRECISION NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed DOUBLE PRECISION,
    lease_until DOUBLE PRECISION,
    doubt DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS history (
    id BIGSERIAL PRIMARY KEY,
    call_control_id TEXT NOT NULL,
    applied DOUBLE PRECISION NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_call ON history (call_control_id, id);
CREATE INDEX IF NOT EXISTS outbox_by_call ON outbox (call_control_id, sent, id);
CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (id) WHERE sent = 0;
CREATE TABLE IF NOT EXISTS health (
    worker TEXT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS flowlang_schema (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL
);
"""


# Workers starting together create the schema one at a time (CREATE ... IF NOT EXISTS is not
# safe against itself): the key is any number of our own.
_SCHEMA_LOCK = 7_215_514_466_611_500_001
# The schema's own version, recorded in the database once it has been run there.
_SCHEMA_VERSION = hashlib.sha256(SCHEMA.encode()).hexdigest()[:16]


# psycopg_pool tries again to open a connection it could not open, with pauses that double (1 s,
# 2 s, 4 s, ...) for 5 minutes: after a minute's outage its next try could come half a minute
# after PostgreSQL is back, and every webhook and /healthz would be refused until then. Here each
# series of tries gives up after a second, and `_try_again` starts the next one at once while the
# pool is short of connections: about one try a second, however long the outage.
_RECONNECT_TIMEOUT = 1.0


async def _try_again(pool: AsyncConnectionPool[Any]) -> None:
    """psycopg_pool's `reconnect_failed`: it gave up opening a connection. Have it open one
    now when it holds fewer than it keeps open, or someone waits for one."""
    stats = pool.get_stats()
    if not pool.closed and (stats["pool_size"] < stats["pool_min"] or stats["requests_waiting"]):
        await pool.check()


# libpq waits for a server that does not answer (a network cut, a firewall dropping packets) as
# long as the operating system does, minutes, and the pool's tries to connect again stall that
# long; it notices a connection the network cut while idle only after two hours; and a statement
# sent as the network went down is sent again for a quarter of an hour (keepalives do not probe
# while data waits to be acknowledged). Each is used unless the store's URL (or
# PGCONNECT_TIMEOUT) sets its own.
_CONNECTION_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,  # milliseconds
}


def _connection_options(url: str) -> dict[str, Any]:
    """Those of _CONNECTION_DEFAULTS that `url` leaves to us."""
    try:
        named = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return dict(_CONNECTION_DEFAULTS)  # connecting says what is wrong with the URL
    if "PGCONNECT_TIMEOUT" in os.environ:
        named.setdefault("connect_timeout", os.environ["PGCONNECT_TIMEOUT"])
    return {key: value for key, value in _CONNECTION_DEFAULTS.items() if key not in named}


class _RoutineGiveUp(logging.Filter):
    """Drops psycopg_pool's warning that it gave up opening a connection: with
    _RECONNECT_TIMEOUT it is the routine end of a second's tries, the next starting at once. Each
    failed try is still logged, with PostgreSQL's reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("reconnection attempt in pool")


logging.getLogger("psycopg.pool").addFilter(_RoutineGiveUp())


def _ended_by_server(conn: psycopg.AsyncConnection[Any]) -> bool:
    """True when an idle connection is closed or has something to read: PostgreSQL going away
    (a restart, a failover) tells each connection so and closes it, and sends a connection
    nothing else between statements. One look at its socket, no round trip to the server."""
    if conn.closed:
        return True
    fd = conn.pgconn.socket
    if hasattr(select, "poll"):
        poll = select.poll()
        poll.register(fd, select.POLLIN)
        return bool(poll.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


def _first_line(exc: BaseException) -> str:
    """An error's message on one line (libpq's continue with a hint and the statement)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def _schema_is(conn: psycopg.AsyncConnection[Any], version: str) -> bool:
    cur = await conn.execute("SELECT to_regclass('flowlang_schema') IS NOT NULL")
    row = await cur.fetchone()
    if not (row and row[0]):
        return False
    cur = await conn.execute("SELECT version FROM flowlang_schema WHERE id = 1")
    row = await cur.fetchone()
    return row is not None and row[0] == version

_UNSENT, _SENT, _DROPPED = 0, 1, 2

# The health check's write: each worker's own row.
_HEALTH = (
    "INSERT INTO health (worker, at) VALUES (%s, now())"
    " ON CONFLICT (worker) DO UPDATE SET at = excluded.at"
)
# How long a failed health check waits for a connection of its own to say why (libpq's least).
_WHY_TIMEOUT = 2

# Every transaction that changes one call takes this lock first, so two workers never change
# one call at once, even a call that has no row yet. It also makes the transaction durable
# (synchronous_commit on): a webhook is answered only once its change is on disk.
_LOCK_CALL = (
    "SELECT set_config('synchronous_commit', 'on', true),"
    " pg_advisory_xact_lock(hashtextextended(%s, 0))"
)


# The store's tables, as told from another program's (PostgreSQL has one table more).
_KEYS = {**STORE_KEYS, "flowlang_schema": "version"}


async def _refusal(
    conn: psycopg.AsyncConnection[Any], where: str, read_only: bool
) -> str | None:
    """Why the database's schema (the first on its search path) is not to be used as a store,
    None when it holds one (or is empty and to be made one; with `read_only`, when it can be
    read as it is). Only reads."""
    cur = await conn.execute(
        "SELECT table_name::text, array_agg(column_name::text) FROM information_schema.columns"
        " WHERE table_schema = current_schema() GROUP BY table_name ORDER BY table_name"
    )
    tables = {name: set(columns) for name, columns in await cur.fetchall()}
    if not tables:
        if not read_only:
            return None
        return (
            f"there are no calls in {where}: no `flowlang serve` has kept calls there (give the"
            " --store URL `flowlang serve` uses)"
        )
    ours = {t for t, columns in tables.items() if t in _KEYS and _KEYS[t] in columns}
    if {"flows", "calls"} <= ours or len(ours) == len(tables):
        return unreadable(tables, where) if read_only else None
    names = sorted(tables)
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return (
        f"{where} is not a flowlang store (it has other tables: {shown}): give flowlang an"
        " empty database of its own, or the --store URL `flowlang serve` uses"
    )


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    # The outbox's bookkeeping (claims, leases, rows done) need not wait for the disk: after a
    # crash of the database it is as if a worker had died, and a command is at worst sent again
    # with its command_id. Changes to calls ask for durability themselves (see _LOCK_CALL).
    await conn.execute("SET synchronous_commit TO off")


async def _configure_reader(conn: psycopg.AsyncConnection[Any]) -> None:
    # A command that only reads: PostgreSQL itself refuses any write on its connections.
    await conn.execute("SET default_transaction_read_only TO on")


class PostgresStore:
    """A Store in a PostgreSQL database that any number of workers share.

    psycopg 3 with psycopg_pool: an asynchronous driver (the event loop never waits on the
    database) that is maintained with PostgreSQL's own release cycle, speaks the server's
    binary protocol through libpq, and has a pool that checks and replaces broken connections.

    Each call's changes are serialised by a transaction-level advisory lock on its id; the
    outbox is claimed with `FOR UPDATE SKIP LOCKED`, so two workers never claim one row.
    """

    def __init__(
        self,
        url: str,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 5.0,
        read_only: bool = False,
    ):
        """On first use, the tables are made in an empty database, and those an older flowlang
        made are updated; StoreError for a database with another program's tables.

        `read_only`, for a command that only reads (`flowlang calls`, with a role that may only
        read if need be): nothing is written, the tables are read as they are; a database
        without them, or one too old to read, is refused (StoreError)."""
        self.url = url
        self._read_only = read_only
        self._options = _connection_options(url)
        self._pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True, **self._options},
            configure=_configure_reader if read_only else _configure,
            reconnect_timeout=_RECONNECT_TIMEOUT,
            reconnect_failed=_try_again,
            open=False,
        )
        self._opened = False
        self._opening = asyncio.Lock()

    def _where(self) -> str:
        # The URL without its password, for messages.
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.url)
        except psycopg.Error:
            return "the PostgreSQL store"
        return f"PostgreSQL at {info.get('host', 'localhost')}:{info.get('port', 5432)}"

    def _reason(self, exc: BaseException, **options: Any) -> str:
        """Why a connection (made with `options` over the store's own) could not be made, in a
        line; a wait for an answer that never came says how long it lasted."""
        if not isinstance(exc, psycopg.errors.ConnectionTimeout):
            return _first_line(exc)
        info = psycopg.conninfo.conninfo_to_dict(self.url, **{**self._options, **options})
        seconds = psycopg.conninfo.timeout_from_conninfo(info)
        why = f"no answer within {seconds} seconds (is the host up, and is no firewall dropping"
        if options:
            return why + " the packets?)"
        return why + " the packets? ?connect_timeout=SECONDS in the --store URL waits longer)"

    def _database(self) -> str:
        # The database named, for messages: `the database calls (PostgreSQL at db:5432)`.
        info = psycopg.conninfo.conninfo_to_dict(self.url)
        return f"the database {info.get('dbname') or info.get('user') or '?'} ({self._where()})"

    async def _open(self) -> None:
        async with self._opening:
            if self._opened:
                return
            try:
                # One connection first: an unreachable server fails at once, with libpq's
                # reason, rather than after the pool's patient retries.
                first = await psycopg.AsyncConnection.connect(self.url, **self._options)
                await first.close()
                await self._pool.open(wait=True, timeout=10.0)
            except (PoolTimeout, psycopg.Error) as exc:
                raise StoreError(f"cannot reach {self._where()}: {self._reason(exc)}") from None
            if self._read_only:
                await self._check_readable()
                self._opened = True
                return
            try:
                await self._make_schema()
            except (PoolTimeout, psycopg.Error) as exc:
                # Not opened: the next use tries again (the tables may be made by then).
                raise StoreError(
                    f"cannot make flowlang's tables in {self._where()}: {_first_line(exc)}"
                    " (start it once as a role that may create tables in the database, such as"
                    " its owner)"
                ) from None
            self._opened = True

    async def _check_readable(self) -> None:
        try:
            async with self._pool.connection() as conn:
                refusal = await _refusal(conn, self._database(), read_only=True)
        except (PoolTimeout, psycopg.Error) as exc:
            raise StoreError(f"cannot read {self._where()}: {_first_line(exc)}") from None
        if refusal is not None:
            raise StoreError(refusal)

    async def _make_schema(self) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            # DDL locks its tables even when there is nothing to do (ALTER TABLE ... IF NOT
            # EXISTS takes an exclusive lock first): a worker restarting beside busy ones
            # would stall them, or deadlock with them. So the schema is only run when the
            # database's recorded version of it is not this one.
            if await _schema_is(conn, _SCHEMA_VERSION):
                return
            # Before anything is written: a database that holds no store, or another program's.
            refusal = await _refusal(conn, self._database(), read_only=False)
            if refusal is not None:
                raise StoreError(refusal)
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            if await _schema_is(conn, _SCHEMA_VERSION):
                return
            await conn.execute(SCHEMA)
            await conn.execute(
                "INSERT INTO flowlang_schema (id, version) VALUES (1, %s)"
                " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                (_SCHEMA_VERSION,),
            )

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if not self._opened:
            await self._open()
        try:
            async with self._pooled() as conn:
                yield conn
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"{self._where()}: {exc}") from exc

    @contextlib.asynccontextmanager
    async def _pooled(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection from the pool that PostgreSQL has not ended. Those it ended as it went
        away are closed (the pool opens another in place of each) rather than each failing a
        webhook once PostgreSQL is back."""
        deadline = time.monotonic() + self._pool.timeout
        while True:
            async with self._pool.connection(timeout=deadline - time.monotonic()) as conn:
                if not _ended_by_server(conn):
                    yield conn
                    return
                await conn.close()

    async def ping(self) -> None:
        if not self._opened:
            await self._open()  # its errors say what failed: reaching it, or making the tables
        try:
            async with self._connection() as conn:
                await conn.execute(_HEALTH, (str(id(self)),))
        except StoreError:
            raise StoreError(f"store cannot be written: {await self._why_not()}") from None

    async def _why_not(self) -> str:
        """Why the database cannot be written now, asked of the server itself on a connection
        of its own. The pool's error may be older news: a pooled connection broken when the
        server went away ("terminating connection due to administrator command"), or a wait for
        a connection that says nothing of why there is none."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.url, **{**self._options, "connect_timeout": _WHY_TIMEOUT}, autocommit=True
            )
        except psycopg.Error as exc:
            return (
                f"cannot reach {self._where()}: {self._reason(exc, connect_timeout=_WHY_TIMEOUT)}"
            )
        try:
            await conn.execute(_HEALTH, (str(id(self)),))
        except psycopg.Error as exc:
            return f"{self._where()}: {_first_line(exc)}"
        finally:
            await conn.close()
        return (
            f"{self._where()} can be written again, but none of this server's connections to it"
            " is ready yet (they are being opened again after it was down, or all are busy)"
        )

    async def load_flow(self, digest: str) -> tuple[str, str] | None:
        async with self._connection() as conn:
            cur = await conn.execute("SELECT name, text FROM flows WHERE digest = %s", (digest,))
            row = await cur.fetchone()
        return (row[0], row[1]) if row else None

    async def apply(
        self,
        call_control_id: str,
        event_id: str | None,
        step: Step,
        now: float,
        claim: tuple[str, float] | None = None,
    ) -> Applied:
        async with self._connection() as conn, conn.transaction():
            await conn.execute(_LOCK_CALL, (call_control_id,))
            cur = await conn.execute(
                "SELECT EXISTS (SELECT 1 FROM events WHERE call_control_id = %(c)s"
                " AND event_id = %(e)s), c.digest, c.state, c.status, c.updated"
                " FROM (SELECT 1) AS one LEFT JOIN calls c ON c.call_control_id = %(c)s",
                {"c": call_control_id, "e": event_id},
            )
            row = await cur.fetchone()
            assert row is not None
            seen, digest, state, status, updated = row
            if seen:
                return Applied(duplicate=True)
            call = (
                StoredCall(call_control_id, digest, json.loads(state), status, updated)
                if digest is not None
                else None
            )
            change = step(call)
            if change is None:
                return Applied(duplicate=False)
            if change.noted:
                await conn.execute(
                    "INSERT INTO history (call_control_id, applied, data) VALUES (%s, %s, %s)",
                    (call_control_id, now, dumps(change.history)),
                )
                return Applied(duplicate=False, change=change)
            if event_id is not None:
                await conn.execute(
                    "INSERT INTO events (call_control_id, event_id, seen) VALUES (%s, %s, %s)",
                    (call_control_id, event_id, now),
                )
            if change.source is not None:
                await conn.execute(
                    "INSERT INTO flows (digest, name, text, created) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (digest) DO UPDATE SET created = excluded.created",
                    (change.digest, change.source[0], change.source[1], now),
                )
            # The event's history record rides on the call's own statement: no round trip more.
            await conn.execute(
                "WITH kept AS (INSERT INTO history (call_control_id, applied, data)"
                " SELECT %s, %s, %s::text WHERE %s)"
                " INSERT INTO calls"
                " (call_control_id, digest, state, status, end_reason, updated, expires)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (call_control_id) DO UPDATE SET"
                " state = excluded.state, status = excluded.status,"
                " end_reason = excluded.end_reason, updated = excluded.updated,"
                " expires = excluded.expires",
                (
                    call_control_id,
                    now,
                    dumps(change.history) if change.history is not None else "",
                    change.history is not None,
                    call_control_id,
                    change.digest,
                    dumps(change.state),
                    change.status,
                    change.end_reason,
                    now,
                    change.expires,
                ),
            )
            if change.call_gone:
                await conn.execute(
                    "UPDATE outbox SET sent = %s WHERE call_control_id = %s AND sent = 0"
                    " AND kind = %s",
                    (_DROPPED, call_control_id, CALL_COMMAND),
                )
            if not change.commands:
                return Applied(duplicate=False, change=change)
            rows = list(map(outgoing, change.commands))
            owner: tuple[str | None, float | None, float | None] = (None, None, None)
            if claim is not None:
                cur = await conn.execute(
                    "SELECT 1 FROM outbox WHERE call_control_id = %s AND sent = 0"
                    " AND (claimed_by IS DISTINCT FROM %s OR lease_until < %s) LIMIT 1",
                    (call_control_id, claim[0], now),
                )
                if await cur.fetchone() is None:
                    owner = (claim[0], now, now + claim[1])
            claimed = []
            for o in rows:
                cur = await conn.execute(
                    "INSERT INTO outbox (call_control_id, kind, action, body, created,"
                    " claimed_by, claimed, lease_until) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                    " RETURNING id",
                    (call_control_id, o.kind, o.action, dumps(o.body), now, *owner),
                )
                row = await cur.fetchone()
                assert row is not None
                claimed.append(OutboxItem(row[0], call_control_id, o.kind, o.action, o.body, now))
            if owner[0] is None:
                return Applied(duplicate=False, change=change)
            return Applied(duplicate=False, change=change, claimed=tuple(claimed))

    async def claim(
        self,
        worker: str,
        now: float,
        lease: float,
        call_control_id: str | None = None,
        limit: int = 100,
    ) -> list[OutboxItem]:
        one = " AND o.call_control_id = %(call)s" if call_control_id is not None else ""
        params = {"now": now, "call": call_control_id, "limit": limit}
        async with self._connection() as conn, conn.transaction():
            # The first unfinished row of each call, due and not held by a live lease; rows
            # another worker is claiming right now are skipped, not waited for.
            cur = await conn.execute(
                "SELECT o.call_control_id FROM outbox o"
                " WHERE o.sent = 0 AND o.not_before <= %(now)s"
                " AND (o.lease_until IS NULL OR o.lease_until < %(now)s)"
                " AND NOT EXISTS (SELECT 1 FROM outbox p"
                " WHERE p.call_control_id = o.call_control_id AND p.sent = 0 AND p.id < o.id)"
                f"{one} ORDER BY o.id LIMIT %(limit)s FOR UPDATE OF o SKIP LOCKED",
                params,
            )
            heads = [r[0] for r in await cur.fetchall()]
            if not heads:
                return []
            # A call being changed right now (its lock held by an apply) is left for later:
            # taking the call's lock in the same order as apply does rules out deadlocks.
            cur = await conn.execute(
                "SELECT c FROM unnest(%s::text[]) AS c"
                " WHERE pg_try_advisory_xact_lock(hashtextextended(c, 0))",
                (heads,),
            )
            calls = [r[0] for r in await cur.fetchall()]
            if not calls:
                return []
            cur = await conn.execute(
                "UPDATE outbox SET"
                " doubt = CASE WHEN lease_until IS NOT NULL THEN coalesce(doubt, claimed)"
                " ELSE doubt END,"
                " claimed_by = %s, claimed = %s, lease_until = %s"
                f" WHERE sent = 0 AND call_control_id = ANY(%s) RETURNING {ITEM_COLUMNS}",
                (worker, now, now + lease, calls),
            )
            rows = await cur.fetchall()
        return in_claim_order(calls, list(map(item_from_row, rows)))

    async def done(self, item_ids: Collection[int]) -> None:
        if not item_ids:
            return
        async with self._connection() as conn:
            await conn.execute(
                "UPDATE outbox SET sent = %s, lease_until = NULL WHERE id = ANY(%s) AND sent = 0",
                (_SENT, sorted(item_ids)),
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
        async with self._connection() as conn:
            await conn.execute(
                "UPDATE outbox SET claimed_by = NULL, lease_until = NULL, not_before = %s,"
                " attempts = attempts + %s, doubt = coalesce(doubt, %s)"
                " WHERE id = ANY(%s) AND sent = 0",
                (not_before, int(tried), doubt, sorted(item_ids)),
            )

    async def renew(
        self, worker: str, item_ids: Collection[int], now: float, lease: float
    ) -> set[int]:
        if not item_ids:
            return set()
        async with self._connection() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET lease_until = %s WHERE id = ANY(%s) AND sent = 0"
                " AND claimed_by = %s AND lease_until >= %s RETURNING id",
                (now + lease, list(item_ids), worker, now),
            )
            return {r[0] for r in await cur.fetchall()}

    async def release_worker(self, worker: str) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "UPDATE outbox SET claimed_by = NULL, lease_until = NULL"
                " WHERE claimed_by = %s AND sent = 0",
                (worker,),
            )

    async def unsent(self, call_control_id: str) -> list[OutboxItem]:
        async with self._connection() as conn:
            cur = await conn.execute(
                f"SELECT {ITEM_COLUMNS} FROM outbox"
                f" WHERE call_control_id = %s AND sent = 0 ORDER BY id",
                (call_control_id,),
            )
            return [item_from_row(r) for r in await cur.fetchall()]

    async def abandon(
        self, call_control_id: str, reason: str, now: float, last: Outgoing | None = None
    ) -> int:
        async with self._connection() as conn, conn.transaction():
            await conn.execute(_LOCK_CALL, (call_control_id,))
            await conn.execute(
                "UPDATE calls SET status = 'failed', end_reason = %s, updated = %s"
                " WHERE call_control_id = %s AND status = 'active'",
                (reason, now, call_control_id),
            )
            cur = await conn.execute(
                "UPDATE outbox SET sent = %s WHERE call_control_id = %s AND sent = 0",
                (_DROPPED, call_control_id),
            )
            dropped = cur.rowcount
            if last is not None:
                await conn.execute(
                    "INSERT INTO outbox (call_control_id, kind, action, body, created)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (call_control_id, last.kind, last.action, dumps(last.body), now),
                )
        return int(dropped)

    async def cleanup(self, finished_before: float, idle_before: float) -> int:
        async with self._connection() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM calls WHERE (status != 'active' AND updated < %s) OR updated < %s"
                " RETURNING call_control_id",
                (finished_before, idle_before),
            )
            gone = [r[0] for r in await cur.fetchall()]
            if gone:
                # History before outbox, the order of an apply and of SCHEMA (see there).
                for table in ("history", "outbox", "events"):
                    await conn.execute(
                        f"DELETE FROM {table} WHERE call_control_id = ANY(%s)", (gone,)
                    )
            # Rows of calls the store never had (the hangup of an unknown call).
            await conn.execute(
                "DELETE FROM outbox o WHERE created < %s"
                " AND NOT EXISTS (SELECT 1 FROM calls c"
                " WHERE c.call_control_id = o.call_control_id)",
                (finished_before,),
            )
            await conn.execute(
                "DELETE FROM flows f WHERE created < %s"
                " AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.digest = f.digest)",
                (finished_before,),
            )
        return len(gone)

    async def recent_calls(self, query: CallQuery) -> list[CallSummary]:
        async with self._connection() as conn:
            cur = await conn.execute(RECENT_CALLS, recent_params(query, no_limit=None))
            rows = await cur.fetchall()
        return recent_from_rows(rows, query)

    async def history(self, call_control_id: str) -> CallHistory | None:
        async with self._connection() as conn:
            cur = await conn.execute(
                "SELECT c.digest, c.status, c.end_reason, c.updated, coalesce(f.name, '')"
                " FROM calls c LEFT JOIN flows f ON f.digest = c.digest"
                " WHERE c.call_control_id = %s",
                (call_control_id,),
            )
            call = await cur.fetchone()
            cur = await conn.execute(
                "SELECT applied, data FROM history WHERE call_control_id = %s ORDER BY id",
                (call_control_id,),
            )
            entries = await cur.fetchall()
            if call is None or not entries:
                return None
            cur = await conn.execute(
                "SELECT kind, action, body, sent, attempts, created FROM outbox"
                " WHERE call_control_id = %s ORDER BY id",
                (call_control_id,),
            )
            deliveries = await cur.fetchall()
        return history_from_rows(call_control_id, call, entries, deliveries)

    async def expired(self, now: float, limit: int = 100) -> list[tuple[str, float]]:
        async with self._connection() as conn:
            cur = await conn.execute(
                "SELECT call_control_id, expires FROM calls WHERE expires IS NOT NULL"
                " AND expires <= %s AND status = 'active' ORDER BY expires LIMIT %s",
                (now, limit),
            )
            rows = await cur.fetchall()
        return [(str(c), float(e)) for c, e in rows]

    async def counts(self) -> Counts:
        async with self._connection() as conn:
            cur = await conn.execute(
                "SELECT (SELECT count(*) FROM calls WHERE status = 'active'),"
                " (SELECT count(*) FROM outbox WHERE sent = 0)"
            )
            row = await cur.fetchone()
        assert row is not None
        return Counts(int(row[0]), int(row[1]))

    async def size_bytes(self) -> int:
        """Bytes the store's tables and indexes occupy, for benchmarks and operators."""
        async with self._connection() as conn:
            cur = await conn.execute(
                "SELECT sum(pg_total_relation_size(t))::bigint"
                " FROM unnest(ARRAY['flows', 'calls', 'events', 'outbox', 'history']) AS t"
            )
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def close(self) -> None:
        await self._pool.close()
