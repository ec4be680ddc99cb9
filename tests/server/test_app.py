"""The ASGI app with a stand-in flow: security, malformed input, sizes, dedupe, health, logs."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from flowlang.cli.inputs import read_source
from flowlang.compiler import compile_source
from flowlang.runtime.state import client_state
from flowlang.serve.app import create_app
from flowlang.serve.store import open_store
from flowlang.serve.store.postgres import PostgresStore
from flowlang.serve.telnyx.client import RetryPolicy
from flowlang.serve.telnyx.signature import Verifier
from flowlang.serve.telnyx.webhooks import CALL_EVENT_TYPES
from tests.server import standin
from tests.server.postgres import Cluster
from tests.server.scenarios import EVERYTHING
from tests.server.signing import sign

KEY = SigningKey.generate()
API_KEY = "KEY-secret-123"
NOW = 1_800_000_000.0


def envelope(event_type: str, call: str = "call-1", event_id: str = "e1", **payload: Any) -> bytes:
    body = {"call_control_id": call, **payload}
    return json.dumps(
        {"data": {"event_type": event_type, "id": event_id, "payload": body}, "meta": {}}
    ).encode()


INCOMING = envelope("call.initiated", direction="incoming", **{"from": "+1555", "to": "+1666"})


class Telnyx:
    """An in-process Telnyx answering every command from `answer` (a callable), recording them."""

    def __init__(self, answer: Callable[[httpx.Request], Any] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.answer = answer

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.url.path.rsplit("/", 1)[-1], json.loads(request.content)))
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        if self.answer is not None:
            result = self.answer(request)
            if asyncio.iscoroutine(result):
                result = await result
            if result is not None:
                return result
        return httpx.Response(200, json={"data": {"result": "ok"}})

    @property
    def actions(self) -> list[str]:
        return [a for a, _ in self.requests]


class Harness:
    def __init__(self, store_url: str, telnyx: Telnyx, verify: bool = True, **kw: Any) -> None:
        self.telnyx = telnyx
        self.clock: Callable[[], float] = kw.pop("clock", lambda: NOW)
        flow = kw.pop("flow", None)
        if flow is None:
            kw["interpreter"] = standin.Counter
        self.app = create_app(
            standin.program() if flow is None else compile_source(read_source(flow)),
            kw.pop("store", None) or open_store(store_url),
            verifier=Verifier(KEY.verify_key) if verify else None,
            api_key=API_KEY,
            api_base="http://telnyx.test/v2",
            clock=self.clock,
            transport=httpx.MockTransport(telnyx),
            policy=RetryPolicy(max_attempts=2, base_delay=0.0),
            **kw,
        )
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://server"
        )

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.post(
            "/webhook",
            content=body,
            headers=sign(KEY, body, int(self.clock())) if headers is None else headers,
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.app.shutdown()


def run(
    test: Callable[[Harness], Any],
    telnyx: Telnyx | None = None,
    url: str = "sqlite:///:memory:",
    **kw: Any,
) -> Any:
    async def go() -> Any:
        harness = Harness(url, telnyx or Telnyx(), **kw)
        try:
            return await test(harness)
        finally:
            await harness.close()

    return asyncio.run(go())


def test_an_incoming_call_starts_a_run_and_its_command_is_sent() -> None:
    async def test(h: Harness) -> None:
        response = await h.post(INCOMING)
        assert response.status_code == 200 and response.json() == {"result": "started"}
        await h.app.sender.idle()
        assert h.telnyx.requests == [("answer", {"command_id": "call-1-0", "client_state": "MA=="})]
        response = await h.post(envelope("call.answered", event_id="e2"))
        assert response.json() == {"result": "stepped"}
        await h.app.sender.idle()
        assert h.telnyx.actions == ["answer", "speak"]

    run(test)


def test_a_duplicated_webhook_advances_the_call_once() -> None:
    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        answered = envelope("call.answered", event_id="e2")
        results = [(await h.post(answered)).json()["result"] for _ in range(3)]
        assert results == ["stepped", "duplicate", "duplicate"]
        await h.app.sender.idle()
        assert h.telnyx.actions == ["answer", "speak"]

    run(test)


def test_simultaneous_deliveries_of_one_event_advance_the_call_once() -> None:
    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        answered = envelope("call.answered", event_id="e2")
        responses = await asyncio.gather(*(h.post(answered) for _ in range(8)))
        assert sorted(r.json()["result"] for r in responses) == ["duplicate"] * 7 + ["stepped"]
        await h.app.sender.idle()
        assert h.telnyx.actions == ["answer", "speak"]

    run(test)


IGNORED = [
    ("unknown-event-type", envelope("call.something_new", direction="incoming"), "unknown_event"),
    ("unknown-call-hung-up", envelope("call.hangup", call="nobody"), "unknown_call"),
    ("outgoing-call", envelope("call.initiated", direction="outgoing"), "unknown_call"),
    ("no-call-id", json.dumps({"data": {"event_type": "call.hangup"}}).encode(), "no_call"),
]


@pytest.mark.parametrize(("body", "result"), [i[1:] for i in IGNORED], ids=[i[0] for i in IGNORED])
def test_events_that_concern_no_run_are_acknowledged_and_ignored(body: bytes, result: str) -> None:
    async def test(h: Harness) -> None:
        response = await h.post(body)
        assert response.status_code == 200 and response.json() == {"result": result}
        await h.app.sender.idle()
        assert h.telnyx.requests == []

    run(test)


def test_a_call_flowlang_ran_and_the_store_lost_is_hung_up_not_left_in_silence() -> None:
    async def test(h: Harness) -> None:
        # call.speak.ended echoes the client_state of flowlang's 3rd command: the store had
        # this call and lost it, while the caller is still on the line.
        lost = envelope("call.speak.ended", "lost", "e7", client_state=client_state(3))
        for _ in range(2):
            response = await h.post(lost)
            assert response.status_code == 200
            assert response.json() == {"result": "unknown_call"}
        await h.app.sender.idle()
        # Telnyx's retry of the event asks again, with the same command_id: Telnyx ignores it.
        assert h.telnyx.actions == ["hangup", "hangup"]
        (command_id,) = {body["command_id"] for _, body in h.telnyx.requests}
        assert command_id.startswith("flowlang-unknown-")
        assert (await h.app.store.counts()).outbox_depth == 0

    run(test)


@pytest.mark.parametrize(
    "payload",
    [{}, {"client_state": "aGVsbG8="}, {"client_state": 7}],
    ids=["no-client-state", "someone-elses", "not-a-string"],
)
def test_an_unknown_call_flowlang_never_ran_is_acknowledged_and_ignored(
    payload: dict[str, Any],
) -> None:
    async def test(h: Harness) -> None:
        response = await h.post(envelope("call.speak.ended", "stranger", "e8", **payload))
        assert response.status_code == 200 and response.json() == {"result": "unknown_call"}
        await h.app.sender.idle()
        assert h.telnyx.requests == []
        assert (await h.app.store.counts()).outbox_depth == 0

    run(test)


def _without(name: str) -> dict[str, str]:
    headers = sign(KEY, INCOMING, int(NOW))
    del headers[name]
    return headers


REFUSED = [
    ("no-headers", {}),
    ("no-signature", _without("telnyx-signature-ed25519")),
    ("no-timestamp", _without("telnyx-timestamp")),
    ("stale", sign(KEY, INCOMING, int(NOW) - 301)),
    ("from-the-future", sign(KEY, INCOMING, int(NOW) + 301)),
    ("foreign-key", sign(SigningKey.generate(), INCOMING, int(NOW))),
    ("other-body", sign(KEY, INCOMING + b" ", int(NOW))),
]


@pytest.mark.parametrize("headers", [r[1] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_a_webhook_not_signed_by_telnyx_is_refused_and_changes_nothing(
    headers: dict[str, str],
) -> None:
    async def test(h: Harness) -> None:
        response = await h.post(INCOMING, headers)
        assert response.status_code == 401
        assert response.json() == {"error": "webhook signature check failed"}
        # The same event, now properly signed, is new to the server: nothing was recorded.
        assert (await h.post(INCOMING)).json() == {"result": "started"}

    run(test)


def test_insecure_mode_accepts_unsigned_webhooks() -> None:
    async def test(h: Harness) -> None:
        assert (await h.post(INCOMING, {})).json() == {"result": "started"}

    run(test, verify=False)


MALFORMED = [
    ("not-json", b"{not json"),
    ("api-v1", b'{"event_type": "call.initiated", "payload": {}}'),
    ("empty", b""),
]


@pytest.mark.parametrize("body", [m[1] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_signed_but_malformed_body_is_a_400(body: bytes) -> None:
    async def test(h: Harness) -> None:
        response = await h.post(body)
        assert response.status_code == 400
        assert response.json()["error"]

    run(test)


def test_a_declared_oversize_body_is_refused_before_reading() -> None:
    async def test(h: Harness) -> None:
        big = b"x" * 2000
        response = await h.post(big)
        assert response.status_code == 413

    run(test, max_body=1000)


def test_a_streamed_oversize_body_stops_being_read() -> None:
    async def test(h: Harness) -> None:
        chunks = [b"x" * 600] * 50
        received: list[int] = []

        async def receive() -> dict[str, Any]:
            received.append(1)
            return {"type": "http.request", "body": chunks[len(received) - 1], "more_body": True}

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        headers = [(k.encode(), v.encode()) for k, v in sign(KEY, b"", int(NOW)).items()]
        scope = {"type": "http", "method": "POST", "path": "/webhook", "headers": headers}
        await h.app(scope, receive, send)
        assert sent[0]["status"] == 413
        assert len(received) == 2

    run(test, max_body=1000)


def test_health_and_routes() -> None:
    async def test(h: Harness) -> None:
        assert (await h.http.get("/healthz")).status_code == 200
        assert (await h.http.get("/webhook")).status_code == 405
        assert (await h.http.get("/nope")).status_code == 404
        await h.app.store.close()
        response = await h.http.get("/healthz")
        assert response.status_code == 503 and response.json()["status"] == "unavailable"

    run(test)


def test_health_says_why_postgresql_cannot_be_written_now(postgres: Cluster) -> None:
    # A role of its own, refused and let in again: the cluster the other tests share stays up.
    name = f"health_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {name} LOGIN")
        admin.execute(f"CREATE SCHEMA {name} AUTHORIZATION {name}")
    url = postgres.url().replace("postgres@", f"{name}@") + f"?options=-csearch_path%3D{name}"

    def login(allowed: bool) -> None:
        with psycopg.connect(postgres.url(), autocommit=True) as admin:
            admin.execute(f"ALTER ROLE {name} {'LOGIN' if allowed else 'NOLOGIN'}")
            # Its connections are cut as a server going away cuts them.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (name,),
            )

    async def test(h: Harness) -> None:
        assert (await h.http.get("/healthz")).status_code == 200
        login(False)
        # The first check meets a pooled connection the server cut; the next waits for one:
        # both say what is wrong now, not how the last connection ended.
        for _ in range(2):
            health = await h.http.get("/healthz")
            error = health.json()["error"]
            assert health.status_code == 503, error
            assert "not permitted to log in" in error and "terminating" not in error
        login(True)
        health = await h.http.get("/healthz")
        assert health.status_code == 200 or "not permitted" not in health.json()["error"]

    run(test, store=PostgresStore(url, timeout=0.5))


# How long PostgreSQL is down: psycopg_pool's own pauses between tries to open a connection
# double (1 s, 2 s, 4 s, ...), so after 3.5 s down it would try again only some 3 s after it is
# back.
OUTAGE = 3.5
# How soon after PostgreSQL accepts connections again the server must be serving again.
RECOVERY = 1.5


def test_after_postgresql_restarts_webhooks_and_health_recover_within_a_second(
    restartable: Cluster,
) -> None:
    async def test(h: Harness) -> None:
        loop = asyncio.get_running_loop()
        assert (await h.post(INCOMING)).json() == {"result": "started"}
        # Several connections in the pool, each cut by the restart.
        checks = await asyncio.gather(*(h.http.get("/healthz") for _ in range(4)))
        assert [c.status_code for c in checks] == [200] * 4
        await asyncio.to_thread(restartable.shut_down)
        # The load balancer's checks as the outage begins meet every cut connection at once.
        outage = asyncio.gather(*(h.http.get("/healthz") for _ in range(12)))
        await asyncio.sleep(OUTAGE - 1)
        # Telnyx delivers an event shortly before PostgreSQL is back: it waits for it.
        late = asyncio.ensure_future(h.post(envelope("call.answered", event_id="e2")))
        await asyncio.sleep(1)
        await asyncio.to_thread(restartable.start)
        back = loop.time()
        response = await asyncio.wait_for(late, RECOVERY)
        assert response.status_code == 200, response.json()
        assert response.json() == {"result": "stepped"}
        health = await asyncio.wait_for(h.http.get("/healthz"), back + RECOVERY - loop.time())
        assert health.status_code == 200, health.json()
        # Telnyx's next event is applied on a connection of its own, none the restart cut.
        response = await asyncio.wait_for(
            h.post(envelope("call.speak.ended", event_id="e3")), back + RECOVERY - loop.time()
        )
        assert response.json() == {"result": "stepped"}
        assert {c.status_code for c in await outage} <= {200, 503}

    run(test, store=PostgresStore(restartable.database()))


def test_connections_a_quick_restart_of_postgresql_cut_fail_no_webhook(
    restartable: Cluster,
) -> None:
    async def test(h: Harness) -> None:
        assert (await h.post(INCOMING)).json() == {"result": "started"}
        checks = await asyncio.gather(*(h.http.get("/healthz") for _ in range(4)))
        assert [c.status_code for c in checks] == [200] * 4
        await asyncio.to_thread(restartable.shut_down)
        await asyncio.to_thread(restartable.start)
        # Each pooled connection the restart cut is put aside unused, not failed on.
        checks = [await h.http.get("/healthz") for _ in range(4)]
        assert [c.status_code for c in checks] == [200] * 4, [c.json() for c in checks]
        response = await h.post(envelope("call.answered", event_id="e2"))
        assert response.status_code == 200, response.json()

    run(test, store=PostgresStore(restartable.database()))


def test_the_answer_does_not_wait_for_telnyx() -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> None:
        await release.wait()

    async def test(h: Harness) -> None:
        response = await asyncio.wait_for(h.post(INCOMING), 5)
        assert response.json() == {"result": "started"}
        assert h.app.sender.busy == 1
        release.set()
        await h.app.sender.idle()
        assert h.telnyx.actions == ["answer"]

    run(test, Telnyx(slow))


def test_a_refused_command_stops_the_run_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    refusal = {"errors": [{"code": "90018", "title": "Call has already ended"}]}

    def refuse(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/speak"):
            return httpx.Response(422, json=refusal)
        return None

    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        await h.post(envelope("call.answered", event_id="e2"))
        await h.app.sender.idle()
        response = await h.post(envelope("call.speak.ended", event_id="e3"))
        assert response.json() == {"result": "call_over"}
        assert (await h.app.store.counts()).outbox_depth == 0

    with caplog.at_level(logging.INFO, logger="flowlang"):
        run(test, Telnyx(refuse))
    stopped = [json.loads(r.message) for r in caplog.records if "run_stopped" in r.message]
    assert stopped[0]["call_control_id"] == "call-1"
    assert "90018" in stopped[0]["reason"]
    commands = [json.loads(r.message) for r in caplog.records if '"command"' in r.message]
    assert commands[-1]["error_code"] == "90018"


@pytest.mark.parametrize(
    ("code", "hung_up"),
    [("90018", False), ("90015", False), ("10032", True), ("90034", True)],
    ids=["call-ended", "unknown-call", "bad-parameter", "not-answered"],
)
def test_a_refusal_hangs_up_unless_telnyx_says_the_call_is_gone(code: str, hung_up: bool) -> None:
    def refuse(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/speak"):
            return httpx.Response(422, json={"errors": [{"code": code, "title": "Refused"}]})
        return None

    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        await h.post(envelope("call.answered", event_id="e2"))
        await h.app.sender.idle()
        assert h.telnyx.actions == ["answer", "speak", *(["hangup"] if hung_up else [])]

    run(test, Telnyx(refuse))


def test_unsent_commands_are_sent_after_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/calls.db"
    hold = asyncio.Event()

    async def never(request: httpx.Request) -> None:
        await hold.wait()

    async def first(h: Harness) -> None:
        await h.post(INCOMING)
        await h.post(envelope("call.initiated", "call-2", "e9", direction="incoming"))

    run(first, Telnyx(never), url)
    telnyx = Telnyx()

    async def second(h: Harness) -> None:
        await h.app.startup()
        await h.app.sender.idle()
        assert sorted(body["command_id"] for _, body in telnyx.requests) == ["call-1-0", "call-2-0"]

    run(second, telnyx, url)


def test_logs_are_json_with_the_call_id_and_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    headers = sign(KEY, INCOMING, int(NOW))

    async def test(h: Harness) -> None:
        await h.post(INCOMING, headers)
        await h.post(INCOMING, sign(SigningKey.generate(), INCOMING, int(NOW)))
        await h.app.sender.idle()

    with caplog.at_level(logging.INFO, logger="flowlang"):
        run(test)
    lines = [json.loads(r.message) for r in caplog.records if r.name.startswith("flowlang")]
    hooks = [line for line in lines if line["event"] == "webhook"]
    assert [(w["status"], w.get("call_control_id")) for w in hooks] == [
        (200, "call-1"),
        (401, None),
    ]
    assert any(line["event"] == "command" and line["call_control_id"] == "call-1" for line in lines)
    text = caplog.text
    assert API_KEY not in text
    assert headers["telnyx-signature-ed25519"] not in text


def test_finished_calls_are_cleaned_up_after_the_retention_time(tmp_path: Path) -> None:
    now = [NOW]
    url = f"sqlite:///{tmp_path}/calls.db"

    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        await h.post(envelope("call.initiated", "call-2", "e5", direction="incoming"))
        await h.post(envelope("call.hangup", event_id="e2"))
        await h.app.sender.idle()
        now[0] += 3599
        assert await h.app.cleanup() == 0
        now[0] += 2
        assert await h.app.cleanup() == 1
        # The finished call is forgotten; the one still running is not.
        assert (await h.post(envelope("call.answered", event_id="e3"))).json() == {
            "result": "unknown_call"
        }
        answered = envelope("call.answered", "call-2", "e6")
        assert (await h.post(answered)).json() == {"result": "stepped"}

    run(test, url=url, clock=lambda: now[0], retention=3600.0)


def test_a_store_that_fails_mid_webhook_is_a_503_so_telnyx_retries() -> None:
    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        await h.app.store.close()
        response = await h.post(envelope("call.answered", event_id="e2"))
        assert response.status_code == 503

    run(test)


EVENT_TYPES = sorted(CALL_EVENT_TYPES) + ["call.unheard_of", ""]
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
PAYLOADS = st.fixed_dictionaries(
    {"call_control_id": st.sampled_from(["call-1", "call-2"])},
    optional={
        "status": st.sampled_from(["valid", "invalid", "timeout", "call_hangup", "x"]) | JSONISH,
        "digits": st.text("0123456789#*", max_size=5) | JSONISH,
        "client_state": st.sampled_from(["MA==", "eyJ9", "!!", ""]) | JSONISH,
        "direction": st.sampled_from(["incoming", "outgoing"]),
        "result": JSONISH,
        "digit": st.text("0123456789", max_size=1),
    },
)


@given(
    events=st.lists(
        st.tuples(st.sampled_from(EVENT_TYPES), PAYLOADS, st.text("abc", max_size=2)),
        max_size=8,
    )
)
@settings(max_examples=60, deadline=None)
def test_any_sequence_of_signed_webhooks_is_answered_200(events: list) -> None:
    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        for event_type, payload, event_id in events:
            body = json.dumps(
                {"data": {"event_type": event_type, "id": event_id, "payload": payload}}
            ).encode()
            response = await h.post(body)
            expected = 400 if not event_type else 200
            assert response.status_code == expected, response.text
        assert (await h.http.get("/healthz")).status_code == 200

    run(test, flow=EVERYTHING)


def test_commands_waiting_when_the_caller_hangs_up_are_dropped() -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> None:
        await release.wait()

    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        while not h.telnyx.requests:  # the answer is on its way, and Telnyx is slow
            await asyncio.sleep(0.001)
        await h.post(envelope("call.answered", event_id="e2"))
        assert [i.action for i in await h.app.store.unsent("call-1")] == ["answer", "speak"]
        assert (await h.post(envelope("call.hangup", event_id="e3"))).json() == {
            "result": "stepped"
        }
        release.set()
        await h.app.sender.idle()
        assert h.telnyx.actions == ["answer"]
        assert (await h.app.store.counts()).outbox_depth == 0

    run(test, Telnyx(slow))


def test_a_body_nested_too_deep_is_a_400_not_a_crash() -> None:
    async def test(h: Harness) -> None:
        deep = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        response = await h.post(deep)
        assert response.status_code == 400
        assert "nested" in response.json()["error"]
        assert (await h.http.get("/healthz")).status_code == 200

    run(test)


def test_a_body_that_trickles_in_is_cut_off_and_its_connection_closed() -> None:
    async def test(h: Harness) -> None:
        async def receive() -> dict[str, Any]:
            await asyncio.sleep(0.05)
            return {"type": "http.request", "body": b"x", "more_body": True}

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        headers = [(k.encode(), v.encode()) for k, v in sign(KEY, b"", int(NOW)).items()]
        scope = {"type": "http", "method": "POST", "path": "/webhook", "headers": headers}
        await h.app(scope, receive, send)
        assert sent[0]["status"] == 408
        assert (b"connection", b"close") in sent[0]["headers"]

    run(test, body_timeout=0.3)


def test_a_wrongly_typed_field_is_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        gathered = envelope("call.gather.ended", event_id="e2", digits=12, status="valid")
        response = await h.post(gathered)
        assert response.status_code == 200

    with caplog.at_level(logging.INFO, logger="flowlang"):
        run(test)
    ignored = [json.loads(r.message) for r in caplog.records if "fields_ignored" in r.message]
    assert ignored == [
        {
            "event": "webhook_fields_ignored",
            "call_control_id": "call-1",
            "event_type": "call.gather.ended",
            "fields": ["digits"],
        }
    ]


def test_metrics_count_webhooks_commands_and_read_the_store() -> None:
    refusal = {"errors": [{"code": "90018", "title": "Call has already ended"}]}

    def refuse(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/speak"):
            return httpx.Response(422, json=refusal)
        return None

    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        await h.post(INCOMING)
        await h.post(b"{oops")
        await h.app.sender.idle()
        await h.post(envelope("call.answered", event_id="e2"))
        await h.app.sender.idle()
        await h.post(envelope("call.initiated", "call-2", "e3", direction="incoming"))
        await h.app.sender.idle()
        response = await h.http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        for line in [
            'flowlang_webhooks_total{result="started"} 2.0',
            'flowlang_webhooks_total{result="duplicate"} 1.0',
            'flowlang_webhooks_total{result="400"} 1.0',
            'flowlang_commands_total{action="answer",outcome="sent"} 2.0',
            'flowlang_commands_total{action="speak",outcome="rejected"} 1.0',
            "flowlang_runs_stopped_total 1.0",
            "flowlang_active_calls 1.0",
            "flowlang_outbox_depth 0.0",
            "flowlang_store_up 1.0",
            "flowlang_webhook_seconds_count 5.0",
        ]:
            assert line in text, line

    run(test, Telnyx(refuse))


def test_a_deleted_store_file_is_a_503_so_telnyx_retries(tmp_path: Path) -> None:
    async def test(h: Harness) -> None:
        await h.post(INCOMING)
        for name in ("calls.db", "calls.db-wal", "calls.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        response = await h.post(envelope("call.answered", event_id="e2"))
        assert response.status_code == 503
        health = await h.http.get("/healthz")
        assert health.status_code == 503 and "deleted or replaced" in health.json()["error"]

    run(test, url=f"sqlite:///{tmp_path}/calls.db")


def test_asking_how_a_placed_call_went_while_the_store_is_down_is_a_503() -> None:
    reminder = Path(__file__).resolve().parents[2] / "examples" / "appointment_reminder.flow"
    token = {"authorization": "Bearer dial-token"}

    async def test(h: Harness) -> None:
        inputs = {"patient": "Ann Lee", "day": "Tuesday", "time": "10 AM"}
        placed = await h.http.post("/calls", json={"to": "+13125550111", "inputs": inputs},
                                   headers=token)
        assert placed.status_code == 202, placed.text
        await h.app.store.close()
        asked = await h.http.get(f"/calls/{placed.json()['id']}", headers=token)
        assert asked.status_code == 503 and "store is unavailable" in asked.json()["error"]

    run(test, flow=reminder, dial_token="dial-token", connection_id="1494404757140276705")
