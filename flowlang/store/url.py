"""Opening a store from its URL (`sqlite:///PATH`)."""

from __future__ import annotations

from flowlang.store.base import Store, StoreError

DEFAULT_URL = "sqlite:///flowlang.db"


def open_store(url: str = DEFAULT_URL) -> Store:
    """The store at `url`: `sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite:///:memory:`."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme != "sqlite":
        raise StoreError(
            f"unsupported store URL {url!r}: use sqlite:///PATH (for example {DEFAULT_URL})"
        )
    if not rest.startswith("/") or rest == "/":
        raise StoreError(f"store URL {url!r} has no path: write sqlite:///PATH")
    from flowlang.store.sqlite import SQLiteStore

    return SQLiteStore(rest[1:])
