"""Second-edition data constructs (LANGUAGE.md 10): the cost of checking them, and what a `fetch`
does to the webhook's answer.

Run: .venv/bin/python bench/bench_data.py [--calls 60]

1. `flowlang check` (parse and every lint rule) on a generated 20,000-line flow made of the new
   constructs (fetch blocks with headers, secrets, `send` and `on error:`, counting with `+`/`-`,
   ordering comparisons), against a bare Lark parse of the same text (Lark's own lexer, the same
   grammar, no nodes, no rules). Target: under 2x. CPU time, best of several rounds taking turns.
2. The webhook's answer time (p50, p99), in process (the ASGI app, a SQLite store, Telnyx and
   the backend as in-process stand-ins), for the same call flow without and with two fetches in
   it. The fetch is carried out after the answer, so the answer should not grow: the ratio of the
   p99s is printed (target about 1x).

More constructs of the second edition (opening hours, the clock) can be added to the generated
flow of part 1 by their authors; the figures stay comparable as long as the bare parse reads the
same text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_LINES = 20_000

STEP = """\
# Part {i}: look an order up, count the tries, book a callback.
lookup_{i}:
    set left = left - 1
    gather digits 6 terminator "#" valid "0123456789" tries 2 into order:
        say "Please enter order number {i}."
        on digits: log "got {{order}}"
        on invalid: set left = left - 1
        on timeout: set left = left - 2
    fetch "https://api.acme.com/orders/{{order}}?part={i}" into status timeout 4s:
        header "Authorization" secret "ACME_TOKEN"
        header "Accept" "application/json"
        on error:
            say "Sorry, the order system is not answering."
            goto agent
    if status.count + 1 > 3 and left >= 0:
        say "Order {{order}} is {{status.state}} with {{status.count}} items."
    elif status.state == "lost" or left - 1 < 0:
        log "lost order {{order}}"
    fetch "https://api.acme.com/callbacks" method "POST" into booked:
        header "Authorization" secret "ACME_TOKEN"
        send number = caller
        send items = status.count - 1
        on error: goto agent
    say "Callback {{booked.id}} is booked."
    goto lookup_{next}

"""


def generate(lines: int) -> str:
    """A lint-clean flow of at least `lines` lines, its parts chained by `goto`."""
    head = (
        'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\n'
        "main:\n    answer\n    set left = 3\n    goto lookup_0\n\n"
        'agent:\n    say "Connecting you."\n    transfer "+13125550100"\n\n'
    )
    parts = [head]
    count = head.count("\n")
    i = 0
    while count < lines:
        block = STEP.format(i=i, next=i + 1)
        parts.append(block)
        count += block.count("\n")
        i += 1
    parts.append(f"lookup_{i}:\n    hangup\n")
    return "".join(parts)


def check_against_bare_parse() -> None:
    from bench_parse import _BareIndenter, best_times
    from lark import Lark

    from flowlang.lint import check_source
    from flowlang.source import Source
    from flowlang.syntax.parser import grammar_path

    text = generate(TARGET_LINES)
    lines = text.count("\n")
    source = Source("data.flow", text)
    found = check_source(source)
    if found:
        sys.exit(f"the generated flow is not lint-clean: {found[0].code} {found[0].message}")
    bare = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="basic",
        postlex=_BareIndenter(),
        maybe_placeholders=False,
    )
    ours, theirs = best_times(5, lambda: check_source(source), lambda: bare.parse(text))
    print(f"lines:                          {lines}")
    print(f"flowlang check (parse + lint):  {ours:.3f} s  ({lines / ours:,.0f} lines/s)")
    print(f"bare Lark parse:                {theirs:.3f} s  ({lines / theirs:,.0f} lines/s)")
    print(f"ratio check / bare parse:       {ours / theirs:.2f}x  (target < 2x)")


# ---------------------------------------------------------------------------------------------
# The webhook's answer, without and with fetches

PLAIN = """\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    say "Thanks for calling Acme order status."
    gather digits 6 terminator "#" valid "0123456789" into order:
        say "Please enter your order number, then press pound."
        on digits: say "Order {order} is on its way."
        on invalid: hangup
        on timeout: hangup
    say "Goodbye."
    hangup
"""

WITH_FETCH = """\
voice "Telnyx.KokoroTTS.af"

main:
    answer
    say "Thanks for calling Acme order status."
    gather digits 6 terminator "#" valid "0123456789" into order:
        say "Please enter your order number, then press pound."
        on digits:
            fetch "https://api.acme.com/orders/{order}" into status timeout 4s:
                header "Authorization" secret "ACME_TOKEN"
                on error: hangup
            say "Order {order} is {status.state}."
            fetch "https://api.acme.com/callbacks" method "POST" into booked:
                send number = caller
                on error: hangup
        on invalid: hangup
        on timeout: hangup
    say "Goodbye."
    hangup
"""


async def answer_times(text: str, calls: int) -> list[float]:
    """Seconds from each webhook's arrival to its answer, over `calls` whole calls."""
    import httpx

    from flowlang.compiler import compile_source
    from flowlang.offline.phone import Phone
    from flowlang.offline.simulator import parse_input
    from flowlang.runtime.commands import Command
    from flowlang.runtime.events import CallInfo
    from flowlang.serve.app import create_app
    from flowlang.serve.store import open_store
    from flowlang.source import Source

    phones: dict[str, Phone] = {}
    queue: list[dict[str, Any]] = []

    def telnyx(request: httpx.Request) -> httpx.Response:
        # /v2/calls/{id}/actions/{action}: the phone model answers with the webhooks Telnyx sends.
        parts = request.url.path.split("/")
        call_id, action = parts[-3], parts[-1]
        queue.extend(phones[call_id].send(Command(action, json.loads(request.content))))
        return httpx.Response(200, json={"data": {"result": "ok"}})

    def backend(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"state": "shipped", "id": 7})

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            compile_source(Source("bench.flow", text)),
            open_store(f"sqlite:///{folder}/calls.db"),
            verifier=None,
            api_key="bench",
            api_base="http://telnyx.invalid/v2",
            transport=httpx.MockTransport(telnyx),
            backend_transport=httpx.MockTransport(backend),
            environ={"ACME_TOKEN": "Bearer bench"},
        )
        await app.startup()
        times: list[float] = []
        inputs = [parse_input("123456#")]
        for n in range(calls + 1):
            if n == 1:
                times.clear()  # the first call warms up (compiles the flow, opens the store)
            call_id = f"v3:bench-{n}"
            phone = phones[call_id] = Phone(CallInfo(call_id), informational=False)
            script = list(inputs)
            queue.append(phone.incoming())
            while True:
                while queue:
                    times.append(await _deliver(app, queue.pop(0)))
                await app.sender.idle()
                if queue:
                    continue
                if phone.waiting is not None and script:
                    queue.extend(phone.act(script.pop(0)))
                    continue
                break
        await app.shutdown()
    return times


async def _deliver(app: Any, envelope: dict[str, Any]) -> float:
    body = json.dumps(envelope).encode()
    scope = {"type": "http", "method": "POST", "path": "/webhook", "headers": []}
    sent = [False]
    answered: list[float] = []

    async def receive() -> dict[str, Any]:
        if sent[0]:
            await asyncio.sleep(3600)
        sent[0] = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            answered.append(time.perf_counter())

    start = time.perf_counter()
    await app(scope, receive, send)
    return answered[0] - start


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def webhook_answers(calls: int) -> None:
    import logging

    logging.getLogger("flowlang.serve.app").setLevel(logging.ERROR)
    plain = asyncio.run(answer_times(PLAIN, calls))
    fetching = asyncio.run(answer_times(WITH_FETCH, calls))
    for name, times in (("without fetch", plain), ("with 2 fetches", fetching)):
        p50 = statistics.median(times) * 1000
        p99 = percentile(times, 0.99) * 1000
        print(f"webhook answer, {name:<15} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
              f"({len(times)} webhooks)")
    ratio = percentile(fetching, 0.99) / percentile(plain, 0.99)
    print(f"ratio of p99s with / without fetch: {ratio:.2f}x  (a fetch adds no work to the answer)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60)
    args = parser.parse_args()
    check_against_bare_parse()
    webhook_answers(args.calls)


if __name__ == "__main__":
    main()
