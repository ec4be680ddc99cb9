"""The Telnyx Call Control HTTP client: POSTs commands, retrying what is safe to retry."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx
from attrs import frozen

DEFAULT_API_BASE = "https://api.telnyx.com/v2"

# Every action a flow can send (LANGUAGE.md section 2): the client sends any action name, these
# are the ones the language uses and the tests exercise.
ACTIONS = (
    "answer",
    "hangup",
    "speak",
    "playback_start",
    "gather",
    "gather_stop",
    "gather_using_speak",
    "gather_using_audio",
    "gather_using_ai",
    "ai_assistant_start",
    "ai_assistant_stop",
    "ai_assistant_add_messages",
    "transfer",
    "record_start",
    "record_stop",
    "enqueue",
    "playback_stop",
)

# Telnyx retries webhooks on these, and documents them as transient for commands too.
_RETRY_STATUSES = frozenset({408, 429})

logger = logging.getLogger("flowlang.serve.telnyx")


@frozen
class RetryPolicy:
    """How often and how patiently a command is re-sent: exponential backoff, bounded attempts."""

    max_attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    # A Retry-After longer than this is cut short: the caller is waiting on the line.
    max_retry_after: float = 30.0

    def backoff(self, attempt: int) -> float:
        """The pause after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@frozen
class SendResult:
    """How sending one command ended.

    `status` is "sent" (Telnyx accepted it), "rejected" (Telnyx refused it with a 4xx that
    retrying cannot fix; `error_code` is Telnyx's code, such as "90018" for a call that already
    ended) or "gave_up" (every attempt failed transiently). `data` is Telnyx's `data` on success.
    """

    status: str
    attempts: int
    http_status: int | None = None
    error_code: str | None = None
    detail: str | None = None
    data: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == "sent"


def _errors(response: httpx.Response) -> tuple[str | None, str | None]:
    """Telnyx's first error code and its human text, from `{"errors": [{"code", "detail"}]}`."""
    try:
        document = response.json()
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(document, dict):
        return None, None
    errors = document.get("errors")
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, None
    first = errors[0]
    code = first.get("code")
    text = first.get("detail") or first.get("title")
    return (str(code) if code is not None else None), (str(text) if text is not None else None)


def _data(response: httpx.Response) -> dict[str, Any] | None:
    try:
        document = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(document, dict) and isinstance(document.get("data"), dict):
        data: dict[str, Any] = document["data"]
        return data
    return None


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class TelnyxClient:
    """Sends Call Control commands with `Authorization: Bearer API_KEY`.

    A command is POSTed with the same body (so the same `command_id`) on every attempt; 408,
    429, 5xx, connection errors and timeouts are retried with backoff (honouring Retry-After),
    other answers are final. `sleep` and `clock` are injected so tests need not wait.
    """

    def __init__(
        self,
        api_key: str,
        api_base: str = DEFAULT_API_BASE,
        *,
        timeout: float = 5.0,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # The transport is used directly, without httpx.Client's cookie, redirect and auth
        # machinery that a JSON POST does not need: it was most of a command's CPU cost.
        self._transport = transport or httpx.AsyncHTTPTransport()
        self._base = api_base.rstrip("/")
        # A key pasted with spaces or a newline around it would make an invalid header (the
        # command would never leave the machine); without a key no Authorization is sent, so
        # Telnyx answers 401 and the command is refused once instead of retried.
        api_key = api_key.strip()
        self._headers = [
            *([("Authorization", f"Bearer {api_key}")] if api_key else []),
            ("Accept", "application/json"),
            ("Content-Type", "application/json"),
        ]
        self._timeouts = httpx.Timeout(timeout, connect=min(timeout, 3.0)).as_dict()
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def _post(self, url: str, content: bytes) -> httpx.Response:
        request = httpx.Request(
            "POST",
            url,
            headers=self._headers,
            content=content,
            extensions={"timeout": self._timeouts},
        )
        response = await self._transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def send(self, call_control_id: str, action: str, body: dict[str, Any]) -> SendResult:
        """POST `body` to `calls/{id}/actions/{action}`, retrying transient failures."""
        url = (
            f"{self._base}/calls/{quote(call_control_id, safe=':')}"
            f"/actions/{quote(action, safe='')}"
        )
        return await self._request(url, body, call_control_id, action)

    async def send_message(self, body: dict[str, Any]) -> SendResult:
        """POST a text message (`from`, `to`, `text`) to `messages`, retrying transient failures.

        A message has no `command_id`: a retry after a timeout may send it twice, which Telnyx
        cannot tell apart, so only answers that say it was not taken (408, 429, 5xx) and
        connection errors are retried."""
        return await self._request(f"{self._base}/messages", body, None, "message")

    async def _request(
        self, url: str, body: dict[str, Any], call_control_id: str | None, action: str
    ) -> SendResult:
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        policy = self._policy
        attempt = 0
        last = SendResult("gave_up", 0)
        while attempt < policy.max_attempts:
            attempt += 1
            wait = policy.backoff(attempt)
            try:
                response = await self._post(url, content)
            except httpx.TransportError as exc:
                reason = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
                last = SendResult("gave_up", attempt, detail=f"{reason} error: {exc!r}")
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return SendResult("sent", attempt, status, data=_data(response))
                code, detail = _errors(response)
                if status not in _RETRY_STATUSES and status < 500:
                    return SendResult("rejected", attempt, status, code, detail)
                last = SendResult("gave_up", attempt, status, code, detail)
                asked = retry_after(response.headers.get("retry-after"), self._clock())
                if asked is not None:
                    wait = min(policy.max_retry_after, max(wait, asked))
            if attempt < policy.max_attempts:
                logger.info(
                    json.dumps(
                        {
                            "event": "command_retry",
                            "call_control_id": call_control_id,
                            "action": action,
                            "command_id": body.get("command_id"),
                            "attempt": attempt,
                            "http_status": last.http_status,
                            "error_code": last.error_code,
                            "detail": last.detail,
                            "retry_in": round(wait, 3),
                        }
                    )
                )
                await self._sleep(wait)
        return last
