"""The Call Control client: auth, bodies, retries with backoff, and final refusals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.serve.telnyx.client import ACTIONS, RetryPolicy, TelnyxClient, retry_after

OK = {"data": {"result": "ok"}}


class Recorder:
    """A MockTransport handler that answers from a script and records every request."""

    def __init__(self, answers: list[Callable[[httpx.Request], httpx.Response]]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request)


def reply(status: int, body: object = OK, headers: dict[str, str] | None = None) -> Callable:
    return lambda request: httpx.Response(status, json=body, headers=headers)


def fail(exc: type[Exception]) -> Callable:
    def raise_(request: httpx.Request) -> httpx.Response:
        raise exc("simulated", request=request)  # type: ignore[call-arg]

    return raise_


def run(answers: list[Callable], body: dict | None = None, action: str = "speak", **kw):
    recorder = Recorder(answers)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def go():
        client = TelnyxClient(
            "KEY123",
            "http://telnyx.test/v2",
            transport=httpx.MockTransport(recorder),
            sleep=sleep,
            clock=lambda: 1_000_000.0,
            **kw,
        )
        try:
            return await client.send("v3:call-1", action, body or {"command_id": "c-1"})
        finally:
            await client.aclose()

    return asyncio.run(go()), recorder.requests, sleeps


@pytest.mark.parametrize("action", ACTIONS, ids=ACTIONS)
def test_every_action_is_posted_with_auth_and_the_exact_body(action: str) -> None:
    body = {"client_state": "eyJzIjoxfQ==", "command_id": f"cmd-{action}", "payload": "Hi ü"}
    result, requests, _ = run([reply(200)], body, action)
    assert result.ok and result.attempts == 1
    (request,) = requests
    assert request.method == "POST"
    assert request.url == f"http://telnyx.test/v2/calls/v3:call-1/actions/{action}"
    assert request.headers["authorization"] == "Bearer KEY123"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == body


def test_success_returns_telnyx_data() -> None:
    result, _, _ = run([reply(200, {"data": {"result": "ok", "conversation_id": "conv-9"}})])
    assert result.data == {"result": "ok", "conversation_id": "conv-9"}


TRANSIENT = [
    ("408", reply(408, {})),
    ("429", reply(429, {"errors": [{"code": "10011", "title": "Too many requests"}]})),
    ("500", reply(500, {})),
    ("502-not-json", lambda r: httpx.Response(502, text="<html>bad gateway</html>")),
    ("503", reply(503, {})),
    ("connect-error", fail(httpx.ConnectError)),
    ("read-timeout", fail(httpx.ReadTimeout)),
]


@pytest.mark.parametrize("first", [t[1] for t in TRANSIENT], ids=[t[0] for t in TRANSIENT])
def test_transient_failures_are_retried_with_the_same_body(first: Callable) -> None:
    result, requests, sleeps = run([first, first, reply(200)])
    assert result.ok and result.attempts == 3
    assert len({r.content for r in requests}) == 1
    assert [json.loads(r.content)["command_id"] for r in requests] == ["c-1"] * 3
    assert sleeps == [0.25, 0.5]


def test_attempts_are_bounded_and_backoff_grows_to_its_cap() -> None:
    policy = RetryPolicy(max_attempts=7, base_delay=1.0, max_delay=5.0)
    result, requests, sleeps = run([reply(500, {})], policy=policy)
    assert result.status == "gave_up"
    assert result.attempts == 7 and len(requests) == 7
    assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_retry_after_seconds_is_honoured() -> None:
    _, _, sleeps = run([reply(429, {}, {"Retry-After": "3"}), reply(200)])
    assert sleeps == [3.0]


def test_a_rate_limited_429_waits_for_the_window_to_reset() -> None:
    # Telnyx's 429 carries x-ratelimit-reset (seconds until the window resets), not Retry-After.
    headers = {"x-ratelimit-limit": "20", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "6"}
    _, _, sleeps = run([reply(429, {}, headers), reply(200)])
    assert sleeps == [6.0]


def test_retry_after_wins_over_the_rate_limit_reset() -> None:
    headers = {"Retry-After": "2", "x-ratelimit-reset": "9"}
    _, _, sleeps = run([reply(429, {}, headers), reply(200)])
    assert sleeps == [2.0]


@pytest.mark.parametrize("reset", ["soon", "nan", "-4", ""])
def test_a_rate_limit_reset_that_is_no_wait_falls_back_to_backoff(reset: str) -> None:
    policy = RetryPolicy(base_delay=1.0, jitter=0.0)
    _, _, sleeps = run([reply(429, {}, {"x-ratelimit-reset": reset}), reply(200)], policy=policy)
    assert sleeps == [1.0]


def test_a_5xx_does_not_read_the_rate_limit_reset() -> None:
    policy = RetryPolicy(base_delay=1.0, jitter=0.0)
    _, _, sleeps = run([reply(503, {}, {"x-ratelimit-reset": "20"}), reply(200)], policy=policy)
    assert sleeps == [1.0]


def test_retry_after_is_capped() -> None:
    _, _, sleeps = run([reply(503, {}, {"Retry-After": "3600"}), reply(200)])
    assert sleeps == [30.0]


def test_retry_after_as_an_http_date() -> None:
    assert retry_after("Mon, 12 Jan 1970 13:46:50 GMT", 1_000_000.0) == 10.0
    assert retry_after("garbage", 0.0) is None
    assert retry_after(None, 0.0) is None


REFUSED = [
    ("422-bad-parameter", 422, "10032", "Invalid value for voice"),
    ("422-call-ended", 422, "90018", "Call has already ended"),
    ("404-unknown-call", 404, "90015", "Invalid call control id"),
    ("401-bad-key", 401, "10009", "Authentication failed"),
]


@pytest.mark.parametrize(
    ("status", "code", "detail"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_a_final_4xx_is_not_retried_and_keeps_telnyx_error_code(
    status: int, code: str, detail: str
) -> None:
    body = {"errors": [{"code": code, "title": "x", "detail": detail}]}
    result, requests, sleeps = run([reply(status, body)])
    assert result.status == "rejected"
    assert (result.http_status, result.error_code, result.detail) == (status, code, detail)
    assert len(requests) == 1 and sleeps == []


@given(
    failures=st.lists(
        st.sampled_from(["408", "429", "500", "503", "connect", "timeout"]), max_size=5
    )
)
@settings(max_examples=100, deadline=None)
def test_any_run_of_transient_failures_then_success_sends_one_body(failures: list[str]) -> None:
    answers = {
        "408": reply(408, {}),
        "429": reply(429, {}),
        "500": reply(500, {}),
        "503": reply(503, {}),
        "connect": fail(httpx.ConnectError),
        "timeout": fail(httpx.ReadTimeout),
    }
    script = [answers[f] for f in failures] + [reply(200)]
    result, requests, sleeps = run(script, policy=RetryPolicy(max_attempts=6))
    assert result.ok and result.attempts == len(failures) + 1
    assert len({r.content for r in requests}) == 1
    assert sleeps == [RetryPolicy().backoff(n) for n in range(1, len(failures) + 1)]
