"""Webhook signature verification: real Ed25519 signatures, every way one can be wrong."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from flowlang.serve.telnyx.signature import (
    PublicKeyError,
    SignatureError,
    Verifier,
    load_public_key,
)
from tests.server.signing import public_key_b64, sign

KEY = SigningKey.generate()
NOW = 1_800_000_000
VERIFIER = Verifier(load_public_key(public_key_b64(KEY)))
BODY = b'{"data":{"event_type":"call.initiated","id":"e1","payload":{}}}'


def check(headers: dict[str, str], body: bytes = BODY, now: float = NOW) -> None:
    VERIFIER.verify(
        headers.get("telnyx-timestamp"), headers.get("telnyx-signature-ed25519"), body, now
    )


def test_a_telnyx_signature_verifies() -> None:
    check(sign(KEY, BODY, NOW))


@given(body=st.binary(max_size=2000), skew=st.integers(-300, 300))
@settings(max_examples=100, deadline=None)
def test_any_body_signed_within_the_tolerance_verifies(body: bytes, skew: int) -> None:
    check(sign(KEY, body, NOW + skew), body)


@given(body=st.binary(min_size=1, max_size=500), flip=st.integers(0, 10_000))
@settings(max_examples=100, deadline=None)
def test_any_changed_byte_is_refused(body: bytes, flip: int) -> None:
    headers = sign(KEY, body, NOW)
    index = flip % len(body)
    tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
    with pytest.raises(SignatureError):
        check(headers, tampered)


def _headers_without(name: str) -> dict[str, str]:
    headers = sign(KEY, BODY, NOW)
    del headers[name]
    return headers


BAD = [
    ("missing-signature", _headers_without("telnyx-signature-ed25519"), "missing"),
    ("missing-timestamp", _headers_without("telnyx-timestamp"), "missing"),
    ("stale", sign(KEY, BODY, NOW - 301), "too far"),
    ("future", sign(KEY, BODY, NOW + 301), "too far"),
    ("foreign-key", sign(SigningKey.generate(), BODY, NOW), "does not match"),
    (
        "timestamp-changed",
        {**sign(KEY, BODY, NOW), "telnyx-timestamp": str(NOW + 1)},
        "does not match",
    ),
    (
        "not-base64",
        {**sign(KEY, BODY, NOW), "telnyx-signature-ed25519": "%%%"},
        "not base64",
    ),
    (
        "short-signature",
        {**sign(KEY, BODY, NOW), "telnyx-signature-ed25519": base64.b64encode(b"x" * 10).decode()},
        "wrong length",
    ),
    ("timestamp-not-a-number", {**sign(KEY, BODY, NOW), "telnyx-timestamp": "soon"}, "number"),
    ("arabic-digits", {**sign(KEY, BODY, NOW), "telnyx-timestamp": "١٢"}, "number"),
]


@pytest.mark.parametrize(("headers", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_signature_is_refused_with_a_reason(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        check(headers)


KEYS = [
    ("not-base64", "not a key!", "not valid base64"),
    ("too-short", base64.b64encode(b"x" * 16).decode(), "16 bytes"),
    ("empty", "", "0 bytes"),
]


@pytest.mark.parametrize(("text", "message"), [k[1:] for k in KEYS], ids=[k[0] for k in KEYS])
def test_a_bad_public_key_is_explained(text: str, message: str) -> None:
    with pytest.raises(PublicKeyError, match=message):
        load_public_key(text)
