"""Opening a store from its URL (`sqlite:///PATH`)."""

from __future__ import annotations

from flowlang.serve.store.base import Store, StoreError

DEFAULT_URL = "sqlite:///flowlang.db"


def store_path(url: str) -> str:
    """The SQLite file a store URL names; StoreError when the URL is not `sqlite:///PATH`."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme != "sqlite":
        raise StoreError(
            f"unsupported store URL {url!r}: use sqlite:///PATH (for example {DEFAULT_URL})"
        )
    if not rest.startswith("/") or rest == "/":
        raise StoreError(f"store URL {url!r} has no path: write sqlite:///PATH")
    return rest[1:]


def open_store(url: str = DEFAULT_URL) -> Store:
    """The store at `url`: `sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite:///:memory:`."""
    path = store_path(url)
    from flowlang.serve.store.sqlite import SQLiteStore

    return SQLiteStore(path)
