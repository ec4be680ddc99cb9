"""Calls the server places (LANGUAGE.md outbound): the `POST /calls` request and its dial row.

A request names the number to call and the values of the flow's `input` lines. It is checked
here, then stored as a *dial row*: a call record keyed `dial:ID` whose outbox holds the Telnyx
`POST /calls` to make (kind DIAL), so the request is answered at once and the dial survives a
restart like any other outbox row. The call's `client_state` carries the dial id and the inputs;
when the person called answers, the runner starts the flow from it, and the dial row follows
what became of the call (`queued`, `dialing`, `answered`, `no_answer`, `busy`, `failed`).

When Telnyx cannot be reached, the sender retries the `POST /calls` like any command and, after
its give-up time, drops the row (docs/serve.md, "What an outage does"). The dial row then still
says `queued` with no `POST /calls` left to make: `status` reads that as failed, with the last
answer each try noted on the row, so a request never stays "queued" for ever.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from attrs import frozen

from flowlang.lint.numbers import number_problem
from flowlang.program import Program
from flowlang.serve.store.base import CallChange, Outgoing, Store, StoredCall
from flowlang.serve.telnyx.client import SendResult

# The outbox kind of a call to place (`POST /calls`).
DIAL = "dial"
DIAL_PREFIX = "dial:"
# `GET /calls/ID`'s 404 for an id the server does not know (`flowlang dial` tells it from the
# 404 of a server where calling out is off).
NO_SUCH_CALL = "no call was placed with this id"
# The inputs travel in the call's client_state, which Telnyx echoes on every webhook.
MAX_INPUTS_BYTES = 2048
# What a new leg's hangup before answering says, as a dial outcome.
NO_ANSWER_CAUSES = ("timeout", "no_answer", "originator_cancel")
FINAL = ("no_answer", "busy", "failed")


class Dials(Protocol):
    """What the dialer needs of the Telnyx client."""

    async def dial(self, body: dict[str, Any], attempt: int = 1) -> SendResult: ...


@frozen
class Refusal:
    """Why a request is refused: HTTP `status`, and `errors` naming each `field`."""

    status: int
    errors: tuple[dict[str, str], ...]

    def json(self) -> dict[str, Any]:
        return {"errors": list(self.errors)}


@frozen
class DialRequest:
    """A checked request: call `to` from `from_` with `inputs`."""

    to: str
    from_: str
    inputs: dict[str, str]


def _error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def check_request(program: Program, raw: bytes) -> DialRequest | Refusal:
    """The request in `raw` (JSON `{"to", "from"?, "inputs"?}`), or why it is refused (422)."""
    outbound = program.outbound
    if outbound is None:
        return Refusal(409, (_error("flow", "this flow does not call out: it has no "
                                             '`outbound from "NUMBER"` line'),))
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        return Refusal(400, (_error("body", f"not JSON: {exc}"),))
    if not isinstance(body, dict):
        return Refusal(400, (_error("body", "the request must be a JSON object"),))
    errors: list[dict[str, str]] = []
    numbers: dict[str, str] = {}
    for field, default in (("to", None), ("from", outbound.from_)):
        value = body.get(field, default)
        if not isinstance(value, str) or not value:
            errors.append(_error(field, f"`{field}` is required: the number to call, like "
                                        "+13125550101"))
            continue
        problem = number_problem(value)
        if problem is not None:
            errors.append(_error(field, f'"{value}" {problem.problem}; {problem.fix}'))
        numbers[field] = value
    inputs = body.get("inputs", {})
    if not isinstance(inputs, dict):
        errors.append(_error("inputs", "`inputs` must be an object of NAME: value"))
        inputs = {}
    given: dict[str, str] = {}
    for name, value in inputs.items():
        if name not in outbound.inputs:
            known = ", ".join(outbound.inputs) or "none"
            errors.append(_error(f"inputs.{name}", f"the flow has no `input {name}` "
                                                   f"(its inputs: {known}): leave `{name}` out, "
                                                   f"or add `input {name}` to the flow"))
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            errors.append(_error(f"inputs.{name}", "a value must be text or a number"))
        else:
            given[name] = str(value)
    for name in outbound.inputs:
        if name not in inputs:
            errors.append(_error(f"inputs.{name}", f"the flow's `input {name}` needs a value: "
                                                   f"give `{name}` with the call"))
    if len(json.dumps(given, ensure_ascii=False).encode()) > MAX_INPUTS_BYTES:
        errors.append(_error("inputs", f"the inputs are over {MAX_INPUTS_BYTES} bytes"))
    unknown = sorted(set(body) - {"to", "from", "inputs"})
    errors += [_error(k, f"`{k}` is not a field of a call request") for k in unknown]
    if errors:
        return Refusal(422, tuple(errors))
    return DialRequest(numbers["to"], numbers["from"], given)


def dial_client_state(dial_id: str, inputs: Mapping[str, str]) -> str:
    raw = json.dumps({"flowlang_dial": dial_id, "inputs": dict(inputs)}, separators=(",", ":"))
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


_DIAL_MARK = base64.b64encode(b'{"flowlang_dial":').decode("ascii")[:20]


def read_dial_state(value: Any) -> tuple[str, dict[str, str]] | None:
    """(dial id, inputs) from the client_state of a call the server placed, else None."""
    if not isinstance(value, str) or not value.startswith(_DIAL_MARK):
        return None
    try:
        found = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(found, dict) or not isinstance(found.get("flowlang_dial"), str):
        return None
    inputs = found.get("inputs")
    clean = {str(k): str(v) for k, v in inputs.items()} if isinstance(inputs, dict) else {}
    return found["flowlang_dial"], clean


def outcome_of(cause: Any) -> str:
    """The dial outcome of a call that ended before it was answered."""
    if cause in NO_ANSWER_CAUSES:
        return "no_answer"
    if cause == "user_busy":
        return "busy"
    return "failed"


class Dialer:
    """Places calls for the `POST /calls` endpoint and keeps their dial rows up to date."""

    def __init__(
        self,
        store: Store,
        client: Dials,
        program: Callable[[], Program],
        token: str | None,
        connection_id: str,
        clock: Callable[[], float],
        wake: Callable[[str], None],
    ) -> None:
        self._store = store
        self._client = client
        self._program = program
        self._token = token
        self._connection_id = connection_id
        self._clock = clock
        self._wake = wake

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def authorized(self, header: str | None) -> bool:
        """Whether `Authorization: Bearer TOKEN` names this server's token."""
        if not self._token or not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer "):].strip(), self._token)

    async def place(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Check a request and queue its call: (HTTP status, JSON answer)."""
        program = self._program()
        checked = check_request(program, raw)
        if isinstance(checked, Refusal):
            return checked.status, checked.json()
        dial_id = uuid.uuid4().hex
        outbound = program.outbound
        assert outbound is not None
        body: dict[str, Any] = {
            "connection_id": self._connection_id,
            "to": checked.to,
            "from": checked.from_,
            "client_state": dial_client_state(dial_id, checked.inputs),
            # Telnyx ignores a second dial with the same command_id: a retry never rings twice.
            "command_id": f"flowlang-dial-{dial_id}",
        }
        if outbound.machine_detection is not None:
            body["answering_machine_detection"] = outbound.machine_detection
        record = {"id": dial_id, "to": checked.to, "from": checked.from_, "status": "queued",
                  "call_control_id": None, "reason": None}

        def create(call: StoredCall | None) -> CallChange:
            return CallChange(
                digest=program.digest,
                state={"dial": record},
                status="ended",
                commands=(Outgoing(DIAL, "dial", body),),
                source=(program.source.name, program.source.text),
            )

        key = DIAL_PREFIX + dial_id
        await self._store.apply(key, None, create, self._clock())
        self._wake(key)
        return 202, {"id": dial_id, "to": checked.to, "status": "queued"}

    async def carry_out(self, item: Any) -> SendResult:
        """The outbox handler of kind DIAL: `POST /calls`, then note the call on its dial row."""
        result = await self._client.dial(item.body, item.attempts + 1)
        if result.ok:
            call_id = (result.data or {}).get("call_control_id")
            # Only while still queued: the call's own webhooks may already have said more.
            await self.update(
                item.call_control_id, ("queued",), status="dialing", call_control_id=call_id
            )
        elif result.status == "rejected":
            reason = f"Telnyx refused the call (HTTP {result.http_status} {result.error_code})"
            if result.detail:
                reason += f": {result.detail}"
            await self.update(item.call_control_id, ("queued",), status="failed", reason=reason)
        else:
            # Tried again later, or given up by the sender: noted so that either way the row
            # can say why the call is not placed (see `status`).
            await self.update(
                item.call_control_id, ("queued",), tries=result.attempts,
                last_try=_transient(result),
            )
        return result

    async def update(self, key: str, only_if: tuple[str, ...] = (), **changes: Any) -> None:
        """Change fields of the dial row `key` (when its status is one of `only_if`, if given)."""

        def change(call: StoredCall | None) -> CallChange | None:
            if call is None or "dial" not in call.state:
                return None
            record = dict(call.state["dial"])
            if only_if and record.get("status") not in only_if:
                return None
            record.update(changes)
            return CallChange(digest=call.digest, state={"dial": record}, status=call.status)

        await self._store.apply(key, None, change, self._clock())

    async def status(self, dial_id: str) -> dict[str, Any] | None:
        """What became of a dial: its row, with how the answered call went."""
        found: list[StoredCall] = []

        def read(call: StoredCall | None) -> None:
            if call is not None:
                found.append(call)

        await self._store.apply(DIAL_PREFIX + dial_id, None, read, self._clock())
        if not found or "dial" not in found[0].state:
            return None
        record = dict(found[0].state["dial"])
        if record["status"] == "queued" and not await self._still_to_place(found[0]):
            # The sender gave up on the `POST /calls` (Telnyx unreachable for its give-up time)
            # and dropped it: nothing will place this call any more.
            record["status"] = "failed"
            record["reason"] = _given_up(record)
            await self.update(found[0].call_control_id, ("queued",), status="failed",
                              reason=record["reason"])
        record.pop("last_try", None)
        record.pop("tries", None)
        record["answered_by"] = None
        record["finished"] = record["status"] in FINAL
        call_id = record.get("call_control_id")
        if record["status"] == "answered" and isinstance(call_id, str):
            run: list[StoredCall] = []
            await self._store.apply(call_id, None, lambda c: run.append(c) if c else None,
                                    self._clock())
            if run:
                amd = run[0].state.get("amd") or {}
                record["answered_by"] = amd.get("result")
                record["finished"] = run[0].status != "active"
            else:
                record["finished"] = True
        return record

    async def _still_to_place(self, call: StoredCall) -> bool:
        """Whether the dial row's `POST /calls` is still in the outbox, waiting or being tried."""
        unsent = await self._store.unsent(call.call_control_id)
        return any(item.kind == DIAL for item in unsent)

    async def follow(self, event_type: str, payload: Mapping[str, Any], dial_id: str) -> None:
        """A webhook of a call this server placed: the dial row learns it was answered, or
        how it ended before anyone answered."""
        key = DIAL_PREFIX + dial_id
        waiting = ("queued", "dialing")
        if event_type == "call.answered":
            call_id = payload.get("call_control_id")
            await self.update(key, waiting, status="answered", call_control_id=call_id)
        elif event_type == "call.hangup":
            cause = payload.get("hangup_cause")
            outcome = outcome_of(cause)
            reason = cause
            if outcome == "failed":
                reason = f"the call ended before it was answered (Telnyx's hangup cause: {cause})"
            await self.update(key, waiting, status=outcome, reason=reason)


def _transient(result: SendResult) -> str:
    """What a try that is worth repeating got: Telnyx's error status, or no answer at all."""
    if result.http_status is not None:
        code = f" {result.error_code}" if result.error_code else ""
        detail = f": {result.detail}" if result.detail else ""
        return f"HTTP {result.http_status}{code}{detail}"
    return result.detail or "no answer"


def _given_up(record: Mapping[str, Any]) -> str:
    tries = record.get("tries")
    last = record.get("last_try")
    said = f" ({tries} tries, the last one: {last})" if tries and last else ""
    return (f"Telnyx could not be reached to place the call{said}; the server stopped trying "
            "(after its --give-up-after time, or because a try that got no answer may have "
            "placed the call already). Check that the server can reach Telnyx (its log says "
            "why) and whether this number was called, then call it again")
