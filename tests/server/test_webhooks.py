"""Parsing Telnyx's API v2 webhook envelope: lenient about extras, clear about what is broken."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.serve.telnyx.webhooks import MalformedWebhook, parse_webhook


def envelope(event_type: str, payload: dict[str, object], event_id: str = "ev-1") -> bytes:
    return json.dumps(
        {
            "data": {
                "record_type": "event",
                "event_type": event_type,
                "id": event_id,
                "occurred_at": "2026-01-01T00:00:00Z",
                "payload": payload,
                "something_new": [1, 2],
            },
            "meta": {"attempt": 1, "delivered_to": "https://example.com/webhook"},
        }
    ).encode()


def test_an_incoming_call_is_read_with_its_numbers() -> None:
    hook = parse_webhook(
        envelope(
            "call.initiated",
            {
                "call_control_id": "v3:abc",
                "direction": "incoming",
                "from": "+15551230000",
                "to": "+15559870000",
                "state": "parked",
                "client_state": None,
            },
        )
    )
    assert hook.event.type == "call.initiated"
    assert hook.event.id == "ev-1"
    assert hook.call_control_id == "v3:abc"
    assert (hook.caller, hook.called) == ("+15551230000", "+15559870000")
    assert hook.is_incoming_call


def test_an_outgoing_call_does_not_start_a_run() -> None:
    hook = parse_webhook(
        envelope("call.initiated", {"call_control_id": "c", "direction": "outgoing"})
    )
    assert not hook.is_incoming_call


def test_the_payload_reaches_the_event_unchanged() -> None:
    payload = {"call_control_id": "c", "digits": "12", "status": "valid", "client_state": "eyJ9"}
    hook = parse_webhook(envelope("call.gather.ended", payload))
    assert hook.event.payload == payload


def test_missing_optional_parts_are_tolerated() -> None:
    hook = parse_webhook(b'{"data": {"event_type": "call.hangup"}}')
    assert hook.event.type == "call.hangup"
    assert hook.event.id is None
    assert hook.call_control_id is None
    assert hook.event.payload == {}


MALFORMED = [
    ("not-json", b"{nope", "not JSON"),
    ("not-utf8", b"\xff\xfe{", "not JSON"),
    ("array", b"[1, 2]", "not a JSON object"),
    ("no-data", b'{"meta": {}}', "no `data`"),
    ("api-v1", b'{"event_type": "call.initiated", "payload": {}}', "API v2"),
    ("no-event-type", b'{"data": {"id": "x"}}', "`data.event_type` is missing"),
    ("event-type-a-number", b'{"data": {"event_type": 5}}', "`data.event_type` is not text"),
]


@pytest.mark.parametrize(
    ("body", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_bodies_are_refused_with_a_reason(body: bytes, message: str) -> None:
    with pytest.raises(MalformedWebhook, match=message):
        parse_webhook(body)


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_body_parses_or_is_refused_cleanly(body: bytes) -> None:
    try:
        hook = parse_webhook(body)
    except MalformedWebhook:
        return
    assert hook.event.type
