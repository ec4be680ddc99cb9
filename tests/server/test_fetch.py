"""`fetch` in `serve`, end to end over loopback: the real server, the fake Telnyx, and a real
backend that answers well or badly; a server killed mid-fetch redoes it after a restart."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.signing import SigningKey

from flowlang.offline.simulator import simulate
from flowlang.runtime.commands import FetchRequest
from flowlang.serve.app import create_app
from flowlang.serve.backend import Answer, Backend
from flowlang.serve.store import open_store
from flowlang.serve.telnyx.signature import Verifier
from tests.server.backend import FakeBackend
from tests.server.fake_telnyx import FakeTelnyx
from tests.server.live import ServeProcess, ThreadServer, wait_for
from tests.server.scenarios import finish, program, without_ids
from tests.server.signing import public_key_b64

SECRET = "Bearer sk-live-7d1e9c-never-print-me"


def order_flow(base: str) -> str:
    return f"""\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    fetch "{base}/orders/{{caller}}" into status timeout 2s:
        header "Authorization" secret "ACME_TOKEN"
        on error:
            say "Sorry, I cannot look that up right now."
            hangup
    say "Your order is {{status.state}} with {{status.items.count}} items."
    fetch "{base}/callbacks" method "POST" into booked:
        send number = caller
        send items = status.items.count + 1
        on error: hangup
    say "Callback {{booked.id}} booked."
    hangup
"""


def bad_flow(base: str, path: str) -> str:
    return f"""\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    fetch "{base}/{path}" into status timeout 1s:
        header "Authorization" secret "ACME_TOKEN"
        on error:
            say "Sorry, I cannot look that up right now."
            hangup
    say "Your order is {{status.state}}."
    hangup
"""


class Rig:
    """The served flow, the fake Telnyx and the backend, wired together."""

    def __init__(self, tmp: Path, text: str, backend: FakeBackend) -> None:
        self.tmp = tmp
        self.flow = tmp / "order.flow"
        self.flow.write_text(text, encoding="utf-8")
        self.key = SigningKey.generate()
        self.fake = FakeTelnyx(self.key)
        self.backend = backend
        app = create_app(
            program(self.flow),
            open_store(f"sqlite:///{tmp}/calls.db"),
            verifier=Verifier(self.key.verify_key),
            api_key=self.fake.api_key,
            api_base=self.fake.api_base,
            environ={"ACME_TOKEN": SECRET},
        )
        self.server = ThreadServer(app)
        self.fake.webhook_url = self.server.url + "/webhook"

    def said(self, call: Any) -> list[str]:
        return [b["payload"] for a, b in call.accepted if a == "speak"]

    def stored_bytes(self) -> bytes:
        return b"".join(p.read_bytes() for p in self.tmp.glob("calls.db*"))

    def close(self) -> None:
        self.server.stop()
        self.fake.close()


@pytest.fixture
def backend() -> Any:
    made = FakeBackend()
    yield made
    made.close()


def _records(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    found = []
    for record in caplog.records:
        message = record.getMessage()
        if message.startswith("{") and json.loads(message).get("event") == event:
            found.append(json.loads(message))
    return found


def test_a_fetch_answer_goes_on_with_the_call_like_the_simulator(
    tmp_path: Path, backend: FakeBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flowlang.serve.app")
    rig = Rig(tmp_path, order_flow(backend.base), backend)
    try:
        call = rig.fake.call("v3:order-1", [])
        finish(call, timeout=60)
    finally:
        rig.close()
    assert rig.said(call) == [
        "Your order is shipped with 2 items.",
        "Callback 7 booked.",
    ]
    get, post = backend.requests
    # The caller's number is one piece of the URL: its `+` is percent-encoded.
    assert get["method"] == "GET" and get["path"] == "/orders/%2B15550001111"
    assert get["headers"]["authorization"] == SECRET
    assert "idempotency-key" not in get["headers"]
    assert post["method"] == "POST"
    assert json.loads(post["body"]) == {"number": "+15550001111", "items": 3}
    assert post["headers"]["idempotency-key"] == "v3:order-1/4"
    # Exactly what the simulator sends when the backend's answers are given as inputs.
    expected = simulate(
        program(rig.flow),
        ['fetch={"state": "shipped", "items": {"count": 2}}', 'fetch={"id": 7}'],
    )
    assert without_ids(call.accepted) == without_ids(
        [(c.action, c.body) for c in expected.commands]
    )
    fetches = _records(caplog, "fetch")
    assert [(f["method"], f["result"], f["http_status"]) for f in fetches] == [
        ("GET", "ok", 200),
        ("POST", "ok", 200),
    ]
    assert SECRET not in caplog.text
    assert SECRET.encode() not in rig.stored_bytes()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("html", "the answer is not JSON (text/html)"),
        ("500", "the backend answered HTTP 500"),
        ("big", "the answer is larger than 64 KiB"),
        ("array", "the answer is a JSON list, not an object {...}"),
        ("hang", "no answer within 1s"),
    ],
)
def test_a_bad_backend_takes_on_error_with_one_log_line_and_no_secret(
    tmp_path: Path,
    backend: FakeBackend,
    caplog: pytest.LogCaptureFixture,
    path: str,
    reason: str,
) -> None:
    caplog.set_level(logging.INFO, logger="flowlang.serve.app")
    rig = Rig(tmp_path, bad_flow(backend.base, path), backend)
    try:
        call = rig.fake.call("v3:bad-1", [])
        finish(call, timeout=60)
    finally:
        rig.close()
    assert rig.said(call) == ["Sorry, I cannot look that up right now."]
    assert [a for a, _ in call.accepted][-1] == "hangup"
    (line,) = _records(caplog, "fetch")
    assert line["result"] == "error"
    assert line["reason"] == reason
    assert line["url"] == f"{backend.base}/{path}"
    assert SECRET not in caplog.text
    assert SECRET.encode() not in rig.stored_bytes()


def test_a_secret_missing_from_the_environment_is_an_error_that_names_it(
    tmp_path: Path, backend: FakeBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flowlang.serve.app")
    text = bad_flow(backend.base, "orders/1").replace("ACME_TOKEN", "UNSET_TOKEN")
    rig = Rig(tmp_path, text, backend)
    try:
        call = rig.fake.call("v3:nosecret-1", [])
        finish(call, timeout=60)
    finally:
        rig.close()
    assert rig.said(call) == ["Sorry, I cannot look that up right now."]
    (line,) = _records(caplog, "fetch")
    assert line["reason"] == "the secret UNSET_TOKEN is not set in the environment"
    assert backend.requests == []


def test_the_webhook_is_answered_while_the_fetch_still_runs(
    tmp_path: Path, backend: FakeBackend
) -> None:
    rig = Rig(tmp_path, bad_flow(backend.base, "hang"), backend)
    try:
        call = rig.fake.call("v3:slow-1", [])
        backend.arrived.wait(30)
        # The backend holds the request; every webhook so far has had its answer.
        wait_for(lambda: call.settled, 30, "the webhooks to be answered")
        assert not call.finished
        backend.hold.set()
        finish(call, timeout=60)
    finally:
        rig.close()


GATE_FLOW = """\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    say "One moment."
    fetch "{base}/gate" method "POST" into booked timeout 10s:
        header "Authorization" secret "ACME_TOKEN"
        send number = caller
        on error:
            say "Sorry."
            hangup
    say "Booking {{booked.id}} is confirmed."
    hangup
"""


def test_a_server_killed_during_a_fetch_redoes_it_with_the_same_key_after_a_restart(
    tmp_path: Path, backend: FakeBackend
) -> None:
    flow = tmp_path / "gate.flow"
    flow.write_text(GATE_FLOW.format(base=backend.base), encoding="utf-8")
    key = SigningKey.generate()
    fake = FakeTelnyx(key)
    env = {
        "TELNYX_PUBLIC_KEY": public_key_b64(key),
        "TELNYX_API_KEY": fake.api_key,
        "ACME_TOKEN": SECRET,
    }
    store = f"sqlite:///{tmp_path}/calls.db"
    quick = ("--lease", "3s", "--command-timeout", "1s")
    server = ServeProcess(flow, store, fake.api_base, env, extra=quick)
    port = server.port
    fake.webhook_url = server.url + "/webhook"
    try:
        call = fake.call("v3:killed-1", [])
        assert backend.arrived.wait(60), "the fetch never reached the backend"
        server.kill()
        # The first request is still held; the restarted server asks again.
        server = ServeProcess(flow, store, fake.api_base, env, port=port, extra=quick)
        finish(call, timeout=120)
        backend.hold.set()
        logs = "\n".join(server.lines)
    finally:
        server.stop()
        fake.close()
    first, again = backend.requests[:2]
    assert first["headers"]["idempotency-key"] == again["headers"]["idempotency-key"]
    assert json.loads(again["body"]) == {"number": "+15550001111"}
    said = [b["payload"] for a, b in call.accepted if a == "speak"]
    assert said == ["One moment.", "Booking 8 is confirmed."]
    assert SECRET not in logs
    assert SECRET.encode() not in b"".join(p.read_bytes() for p in tmp_path.glob("calls.db*"))


def test_a_fetch_is_in_the_calls_history_by_secret_name_and_replays(
    tmp_path: Path, backend: FakeBackend
) -> None:
    from flowlang.offline.replay import caller_actions, load_call, replay
    from flowlang.offline.simulator import input_text

    rig = Rig(tmp_path, order_flow(backend.base), backend)
    try:
        finish(rig.fake.call("v3:order-1", []), timeout=60)
    finally:
        rig.close()
    call = load_call(f"sqlite:///{tmp_path}/calls.db", "v3:order-1")
    assert replay(call).ok
    requests = [s.fetch for s in (call.start, *call.steps) if s.fetch is not None]
    assert [r.method for r in requests] == ["GET", "POST"]
    assert requests[0].headers == (("Authorization", "ACME_TOKEN", True),)
    assert [input_text(a) for a in caller_actions(call)] == [
        'fetch={"state": "shipped", "items": {"count": 2}}',
        'fetch={"id": 7}',
    ]
    recorded = json.dumps([e.data for e in call.history.entries]
                          + [d.body for d in call.history.deliveries])
    assert SECRET not in recorded and "ACME_TOKEN" in recorded


def voicemail_flow(base: str, path: str) -> str:
    return f"""\
voice "Telnyx.KokoroTTS.af"
sms_from "+13125550199"

main:
    answer
    record into msg max 2m:
        on saved:
            fetch "{base}/{path}" method "POST" into stored:
                header "Authorization" secret "ACME_TOKEN"
                send url = msg.url
                send seconds = msg.duration
                on error: sms "+13125550100" "Voicemail from {{caller}}: {{msg.url}}"
            log "stored as {{stored.id}}"
        on error: log "the recording failed"
    say "Thank you."
    hangup

on hangup:
    log "caller gone"
"""


def _ended(rig: Rig, call_control_id: str) -> tuple[str, str] | None:
    with sqlite3.connect(rig.tmp / "calls.db") as db:
        row = db.execute(
            "SELECT status, end_reason FROM calls WHERE call_control_id = ?", (call_control_id,)
        ).fetchone()
    return None if row is None or row[0] == "active" else (row[0], row[1])


def test_a_voicemail_left_by_hanging_up_is_posted_to_the_backend_after_the_call(
    tmp_path: Path, backend: FakeBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flowlang.serve.app")
    rig = Rig(tmp_path, voicemail_flow(backend.base, "callbacks"), backend)
    try:
        call = rig.fake.call("v3:vm-post", ["hangup", "saved=21"])
        finish(call, timeout=60)
        wait_for(lambda: _ended(rig, "v3:vm-post") is not None, 30, "the run to end")
    finally:
        rig.close()
    # The call was gone before the recording came: nothing more was sent to it.
    assert [a for a, _ in call.accepted] == ["answer", "record_start"]
    (post,) = backend.requests
    assert (post["method"], post["path"]) == ("POST", "/callbacks")
    body = json.loads(post["body"])
    assert body["url"].startswith("https://storage.example.com/recordings/")
    assert body["seconds"] == 21
    assert post["headers"]["authorization"] == SECRET
    assert post["headers"]["idempotency-key"] == "v3:vm-post/3"
    logs = [line["text"] for line in _records(caplog, "flow_log")]
    assert logs == ["stored as 7", "caller gone"]
    assert rig.fake.messages == []
    assert _ended(rig, "v3:vm-post") == ("ended", "hangup")
    # Exactly what the simulator does when the backend's answer is given as an input.
    expected = simulate(program(rig.flow), ["hangup", "saved=21", 'fetch={"id": 7}'])
    assert without_ids(call.accepted) == without_ids(
        [(c.action, c.body) for c in expected.commands if not c.is_message]
    )


def test_a_backend_that_fails_after_the_hangup_runs_the_fetchs_on_error(
    tmp_path: Path, backend: FakeBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flowlang.serve.app")
    rig = Rig(tmp_path, voicemail_flow(backend.base, "500"), backend)
    try:
        call = rig.fake.call("v3:vm-down", ["hangup", "saved=9"])
        finish(call, timeout=60)
        wait_for(lambda: _ended(rig, "v3:vm-down") is not None, 30, "the run to end")
        wait_for(lambda: len(rig.fake.messages) == 1, 30, "the text of its on error:")
    finally:
        rig.close()
    (text,) = rig.fake.messages
    assert text["to"] == "+13125550100"
    assert text["text"].startswith("Voicemail from +15550001111: https://storage.example.com/")
    (line,) = _records(caplog, "fetch")
    assert (line["result"], line["reason"]) == ("error", "the backend answered HTTP 500")
    assert [line["text"] for line in _records(caplog, "flow_log")][-1] == "caller gone"
    assert _ended(rig, "v3:vm-down") == ("ended", "hangup")


def test_on_hangup_tells_the_backend_that_the_caller_hung_up(
    tmp_path: Path, backend: FakeBackend, caplog: pytest.LogCaptureFixture
) -> None:
    # LANGUAGE.md 1 and 14: a `fetch` does not touch the call, so `on hangup:` may use one.
    caplog.set_level(logging.INFO, logger="flowlang.serve.app")
    flow = f"""\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    gather digits 1 into choice:
        say "Press a key."
        on digits: hangup

on hangup:
    fetch "{backend.base}/callbacks" method "POST" into told:
        send who = caller
        on error: log "not told"
    log "told as {{told.id}}"  # flowlang: ignore[FL802]
"""
    rig = Rig(tmp_path, flow, backend)
    try:
        call = rig.fake.call("v3:gone", ["hangup"])
        finish(call, timeout=60)
        wait_for(lambda: _ended(rig, "v3:gone") is not None, 30, "the run to end")
    finally:
        rig.close()
    (post,) = backend.requests
    assert (post["method"], post["path"]) == ("POST", "/callbacks")
    assert json.loads(post["body"]) == {"who": "+15550001111"}
    assert [line["text"] for line in _records(caplog, "flow_log")] == ["told as 7"]
    assert _ended(rig, "v3:gone") == ("ended", "hangup")


def fetched(request: FetchRequest, environ: dict[str, str] | None = None) -> Answer:
    """What the server's Backend answers to `request`, with `environ` for its secrets."""

    async def fetch() -> Answer:
        made = Backend(environ or {})
        try:
            return await made.fetch(request)
        finally:
            await made.aclose()

    return asyncio.run(fetch())


@pytest.mark.parametrize(
    ("headers", "environ"),
    [
        ((("X-Name", "José", False),), {}),
        ((("X-Name", "NAME_TOKEN", True),), {"NAME_TOKEN": "José"}),
    ],
    ids=["written", "secret"],
)
def test_a_header_beyond_ascii_is_sent_as_utf8_not_left_failing(
    backend: FakeBackend, headers: tuple[tuple[str, str, bool], ...], environ: dict[str, str]
) -> None:
    # httpx refuses such a value as text: the request failed with an exception the server
    # retried for ever, and the caller waited in silence.
    answer = fetched(FetchRequest(
        "GET", f"{backend.base}/orders/1", headers, None, 2000, "cs", "v3:x/1"
    ), environ)
    assert answer.ok, answer.reason
    (got,) = backend.requests
    assert got["headers"]["x-name"].encode("latin-1").decode("utf-8") == "José"


def test_a_request_that_cannot_be_made_is_an_error_answer_not_an_exception() -> None:
    answer = fetched(FetchRequest(
        "GET", "http://127.0.0.1:9/x", (("Bäd-Name", "v", False),), None, 2000, "cs", "k"
    ))
    assert not answer.ok
    assert answer.reason == "the request could not be made (UnicodeEncodeError)"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_an_answer_with_nan_or_infinity_is_not_json_and_fails(constant: str) -> None:
    # Python's json reads them, but they are not JSON (RFC 8259): LANGUAGE.md 10 sends
    # anything but a JSON object to `on error:`.
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=f'{{"total": {constant}}}'.encode(),
            headers={"content-type": "application/json"},
        )

    async def fetch() -> Answer:
        made = Backend({}, transport=httpx.MockTransport(answer))
        try:
            return await made.fetch(FetchRequest(
                "GET", "https://api.acme.com/orders/1", (), None, 2000, "cs", "k"
            ))
        finally:
            await made.aclose()

    got = asyncio.run(fetch())
    assert not got.ok
    assert got.reason == "the answer is not JSON (application/json)"
