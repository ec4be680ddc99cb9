"""Signing webhooks exactly as Telnyx does, for tests: Ed25519 over `timestamp|body`."""

from __future__ import annotations

import base64
import time

from nacl.signing import SigningKey


def public_key_b64(key: SigningKey) -> str:
    """The base64 public key, as the Telnyx portal shows it (TELNYX_PUBLIC_KEY)."""
    return base64.b64encode(bytes(key.verify_key)).decode("ascii")


def sign(key: SigningKey, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Telnyx sends with `body`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign(stamp.encode("ascii") + b"|" + body).signature
    return {
        "telnyx-timestamp": stamp,
        "telnyx-signature-ed25519": base64.b64encode(signature).decode("ascii"),
    }
