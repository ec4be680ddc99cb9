"""The Telnyx side of one call, offline: the webhooks sent for each command and caller action."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from attrs import define, field, frozen

from flowlang.runtime.commands import MESSAGE, Command
from flowlang.runtime.events import CONVERSATION_COMMANDS, CallInfo, Event, LocalTime

# Telnyx's documented defaults for a DTMF gather (spec/telnyx/NOTES.md).
DEFAULT_MINIMUM_DIGITS = 1
DEFAULT_MAXIMUM_DIGITS = 128
DEFAULT_TERMINATOR = "#"
DEFAULT_VALID_DIGITS = "0123456789#*"
KEYS = "0123456789*#"

GATHER_ACTIONS = ("gather", "gather_using_speak", "gather_using_audio")
# Commands Telnyx accepts on a call that is not answered yet; any other one is refused (90034).
BEFORE_ANSWER = ("answer", "hangup", "transfer", "reject")
# Events whose payload carries the call's `from` and `to` (per the OpenAPI subset's schemas).
WITH_NUMBERS = (
    "call.initiated",
    "call.answered",
    "call.hangup",
    "call.bridged",
    "call.gather.ended",
    "call.dtmf.received",
    "call.ai_gather.ended",
    "call.conversation.ended",
    "call.machine.detection.ended",
    "call.machine.greeting.ended",
)
# A recording's length when the simulator is not told one (`saved` rather than `saved=42`).
DEFAULT_RECORDING_SECS = 10
# The `hangup_cause` of a new leg that ends before answering, per simulated outcome.
LEG_CAUSES = {"no_answer": "timeout", "busy": "user_busy", "failed": "call_rejected"}
_ID_NAMESPACE = uuid.UUID("6f1c1f8e-4b57-4c1e-9a43-2d7f0c6c5a10")
# The phone's webhooks carry this clock: noon UTC on 2026-01-01, then 100 ms per event.
CLOCK_START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _timestamp(count: int) -> str:
    """The deterministic time of the `count`-th webhook of a call: 100 ms apart from noon."""
    if count < len(_STAMPS):
        return _STAMPS[count]
    millis = count * 100
    seconds, millis = divmod(millis, 1000)
    if seconds >= 12 * 3600:
        when = CLOCK_START + timedelta(milliseconds=100 * count)
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"2026-01-01T{12 + hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}000Z"


# Every call starts its clock at noon, so the first stamps are worked out once for all calls.
_STAMPS: list[str] = []
_STAMPS.extend(_timestamp(count) for count in range(4096))


# ---------------------------------------------------------------------------------------------
# What the caller does


@frozen
class Press:
    """The caller types `keys` (`"1234#"`) for the current key-press question."""

    keys: str


@frozen
class Silence:
    """The caller says and presses nothing until the question times out."""


@frozen
class HangUp:
    """The caller hangs up."""


@frozen
class AiResult:
    """The AI gather ends: `valid` with `result`, or invalid (`valid` False) with what it got."""

    result: dict[str, Any]
    valid: bool = True


@frozen
class KeyDuringAi:
    """The caller presses one `key` while an AI gather or an AI assistant is talking."""

    key: str


@frozen
class ConversationEnds:
    """The AI assistant's conversation ends."""


@frozen
class FetchAnswer:
    """The backend answers the flow's `fetch`: with the JSON object `result`, or, when it is
    None, with an error (a network error, a timeout, a bad status or body). Not something the
    caller does, but given in the same list, since offline nothing else stands in for the
    backend."""

    result: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None


@frozen
class Detected:
    """Answering-machine detection of an outbound call ends: `human`, `machine` or `not_sure`."""

    result: str


@frozen
class Greeting:
    """An answering machine's greeting ends, with a `beep` or without one (silence)."""

    beep: bool = True


@frozen
class Recorded:
    """The recording ends: `saved` (a `seconds` long mp3) or not (Telnyx reports an error)."""

    saved: bool = True
    seconds: int = DEFAULT_RECORDING_SECS


@frozen
class RecordingLost:
    """The recording awaited after the caller hung up never arrives: the server's wait for it
    runs out (`flowlang serve` gives up 10 minutes after the hangup)."""


@frozen
class LegResult:
    """The number a `transfer` rings: `answered`, `no_answer`, `busy` or `failed`."""

    result: str


@frozen
class Dequeued:
    """The queued call leaves its queue: `bridged` (an agent takes it) or `timeout`."""

    reason: str


CallerAction = (
    Press
    | Silence
    | HangUp
    | AiResult
    | KeyDuringAi
    | ConversationEnds
    | Recorded
    | RecordingLost
    | LegResult
    | Dequeued
    | FetchAnswer
    | Detected
    | Greeting
)


class PhoneError(Exception):
    """Something Telnyx would refuse (`code` is Telnyx's error code) or a caller action that
    does not fit what the call is doing now; the message says which, in plain words."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@frozen
class GatherEntry:
    """How Telnyx ends one DTMF gather try for the keys the caller typed: `status` (`valid` or
    `invalid`), the `digits` it reports (terminator stripped) and the keys it heard (`pressed`)."""

    status: str
    digits: str
    pressed: str


def gather_entry(body: dict[str, Any], keys: str) -> GatherEntry:
    """Telnyx's rules for an entry: the terminator ends it (and is not reported), a key outside
    `valid_digits` ends it as invalid, it stops at `maximum_digits`, and a short one is invalid."""
    low = int(body.get("minimum_digits", DEFAULT_MINIMUM_DIGITS))
    high = int(body.get("maximum_digits", DEFAULT_MAXIMUM_DIGITS))
    terminator = str(body.get("terminating_digit", DEFAULT_TERMINATOR))
    valid = str(body.get("valid_digits", DEFAULT_VALID_DIGITS))
    digits: list[str] = []
    pressed: list[str] = []
    for key in keys:
        pressed.append(key)
        if key == terminator:
            break
        digits.append(key)
        if key not in valid:
            return GatherEntry("invalid", "".join(digits), "".join(pressed))
        if len(digits) >= high:
            break
    status = "valid" if len(digits) >= low else "invalid"
    return GatherEntry(status, "".join(digits), "".join(pressed))


@frozen
class Waiting:
    """A command still waiting for the caller: `kind` is "gather", "ai_gather" or "assistant"."""

    kind: str
    command: Command


_KIND_OF_ACTION = {
    "gather": "gather",
    "gather_using_speak": "gather",
    "gather_using_audio": "gather",
    "gather_using_ai": "ai_gather",
    "ai_assistant_start": "assistant",
    "record_start": "record",
    "enqueue": "queue",
}


@define
class Phone:
    """One incoming call as Telnyx runs it, with no network: `send(command)` and
    `act(caller_action)` return the webhook envelopes (`{"data": ..., "meta": ...}`, shaped like
    Telnyx's) that they cause, in order. `client_state` is echoed as Telnyx does: every webhook
    carries the one most recently set by a command. Ids and timestamps are deterministic.

    `strict` makes `send` raise PhoneError for commands Telnyx refuses (a command before
    `answer`, any command after the call ended); otherwise they are recorded in `refusals`.
    `informational` also sends the webhooks that never resume a flow, as Telnyx does:
    `call.speak.started`, `call.playback.started`, and `call.dtmf.received` for each key typed
    at a key-press question. The simulator leaves them out, for speed; a fake Telnyx keeps them.
    """

    call: CallInfo
    strict: bool = False
    informational: bool = True
    connection_id: str = "flowlang-simulator"
    webhook_url: str = "http://localhost:8000/webhook"
    state: str = "parked"
    client_state: str | None = None
    waiting: Waiting | None = None
    refusals: list[str] = field(factory=list)
    _count: int = 0
    _leg: str = ""

    def __attrs_post_init__(self) -> None:
        self._leg = str(uuid.uuid5(_ID_NAMESPACE, self.call.call_control_id))

    # -- the webhooks -----------------------------------------------------------------------

    def envelope(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """A webhook envelope for `event_type` on this call, with `fields` added to its payload."""
        self._count += 1
        payload: dict[str, Any] = {
            "call_control_id": self.call.call_control_id,
            "connection_id": self.connection_id,
            "call_leg_id": self._leg,
            "call_session_id": self._leg,
        }
        if self.client_state is not None:
            payload["client_state"] = self.client_state
        if event_type in WITH_NUMBERS:
            payload["from"] = self.call.caller
            payload["to"] = self.call.called
        payload.update(fields)
        return {
            "data": {
                "record_type": "event",
                "event_type": event_type,
                # Unique per call and event, in UUID form, without hashing on every event.
                "id": f"{self._leg[:24]}{self._count:012x}",
                "occurred_at": _timestamp(self._count),
                "payload": payload,
            },
            "meta": {"attempt": 1, "delivered_to": self.webhook_url},
        }

    def incoming(self) -> dict[str, Any]:
        """The `call.initiated` webhook that starts the call."""
        return self.envelope(
            "call.initiated",
            direction="incoming",
            state="parked",
            start_time=_timestamp(0),
        )

    # -- commands ---------------------------------------------------------------------------

    def send(self, command: Command) -> list[dict[str, Any]]:
        """The webhooks Telnyx sends straight away for `command` (a gather waits for the caller)."""
        action, body = command.action, command.body
        if action == MESSAGE:
            # A text message goes to Telnyx's messaging API, not to the call: it is sent (and
            # answers nothing back to the call) whether or not the call is still up.
            return []
        refusal = self._refusal(action)
        if refusal is not None:
            if self.strict:
                raise PhoneError(refusal[1], refusal[0])
            self.refusals.append(refusal[1])
        if self.state == "ended":
            return []
        if "client_state" in body:
            self.client_state = body["client_state"]
        if action == "answer":
            self.state = "answered"
            return [self.envelope("call.answered", state="answered")]
        if action == "hangup":
            return self._end("callee")
        if action == "transfer":
            if "target_leg_client_state" in body:
                return self._start_waiting(Waiting("transfer", command))
            self.state = "ended"
            self.waiting = None
            return []
        if action == "record_stop":
            return []
        if action == "playback_start" and body.get("loop") == "infinity":
            # Hold music plays on until it is stopped: no `call.playback.ended` yet.
            looping = self.envelope("call.playback.started", overlay=False)
            return [looping] if self.informational else []
        if action == "playback_stop":
            return []
        if action == "speak":
            started = [self.envelope("call.speak.started")] if self.informational else []
            return [*started, self.envelope("call.speak.ended", status="completed")]
        if action == "playback_start":
            media = {k: body[k] for k in ("media_url", "media_name") if k in body}
            if "audio_url" in body:
                media["media_url"] = body["audio_url"]
            started = (
                [self.envelope("call.playback.started", overlay=False, **media)]
                if self.informational
                else []
            )
            ended = self.envelope("call.playback.ended", overlay=False, status="completed", **media)
            return [*started, ended]
        if action in _KIND_OF_ACTION:
            return self._start_waiting(Waiting(_KIND_OF_ACTION[action], command))
        if action == "gather_stop":
            return self._stop(("gather", "ai_gather"))
        if action == "ai_assistant_stop":
            waiting = self.waiting
            stopped = self._stop(("assistant",))
            if waiting is not None and waiting.kind == "assistant":
                # Telnyx reports the stopped conversation's end too, a moment later.
                return [*stopped, self._conversation_ended(waiting.command)]
            return stopped
        return []

    def answer_of(self, command: Command) -> dict[str, Any]:
        """Telnyx's `data` in its answer to `command`: an AI command names the conversation it
        starts (`conversation_id`, the id its `call.conversation.ended` carries)."""
        if command.action in CONVERSATION_COMMANDS:
            return {"result": "ok", "conversation_id": self._conversation(command)}
        return {"result": "ok"}

    def _conversation(self, command: Command) -> str:
        started = command.body.get("command_id") or command.body.get("client_state")
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self._leg}/conversation/{started}"))

    def _conversation_ended(self, command: Command) -> dict[str, Any]:
        return self.envelope(
            "call.conversation.ended",
            conversation_id=self._conversation(command),
            calling_party_type="pstn",
            duration_sec=60,
        )

    def _refusal(self, action: str) -> tuple[str, str] | None:
        if self.state == "ended":
            return ("90018", f"Telnyx refuses `{action}`: the call has already ended")
        if self.state == "parked" and action not in BEFORE_ANSWER:
            return ("90034", f"Telnyx refuses `{action}`: the call is not answered yet")
        return None

    def _start_waiting(self, waiting: Waiting) -> list[dict[str, Any]]:
        # A new question replaces one still open; Telnyx reports the old DTMF gather cancelled.
        events = self._stop(("gather",)) if self.waiting is not None else []
        self.waiting = waiting
        return events

    def _stop(self, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
        if self.waiting is None or self.waiting.kind not in kinds:
            return []
        kind, self.waiting = self.waiting.kind, None
        if kind == "gather":
            return [self.envelope("call.gather.ended", digits="", status="cancelled")]
        return []

    def _end(self, source: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        if self.waiting is not None and self.waiting.kind == "gather" and source == "caller":
            events.append(self.envelope("call.gather.ended", digits="", status="call_hangup"))
        if self.waiting is not None and self.waiting.kind == "queue" and source == "caller":
            events.append(self.envelope("call.dequeued", reason="hangup", queue=self._queue()))
        # A recording outlives the call: Telnyx still saves it (or reports it failed).
        if self.waiting is None or self.waiting.kind != "record":
            self.waiting = None
        self.state = "ended"
        events.append(
            self.envelope(
                "call.hangup",
                state="hangup",
                hangup_cause="normal_clearing",
                hangup_source=source,
                start_time=_timestamp(0),
            )
        )
        return events

    # -- the caller -------------------------------------------------------------------------

    def act(self, action: CallerAction) -> list[dict[str, Any]]:
        """The webhooks caused by what the caller does; PhoneError when it does not fit now."""
        waiting = self.waiting
        if self.state == "ended" and (waiting is None or waiting.kind != "record"):
            raise PhoneError("the call has already ended")
        if isinstance(action, HangUp):
            if self.state == "ended":
                raise PhoneError("the call has already ended")
            return self._end("caller")
        if waiting is None:
            raise PhoneError("the call is not waiting for the caller now")
        if waiting.kind in ("machine", "beep"):
            return self._machine(waiting.kind, action)
        if waiting.kind in ("record", "transfer", "queue"):
            return self._answer_wait(waiting, action)
        if waiting.kind == "gather":
            return self._answer_gather(waiting, action)
        if isinstance(action, KeyDuringAi):
            return [self.envelope("call.dtmf.received", digit=action.key)]
        if waiting.kind == "ai_gather" and isinstance(action, AiResult):
            self.waiting = None
            return [
                self.envelope(
                    "call.ai_gather.ended",
                    status="valid" if action.valid else "invalid",
                    result=action.result,
                    message_history=[],
                )
            ]
        if waiting.kind == "assistant" and isinstance(action, ConversationEnds):
            self.waiting = None
            return [self._conversation_ended(waiting.command)]
        raise PhoneError(f"{describe_action(action)} does not fit: {expected_inputs(waiting.kind)}")

    def expect(self, kind: str) -> None:
        """The flow waits for something no command asked for (answering-machine detection,
        which the call was placed with): `kind` "machine" or "beep"."""
        if self.waiting is None and self.state != "ended":
            self.waiting = Waiting(kind, Command(kind, {}))

    def _machine(self, kind: str, action: CallerAction) -> list[dict[str, Any]]:
        if kind == "machine" and isinstance(action, Detected):
            self.waiting = None
            return [self.envelope("call.machine.detection.ended", result=action.result)]
        if kind == "beep" and isinstance(action, Greeting):
            self.waiting = None
            result = "beep_detected" if action.beep else "ended"
            return [self.envelope("call.machine.greeting.ended", result=result)]
        raise PhoneError(f"{describe_action(action)} does not fit: {expected_inputs(kind)}")

    def _answer_wait(self, waiting: Waiting, action: CallerAction) -> list[dict[str, Any]]:
        """A recording, a ringing transfer or a queue: what ends it."""
        kind = waiting.kind
        if kind == "record" and isinstance(action, Recorded):
            self.waiting = None
            if not action.saved:
                return [self.envelope("call.recording.error", reason="Internal server error")]
            count = self._count + 1
            started = _timestamp(count)
            ended = _timestamp(count + action.seconds * 10)
            url = f"https://storage.example.com/recordings/{self._leg[:8]}-{count}.mp3"
            return [
                self.envelope(
                    "call.recording.saved",
                    channels="single",
                    recording_started_at=started,
                    recording_ended_at=ended,
                    recording_urls={"mp3": url},
                    public_recording_urls={"mp3": url},
                )
            ]
        if kind == "record" and isinstance(action, RecordingLost):
            if self.state != "ended":
                raise PhoneError(
                    "the recording can only go missing after the caller hung up (until then"
                    " Telnyx ends it and sends it): give hangup first"
                )
            self.waiting = None
            return []  # Telnyx sends nothing: the server's own wait for it runs out
        if kind == "record" and isinstance(action, (Press, KeyDuringAi)) and self.state != "ended":
            keys = action.keys if isinstance(action, Press) else action.key
            return [self.envelope("call.dtmf.received", digit=key) for key in keys]
        if kind == "transfer" and isinstance(action, LegResult):
            self.waiting = None
            return self._ring(waiting.command, action.result)
        if kind == "queue" and isinstance(action, Dequeued):
            self.waiting = None
            if action.reason == "bridged":
                self.state = "ended"
            return [
                self.envelope(
                    "call.dequeued",
                    queue=self._queue(waiting.command),
                    reason=action.reason,
                    wait_time_secs=60,
                )
            ]
        raise PhoneError(f"{describe_action(action)} does not fit: {expected_inputs(kind)}")

    def _queue(self, command: Command | None = None) -> str:
        command = command or (self.waiting.command if self.waiting is not None else None)
        name = command.body.get("queue_name") if command is not None else None
        return name if isinstance(name, str) else ""

    def _ring(self, command: Command, result: str) -> list[dict[str, Any]]:
        """The webhooks of the new leg a transfer rings: its own call id, its own client_state."""
        leg = Phone(
            CallInfo(f"{self.call.call_control_id}/leg", self.call.called, str(command.body["to"])),
            informational=self.informational,
            connection_id=self.connection_id,
            webhook_url=self.webhook_url,
            client_state=command.body.get("target_leg_client_state"),
        )
        leg._count = self._count
        events = [leg.envelope("call.initiated", direction="outgoing", state="bridging")]
        if result == "answered":
            events.append(leg.envelope("call.answered", state="answered"))
            self.state = "ended"
        else:
            events.append(
                leg.envelope(
                    "call.hangup",
                    state="hangup",
                    hangup_cause=LEG_CAUSES[result],
                    hangup_source="callee",
                )
            )
        self._count = leg._count
        return events

    def _answer_gather(self, waiting: Waiting, action: CallerAction) -> list[dict[str, Any]]:
        if isinstance(action, Silence):
            self.waiting = None
            return [self.envelope("call.gather.ended", digits="", status="timeout")]
        if isinstance(action, KeyDuringAi):
            action = Press(action.key)
        if not isinstance(action, Press):
            raise PhoneError(f"{describe_action(action)} does not fit: {expected_inputs('gather')}")
        entry = gather_entry(waiting.command.body, action.keys)
        events = (
            [self.envelope("call.dtmf.received", digit=key) for key in entry.pressed]
            if self.informational
            else []
        )
        self.waiting = None
        events.append(self.envelope("call.gather.ended", digits=entry.digits, status=entry.status))
        return events


def describe_action(action: CallerAction) -> str:
    """What the caller did, in words (for messages)."""
    if isinstance(action, Press):
        return f"pressing {action.keys}"
    if isinstance(action, Silence):
        return "silence (timeout)"
    if isinstance(action, HangUp):
        return "hanging up"
    if isinstance(action, AiResult):
        return "an AI result" if action.valid else "an invalid AI result"
    if isinstance(action, KeyDuringAi):
        return f"pressing key {action.key}"
    if isinstance(action, Detected):
        return f"machine detection saying {action.result}"
    if isinstance(action, Greeting):
        return "a greeting ending " + ("with a beep" if action.beep else "without a beep")
    if isinstance(action, Recorded):
        return "a saved recording" if action.saved else "a failed recording"
    if isinstance(action, RecordingLost):
        return "a recording that never arrives"
    if isinstance(action, LegResult):
        return f"the transferred-to number: {action.result.replace('_', ' ')}"
    if isinstance(action, Dequeued):
        return "an agent taking the call" if action.reason == "bridged" else "the queue timing out"
    if isinstance(action, FetchAnswer):
        return "a backend answer" if action.ok else "a backend error"
    return "the end of the conversation"


@frozen
class Inputs:
    """What the caller can do during one kind of wait: `doing` is what the flow is doing, in words;
    `choices` are the inputs that fit, in the `--input` spelling (with an example where they take
    a value). The simulator's errors, its interactive prompts and the debugger all say these."""

    doing: str
    choices: tuple[str, ...]

    def listed(self) -> str:
        """The choices as a sentence: "a, b or c"."""
        *rest, final = self.choices
        return f"{', '.join(rest)} or {final}" if rest else final


INPUTS = {
    "gather": Inputs("the flow is asking for key presses",
                     ("keys like 1 or 1234#", "timeout", "hangup")),
    "fetch": Inputs("the flow waits for its backend",
                    ('fetch={"state": "shipped"}', "fetch-error", "hangup")),
    "ai_gather": Inputs("the flow is in an AI gather",
                        ('ai={"name": "Bob"}', "ai-invalid={...}", "key=0", "hangup")),
    "assistant": Inputs("the flow is talking to an AI assistant", ("end", "key=0", "hangup")),
    "machine": Inputs("the flow waits for answering-machine detection",
                      ("human", "machine", "not_sure")),
    "beep": Inputs("the flow waits for the machine's beep", ("beep", "no-beep")),
    "record": Inputs("the flow is recording",
                     ("saved", "saved=42", "record-error", "record-lost", "keys", "hangup")),
    "transfer": Inputs("the flow is transferring the call",
                       ("answered", "no_answer", "busy", "failed", "hangup")),
    "queue": Inputs("the call is in a queue", ("bridged", "queue-timeout", "hangup")),
}


def expected_inputs(kind: str) -> str:
    """What the caller can do while the call waits on `kind`, in the `--input` spelling."""
    inputs = INPUTS[kind]
    return f"{inputs.doing} (give {inputs.listed()})"


def to_event(envelope: dict[str, Any], at: LocalTime | None = None) -> Event:
    """The interpreter's view of a webhook envelope that happened at `at` (simulated time)."""
    data = envelope["data"]
    return Event(type=data["event_type"], payload=data["payload"], id=data["id"], at=at)
