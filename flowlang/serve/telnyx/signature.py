"""Checking that a webhook was signed by Telnyx: Ed25519 over `timestamp|raw body`."""

from __future__ import annotations

import base64
import binascii

from attrs import frozen
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
# The official Telnyx SDKs refuse webhooks whose timestamp is further than this from now.
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The webhook is not provably from Telnyx; the message says why (never the signature)."""


class PublicKeyError(ValueError):
    """The configured public key is not a base64 32-byte Ed25519 key."""


def load_public_key(text: str) -> VerifyKey:
    """The Ed25519 key from its base64 text (as the Telnyx portal shows it)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PublicKeyError("TELNYX_PUBLIC_KEY is not valid base64") from None
    if len(raw) != 32:
        raise PublicKeyError(
            f"TELNYX_PUBLIC_KEY decodes to {len(raw)} bytes; an Ed25519 public key has 32"
        )
    return VerifyKey(raw)


@frozen
class Verifier:
    """Verifies webhook signatures with Telnyx's public key, against an injected `now`."""

    key: VerifyKey
    tolerance: float = TOLERANCE_SECONDS

    def verify(self, timestamp: str | None, signature: str | None, body: bytes, now: float) -> None:
        """Return quietly when `signature` signs `timestamp + "|" + body`; else SignatureError."""
        if not timestamp or not signature:
            raise SignatureError("missing signature headers")
        stamp = timestamp.strip()
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            raise SignatureError("timestamp is not a number of seconds")
        if abs(now - int(stamp)) > self.tolerance:
            raise SignatureError("timestamp too far from now")
        try:
            raw_signature = base64.b64decode(signature.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("signature is not base64") from None
        if len(raw_signature) != 64:
            raise SignatureError("signature has the wrong length")
        try:
            self.key.verify(stamp.encode("ascii") + b"|" + body, raw_signature)
        except BadSignatureError:
            raise SignatureError("signature does not match") from None
