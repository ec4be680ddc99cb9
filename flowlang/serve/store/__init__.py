"""Durable state of the calls a server runs: the Store protocol and how to open one by URL."""

from __future__ import annotations

from flowlang.serve.store.base import Applied, CallChange, OutboxItem, Store, StoredCall, StoreError
from flowlang.serve.store.url import open_store

__all__ = [
    "Applied",
    "CallChange",
    "OutboxItem",
    "Store",
    "StoreError",
    "StoredCall",
    "open_store",
]
