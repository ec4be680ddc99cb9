"""Durable state of the calls a server runs: the Store protocol and how to open one by URL."""

from __future__ import annotations

from flowlang.serve.store.base import (
    CALL_COMMAND,
    Applied,
    CallChange,
    Counts,
    OutboxItem,
    Outgoing,
    Store,
    StoredCall,
    StoreError,
)
from flowlang.serve.store.url import open_store

__all__ = [
    "CALL_COMMAND",
    "Applied",
    "CallChange",
    "Counts",
    "OutboxItem",
    "Outgoing",
    "Store",
    "StoreError",
    "StoredCall",
    "open_store",
]
