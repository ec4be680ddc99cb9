"""End to end over loopback: the real server (uvicorn in a thread) against the fake Telnyx."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.signing import SigningKey

from flowlang.serve.app import WebhookApp, create_app
from flowlang.serve.store import open_store
from flowlang.serve.telnyx.client import RetryPolicy
from flowlang.serve.telnyx.signature import Verifier
from tests.server.fake_telnyx import Chaos, FakeTelnyx
from tests.server.live import ThreadServer, wait_for
from tests.server.scenarios import (
    EVERYTHING,
    EXAMPLES,
    IDS,
    SCENARIOS,
    assert_ran_like_the_simulator,
    expected,
    finish,
    program,
    stuck,
    without_ids,
)
from tests.server.signing import sign


class Rig:
    """A fake Telnyx and a served flow wired to each other."""

    def __init__(self, tmp: Path, flow: Path, **options: Any) -> None:
        self.key = SigningKey.generate()
        self.fake = FakeTelnyx(self.key)
        self.flow = flow
        self.app: WebhookApp = create_app(
            program(flow),
            open_store(f"sqlite:///{tmp}/calls.db"),
            verifier=Verifier(self.key.verify_key),
            api_key=self.fake.api_key,
            api_base=self.fake.api_base,
            flow_path=flow,
            **options,
        )
        self.server = ThreadServer(self.app)
        self.fake.webhook_url = self.server.url + "/webhook"

    def close(self) -> None:
        self.server.stop()
        self.fake.close()


@pytest.fixture
def rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Rig]:
    flow, options = getattr(request, "param", (EVERYTHING, {}))
    built = Rig(tmp_path, flow, **options)
    yield built
    built.close()


@pytest.mark.parametrize(("flow", "inputs"), SCENARIOS, ids=IDS)
def test_a_whole_call_runs_as_simulated(tmp_path: Path, flow: Path, inputs: list[str]) -> None:
    rig = Rig(tmp_path, flow)
    try:
        call = rig.fake.call("v3:call-1", inputs)
        finish(call)
        assert_ran_like_the_simulator(rig.fake, call, flow, inputs)
    finally:
        rig.close()


# Telnyx's own example of call.conversation.ended carries this client_state (NOTES.md).
FOREIGN_STATE = "aGF2ZSBhIG5pY2UgZGF5ID1d"


@pytest.mark.parametrize(
    ("flow", "inputs"),
    [(EVERYTHING, ["3", "key=9", "end"]), (EXAMPLES / "ai_receptionist.flow", ["end"])],
    ids=["everything", "ai_receptionist"],
)
def test_a_conversation_end_with_a_foreign_client_state_ends_the_assistant(
    tmp_path: Path, flow: Path, inputs: list[str]
) -> None:
    rig = Rig(tmp_path, flow)
    try:
        rig.fake.foreign_state["call.conversation.ended"] = FOREIGN_STATE
        call = rig.fake.call("v3:foreign", inputs)
        finish(call)
        assert "ai_assistant_start" in [a for a, _ in call.accepted]
        assert_ran_like_the_simulator(rig.fake, call, flow, inputs)
    finally:
        rig.close()


def test_every_action_is_exercised() -> None:
    actions = {a for flow, inputs in SCENARIOS for a, _ in expected(flow, inputs)}
    from flowlang.serve.telnyx.client import ACTIONS

    assert actions == set(ACTIONS)


def test_fifty_concurrent_calls(rig: Rig) -> None:
    everything = [(f, i) for f, i in SCENARIOS if f == EVERYTHING]
    plan = [(f"v3:call-{n}", everything[n % len(everything)][1]) for n in range(50)]
    calls = [rig.fake.call(ccid, inputs) for ccid, inputs in plan]
    finish(*calls, timeout=240)
    for call, (_, inputs) in zip(calls, plan, strict=True):
        assert_ran_like_the_simulator(rig.fake, call, EVERYTHING, inputs)


def test_late_duplicated_and_out_of_order_webhooks(rig: Rig) -> None:
    rig.fake.chaos = Chaos(seed=7, shuffle=True, duplicate=0.5, late=0.3, jitter=0.05)
    everything = [(f, i) for f, i in SCENARIOS if f == EVERYTHING]
    calls = [rig.fake.call(f"v3:chaos-{n}", i) for n, (_, i) in enumerate(everything)]
    finish(*calls, timeout=240)
    delivered = rig.fake.deliveries
    assert len(delivered) > len(set(delivered)), "the chaos sent no duplicate"
    for call, (_, inputs) in zip(calls, everything, strict=True):
        assert_ran_like_the_simulator(rig.fake, call, EVERYTHING, inputs)


FAULTY = (EVERYTHING, {"timeout": 0.5, "policy": RetryPolicy(max_attempts=8, base_delay=0.05)})


@pytest.mark.parametrize("rig", [FAULTY], indirect=True, ids=["fast-retries"])
def test_telnyx_answering_429_500_and_timing_out(rig: Rig) -> None:
    rig.fake.slow_answer = 1.5
    rig.fake.faults.extend(["429", "500", "timeout", "500", "429"])
    inputs = ["3", "end"]
    call = rig.fake.call("v3:faulty", inputs)
    finish(call)
    assert list(rig.fake.fault_hits) == ["429", "500", "timeout", "500", "429"]
    assert call.received > len(call.accepted)
    assert_ran_like_the_simulator(rig.fake, call, EVERYTHING, inputs)


# An outage shortened for the test (the real defaults ride out two minutes: docs/serve.md).
OUTAGE = (
    EVERYTHING,
    {
        "timeout": 0.5,
        "policy": RetryPolicy(base_delay=0.05, max_delay=0.5, give_up_after=30.0),
    },
)


@pytest.mark.parametrize("rig", [OUTAGE], indirect=True, ids=["6-seconds"])
def test_calls_in_progress_ride_out_an_outage_of_telnyx(rig: Rig) -> None:
    fake = rig.fake
    fake.slow_answer = 1.0
    scripts = [inputs for flow, inputs in SCENARIOS if flow == EVERYTHING]
    plan = [(f"v3:outage-{n}", scripts[n % len(scripts)]) for n in range(10)]
    calls = [fake.call(ccid, inputs, hold=True) for ccid, inputs in plan]
    leaving = fake.call("v3:leaves", ["1", "1234#", "9"], hold=True)
    wait_for(lambda: all(c.waiting for c in [*calls, leaving]), 60, "every call to wait")
    # 500s until the leaving caller's hangup is applied, then 429s, then requests that time out,
    # two seconds each.
    fake.outage = [(float("inf"), "500")]
    for call in calls:
        call.release()
    wait_for(lambda: len(fake.fault_hits) >= 10, 30, "the commands to meet the outage")
    # A caller hangs up during the outage: the webhook is answered and applied.
    accepted = len(leaving.accepted)
    leaving.hang_up()
    wait_for(lambda: leaving.finished, 30, "the hangup to be applied")
    now = time.monotonic()
    fake.outage = [(now + 2, "429"), (now + 4, "timeout")]
    finish(*calls, timeout=120)
    assert {"500", "429"} <= set(fake.fault_hits)
    for call, (_, inputs) in zip(calls, plan, strict=True):
        assert_ran_like_the_simulator(fake, call, EVERYTHING, inputs)
    assert len(leaving.accepted) == accepted
    refused = rig.app.metrics.registry.get_sample_value(
        "flowlang_webhooks_total", {"result": "503"}
    )
    assert refused is None
    retries = sum(
        m.value
        for metric in rig.app.metrics.registry.collect()
        for m in metric.samples
        if m.name == "flowlang_command_retries_total"
    )
    assert retries >= 10


GIVE_UP = (
    EVERYTHING,
    {"policy": RetryPolicy(base_delay=0.01, max_delay=0.05, give_up_after=0.5)},
)


@pytest.mark.parametrize("rig", [GIVE_UP], indirect=True, ids=["half-a-second"])
def test_a_call_that_cannot_go_on_is_hung_up_after_bounded_retries(rig: Rig) -> None:
    rig.fake.refuse_actions = {"answer"}
    call = rig.fake.call("v3:doomed", ["1"])
    wait_for(lambda: call.finished, 30, "the hangup to be carried out")
    actions = [a for c, a in rig.fake.actions]
    # The answer was tried again and again, then given up; the best-effort hangup went through,
    # and nothing else was sent.
    assert actions.count("answer") >= 3 and set(actions) == {"answer", "hangup"}
    assert call.accepted == [("hangup", call.accepted[0][1])]
    assert httpx.get(rig.server.url + "/healthz").status_code == 200


RECEPTIONIST = EXAMPLES / "ai_receptionist.flow"


@pytest.mark.parametrize("rig", [(RECEPTIONIST, FAULTY[1])], indirect=True, ids=["receptionist"])
def test_an_assistant_started_by_a_doubtful_try_is_not_started_again_nor_hung_up(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    # The first ai_assistant_start reaches Telnyx, whose answer comes too late: the resend is
    # not recognised by its command_id, and Telnyx refuses it with 90061, an assistant runs.
    rig.fake.slow_answer = 1.5
    rig.fake.remember_command_ids = False
    rig.fake.action_faults["ai_assistant_start"] = deque(["timeout"])
    inputs = ["end"]
    with caplog.at_level(logging.INFO, logger="flowlang"):
        call = rig.fake.call("v3:twice", inputs, hold=True)
        wait_for(
            lambda: [a for a, _ in call.accepted][-1:] == ["ai_assistant_add_messages"],
            30, "the run to go on after the assistant's start", stuck([call]),
        )
        call.release()
        finish(call)
    starts = [a for c, a in rig.fake.actions if a == "ai_assistant_start"]
    assert len(starts) == 2 and rig.fake.fault_hits == ["timeout"]
    assert_ran_like_the_simulator(rig.fake, call, RECEPTIONIST, inputs)
    lines = [json.loads(r.message) for r in caplog.records if r.message.startswith("{")]
    started = [x for x in lines if x.get("action") == "ai_assistant_start"
               and x.get("event") == "command"]
    assert started[-1]["result"] == "sent" and started[-1]["error_code"] == "90061"
    assert started[-1]["already_running"] is True
    assert not [x for x in lines if x.get("event") == "run_stopped"]


def test_a_call_in_progress_finishes_on_the_flow_it_started_with(tmp_path: Path) -> None:
    flow = tmp_path / "line.flow"
    flow.write_text(EVERYTHING.read_text().replace("Welcome.", "Welcome to version one."))
    rig = Rig(tmp_path, flow)
    try:
        first = rig.fake.call("v3:old", ["1", "1234#", "9"], hold=True)
        wait_for(lambda: first.waiting, 60, "the first call to wait", stuck([first]))
        flow.write_text(EVERYTHING.read_text().replace("Welcome.", "Welcome to version two."))
        second = rig.fake.call("v3:new", ["hangup"])
        finish(second)
        first.release()
        finish(first)
        said = {
            c.info.call_control_id: [b.get("payload") for a, b in c.accepted if a == "speak"]
            for c in (first, second)
        }
        assert said["v3:old"][0] == "Welcome to version one."
        assert said["v3:new"][0] == "Welcome to version two."
        assert rig.fake.invalid == []
    finally:
        rig.close()


def test_security_over_loopback(rig: Rig) -> None:
    url = rig.server.url + "/webhook"
    body = json.dumps(
        {
            "data": {
                "event_type": "call.initiated",
                "id": "x",
                "payload": {"call_control_id": "v3:intruder", "direction": "incoming"},
            }
        }
    ).encode()
    foreign = sign(SigningKey.generate(), body)
    stale = sign(rig.key, body, timestamp=1)
    with httpx.Client() as http:
        assert http.post(url, content=body).status_code == 401
        assert http.post(url, content=body, headers=foreign).status_code == 401
        assert http.post(url, content=body, headers=stale).status_code == 401
        assert http.post(url, content=b"{oops", headers=sign(rig.key, b"{oops")).status_code == 400
        big = b"x" * (2 * 1024 * 1024)
        assert http.post(url, content=big, headers=sign(rig.key, big)).status_code == 413
        assert http.get(rig.server.url + "/healthz").status_code == 200
    assert rig.fake.requests == 0


def test_a_refused_text_message_is_logged_and_the_call_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.server.scenarios import BEYOND

    rig = Rig(tmp_path, BEYOND)
    try:
        rig.fake.message_faults.append("422")
        inputs = ["3", "saved=12"]
        with caplog.at_level("INFO", logger="flowlang.serve.app"):
            call = rig.fake.call("v3:call-sms", inputs)
            finish(call)
            wait_for(lambda: any("40310" in r.getMessage() for r in caplog.records), 30,
                     "the refused message to be logged")
        assert without_ids(call.accepted) == expected(BEYOND, inputs)
        refused = [json.loads(r.getMessage()) for r in caplog.records
                   if '"event": "message"' in r.getMessage() and "40310" in r.getMessage()]
        assert refused[0]["result"] == "rejected" and refused[0]["http_status"] == 422
        assert "not a mobile number" in refused[0]["detail"]
    finally:
        rig.close()


def test_a_voicemail_left_by_hanging_up_is_texted_after_the_call_is_over(tmp_path: Path) -> None:
    from tests.server.scenarios import BEYOND

    rig = Rig(tmp_path, BEYOND)
    try:
        call = rig.fake.call("v3:call-vm", ["3", "hangup", "saved=21"])
        finish(call)
        wait_for(lambda: len(rig.fake.messages) == 2, 30, "both text messages")
        texts = sorted(m["text"] for m in rig.fake.messages)
        assert texts[0] == "Call from +15550001111 ended"
        assert texts[1].startswith("Voicemail from +15550001111: https://")
        assert all(m["from"] == "+13125550199" for m in rig.fake.messages)
        assert rig.fake.invalid == []
    finally:
        rig.close()


@pytest.mark.parametrize(
    "rig", [(EVERYTHING, {"body_timeout": 0.5})], indirect=True, ids=["half-s"]
)
def test_slow_clients_are_answered_and_disconnected_over_loopback(rig: Rig) -> None:
    head = (
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"telnyx-timestamp: 1\r\ntelnyx-signature-ed25519: x\r\nContent-Length: 1000\r\n\r\n"
    )
    clients = [
        socket.create_connection(("127.0.0.1", rig.server.port), timeout=10) for _ in range(5)
    ]
    try:
        for client in clients:
            client.sendall(head)
        answers = []
        for client in clients:
            received = b""
            while True:
                try:
                    client.sendall(b"{")
                except OSError:
                    pass  # closed by the server: what is left to read is its answer
                try:
                    chunk = client.recv(4096) if _readable(client) else b"-"
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                if chunk != b"-":
                    received += chunk
            answers.append(received)
    finally:
        for client in clients:
            client.close()
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers


def _readable(sock: socket.socket) -> bool:
    import select

    ready, _, _ = select.select([sock], [], [], 0.1)
    return bool(ready)


TWO_ASSISTANTS = """\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    assistant id "assistant-billing":
        greeting "Billing here."
        on key "0": log "left billing"
    assistant id "assistant-sales":
        greeting "Sales here."
        on key "1": say "You pressed one."
    say "Goodbye."
    hangup
"""


def test_the_late_end_of_an_assistant_left_with_on_key_does_not_end_the_next(
    tmp_path: Path,
) -> None:
    flow = tmp_path / "two.flow"
    flow.write_text(TWO_ASSISTANTS, encoding="utf-8")
    rig = Rig(tmp_path, flow)
    try:
        # Telnyx reports the billing conversation's end after its stop, while sales talks:
        # the run knows each conversation's id from Telnyx's answers and ignores it.
        inputs = ["key=0", "key=1"]
        call = rig.fake.call("v3:two", inputs)
        finish(call)
        assert_ran_like_the_simulator(rig.fake, call, flow, inputs)
        said = [b["payload"] for a, b in call.accepted if a == "speak"]
        assert said == ["You pressed one.", "Goodbye."]
        stops = [a for a, _ in call.accepted].count("ai_assistant_stop")
        assert stops == 2
    finally:
        rig.close()
