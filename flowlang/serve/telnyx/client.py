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

from flowlang.serve.store.base import dumps

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
    """How often and how patiently a command is re-sent: exponential backoff with jitter.

    The client's own `send` tries `max_attempts` times. The server's sender keeps a command's
    tries in the store instead and goes on for `give_up_after` seconds (see docs/serve.md):
    long enough to ride out an outage of Telnyx, short enough that a caller is not left on a
    silent line for long before the best-effort hangup.
    """

    max_attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    # A Retry-After longer than this is cut short: the caller is waiting on the line.
    max_retry_after: float = 30.0
    give_up_after: float = 120.0
    # Fraction of each pause drawn at random, so workers retrying together spread out.
    jitter: float = 0.5

    def backoff(self, attempt: int, draw: float = 1.0) -> float:
        """The pause after failed attempt number `attempt` (1-based); `draw` in [0, 1] takes
        away up to `jitter` of it."""
        full = float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return full * (1.0 - self.jitter * (1.0 - draw))


@frozen
class SendResult:
    """How sending one command ended.

    `status` is "sent" (Telnyx accepted it), "rejected" (Telnyx refused it with a 4xx that
    retrying cannot fix; `error_code` is Telnyx's code, such as "90018" for a call that already
    ended) or "gave_up" (the attempts failed transiently). `data` is Telnyx's `data` on success.
    After a transient failure `retry_after` is the pause Telnyx asked for (if it did), and
    `doubtful` says the command may have reached Telnyx (a timeout or a dropped connection).
    """

    status: str
    attempts: int
    http_status: int | None = None
    error_code: str | None = None
    detail: str | None = None
    data: dict[str, Any] | None = None
    retry_after: float | None = None
    doubtful: bool = False

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


def rate_limit_reset(value: str | None) -> float | None:
    """Seconds until Telnyx's rate limit window resets, from its `x-ratelimit-reset` header
    (seconds, as Telnyx documents it), None if absent or not a number. A 429 without a
    Retry-After waits that long rather than retrying into the same full window."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    if seconds is None or seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


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

    async def attempt(
        self, call_control_id: str, action: str, body: dict[str, Any], attempt: int = 1
    ) -> SendResult:
        """POST `body` to `calls/{id}/actions/{action}` once; a transient failure comes back as
        "gave_up" with Telnyx's Retry-After, for the caller to schedule the next try."""
        url = (
            f"{self._base}/calls/{quote(call_control_id, safe=':')}"
            f"/actions/{quote(action, safe='')}"
        )
        return await self._request(url, body, attempt)

    async def dial(self, body: dict[str, Any], attempt: int = 1) -> SendResult:
        """POST a call to place (`connection_id`, `to`, `from`, ...) to `calls` once; its
        `command_id` makes a retry harmless (Telnyx ignores a second dial with the same one)."""
        return await self._request(f"{self._base}/calls", body, attempt)

    async def send_message(self, body: dict[str, Any], attempt: int = 1) -> SendResult:
        """POST a text message (`from`, `to`, `text`) to `messages` once, like `attempt`.

        A message has no `command_id`: a retry after a timeout may send it twice (Telnyx cannot
        tell the two apart); every other failure is retried without that risk."""
        return await self._request(f"{self._base}/messages", body, attempt)

    async def _request(self, url: str, body: dict[str, Any], attempt: int) -> SendResult:
        content = dumps(body).encode("utf-8")
        try:
            response = await self._post(url, content)
        except httpx.TransportError as exc:
            timeout = isinstance(exc, httpx.TimeoutException)
            # A connection that was never made cannot have carried the command.
            doubtful = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            reason = "timeout" if timeout else "connection"
            return SendResult(
                "gave_up", attempt, detail=f"{reason} error: {exc!r}", doubtful=doubtful
            )
        status = response.status_code
        if 200 <= status < 300:
            return SendResult("sent", attempt, status, data=_data(response))
        code, detail = _errors(response)
        if status not in _RETRY_STATUSES and status < 500:
            return SendResult("rejected", attempt, status, code, detail)
        asked = retry_after(response.headers.get("retry-after"), self._clock())
        if asked is None and status == 429:
            asked = rate_limit_reset(response.headers.get("x-ratelimit-reset"))
        return SendResult("gave_up", attempt, status, code, detail, retry_after=asked)

    def pause(self, result: SendResult, draw: float = 1.0) -> float:
        """How long to wait after the failed `result` before the next try."""
        policy = self._policy
        wait = policy.backoff(result.attempts, draw)
        if result.retry_after is not None:
            wait = min(policy.max_retry_after, max(wait, result.retry_after))
        return wait

    async def send(self, call_control_id: str, action: str, body: dict[str, Any]) -> SendResult:
        """POST `body` to `calls/{id}/actions/{action}`, retrying transient failures."""
        policy = self._policy
        attempt = 0
        last = SendResult("gave_up", 0)
        while attempt < policy.max_attempts:
            attempt += 1
            last = await self.attempt(call_control_id, action, body, attempt)
            if last.status != "gave_up":
                return last
            if attempt < policy.max_attempts:
                wait = self.pause(last)
                log_retry(call_control_id, action, body, last, wait)
                await self._sleep(wait)
        return last


def log_retry(
    call_control_id: str, action: str, body: dict[str, Any], result: SendResult, wait: float
) -> None:
    """One JSON log line for a command that failed transiently and will be tried again."""
    logger.info(
        json.dumps(
            {
                "event": "command_retry",
                "call_control_id": call_control_id,
                "action": action,
                "command_id": body.get("command_id"),
                "attempt": result.attempts,
                "http_status": result.http_status,
                "error_code": result.error_code,
                "detail": result.detail,
                "retry_in": round(wait, 3),
            }
        )
    )
