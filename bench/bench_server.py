"""Webhook throughput and latency of `flowlang serve`: the whole path against a bare handler.

Run: .venv/bin/python bench/bench_server.py [--calls 50] [--rounds 6] [--concurrency 16]
                                            [--rate 1000] [--no-postgres]

One server process (uvicorn, loopback only) mounts two handlers side by side:
- /bare: verify the signature, parse the envelope, answer 200 (the least any webhook costs);
- /quiet: the real app (verify, dedupe, load, step the interpreter, save, answer 200) with its
  sender switched off: the webhook path alone, as the issue defines it;
- /webhook: the real app with its sender on, commands going through httpx to an in-process
  stand-in for Telnyx: the CPU a real server also spends on sending, without the network.
The load generator replays, per call and in order, the signed webhooks a real Telnyx would send
for a scripted call (computed offline with the simulator's phone model), several calls at a time.
It prints events per second, p50 and p99 latency for each, the ratios to the bare handler (aim:
>= 0.8 for the webhook path, >= 0.6 with commands sent), p50/p99 of each at a fixed rate
(1,000 webhooks/s, latency counted from when each webhook was due, so a server falling behind
shows; aim: p99 < 10 ms for the whole path), the same whole path on PostgreSQL with 1 and 2
worker processes (a throwaway cluster from Debian's postgresql package, webhooks spread at
random between the workers), and the store's size per suspended call on each store.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLOW = ROOT / "examples" / "acme_main.flow"
INPUTS = ["3", "9", "timeout", "timeout", "timeout"]


def _sign(key: Any, body: bytes) -> dict[str, str]:
    import base64

    stamp = str(int(time.time()))
    signature = key.sign(stamp.encode() + b"|" + body).signature
    return {
        "telnyx-timestamp": stamp,
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "content-type": "application/json",
    }


def call_webhooks(program: Any, call_control_id: str, inputs: list[str]) -> list[bytes]:
    """The webhooks Telnyx sends, in order, for one call of `program` with caller `inputs`."""
    from flowlang.offline.phone import Phone, to_event
    from flowlang.offline.simulator import parse_input
    from flowlang.runtime.events import CallInfo
    from flowlang.runtime.interpreter import Interpreter

    info = CallInfo(call_control_id)
    phone = Phone(info)
    interpreter = Interpreter(program)
    script = deque(parse_input(i) for i in inputs)
    sent = [phone.incoming()]
    outcome = interpreter.start(info)
    state = outcome.state
    queue: deque[dict[str, Any]] = deque()
    for command in outcome.commands:
        queue.extend(phone.send(command))
    while True:
        if not queue:
            if phone.waiting is None or not script or phone.state == "ended":
                break
            queue.extend(phone.act(script.popleft()))
            continue
        envelope = queue.popleft()
        sent.append(envelope)
        outcome = interpreter.handle(state, to_event(envelope))
        if outcome.ignored:
            continue
        state = outcome.state
        for command in outcome.commands:
            queue.extend(phone.send(command))
        if outcome.end is not None:
            break
    return [json.dumps(e).encode() for e in sent]


def serve(port_out: Any, store_url: str, public_key: bytes) -> None:
    """The server process: the handlers on one uvicorn, on a free loopback port."""
    import httpx
    import uvicorn

    from flowlang.cli.inputs import read_source
    from flowlang.cli.serve import start_logging
    from flowlang.compiler import compile_source
    from flowlang.serve.app import create_app, listening_socket
    from flowlang.serve.http import uvicorn_config
    from flowlang.serve.store import open_store
    from flowlang.serve.telnyx.signature import SignatureError, Verifier, load_public_key
    from flowlang.serve.telnyx.webhooks import MalformedWebhook, parse_webhook

    # Log as `flowlang serve` does (one JSON line per webhook and command), into the void.
    start_logging(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process

    verifier = Verifier(load_public_key(public_key.decode()))
    ok = b'{"data":{"result":"ok"}}'
    program = compile_source(read_source(FLOW))

    def build(url: str) -> Any:
        return create_app(
            program,
            open_store(url),
            verifier=verifier,
            api_key="bench",
            api_base="http://telnyx.invalid/v2",
            transport=httpx.MockTransport(lambda request: httpx.Response(200, content=ok)),
        )

    full = build(store_url)
    # The same app with its sender switched off: commands stay in the outbox, so this measures
    # the webhook path alone (verify, dedupe, load, step, save, answer), as the issue defines it.
    # It has a store of its own, or the other app's sender would send its commands.
    quiet = build(store_url.replace("bench.db", "quiet.db"))
    quiet.sender.wake = lambda call_control_id: None
    quiet.runner.claim = None

    async def resume_nothing() -> int:
        return 0

    quiet.sender.resume = resume_nothing

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = dict(scope["headers"])
        status = 200
        try:
            verifier.verify(
                headers.get(b"telnyx-timestamp", b"").decode(),
                headers.get(b"telnyx-signature-ed25519", b"").decode(),
                body,
                time.time(),
            )
            parse_webhook(body)
        except SignatureError:
            status = 401
        except MalformedWebhook:
            status = 400
        answer = b'{"result":"ok"}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(answer)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/bare":
            await bare(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == "/quiet":
            await quiet({**scope, "path": "/webhook"}, receive, send)
        else:
            await full(scope, receive, send)

    sock = listening_socket("127.0.0.1", 0)
    port_out.put(sock.getsockname()[1])
    uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])


Sequences = list[list[tuple[bytes, dict[str, str]]]]


async def replay(
    url: str | list[str], sequences: Sequences, workers: int, rate: float | None = None
) -> tuple[list[float], float]:
    """Post each sequence's webhooks in order, `workers` sequences at a time; latencies in s.

    With several `url`s (servers sharing a store) each webhook goes to one of them at random.
    With a `rate`, webhooks are sent no faster than that many a second, and each latency is
    counted from the moment the webhook was due (so waiting for a busy server counts).

    A minimal HTTP/1.1 keep-alive client on asyncio streams: a full HTTP library in the same
    two cores would cost more than the server it measures.
    """
    urls = [url] if isinstance(url, str) else url
    latencies: list[float] = []
    pending = deque(sequences)
    chance = random.Random(0)
    began = time.perf_counter()
    slots = itertools.count()

    async def connect(target: str) -> tuple[str, str, Any, Any]:
        host_port, _, path = target.removeprefix("http://").partition("/")
        host, _, port = host_port.partition(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return host_port, path, reader, writer

    async def worker() -> None:
        connections = [await connect(target) for target in urls]
        try:
            while pending:
                sequence = pending.popleft()
                for body, headers in sequence:
                    host_port, path, reader, writer = chance.choice(connections)
                    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                    request = (
                        f"POST /{path} HTTP/1.1\r\nhost: {host_port}\r\n{head}"
                        f"content-length: {len(body)}\r\n\r\n"
                    ).encode() + body
                    started = time.perf_counter()
                    if rate is not None:
                        due = began + next(slots) / rate
                        if due > started:
                            await asyncio.sleep(due - started)
                        started = due
                    writer.write(request)
                    status_line = await reader.readline()
                    length = 0
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        name, _, value = line.decode().partition(":")
                        if name.lower() == "content-length":
                            length = int(value)
                    answer = await reader.readexactly(length)
                    latencies.append(time.perf_counter() - started)
                    if b" 200 " not in status_line:
                        raise SystemExit(f"{url}: {status_line!r} {answer!r}")
        finally:
            for _, _, _, writer in connections:
                writer.close()

    await asyncio.gather(*(worker() for _ in range(workers)))
    return latencies, time.perf_counter() - began


def drained(base: str, within: float = 30.0) -> None:
    """Wait until the server has sent every command it queued (its /metrics says the outbox is
    empty), so a measurement does not pay for the sending left over from the one before."""
    import urllib.request

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with urllib.request.urlopen(base + "/metrics", timeout=5) as answer:
            text = answer.read().decode()
        if "\nflowlang_outbox_depth 0.0\n" in text:
            return
        time.sleep(0.05)
    raise SystemExit(f"the server still had commands to send after {within:g} s")


def figures(name: str, rates: list[float], latencies: list[float]) -> float:
    rate = statistics.median(rates)
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"{name:<34} {len(latencies):>6} events  {rate:>8.0f} ev/s"
        f"  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
    )
    return rate


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system, every thread) process `pid` has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(store_url: str, public: bytes) -> tuple[str, Any]:
    """A server process on `store_url`; returns its base URL and the process."""
    context = multiprocessing.get_context("spawn")
    ports: Any = context.Queue()
    server = context.Process(target=serve, args=(ports, store_url, public), daemon=True)
    server.start()
    return f"http://127.0.0.1:{ports.get(timeout=60)}", server


def suspended_size(store_url: str, bases: list[str], waiting: Sequences, concurrency: int) -> float:
    """Bytes the store grows by per call left waiting at its first gather."""
    from flowlang.serve.store import open_store

    async def size() -> int:
        store = open_store(store_url)
        try:
            await store.cleanup(finished_before=time.time() + 10, idle_before=0)
            return int(await store.size_bytes())  # type: ignore[attr-defined]
        finally:
            await store.close()

    time.sleep(1.0)
    before = asyncio.run(size())
    asyncio.run(replay([b + "/webhook" for b in bases], waiting, concurrency))
    time.sleep(1.0)
    return (asyncio.run(size()) - before) / len(waiting)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="calls replayed per round")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of each handler")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight at once")
    parser.add_argument("--suspended", type=int, default=200, help="calls left waiting to size")
    parser.add_argument("--rate", type=float, default=1000.0, help="fixed rate for the p99 run")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL runs")
    options = parser.parse_args()

    from nacl.signing import SigningKey

    from flowlang.cli.inputs import read_source
    from flowlang.compiler import compile_source

    program = compile_source(read_source(FLOW))
    key = SigningKey.generate()
    import base64

    public = base64.b64encode(bytes(key.verify_key))
    folder = tempfile.mkdtemp(prefix="flowlang-bench-")
    sqlite_url = f"sqlite:///{folder}/bench.db"
    base, server = start_server(sqlite_url, public)

    def signed(prefix: str, count: int, inputs: list[str]) -> Sequences:
        calls = [call_webhooks(program, f"v3:{prefix}-{n}", inputs) for n in range(count)]
        return [[(body, _sign(key, body)) for body in call] for call in calls]

    print(
        f"flow {FLOW.name}, caller {INPUTS}, {options.rounds} rounds of {options.calls} calls, "
        f"{options.concurrency} at a time, server and load on one machine (loopback)"
    )
    warm = signed("warm", 10, INPUTS)
    asyncio.run(replay(base + "/webhook", warm, options.concurrency))
    asyncio.run(replay(base + "/bare", warm, options.concurrency))

    # Short rounds, alternating, so both handlers see the same share of whatever else the
    # machine is doing; the figures are medians over the rounds.
    handlers = (("bare", "/bare"), ("full", "/webhook"), ("quiet", "/quiet"))
    rates: dict[str, list[float]] = {name: [] for name, _ in handlers}
    cpu: dict[str, float] = {name: 0.0 for name, _ in handlers}
    latencies: dict[str, list[float]] = {name: [] for name, _ in handlers}
    for round_ in range(options.rounds):
        for name, path in handlers:
            calls = signed(f"{name}{round_}", options.calls, INPUTS)
            before = cpu_seconds(server.pid)
            got, elapsed = asyncio.run(replay(base + path, calls, options.concurrency))
            if name == "full":
                drained(base)  # counted in its CPU: sending is part of its work
            cpu[name] += (cpu_seconds(server.pid) - before) / len(got)
            rates[name].append(len(got) / elapsed)
            latencies[name].extend(got)
    print("SQLite, one worker:")
    bare = figures("bare handler (verify, parse, 200)", rates["bare"], latencies["bare"])
    quiet = figures("whole webhook path", rates["quiet"], latencies["quiet"])
    full = figures("  + sending its commands", rates["full"], latencies["full"])
    print(f"throughput ratio whole webhook path / bare: {quiet / bare:.2f} (aim >= 0.8)")
    print(f"throughput ratio with commands sent too / bare: {full / bare:.2f} (aim >= 0.6)")
    # The server's own CPU per webhook does not depend on what else the machine runs (the load
    # generator included): its ratio is the throughput each would reach on cores of its own.
    each = {name: cpu[name] / options.rounds * 1e6 for name in cpu}
    print(
        f"server CPU per webhook: bare {each['bare']:.0f} us, whole path {each['quiet']:.0f} us,"
        f" with commands sent {each['full']:.0f} us; CPU-bound throughput ratios"
        f" {each['bare'] / each['quiet']:.2f} and {each['bare'] / each['full']:.2f}"
    )

    for label, path in (("whole path", "/quiet"), ("  + sending", "/webhook")):
        paced = signed(f"paced{path[1:]}", max(options.calls, int(options.rate * 3 / 9)), INPUTS)
        got, elapsed = asyncio.run(replay(base + path, paced, 64, rate=options.rate))
        drained(base)
        name = f"{label} at {options.rate:.0f} webhooks/s"
        reached = figures(name, [len(got) / elapsed], got)
        if reached < options.rate * 0.95:
            print(
                f"  (the server kept up with {reached:.0f} of the {options.rate:.0f} webhooks/s"
                " asked on this machine, so these latencies include the queue that built up)"
            )

    per_call = suspended_size(
        sqlite_url, [base], signed("wait", options.suspended, []), options.concurrency
    )
    print(
        f"SQLite size per suspended call: {per_call:.0f} bytes "
        f"({options.suspended} calls waiting at their first gather, WAL included)"
    )
    server.terminate()
    server.join(10)
    if not options.no_postgres:
        postgres(options, public, signed)
    return 0


def postgres(options: argparse.Namespace, public: bytes, signed: Any) -> None:
    """The whole path with commands sent, on PostgreSQL, with one and two worker processes."""
    from tests.server.postgres import Cluster

    cluster = Cluster(fast=False)
    try:
        store_url = cluster.database()
        results: dict[int, float] = {}
        print("PostgreSQL (a local cluster, fsync on), whole path with commands sent:")
        for count in (1, 2):
            started = [start_server(store_url, public) for _ in range(count)]
            bases = [b for b, _ in started]
            urls = [b + "/webhook" for b in bases]
            asyncio.run(replay(urls, signed(f"pgwarm{count}", 10, INPUTS), options.concurrency))
            rates: list[float] = []
            latencies: list[float] = []
            for round_ in range(options.rounds):
                calls = signed(f"pg{count}-{round_}", options.calls, INPUTS)
                got, elapsed = asyncio.run(replay(urls, calls, options.concurrency))
                rates.append(len(got) / elapsed)
                latencies.extend(got)
            label = f"{count} worker{'s' if count > 1 else ''}"
            results[count] = figures(label, rates, latencies)
            if count == 1:
                per_call = suspended_size(
                    store_url, bases, signed("pgwait", options.suspended, []), options.concurrency
                )
                print(f"PostgreSQL size per suspended call: {per_call:.0f} bytes")
            for _, process in started:
                process.terminate()
                process.join(10)
        print(f"throughput ratio 2 workers / 1 worker: {results[2] / results[1]:.2f}")
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
