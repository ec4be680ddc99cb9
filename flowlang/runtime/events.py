"""What the interpreter is told: the call it runs on, and the events that happen on it."""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

# The event a driver hands back with a fetch's answer. Its payload: `client_state` (the
# request's), `status` ("ok" with `result`, the JSON object, or "error" with `reason`).
FETCH_ENDED = "flowlang.fetch.ended"
# The event a driver hands back when Telnyx's answer to an AI command (`ai_assistant_start`,
# `gather_using_ai`) names the conversation it started. Its payload: `client_state` (the
# command's) and `conversation_id`; `call.conversation.ended` names the same id.
CONVERSATION_STARTED = "flowlang.conversation.started"
# The commands whose answer names the conversation they start (NOTES.md).
CONVERSATION_COMMANDS = ("ai_assistant_start", "gather_using_ai")
# The event a driver hands back when a wait the outcome bounded (`Outcome.expires`) has lasted
# that long. Its payload: `call_control_id`.
WAIT_EXPIRED = "flowlang.wait.expired"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# The fields of a saved recording as the flow reads it (`record into message`: `message.url`),
# with what each holds; the interpreter's `_recording` fills them.
RECORDING_FIELDS = {
    "url": "the recording's mp3",
    "duration": "the recording's length in whole seconds",
}


@frozen
class LocalTime:
    """A moment on the flow's clock (in its `timezone`), as plain values: the driver reads the
    event's time and converts it (flowlang.clock), so the interpreter never reads a clock."""

    date: str  # "2026-11-23"
    hour: int
    minute: int
    weekday: int  # Monday 0 .. Sunday 6

    # The fields of the built-in variable `now` (the keys of `variable()`).
    FIELDS = ("date", "time", "hour", "minute", "weekday")

    def variable(self) -> dict[str, str | int]:
        """The built-in variable `now`: `now.date`, `now.time`, `now.hour`, `now.minute`,
        `now.weekday`."""
        return {
            "date": self.date,
            "time": f"{self.hour:02d}:{self.minute:02d}",
            "hour": self.hour,
            "minute": self.minute,
            "weekday": WEEKDAYS[self.weekday],
        }


@frozen
class CallInfo:
    """The call a run belongs to: its `call_control_id` and numbers (`caller`, `called`), and
    the language it starts in (`language`, for a flow that speaks several; None: its first),
    and `at`, when the call started (None: not known)."""

    call_control_id: str
    caller: str = "+15550001111"
    called: str = "+15550002222"
    language: str | None = None
    at: LocalTime | None = None


@frozen
class Event:
    """One webhook's content: `type` is the event type (`call.gather.ended`), `payload` the
    event's `data.payload` as received (with `client_state`, still base64), `id` the event's
    `data.id` (used by drivers to drop duplicates; the interpreter does not need it), `at` the
    moment it happened (Telnyx's `occurred_at`) on the flow's clock, None when not known."""

    type: str
    payload: dict[str, Any] = field(factory=dict)
    id: str | None = None
    at: LocalTime | None = None
