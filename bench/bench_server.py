"""Webhook throughput and latency of `flowlang serve`: the whole path against a bare handler.

Run: .venv/bin/python bench/bench_server.py [--calls 50] [--rounds 6] [--concurrency 16]

One server process (uvicorn, loopback only) mounts two handlers side by side:
- /bare: verify the signature, parse the envelope, answer 200 (the least any webhook costs);
- /quiet: the real app (verify, dedupe, load, step the interpreter, save, answer 200) with its
  sender switched off: the webhook path alone, as the issue defines it;
- /webhook: the real app with its sender on, commands going through httpx to an in-process
  stand-in for Telnyx: the CPU a real server also spends on sending, without the network.
The load generator replays, per call and in order, the signed webhooks a real Telnyx would send
for a scripted call (computed offline with the simulator's phone model), several calls at a time.
It prints events per second, p50 and p99 latency for each, the ratios to the bare handler (aim:
>= 0.6 for the webhook path), and the store's size per suspended call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
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


def serve(port_out: Any, store_path: str, public_key: bytes) -> None:
    """The server process: both handlers on one uvicorn, on a free loopback port."""
    import httpx
    import uvicorn

    from flowlang.cli.inputs import read_source
    from flowlang.cli.serve import start_logging
    from flowlang.compiler import compile_source
    from flowlang.serve.app import create_app, listening_socket
    from flowlang.serve.store import open_store
    from flowlang.serve.telnyx.signature import SignatureError, Verifier, load_public_key
    from flowlang.serve.telnyx.webhooks import MalformedWebhook, parse_webhook

    # Log as `flowlang serve` does (one JSON line per webhook and command), into the void.
    start_logging(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process

    verifier = Verifier(load_public_key(public_key.decode()))
    ok = b'{"data":{"result":"ok"}}'
    program = compile_source(read_source(FLOW))
    store = open_store(f"sqlite:///{store_path}")

    def build() -> Any:
        return create_app(
            program,
            store,
            verifier=verifier,
            api_key="bench",
            api_base="http://telnyx.invalid/v2",
            transport=httpx.MockTransport(lambda request: httpx.Response(200, content=ok)),
        )

    full = build()
    # The same app with its sender switched off: commands stay in the outbox, so this measures
    # the webhook path alone (verify, dedupe, load, step, save, answer), as the issue defines it.
    quiet = build()
    quiet.sender.wake = lambda call_control_id: None

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
    config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


async def replay(url: str, sequences: list[list[tuple[bytes, dict[str, str]]]], workers: int):
    """Post each sequence's webhooks in order, `workers` sequences at a time; latencies in s.

    A minimal HTTP/1.1 keep-alive client on asyncio streams: a full HTTP library in the same
    two cores would cost more than the server it measures.
    """
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    latencies: list[float] = []
    pending = deque(sequences)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while pending:
                sequence = pending.popleft()
                for body, headers in sequence:
                    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                    request = (
                        f"POST /{path} HTTP/1.1\r\nhost: {host_port}\r\n{head}"
                        f"content-length: {len(body)}\r\n\r\n"
                    ).encode() + body
                    started = time.perf_counter()
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
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return latencies, time.perf_counter() - began


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="calls replayed per round")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of each handler")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight at once")
    parser.add_argument("--suspended", type=int, default=200, help="calls left waiting to size")
    options = parser.parse_args()

    from nacl.signing import SigningKey

    from flowlang.cli.inputs import read_source
    from flowlang.compiler import compile_source
    from flowlang.serve.store.sqlite import SQLiteStore

    program = compile_source(read_source(FLOW))
    key = SigningKey.generate()
    import base64

    public = base64.b64encode(bytes(key.verify_key))
    folder = tempfile.mkdtemp(prefix="flowlang-bench-")
    store_path = f"{folder}/bench.db"
    ports: Any = multiprocessing.get_context("spawn").Queue()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(ports, store_path, public), daemon=True
    )
    server.start()
    port = ports.get(timeout=60)
    base = f"http://127.0.0.1:{port}"

    def signed(
        prefix: str, count: int, inputs: list[str]
    ) -> list[list[tuple[bytes, dict[str, str]]]]:
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
    latencies: dict[str, list[float]] = {name: [] for name, _ in handlers}
    for round_ in range(options.rounds):
        for name, path in handlers:
            calls = signed(f"{name}{round_}", options.calls, INPUTS)
            got, elapsed = asyncio.run(replay(base + path, calls, options.concurrency))
            rates[name].append(len(got) / elapsed)
            latencies[name].extend(got)
    bare = figures("bare handler (verify, parse, 200)", rates["bare"], latencies["bare"])
    quiet = figures("whole webhook path", rates["quiet"], latencies["quiet"])
    full = figures("  + sending its commands", rates["full"], latencies["full"])
    print(f"throughput ratio whole webhook path / bare: {quiet / bare:.2f} (aim >= 0.6)")
    print(f"throughput ratio with commands sent too / bare: {full / bare:.2f}")

    store = SQLiteStore(store_path)
    time.sleep(1.0)
    store.cleanup(finished_before=time.time() + 10, idle_before=0)
    before = store.size_bytes()
    waiting = signed("wait", options.suspended, [])
    asyncio.run(replay(base + "/webhook", waiting, options.concurrency))
    time.sleep(1.0)
    after = store.size_bytes()
    per_call = (after - before) / options.suspended
    print(
        f"store size per suspended call: {per_call:.0f} bytes "
        f"({options.suspended} calls waiting at their first gather, WAL included)"
    )
    store.close()
    server.terminate()
    server.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
