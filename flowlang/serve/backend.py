"""A flow's backend requests (`fetch`), made for real: bounded in time and size, secrets from the
environment, the answer fed back to the call as an event through the webhook's own path."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import httpx
from attrs import frozen

from flowlang.program import MAX_FETCH_TIMEOUT_MS
from flowlang.runtime.commands import FetchRequest
from flowlang.runtime.events import FETCH_ENDED, Event
from flowlang.serve.store.base import OutboxItem, Outgoing
from flowlang.serve.telnyx.client import SendResult

logger = logging.getLogger("flowlang.serve.app")

# The outbox kind of a backend request.
FETCH = "fetch"
# LANGUAGE.md 10: a JSON object of at most 64 KiB.
MAX_ANSWER = 64 * 1024


def outgoing(request: FetchRequest) -> Outgoing:
    """The outbox row of `request`: secrets by name only, so the store never holds a value."""
    return Outgoing(FETCH, FETCH, request.to_row())


@frozen
class Answer:
    """How one request ended: `result` (the JSON object) when it succeeded, else `reason` in
    words that name no secret; `http_status` when the backend answered at all."""

    result: dict[str, Any] | None
    reason: str | None = None
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None


class _Failed(Exception):
    """The request did not give a JSON object; the message says why, without secrets."""


class Backend:
    """Makes `fetch` requests with one shared httpx client; secrets are read from `environ`
    (the process environment) at the moment of the request, and are never logged."""

    def __init__(
        self,
        environ: Mapping[str, str],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._environ = environ
        # No redirects: a 3xx is an answer that is not the JSON object asked for.
        self._client = httpx.AsyncClient(transport=transport, follow_redirects=False)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, request: FetchRequest) -> Answer:
        """Make `request`; every failure (network, timeout, status, size, not a JSON object)
        is an Answer with a reason, never an exception."""
        seconds = min(request.timeout_ms, MAX_FETCH_TIMEOUT_MS) / 1000
        status: list[int] = []
        try:
            headers = self._headers(request)
            # One deadline for the whole exchange: httpx's timeouts are per read, and a backend
            # that sends a byte a second would never trip them.
            async with asyncio.timeout(seconds):
                result = await self._exchange(request, headers, status)
        except TimeoutError:
            return Answer(None, f"no answer within {seconds:g}s", status[0] if status else None)
        except _Failed as exc:
            return Answer(None, str(exc), status[0] if status else None)
        except httpx.InvalidURL:
            return Answer(None, "the URL is not valid")
        except httpx.UnsupportedProtocol:
            return Answer(None, "the URL does not start with https:// or http://")
        except httpx.HTTPError as exc:
            return Answer(None, f"could not reach the backend ({type(exc).__name__})")
        except Exception as exc:  # noqa: BLE001 - a request that cannot be made is a failure
            # Whatever it is, the flow must go on (its `on error:`): an exception here would
            # be retried for ever while the caller waits in silence.
            return Answer(None, f"the request could not be made ({type(exc).__name__})")
        return Answer(result, http_status=status[0])

    def _headers(self, request: FetchRequest) -> list[tuple[bytes, bytes]]:
        headers: dict[str, str] = {"Accept": "application/json"}
        for name, value, secret in request.headers:
            if secret:
                found = self._environ.get(value)
                if found is None:
                    raise _Failed(f"the secret {value} is not set in the environment")
                value = found
            headers[name] = value
        if request.method == "POST":
            headers.setdefault("Idempotency-Key", request.key)
        # A value with letters beyond ASCII ("José") goes as UTF-8, as curl sends it (httpx
        # would refuse it as text).
        return [(name.encode("ascii"), value.encode("utf-8")) for name, value in headers.items()]

    async def _exchange(
        self, request: FetchRequest, headers: list[tuple[bytes, bytes]], status: list[int]
    ) -> dict[str, Any]:
        body = request.body if request.method == "POST" else None
        stream = self._client.stream(
            request.method, request.url, headers=headers, json=body, timeout=None
        )
        async with stream as response:
            status.append(response.status_code)
            if not 200 <= response.status_code < 300:
                raise _Failed(f"the backend answered HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_ANSWER:
                raise _Failed(f"the answer is larger than {MAX_ANSWER // 1024} KiB")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_ANSWER:
                    # Stop reading: closing the stream drops the rest of the body unread.
                    raise _Failed(f"the answer is larger than {MAX_ANSWER // 1024} KiB")
        try:
            # NaN and Infinity are not JSON (RFC 8259), though Python's json reads them.
            document = json.loads(bytes(data), parse_constant=_not_json)
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "").split(";")[0] or "unknown type"
            raise _Failed(f"the answer is not JSON ({kind})") from None
        if not isinstance(document, dict):
            raise _Failed(f"the answer is a JSON {_json_kind(document)}, not an object {{...}}")
        return document


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "number"


class Feeds(Protocol):
    """What carrying out a fetch needs from the runner: apply an event to a call."""

    async def feed(self, call_control_id: str, event: Event) -> Any: ...


def carrier(
    backend: Backend, runner: Feeds, wake: Callable[[str], None]
) -> Callable[[OutboxItem], Awaitable[SendResult]]:
    """The sender's handler for FETCH rows: make the request, log one line, and apply the
    answer to the call in one store transaction, as a webhook would be. The event's id is the
    request's key, so an answer applied before a crash is not applied twice after it."""

    async def carry_out(item: OutboxItem) -> SendResult:
        request = FetchRequest.from_row(item.body)
        started = time.perf_counter()
        answer = await backend.fetch(request)
        payload: dict[str, Any] = {
            "call_control_id": item.call_control_id,
            "client_state": request.client_state,
            "status": "ok" if answer.ok else "error",
        }
        if answer.result is not None:
            payload["result"] = answer.result
        else:
            payload["reason"] = answer.reason
        line: dict[str, Any] = {
            "event": "fetch",
            "call_control_id": item.call_control_id,
            "method": request.method,
            "url": request.url,
            "result": "ok" if answer.ok else "error",
            "http_status": answer.http_status,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if not answer.ok:
            line["reason"] = answer.reason
        logger.log(
            logging.INFO if answer.ok else logging.WARNING, json.dumps(line, ensure_ascii=False)
        )
        event = Event(FETCH_ENDED, payload, id=f"fetch/{request.key}")
        handled = await runner.feed(item.call_control_id, event)
        for log in getattr(handled, "logs", ()):
            logger.log(
                logging.WARNING if log.level == "warning" else logging.INFO,
                json.dumps(
                    {
                        "event": "flow_log",
                        "call_control_id": item.call_control_id,
                        "level": log.level,
                        "line": log.line,
                        "text": log.text,
                    },
                    ensure_ascii=False,
                ),
            )
        # The answer's commands wait in the outbox behind this row.
        wake(item.call_control_id)
        return SendResult("sent", 1, answer.http_status)

    return carry_out
