"""Several `flowlang serve` workers on one PostgreSQL, webhooks spread among them at random:
every call runs exactly as simulated and no command is sent twice, even with workers killed."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from nacl.signing import SigningKey

from tests.server.fake_telnyx import FakeCall, FakeTelnyx
from tests.server.live import ServeProcess, wait_for
from tests.server.postgres import Cluster
from tests.server.scenarios import EVERYTHING, SCENARIOS, assert_ran_like_the_simulator, finish
from tests.server.signing import public_key_b64

SCRIPTS = [inputs for flow, inputs in SCENARIOS if flow == EVERYTHING]
# Short lease and timeout so that a killed worker's commands are taken over within seconds.
QUICK = ("--lease", "6s", "--command-timeout", "2s")


class Farm:
    """A fake Telnyx and `count` serve processes sharing one PostgreSQL store."""

    def __init__(self, store: str, count: int, extra: tuple[str, ...] = QUICK) -> None:
        key = SigningKey.generate()
        self.fake = FakeTelnyx(key)
        self.store = store
        self.extra = extra
        self.env = {"TELNYX_PUBLIC_KEY": public_key_b64(key), "TELNYX_API_KEY": self.fake.api_key}
        self.workers: list[ServeProcess] = []
        for _ in range(count):
            self.workers.append(self._start(0))
        self.fake.webhook_urls = [w.url + "/webhook" for w in self.workers]

    def _start(self, port: int) -> ServeProcess:
        return ServeProcess(EVERYTHING, self.store, self.fake.api_base, self.env, port, self.extra)

    def kill_and_restart(self, n: int) -> None:
        """kill -9 worker `n`, then start a new one on its port (its webhooks go elsewhere
        meanwhile, as a load balancer would send them)."""
        worker = self.workers[n]
        worker.kill()
        self.workers[n] = self._start(worker.port)

    def place(self, count: int, prefix: str) -> list[tuple[FakeCall, list[str]]]:
        plan = [(f"v3:{prefix}-{n}", SCRIPTS[n % len(SCRIPTS)]) for n in range(count)]
        return [(self.fake.call(ccid, inputs), inputs) for ccid, inputs in plan]

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.fake.close()


@pytest.fixture
def farm(postgres: Cluster, request: pytest.FixtureRequest) -> Iterator[Farm]:
    count, extra = getattr(request, "param", (3, QUICK))
    built = Farm(postgres.database(), count, extra)
    yield built
    built.close()


@pytest.mark.parametrize("farm", [(3, ())], indirect=True, ids=["default-lease"])
def test_three_workers_one_hundred_calls_no_command_twice(farm: Farm) -> None:
    placed = farm.place(100, "spread")
    finish(*(call for call, _ in placed), timeout=240)
    for call, inputs in placed:
        assert_ran_like_the_simulator(farm.fake, call, EVERYTHING, inputs)
    # Telnyx saw each command_id once: no two workers sent one command.
    repeats = [
        f"{call.info.call_control_id}: {call.received - len(call.accepted)}"
        for call, _ in placed
        if call.received != len(call.accepted)
    ]
    retried = [line for w in farm.workers for line in w.events("command_retry")]
    assert repeats == [], f"commands sent again: {repeats}; retries: {retried[:5]}"
    # Every worker took a share of the webhooks.
    assert all(worker.events("webhook") for worker in farm.workers)


def test_a_worker_killed_every_few_seconds_loses_nothing(farm: Farm) -> None:
    placed = farm.place(100, "killed")
    calls = [call for call, _ in placed]
    stop = threading.Event()
    kills: list[int] = []

    def killer() -> None:
        chance = random.Random(3)
        while not stop.wait(2.5):
            n = chance.randrange(len(farm.workers))
            farm.kill_and_restart(n)
            kills.append(n)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        finish(*calls, timeout=300)
    finally:
        stop.set()
        thread.join(60)
    assert kills, "no worker was killed while the calls ran"
    # A command in flight at a kill may have been sent again, but always with its command_id
    # (so Telnyx carried it out once): the calls ran exactly as simulated.
    for call, inputs in placed:
        assert_ran_like_the_simulator(farm.fake, call, EVERYTHING, inputs)


@pytest.mark.parametrize("farm", [(1, QUICK)], indirect=True, ids=["one-process"])
def test_workers_option_forks_workers_that_share_the_port(farm: Farm, tmp_path: Path) -> None:
    farm.workers[0].stop()
    server = ServeProcess(
        EVERYTHING, farm.store, farm.fake.api_base, farm.env, extra=("--workers", "2", *QUICK)
    )
    farm.workers[0] = server
    farm.fake.webhook_urls = [server.url + "/webhook"]
    wait_for(lambda: len(server.events("worker_started")) == 2, 60, "two workers")
    placed = farm.place(10, "forked")
    finish(*(call for call, _ in placed), timeout=120)
    for call, inputs in placed:
        assert_ran_like_the_simulator(farm.fake, call, EVERYTHING, inputs)
    assert len(server.events("listening")) == 1
    # Whichever worker answers a scrape counts every worker's webhooks.
    answered = len(server.events("webhook"))
    for _ in range(6):
        text = httpx.get(server.url + "/metrics", headers={"connection": "close"}).text
        counted = sum(
            float(line.rpartition(" ")[2])
            for line in text.splitlines()
            if line.startswith("flowlang_webhooks_total{")
        )
        assert counted == answered, (counted, answered)
