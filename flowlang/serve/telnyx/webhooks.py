"""Reading a Telnyx API v2 webhook envelope, leniently, into the interpreter's Event."""

from __future__ import annotations

import json
import re
from typing import Any

from attrs import frozen

from flowlang.runtime.events import Event
from flowlang.runtime.state import read_leg_state
from flowlang.serve.dial import read_dial_state

# The Call Control event types Telnyx documents (the OpenAPI subset's webhook events). Any other
# type is acknowledged and ignored without touching a call.
CALL_EVENT_TYPES = frozenset(
    {
        "call.initiated",
        "call.answered",
        "call.hangup",
        "call.bridged",
        "call.speak.started",
        "call.speak.ended",
        "call.playback.started",
        "call.playback.ended",
        "call.gather.ended",
        "call.dtmf.received",
        "call.ai_gather.ended",
        "call.ai_gather.partial_results",
        "call.ai_gather.message_history_updated",
        "call.conversation.ended",
        "call.recording.saved",
        "call.recording.error",
        "call.enqueued",
        "call.dequeued",
        "call.machine.detection.ended",
        "call.machine.greeting.ended",
    }
)


# Deeper JSON is refused: Telnyx's envelopes are a few levels deep, and a body nested thousands
# deep would exhaust the parser's recursion.
MAX_DEPTH = 64

# Payload fields the interpreter reads, with the JSON type Telnyx sends them as. A field of
# another type is dropped from the event (and reported), so the run sees it as absent.
FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "status": str,
    "digits": str,
    "digit": str,
    "client_state": str,
    "direction": str,
    "from": str,
    "to": str,
    "result": dict,
    "partial_results": dict,
    "message_history": list,
}

# Answering-machine detection reports its `result` as text (`human`, `beep_detected`, ...).
MACHINE_EVENTS = frozenset({"call.machine.detection.ended", "call.machine.greeting.ended"})
MACHINE_FIELD_TYPES = {**FIELD_TYPES, "result": str}

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _depth(body: bytes) -> int:
    """How deep the brackets of a JSON text nest (strings skipped)."""
    deepest = depth = 0
    for token in _TOKENS.finditer(body):
        first = token.group()[:1]
        if first in (b"{", b"["):
            depth += 1
            deepest = max(deepest, depth)
        elif first in (b"}", b"]"):
            depth -= 1
    return deepest


class MalformedWebhook(ValueError):
    """The body is not a Telnyx API v2 webhook; the message says what is wrong."""


@frozen
class Webhook:
    """One delivered webhook: the `event` for the interpreter and the call facts around it.

    `call_control_id` is None for events that belong to no call; `direction`, `caller` (`from`)
    and `called` (`to`) are read from the payload when present (they matter on `call.initiated`);
    `occurred_at` is the envelope's time of the event, as sent (the clock `now` and `open` read).
    An event of the new leg a `transfer` rang (its `client_state` names the call that
    transferred) belongs to that original call: `call_control_id` is the original's and `leg`
    is True.
    """

    event: Event
    call_control_id: str | None
    direction: str | None = None
    caller: str | None = None
    called: str | None = None
    # Payload fields dropped for having the wrong JSON type (see FIELD_TYPES).
    ignored_fields: tuple[str, ...] = ()
    occurred_at: str | None = None
    leg: bool = False
    # (dial id, inputs) when the event is of a call the server placed and has not yet sent a
    # command on (its client_state is still the dial's).
    dial: tuple[str, dict[str, str]] | None = None

    @property
    def is_incoming_call(self) -> bool:
        """True for the `call.initiated` of a call someone placed to us."""
        return self.event.type == "call.initiated" and self.direction == "incoming"


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def parse_webhook(body: bytes) -> Webhook:
    """The webhook in `body`; MalformedWebhook when it is not JSON or not an API v2 envelope.

    Real payloads carry more fields than documented, and some documented ones go missing: only
    `data.event_type` is required; everything else is read when it is there.
    """
    # Counting brackets is cheap; measuring the nesting only when there are many keeps the
    # common envelope fast.
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and _depth(body) > MAX_DEPTH:
        raise MalformedWebhook(f"body is nested more than {MAX_DEPTH} levels deep")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedWebhook(f"body is not JSON: {exc}") from None
    except RecursionError:
        raise MalformedWebhook("body is nested too deep") from None
    if not isinstance(document, dict):
        raise MalformedWebhook("body is not a JSON object")
    data = document.get("data")
    if not isinstance(data, dict):
        if "event_type" in document:
            raise MalformedWebhook(
                "an API v1 webhook (no `data`): set the Call Control application to API v2"
            )
        raise MalformedWebhook("no `data` object: not a Telnyx API v2 webhook")
    event_type = data.get("event_type")
    if event_type is None or event_type == "":
        raise MalformedWebhook("`data.event_type` is missing")
    if not isinstance(event_type, str):
        raise MalformedWebhook("`data.event_type` is not text")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        payload = {}
    types = MACHINE_FIELD_TYPES if event_type in MACHINE_EVENTS else FIELD_TYPES
    ignored = tuple(
        name
        for name, kind in types.items()
        if payload.get(name) is not None and not isinstance(payload[name], kind)
    )
    if ignored:
        payload = {k: v for k, v in payload.items() if k not in ignored}
    own = _text(payload.get("call_control_id"))
    leg = read_leg_state(payload.get("client_state"))
    original = leg[0] if leg is not None and leg[0] != own else None
    return Webhook(
        event=Event(type=event_type, payload=payload, id=_text(data.get("id"))),
        call_control_id=original or own,
        leg=original is not None,
        dial=read_dial_state(payload.get("client_state")),
        direction=_text(payload.get("direction")),
        caller=_text(payload.get("from")),
        called=_text(payload.get("to")),
        ignored_fields=ignored,
        occurred_at=_text(data.get("occurred_at")),
    )
