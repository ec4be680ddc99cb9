"""`kill -9` of a `flowlang serve` process while calls wait, then a restart: nothing is lost."""

from __future__ import annotations

from pathlib import Path

from nacl.signing import SigningKey

from tests.server.fake_telnyx import FakeTelnyx
from tests.server.live import ServeProcess, wait_for
from tests.server.scenarios import (
    EVERYTHING,
    SCENARIOS,
    assert_ran_like_the_simulator,
    finish,
    stuck,
)
from tests.server.signing import public_key_b64


def test_a_killed_server_resumes_every_call_after_a_restart(tmp_path: Path) -> None:
    key = SigningKey.generate()
    fake = FakeTelnyx(key)
    env = {"TELNYX_PUBLIC_KEY": public_key_b64(key), "TELNYX_API_KEY": fake.api_key}
    store = f"sqlite:///{tmp_path}/calls.db"
    # A short lease, so the dead server's claims are taken over quickly.
    quick = ("--lease", "3s", "--command-timeout", "1s")
    server = ServeProcess(EVERYTHING, store, fake.api_base, env, extra=quick)
    port = server.port
    fake.webhook_url = server.url + "/webhook"
    scripts = [inputs for flow, inputs in SCENARIOS if flow == EVERYTHING]
    plan = [(f"v3:restart-{n}", scripts[n % len(scripts)]) for n in range(12)]
    try:
        calls = [fake.call(ccid, inputs, hold=True) for ccid, inputs in plan]
        wait_for(lambda: all(c.waiting for c in calls), 120, "every call to wait", stuck(calls))
        before = [len(c.accepted) for c in calls]
        # From now on Telnyx carries out each command but its answer never reaches the server,
        # so the commands stay unsent in the outbox when the server dies.
        fake.stall.clear()
        for call in calls:
            call.release()
        wait_for(
            lambda: all(
                len(c.accepted) > n or c.finished for c, n in zip(calls, before, strict=True)
            ),
            120,
            "every call to get a command after the caller acted",
            stuck(calls),
        )
        server.kill()
        fake.stall.set()
        server = ServeProcess(EVERYTHING, store, fake.api_base, env, port=port, extra=quick)
        finish(*calls, timeout=240)
        # The restarted server sent some commands again; Telnyx's command_id dedupe absorbed them.
        assert sum(c.received - len(c.accepted) for c in calls) >= 1
        for call, (_, inputs) in zip(calls, plan, strict=True):
            assert_ran_like_the_simulator(fake, call, EVERYTHING, inputs)
    finally:
        server.stop()
        fake.close()
