"""What the interpreter is told: the call it runs on, and the events that happen on it."""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

# The event a driver hands back with a fetch's answer. Its payload: `client_state` (the
# request's), `status` ("ok" with `result`, the JSON object, or "error" with `reason`).
FETCH_ENDED = "flowlang.fetch.ended"


@frozen
class CallInfo:
    """The call a run belongs to: its `call_control_id` and numbers (`caller`, `called`), and
    the language it starts in (`language`, for a flow that speaks several; None: its first)."""

    call_control_id: str
    caller: str = "+15550001111"
    called: str = "+15550002222"
    language: str | None = None


@frozen
class Event:
    """One webhook's content: `type` is the event type (`call.gather.ended`), `payload` the
    event's `data.payload` as received (with `client_state`, still base64), `id` the event's
    `data.id` (used by drivers to drop duplicates; the interpreter does not need it)."""

    type: str
    payload: dict[str, Any] = field(factory=dict)
    id: str | None = None
