"""The webhook server: a plain ASGI application that runs the flow on Telnyx's signed webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import httpx

from flowlang.program import Program
from flowlang.runtime.events import WAIT_EXPIRED, Event
from flowlang.runtime.outcome import LogLine
from flowlang.runtime.state import read_client_state
from flowlang.serve.backend import FETCH, Backend, carrier
from flowlang.serve.conversations import noter
from flowlang.serve.dial import DIAL, NO_SUCH_CALL, Dialer
from flowlang.serve.metrics import CONTENT_TYPE, Metrics
from flowlang.serve.runner import RESULTS, Handled, Runner, Runs
from flowlang.serve.sender import COMMAND_ID_MEMORY, Sender
from flowlang.serve.sender import log_event as _log
from flowlang.serve.store.base import CALL_COMMAND, Counts, Outgoing, Store, StoreError
from flowlang.serve.telnyx.client import DEFAULT_API_BASE, RetryPolicy, TelnyxClient
from flowlang.serve.telnyx.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    Verifier,
)
from flowlang.serve.telnyx.webhooks import MalformedWebhook, Webhook, parse_webhook
from flowlang.serve.versions import FlowVersions

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY = 1024 * 1024
# A webhook body still arriving after this many seconds is refused and its connection closed:
# a client sending a byte a second must not hold a connection (and memory) for ever.
BODY_TIMEOUT = 10.0

# Events after which a call the store does not know is still on the line, waiting: it is hung
# up rather than left in silence. (A new call starts with call.initiated; call.hangup needs
# nothing.)
_NOT_LIVE = frozenset({"call.initiated", "call.hangup"})


def _ran_here(hook: Webhook) -> bool:
    """Whether a webhook for a call the store does not know is for a call a flowlang server ran
    and lost: on a live call that carries flowlang's own `client_state`, which Telnyx echoes
    from the last command. Any other unknown call is acknowledged and ignored (LANGUAGE.md 7):
    it is not this server's to hang up."""
    if hook.event.type in _NOT_LIVE:
        return False
    return read_client_state(hook.event.payload.get("client_state")) is not None

logger = logging.getLogger("flowlang.serve.app")


class _TooLarge(Exception):
    pass


class _Gone(Exception):
    pass


class _Slow(Exception):
    pass


def _log_flow(call_control_id: str | None, lines: Iterable[LogLine]) -> None:
    """One `flow_log` line per `log` statement or runtime warning of a call's run."""
    for line in lines:
        _log(
            logging.WARNING if line.level == "warning" else logging.INFO,
            event="flow_log",
            call_control_id=call_control_id,
            level=line.level,
            line=line.line,
            text=line.text,
        )


class WebhookApp:
    """`POST /webhook`, `GET /healthz` and `GET /metrics`, mountable in any ASGI server.

    A webhook is verified (unless `verifier` is None), parsed, and applied to its call by the
    `runner` in one store transaction; the answer goes out as soon as that transaction commits,
    and the call's new commands are sent afterwards by the `sender`. On
    start-up (ASGI lifespan, or the first request when the server has no lifespan) the sender
    resumes commands left unsent by an earlier process, and finished calls are cleaned up every
    `cleanup_every` seconds once older than `retention`.
    """

    def __init__(
        self,
        runner: Runner,
        store: Store,
        sender: Sender,
        verifier: Verifier | None,
        *,
        clock: Callable[[], float] = time.time,
        max_body: int = MAX_BODY,
        retention: float = 3600.0,
        idle_limit: float = 24 * 3600.0,
        cleanup_every: float = 60.0,
        body_timeout: float = BODY_TIMEOUT,
        metrics: Metrics | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
        dialer: Dialer | None = None,
    ) -> None:
        self.runner = runner
        self.store = store
        self.sender = sender
        self.verifier = verifier
        self._clock = clock
        self._max_body = max_body
        self._retention = retention
        self._idle_limit = idle_limit
        self._cleanup_every = cleanup_every
        self._body_timeout = body_timeout
        self.metrics = metrics or Metrics()
        self._on_close = on_close
        self.dialer = dialer
        self._started = False
        self._cleaner: asyncio.Task[None] | None = None

    # -- life cycle --------------------------------------------------------------------------

    async def startup(self) -> None:
        """Resend what an earlier process left unsent, and start the periodic clean-up."""
        if self._started:
            return
        self._started = True
        resumed = await self.sender.resume()
        _log(logging.INFO, event="startup", resumed_calls=resumed)
        self._cleaner = asyncio.get_running_loop().create_task(self._clean_forever())

    async def shutdown(self) -> None:
        """Stop background work; unsent commands stay in the store for the next start."""
        if self._cleaner is not None:
            self._cleaner.cancel()
            await asyncio.gather(self._cleaner, return_exceptions=True)
        await self.sender.close()
        if self._on_close is not None:
            await self._on_close()

    async def cleanup(self) -> int:
        """End the runs whose wait ran out (a recording that never came after the hangup), then
        forget finished calls older than the retention time; returns how many were forgotten."""
        now = self._clock()
        await self.expire(now)
        removed = await self.store.cleanup(now - self._retention, now - self._idle_limit)
        if removed:
            _log(logging.INFO, event="cleanup", removed_calls=removed)
        return removed

    async def expire(self, now: float) -> int:
        """Hand every run whose wait has run out by `now` its WAIT_EXPIRED event, through the
        webhook's one-transaction path; returns how many runs it changed."""
        changed = 0
        for call_control_id, expires in await self.store.expired(now):
            # The event's id names the moment, so a second worker's try is a duplicate.
            event = Event(WAIT_EXPIRED, {"call_control_id": call_control_id},
                          id=f"wait-expired/{expires!r}")
            handled = await self.runner.feed(call_control_id, event)
            change = handled.change
            if change is None:
                continue
            changed += 1
            _log(
                logging.WARNING,
                event="wait_expired",
                call_control_id=call_control_id,
                end=change.end_reason if change.status != "active" else None,
            )
            _log_flow(call_control_id, handled.logs)
            if change.commands:
                self.sender.wake(call_control_id)
        return changed

    async def _clean_forever(self) -> None:
        while True:
            try:
                await self.cleanup()
            except StoreError as exc:
                _log(logging.ERROR, event="cleanup_failed", error=str(exc))
            await asyncio.sleep(self._cleanup_every)

    # -- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        await self.startup()
        path, method = scope.get("path", ""), scope.get("method", "")
        if path == "/webhook":
            if method != "POST":
                await _answer(send, 405, {"error": "use POST"}, [(b"allow", b"POST")])
                return
            await self._webhook(scope, receive, send)
        elif path == "/healthz":
            if method != "GET":
                await _answer(send, 405, {"error": "use GET"}, [(b"allow", b"GET")])
                return
            await self._health(send)
        elif path == "/calls" or path.startswith("/calls/"):
            await self._calls(scope, receive, send, path, method)
        elif path == "/metrics":
            if method != "GET":
                await _answer(send, 405, {"error": "use GET"}, [(b"allow", b"GET")])
                return
            await self._metrics(send)
        else:
            await _answer(
                send, 404, {"error": "not found: this server has /webhook, /healthz and /metrics"}
            )

    async def _calls(
        self, scope: Scope, receive: Receive, send: Send, path: str, method: str
    ) -> None:
        """`POST /calls` places a call running the flow; `GET /calls/ID` says how it went."""
        dialer = self.dialer
        if dialer is None or not dialer.enabled:
            await _answer(send, 404, {"error": "not found: calling out is off on this server "
                                               "(set FLOWLANG_DIAL_TOKEN to turn it on)"})
            return
        if not dialer.authorized(_header(scope, b"authorization")):
            await _answer(send, 401, {"error": "a valid `Authorization: Bearer TOKEN` is needed"},
                          [(b"www-authenticate", b"Bearer")])
            return
        if path == "/calls":
            if method != "POST":
                await _answer(send, 405, {"error": "use POST"}, [(b"allow", b"POST")])
                return
            try:
                body = await self._read(scope, receive)
            except (_TooLarge, _Slow):
                await _answer(send, 413, {"error": "the request is too large or too slow"})
                return
            except _Gone:
                return
            try:
                status, answer = await dialer.place(body)
            except StoreError as exc:
                status, answer = 503, {"error": f"the store is unavailable: {exc}"}
            _log(logging.INFO, event="dial_request", status=status, id=answer.get("id"))
            await _answer(send, status, answer)
            return
        if method != "GET":
            await _answer(send, 405, {"error": "use GET"}, [(b"allow", b"GET")])
            return
        try:
            found = await dialer.status(path[len("/calls/"):])
        except StoreError as exc:
            await _answer(send, 503, {"error": f"the store is unavailable: {exc}"})
            return
        if found is None:
            await _answer(send, 404, {"error": NO_SUCH_CALL})
            return
        await _answer(send, 200, found)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:  # noqa: BLE001 - reported to the ASGI server
                    _log(logging.ERROR, event="startup_failed", error=str(exc))
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _health(self, send: Send) -> None:
        try:
            await self.store.ping()
        except StoreError as exc:
            await _answer(send, 503, {"status": "unavailable", "error": str(exc)})
            return
        await _answer(send, 200, {"status": "ok"})

    async def _metrics(self, send: Send) -> None:
        counts: Counts | None
        try:
            counts = await self.store.counts()
        except StoreError:
            counts = None
        body = self.metrics.render(counts)
        headers = [
            (b"content-type", CONTENT_TYPE.encode("ascii")),
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        with contextlib.suppress(OSError):
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body:
            raise _TooLarge
        body = bytearray()
        more = True
        try:
            async with asyncio.timeout(self._body_timeout):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Gone
                    body += message.get("body", b"")
                    if len(body) > self._max_body:
                        raise _TooLarge
                    more = bool(message.get("more_body"))
        except TimeoutError:
            raise _Slow from None
        return bytes(body)

    async def _webhook(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        timestamp = _header(scope, TIMESTAMP_HEADER.encode())
        signature = _header(scope, SIGNATURE_HEADER.encode())
        if self.verifier is not None and (not timestamp or not signature):
            await self._refuse(send, 401, "missing signature headers", started)
            return
        try:
            body = await self._read(scope, receive)
        except _TooLarge:
            await self._refuse(send, 413, f"body over {self._max_body} bytes", started)
            return
        except _Gone:
            return
        except _Slow:
            await self._refuse(
                send, 408, f"body not received within {self._body_timeout:g} s", started, True
            )
            return
        if self.verifier is not None:
            try:
                self.verifier.verify(timestamp, signature, body, self._clock())
            except SignatureError as exc:
                await self._refuse(send, 401, str(exc), started)
                return
        try:
            hook = parse_webhook(body)
        except MalformedWebhook as exc:
            await self._refuse(send, 400, str(exc), started)
            return
        if hook.ignored_fields:
            _log(
                logging.WARNING,
                event="webhook_fields_ignored",
                call_control_id=hook.call_control_id,
                event_type=hook.event.type,
                fields=list(hook.ignored_fields),
            )
        if hook.dial is not None and self.dialer is not None:
            try:
                await self.dialer.follow(hook.event.type, hook.event.payload, hook.dial[0])
            except StoreError as exc:
                _log(logging.ERROR, event="dial_update_failed", error=str(exc))
        try:
            handled: Handled = await self.runner.handle(hook)
        except StoreError as exc:
            # Telnyx retries a 5xx, so the event is not lost while the store is unavailable.
            await self._refuse(send, 503, f"store unavailable: {exc}", started)
            return
        except Exception as exc:  # noqa: BLE001 - a bug must not become a traceback to Telnyx
            logger.exception(
                json.dumps({"event": "webhook_failed", "call_control_id": hook.call_control_id})
            )
            await self._refuse(send, 500, f"internal error: {type(exc).__name__}", started)
            return
        if handled.result == "unknown_call" and _ran_here(hook):
            try:
                await self._hang_up_unknown(hook.call_control_id, hook.event.id)
            except StoreError as exc:
                # Telnyx retries a 5xx: the hangup is queued on a later delivery.
                await self._refuse(send, 503, f"store unavailable: {exc}", started)
                return
        answer = _RESULT_BODIES.get(handled.result)
        if answer is None:
            await _answer(send, 200, {"result": handled.result})
        else:
            await _send_json(send, 200, answer)
        elapsed = time.perf_counter() - started
        self.metrics.count(self.metrics.webhooks, handled.result)
        self.metrics.webhook_seconds.observe(elapsed)
        change = handled.change
        if handled.call_control_id is not None:
            if change is not None and change.call_gone:
                self.sender.call_gone(handled.call_control_id)
            if handled.claimed:
                self.sender.take(handled.call_control_id, list(handled.claimed))
            elif change is not None and change.commands:
                self.sender.wake(handled.call_control_id)
        _log(
            logging.INFO,
            event="webhook",
            status=200,
            result=handled.result,
            event_type=hook.event.type,
            event_id=hook.event.id,
            call_control_id=hook.call_control_id,
            commands=len(change.commands) if change else 0,
            end=change.end_reason if change and change.status != "active" else None,
            ms=round(elapsed * 1000, 2),
        )
        _log_flow(hook.call_control_id, handled.logs)

    async def _hang_up_unknown(self, call_control_id: str | None, event_id: str | None) -> None:
        # The store has no run for a call flowlang ran and that is on the line (it was lost, or
        # cleaned up too early): the caller would hear silence, so the call is hung up, through
        # the outbox like any command. The command_id is the same for every delivery of this event.
        if call_control_id is None:
            return
        seed = f"{call_control_id}/{event_id}"
        command_id = "flowlang-unknown-" + hashlib.sha256(seed.encode()).hexdigest()[:24]
        hangup = Outgoing(CALL_COMMAND, "hangup", {"command_id": command_id})
        await self.store.abandon(call_control_id, "unknown call", self._clock(), hangup)
        self.sender.wake(call_control_id)
        _log(logging.WARNING, event="unknown_call_hung_up", call_control_id=call_control_id)

    async def _refuse(
        self, send: Send, status: int, reason: str, started: float, close: bool = False
    ) -> None:
        extra = [(b"connection", b"close")] if close else None
        await _answer(send, status, {"error": _PUBLIC_REASONS.get(status, reason)}, extra)
        elapsed = time.perf_counter() - started
        self.metrics.count(self.metrics.webhooks, str(status))
        self.metrics.webhook_seconds.observe(elapsed)
        _log(
            logging.WARNING,
            event="webhook",
            status=status,
            reason=reason,
            ms=round(elapsed * 1000, 2),
        )


# What a refused request is told. A signature failure says no more than that (the log has the
# detail): a forger learns nothing from the answer.
_PUBLIC_REASONS = {401: "webhook signature check failed"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            text: str = value.decode("latin-1")
            return text
    return None


# The answer to an accepted webhook, one per result, made once (every webhook sends one).
_RESULT_BODIES = {r: json.dumps({"result": r}).encode("utf-8") for r in RESULTS}


async def _answer(
    send: Send,
    status: int,
    payload: dict[str, Any],
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await _send_json(send, status, json.dumps(payload).encode("utf-8"), extra)


async def _send_json(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer with `body`, JSON text already encoded."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *(extra or []),
    ]
    with contextlib.suppress(OSError):
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on `host`:`port` (0: any free port), to hand to an ASGI server.

    Made with an explicit IPPROTO_TCP: asyncio turns Nagle's algorithm off only for sockets
    whose protocol says TCP, and `socket.create_server` leaves it 0. With Nagle on, a response
    sent as headers then body waits for the client's delayed ACK: 40 ms on every webhook.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock


def create_app(
    program: Program,
    store: Store,
    *,
    verifier: Verifier | None,
    api_key: str,
    api_base: str = DEFAULT_API_BASE,
    flow_path: Path | None = None,
    retention: float = 3600.0,
    clock: Callable[[], float] = time.time,
    policy: RetryPolicy | None = None,
    timeout: float = 5.0,
    transport: httpx.AsyncBaseTransport | None = None,
    max_body: int = MAX_BODY,
    cleanup_every: float = 60.0,
    interpreter: Callable[[Program], Runs] | None = None,
    lease: float = 30.0,
    poll_every: float = 1.0,
    body_timeout: float = BODY_TIMEOUT,
    command_id_memory: float = COMMAND_ID_MEMORY,
    environ: Mapping[str, str] | None = None,
    backend_transport: httpx.AsyncBaseTransport | None = None,
    dial_token: str | None = None,
    connection_id: str = "",
    redact: bool = False,
) -> WebhookApp:
    """The whole server for `program` (re-read from `flow_path` when that file changes), wired
    to `store` and to Telnyx at `api_base`. The app owns the store from now on and closes it.

    `policy` says how commands are retried through an outage, `lease` how long a worker holds
    the outbox rows it claimed, `poll_every` how often it looks for rows nobody holds. A flow's
    `fetch` secrets are read from `environ` (the process environment by default). Each call's
    history is kept as long as the call (`retention`), with its numbers masked when `redact`."""
    versions = FlowVersions(program, flow_path, store.load_flow)
    runner = (
        Runner(store, versions, clock, redact=redact)
        if interpreter is None
        else Runner(store, versions, clock, interpreter, redact=redact)
    )
    client = TelnyxClient(
        api_key, api_base, timeout=timeout, policy=policy, transport=transport, clock=clock
    )

    backend = Backend(os.environ if environ is None else environ, transport=backend_transport)

    async def close() -> None:
        await client.aclose()
        await backend.aclose()
        await store.close()

    metrics = Metrics()
    sender = Sender(
        store,
        client,
        clock,
        lease=lease,
        poll_every=poll_every,
        policy=policy,
        command_id_memory=command_id_memory,
        metrics=metrics,
        answered=noter(runner),
    )
    sender.register(FETCH, carrier(backend, runner, sender.wake))
    runner.claim = (sender.worker, lease)
    dialer = Dialer(store, client, versions.current, dial_token, connection_id, clock, sender.wake)
    sender.register(DIAL, dialer.carry_out)
    return WebhookApp(
        runner,
        store,
        sender,
        verifier,
        clock=clock,
        max_body=max_body,
        retention=retention,
        cleanup_every=cleanup_every,
        body_timeout=body_timeout,
        metrics=metrics,
        on_close=close,
        dialer=dialer,
    )
