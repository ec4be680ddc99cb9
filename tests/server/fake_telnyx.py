"""A fake Telnyx for end-to-end tests, over loopback: it takes Call Control commands over HTTP,
checks each body against the OpenAPI subset, drops repeated command_ids as Telnyx does, and
plays the caller with the simulator's phone model, POSTing signed webhooks back to the server
(late, duplicated and out of order when asked; retried, as Telnyx does, while the server is down).
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import httpx
from nacl.signing import SigningKey

from flowlang.offline.phone import (
    LEG_CAUSES,
    CallerAction,
    Detected,
    LegResult,
    Phone,
    PhoneError,
)
from flowlang.offline.simulator import parse_input
from flowlang.runtime.commands import Command
from flowlang.runtime.events import CallInfo
from tests.openapi import command_errors, spec
from tests.server.signing import sign


class Chaos:
    """How webhooks misbehave: each batch shuffled, each event repeated with probability
    `duplicate` (the copy arriving up to `late` seconds later), every delivery delayed up to
    `jitter` seconds. Seeded, so a failing run can be replayed."""

    def __init__(
        self,
        seed: int = 0,
        shuffle: bool = False,
        duplicate: float = 0.0,
        late: float = 0.0,
        jitter: float = 0.0,
    ) -> None:
        self.random = random.Random(seed)
        self.shuffle = shuffle
        self.duplicate = duplicate
        self.late = late
        self.jitter = jitter


class FakeCall:
    """One caller: a phone model, the caller's scripted actions, and a delivery thread."""

    def __init__(self, fake: FakeTelnyx, info: CallInfo, script: list[CallerAction], hold: bool):
        self.fake = fake
        self.info = info
        self.phone = Phone(info, webhook_url=fake.webhook_url)
        self.script = deque(script)
        self.hold = hold
        self.accepted: list[tuple[str, dict[str, Any]]] = []
        self.command_ids: set[str] = set()
        self.received = 0
        self.caller_errors: list[str] = []
        self.greeting = False
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        self._busy = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._deliver_forever, daemon=True)
        self._thread.start()

    # -- the call's state --------------------------------------------------------------------

    @property
    def waiting(self) -> bool:
        """The call waits for the caller and every webhook so far was delivered."""
        with self._cond:
            return self.phone.waiting is not None and not self._heap and not self._busy

    @property
    def finished(self) -> bool:
        with self._cond:
            # A recording outlives the call: the call is over once it is saved (or failed).
            over = self.phone.state == "ended" and self.phone.waiting is None
            return over and not self._heap and not self._busy

    @property
    def settled(self) -> bool:
        """Nothing left to deliver (the call may be over, or waiting)."""
        with self._cond:
            return not self._heap and not self._busy

    def release(self) -> None:
        """Let a held caller act."""
        with self._cond:
            self.hold = False
            self._act()

    # -- commands and the caller --------------------------------------------------------------

    def command(self, action: str, body: dict[str, Any]) -> None:
        with self._cond:
            self.accepted.append((action, body))
            self._enqueue(self.phone.send(Command(action, body)))
            self._act()

    def _act(self) -> None:
        while not self.hold and self.phone.waiting is not None and self.script:
            recording = self.phone.waiting.kind == "record"
            if self.phone.state == "ended" and not recording:
                return
            action = self.script.popleft()
            try:
                self._enqueue(self.phone.act(action))
            except PhoneError as exc:
                self.caller_errors.append(str(exc))
            # A caller who hangs up during a recording leaves it to be saved: the next scripted
            # input (saved, record-error) comes from Telnyx, with no command to wait for. So
            # does a machine's greeting after the machine was detected.
            if isinstance(action, Detected) and action.result == "machine" and self.greeting:
                self.phone.expect("beep")
                continue
            if not (recording and self.phone.state == "ended"):
                return

    def place(self, body: dict[str, Any]) -> None:
        """The call was placed (`POST /calls`): it rings, then the first scripted input says
        whether it is answered (`answered`) or not (`no_answer`, `busy`, `failed`)."""
        with self._cond:
            phone = self.phone
            phone.client_state = body.get("client_state")
            events = [phone.envelope("call.initiated", direction="outgoing", state="bridging")]
            first = self.script.popleft() if self.script else LegResult("answered")
            if isinstance(first, LegResult) and first.result != "answered":
                phone.state = "ended"
                events.append(phone.envelope("call.hangup", state="hangup",
                                             hangup_cause=LEG_CAUSES[first.result],
                                             hangup_source="callee"))
            else:
                phone.state = "answered"
                events.append(phone.envelope("call.answered", state="answered"))
                detection = body.get("answering_machine_detection")
                if detection:
                    self.greeting = detection == "greeting_end"
                    phone.expect("machine")
            self._enqueue(events)
            self._act()

    def start(self) -> None:
        with self._cond:
            self._enqueue([self.phone.incoming()])

    def hang_up(self) -> None:
        with self._cond:
            if self.phone.state != "ended":
                self._enqueue(self.phone.act(parse_input("hangup")))

    # -- delivery ---------------------------------------------------------------------------

    def _enqueue(self, envelopes: Iterable[dict[str, Any]]) -> None:
        batch = list(envelopes)
        chaos = self.fake.chaos
        now = time.monotonic()
        if chaos.shuffle:
            chaos.random.shuffle(batch)
        for envelope in batch:
            due = now + chaos.random.uniform(0, chaos.jitter)
            heapq.heappush(self._heap, (due, next(self._order), envelope))
            if chaos.random.random() < chaos.duplicate:
                again = due + chaos.random.uniform(0, chaos.late)
                heapq.heappush(self._heap, (again, next(self._order), envelope))
        self._cond.notify_all()

    def _deliver_forever(self) -> None:
        while not self.fake.stopped:
            with self._cond:
                if not self._heap:
                    self._cond.wait(0.2)
                    continue
                due, _, envelope = self._heap[0]
                pause = due - time.monotonic()
                if pause > 0:
                    self._cond.wait(pause)
                    continue
                heapq.heappop(self._heap)
                self._busy += 1
            try:
                self.fake.deliver(envelope)
            except Exception as exc:  # noqa: BLE001 - reported to the waiting test, not lost
                self.fake.broke(f"delivering {envelope['data']['event_type']}: {exc!r}")
            finally:
                with self._cond:
                    self._busy -= 1


class FakeTelnyx:
    """The Telnyx side of many calls. `api_base` is what the server's --api-base points at;
    set `webhook_url` to the server's webhook before starting calls.

    `faults` (a deque) makes the next command requests fail: "429" and "500" are answered
    without processing the command, "timeout" processes it and answers after `slow_answer`
    seconds (so the client times out and retries the same command_id). `action_faults` does
    the same for the next requests of one action.

    An `ai_assistant_start` on a call whose assistant is running is refused 422 with code 90061,
    as Telnyx does. A repeated command_id is recognised and not carried out twice; with
    `remember_command_ids` False it is not (Telnyx promises it only for about a minute): the
    resend then meets the call as it is, like any new command.
    """

    def __init__(self, key: SigningKey, api_key: str = "test-api-key") -> None:
        spec()  # a fake that cannot validate must fail now, not leave each call waiting
        self.key = key
        self.api_key = api_key
        self.webhook_url = ""
        # Several servers behind a load balancer: each delivery (and each retry) goes to one of
        # these at random, when set.
        self.webhook_urls: list[str] = []
        self._spread = random.Random(0)
        self.chaos = Chaos()
        self.faults: deque[str] = deque()
        self.action_faults: dict[str, deque[str]] = {}
        self.remember_command_ids = True
        self.slow_answer = 2.0
        self.stall = threading.Event()
        self.stall.set()
        self.calls: dict[str, FakeCall] = {}
        # Text messages taken (`POST /messages` bodies), and the answers to give the next ones:
        # "422" refuses one as Telnyx does a number it cannot text.
        self.messages: list[dict[str, Any]] = []
        # Calls placed (`POST /calls` bodies), and the scripts their callees follow, in order.
        self.dials: list[dict[str, Any]] = []
        self.callees: deque[list[str]] = deque()
        # While True every `POST /calls` is answered 500 and places nothing (Telnyx down);
        # `dial_tries` counts every `POST /calls` received, refused or not.
        self.refuse_dials = False
        self.dial_tries = 0
        self.message_faults: deque[str] = deque()
        self.invalid: list[str] = []
        self.requests = 0
        self.actions: list[tuple[str, str]] = []  # (call_control_id, action) of every request
        # Phases of an outage, (until, fault) in time.monotonic(): while one lasts every command
        # is answered with its fault ("500", "429") or, for "timeout", not answered until
        # `slow_answer` seconds have passed; in no case is the command carried out.
        self.outage: list[tuple[float, str]] = []
        self.fault_hits: list[str] = []
        self.refuse_actions: set[str] = set()  # actions answered 500 for as long as they are here
        self.deliveries: list[str] = []  # the event id of every webhook posted (repeats too)
        self.broken: list[str] = []  # what went wrong inside the fake itself
        # event_type -> the client_state Telnyx puts on it instead of the call's own (Telnyx's
        # example call.conversation.ended carries one the application never set).
        self.foreign_state: dict[str, str] = {}
        self.last_activity = time.monotonic()
        self.stopped = False
        self.lock = threading.Lock()
        self._http = httpx.Client(timeout=10.0)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v2"

    def close(self) -> None:
        self.stopped = True
        self.stall.set()
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def broke(self, what: str) -> None:
        with self.lock:
            self.broken.append(what)

    def trouble(self, calls: Iterable[FakeCall], quiet: float, since: float) -> str | None:
        """Why waiting for `calls` is pointless: the fake failed, a body was invalid, a caller's
        script did not fit, or nothing was sent either way for `quiet` seconds (counted from
        `since` at the earliest)."""
        problems = [*self.broken, *self.invalid, *(e for c in calls for e in c.caller_errors)]
        if problems:
            return "\n".join(problems)
        idle = time.monotonic() - max(self.last_activity, since)
        if idle > quiet:
            return f"no command and no webhook for {idle:.0f}s"
        return None

    # -- calls ------------------------------------------------------------------------------

    def call(
        self,
        call_control_id: str,
        inputs: Iterable[str],
        caller: str = "+15550001111",
        called: str = "+15550002222",
        hold: bool = False,
    ) -> FakeCall:
        """Place an incoming call whose caller will do `inputs` (LANGUAGE.md 8 spellings)."""
        info = CallInfo(call_control_id, caller, called)
        call = FakeCall(self, info, [parse_input(i) for i in inputs], hold)
        with self.lock:
            self.calls[call_control_id] = call
        call.start()
        return call

    def deliver(self, envelope: dict[str, Any]) -> None:
        """POST one signed webhook, retrying as Telnyx does until the server answers 2xx."""
        foreign = self.foreign_state.get(envelope["data"]["event_type"])
        if foreign is not None:
            data = envelope["data"]
            envelope = {**envelope, "data": {**data, "payload": {**data["payload"]}}}
            envelope["data"]["payload"]["client_state"] = foreign
        body = json.dumps(envelope).encode("utf-8")
        with self.lock:
            self.deliveries.append(envelope["data"]["id"])
            self.last_activity = time.monotonic()
        pause = 0.05
        while not self.stopped:
            headers = {"content-type": "application/json", **sign(self.key, body)}
            with self.lock:
                url = self._spread.choice(self.webhook_urls) if self.webhook_urls else None
            try:
                response = self._http.post(url or self.webhook_url, content=body, headers=headers)
            except httpx.TransportError:
                pass
            else:
                if response.status_code < 300:
                    return
                if response.status_code < 500 and response.status_code not in (408, 429):
                    raise AssertionError(f"server refused a webhook: {response.status_code}")
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    # -- commands ---------------------------------------------------------------------------

    def _request_body(
        self, raw: bytes, auth: str, kind: str, request: str
    ) -> tuple[Any, tuple[int, Any] | None]:
        """The JSON body of a request that is not a call action, or the answer Telnyx gives
        instead: 401 for a wrong key, 400 for bad JSON, 422 (noted as invalid) against the
        subset."""
        if auth != f"Bearer {self.api_key}":
            return None, (401, {"errors": [{"code": "10009", "title": "Authentication failed"}]})
        try:
            body = json.loads(raw)
        except ValueError:
            return None, (400, {"errors": [{"code": "10015", "title": "Bad request"}]})
        problems = command_errors(kind, body)
        if problems:
            with self.lock:
                self.invalid.append(f"{request}: {'; '.join(problems)}")
            return None, (422, {"errors": [{"code": "10032", "title": "Invalid parameter"}]})
        return body, None

    def dial(self, raw: bytes, auth: str) -> tuple[int, Any]:
        """`POST /calls`: check the body against the subset, place the call, answer its id."""
        with self.lock:
            self.dial_tries += 1
            self.last_activity = time.monotonic()
            if self.refuse_dials:
                return 500, {"errors": [{"code": "10007", "title": "Unexpected error"}]}
        body, refusal = self._request_body(raw, auth, "dial", "POST /calls")
        if refusal is not None:
            return refusal
        with self.lock:
            self.dials.append(body)
            call_id = f"v3:placed-{len(self.dials)}"
            script = self.callees.popleft() if self.callees else ["answered"]
        info = CallInfo(call_id, str(body["from"]), str(body["to"]))
        call = FakeCall(self, info, [parse_input(i) for i in script], hold=False)
        with self.lock:
            self.calls[call_id] = call
        call.place(body)
        return 200, {"data": {"call_control_id": call_id, "call_leg_id": call_id,
                              "call_session_id": call_id, "is_alive": False,
                              "record_type": "call"}}

    def message(self, raw: bytes, auth: str) -> tuple[int, Any]:
        """`POST /messages`: check the body against the subset, keep it, answer its id."""
        body, refusal = self._request_body(raw, auth, "message", "POST /messages")
        if refusal is not None:
            return refusal
        with self.lock:
            fault = self.message_faults.popleft() if self.message_faults else None
            if fault == "422":
                return 422, {"errors": [{"code": "40310", "title": "Invalid 'to' address",
                                         "detail": "The 'to' address is not a mobile number.",
                                         "source": {"pointer": "/to"}}]}
            self.messages.append(body)
            number = len(self.messages)
        return 200, {"data": {"record_type": "message", "id": f"msg-{number}",
                              "to": [{"phone_number": body.get("to")}], "text": body.get("text")}}

    def command(self, call_control_id: str, action: str, raw: bytes, auth: str) -> tuple[int, Any]:
        try:
            return self._command(call_control_id, action, raw, auth)
        except Exception as exc:  # noqa: BLE001 - reported to the waiting test, not lost
            self.broke(f"handling {action}: {exc!r}")
            return 500, {"errors": [{"code": "10007", "title": "The fake Telnyx failed"}]}

    def _command(self, call_control_id: str, action: str, raw: bytes, auth: str) -> tuple[int, Any]:
        with self.lock:
            self.requests += 1
            self.actions.append((call_control_id, action))
            self.last_activity = time.monotonic()
            fault = self.faults.popleft() if self.faults else None
            for_action = self.action_faults.get(action)
            if fault is None and for_action:
                fault = for_action.popleft()
            if fault:
                self.fault_hits.append(fault)
            now = time.monotonic()
            down = next((f for until, f in self.outage if now < until), None)
        if down is not None:
            with self.lock:
                self.fault_hits.append(down)
        if down == "timeout":
            time.sleep(self.slow_answer)
            return 504, {"errors": [{"code": "10007", "title": "Gateway timeout"}]}
        if down is not None:
            fault = down
        if action in self.refuse_actions:
            fault = "500"
        if auth != f"Bearer {self.api_key}":
            return 401, {"errors": [{"code": "10009", "title": "Authentication failed"}]}
        if fault == "429":
            return 429, {"errors": [{"code": "10011", "title": "Too many requests"}]}
        if fault == "500":
            return 500, {"errors": [{"code": "10007", "title": "Unexpected error"}]}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"errors": [{"code": "10015", "title": "Bad request"}]}
        problems = command_errors(action, body)
        if problems:
            with self.lock:
                self.invalid.append(f"{action}: {'; '.join(problems)}")
            return 422, {"errors": [{"code": "10032", "title": "Invalid parameter"}]}
        call = self.calls.get(call_control_id)
        if call is None:
            return 422, {"errors": [{"code": "90015", "title": "Invalid call control id"}]}
        with call._cond:
            call.received += 1
            repeated = self.remember_command_ids and body.get("command_id") in call.command_ids
            if not repeated and body.get("command_id"):
                call.command_ids.add(body["command_id"])
            waiting = call.phone.waiting
            if action == "ai_assistant_start" and not repeated and waiting is not None \
                    and waiting.kind == "assistant":
                return 422, {"errors": [{"code": "90061", "title": "AI assistant already running",
                                         "detail": "An AI assistant is already running on this"
                                                   " call."}]}
        if not repeated:
            call.command(action, body)
        if fault == "timeout":
            time.sleep(self.slow_answer)
        self.stall.wait()
        return 200, {"data": call.phone.answer_of(Command(action, body))}


def _handler(fake: FakeTelnyx) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this each answer would wait
        # for the client's delayed ACK (40 ms).
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 - the http.server spelling
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            parts = self.path.split("/")
            # /v2/calls/{id}/actions/{action}, or /v2/messages
            if parts[1:] == ["v2", "messages"]:
                status, payload = fake.message(raw, self.headers.get("authorization", ""))
            elif parts[1:] == ["v2", "calls"]:
                status, payload = fake.dial(raw, self.headers.get("authorization", ""))
            elif len(parts) != 6 or parts[1:3] != ["v2", "calls"] or parts[4] != "actions":
                status, payload = 404, {"errors": [{"code": "404", "title": "Not found"}]}
            else:
                status, payload = fake.command(
                    unquote(parts[3]), parts[5], raw, self.headers.get("authorization", "")
                )
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                if status == 429:
                    # As Telnyx answers a rate limited request: its window's headers, no
                    # Retry-After; a window that resets at once keeps the tests quick.
                    self.send_header("x-ratelimit-limit", "20")
                    self.send_header("x-ratelimit-remaining", "0")
                    self.send_header("x-ratelimit-reset", "0")
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the server went away (a killed process): Telnyx would not care either

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
