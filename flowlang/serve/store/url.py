"""Opening a store from its URL (`sqlite:///PATH` or `postgresql://...`)."""

from __future__ import annotations

import re
from pathlib import Path

from flowlang.serve.store.base import Store, StoreError

DEFAULT_URL = "sqlite:///flowlang.db"
POSTGRES_SCHEMES = ("postgresql", "postgres")


def store_path(url: str) -> str:
    """The SQLite file a store URL names; StoreError when the URL is not `sqlite:///PATH`."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme != "sqlite":
        raise StoreError(
            f"unsupported store URL {url!r}: use sqlite:///PATH (for example {DEFAULT_URL})"
            " or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    if not rest.startswith("/") or rest == "/":
        raise StoreError(f"store URL {url!r} has no path: write sqlite:///PATH")
    return rest[1:]


def is_postgres(url: str) -> bool:
    """True for a `postgresql://` (or `postgres://`) URL."""
    scheme, sep, _ = url.partition("://")
    return bool(sep) and scheme in POSTGRES_SCHEMES


def without_password(url: str) -> str:
    """`url` as it may be shown or logged: a password in it (`user:PASSWORD@host`, or
    `password=...` among its parameters) replaced by `***`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if at and ":" in user:
        authority = user.partition(":")[0] + ":***@" + host
    tail = re.sub(r"(?i)((?:^|[?&])password=)[^&]*", r"\1***", tail)
    return f"{scheme}{sep}{authority}{slash}{tail}"


def check_url(url: str) -> None:
    """Raise StoreError, saying how to write it, when `url` names no store flowlang can open."""
    if is_postgres(url):
        # libpq splits `user:password@host` at the first `@` and ends it at the first `/`, so
        # a password holding either is read as part of the host (and shown in its errors).
        credentials = url.partition("://")[2].partition("?")[0].rpartition("@")[0]
        if "@" in credentials or "/" in credentials:
            raise StoreError(
                "the user name or password in the store URL has a character that must be"
                " written encoded: @ as %40 and / as %2F (or leave the password out of the URL"
                " and set PGPASSWORD)"
            )
        import psycopg

        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error as exc:
            message = str(exc).strip()
            raise StoreError(f"store URL is not a valid PostgreSQL URL: {message}") from None
        return
    store_path(url)


def open_store(url: str = DEFAULT_URL, read_only: bool = False) -> Store:
    """The store at `url`: `sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite:///:memory:`,
    or `postgresql://user:password@host:port/database` (connected on first use).

    `read_only`, for a command that only reads: the store is read as it is, never made,
    written or updated to the current layout; StoreError when there is none at `url`, or when
    an older flowlang wrote it in a layout that cannot be read."""
    check_url(url)
    if is_postgres(url):
        from flowlang.serve.store.postgres import PostgresStore

        return PostgresStore(url, read_only=read_only)
    from flowlang.serve.store.sqlite import SQLiteStore

    path = store_path(url)
    if read_only and path != ":memory:" and not Path(path).is_file():
        raise StoreError(f"there is no store at {path}: give the --store URL `flowlang serve` uses")
    return SQLiteStore(path, read_only=read_only)
