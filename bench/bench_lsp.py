"""Time `flowlang lsp` diagnostics after edits of a 2,000-line flow: incremental against full.

Target (issue 14): diagnostics arrive within 100 ms of an edit (p50 and p99 are printed), and
the server's memory stays flat over 1,000 edits (its RSS is printed at the start and the end).
The baseline is the same server checking the whole file after each edit (`--full-check`), run
on the same edits in the same run, and `check` timed in this process on the same text. Also
timed: edits that add or remove a line (every step below moves), and 30 edits sent at once
(the server should check and publish the latest version, not each one in turn).
Run: .venv/bin/python bench/bench_lsp.py [EDITS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import generate  # noqa: E402

from flowlang.lint import check  # noqa: E402
from flowlang.source import Source  # noqa: E402

FLOWLANG = str(Path(sys.executable).with_name("flowlang"))
LINES = 2000


class Client:
    """A minimal LSP client: JSON-RPC messages with Content-Length headers over pipes."""

    def __init__(self, full: bool) -> None:
        command = [FLOWLANG, "lsp", "--stdio"] + (["--full-check"] if full else [])
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, method: str, params: Any, request: bool = False) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()
        return message.get("id")

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        length = 0
        while True:
            line = self.process.stdout.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message: dict[str, Any] = json.loads(self.process.stdout.read(length))
        return message

    def wait_for(self, test: Any) -> dict[str, Any]:
        while True:
            message = self.receive()
            if test(message):
                return message

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used (the machine may be shared)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return kib / 1024


def diagnostics_for(version: int) -> Any:
    def test(message: dict[str, Any]) -> bool:
        return (
            message.get("method") == "textDocument/publishDiagnostics"
            and message["params"].get("version") == version
        )

    return test


def edit(lines: list[str], start: int, end: int, new: list[str]) -> dict[str, Any]:
    """The change that replaces lines `start` to `end` (0-based, end excluded) by `new`."""
    change = {
        "range": {
            "start": {"line": start, "character": 0},
            "end": {"line": end, "character": 0},
        },
        "text": "".join(line + "\n" for line in new),
    }
    lines[start:end] = new
    return change


class Session:
    """One server (incremental, or checking the whole file after each edit) and its figures."""

    def __init__(self, folder: Path, uri: str, text: str, full: bool) -> None:
        self.client = Client(full)
        self.uri = uri
        client = self.client
        ident = client.send(
            "initialize", {"processId": None, "rootUri": folder.as_uri(), "capabilities": {}}, True
        )
        client.wait_for(lambda m: m.get("id") == ident)
        client.send("initialized", {})
        item = {"uri": uri, "languageId": "flowlang", "version": 1, "text": text}
        start = time.perf_counter()
        client.send("textDocument/didOpen", {"textDocument": item})
        client.wait_for(diagnostics_for(1))
        self.first = time.perf_counter() - start
        self.version = 1
        self.published = 0

    def change(self, changes: list[dict[str, Any]], wait: bool = True) -> float:
        """Send one edit; with `wait`, the seconds until its diagnostics arrive."""
        self.version += 1
        start = time.perf_counter()
        self.client.send(
            "textDocument/didChange",
            {"textDocument": {"uri": self.uri, "version": self.version}, "contentChanges": changes},
        )
        if not wait:
            return 0.0
        message = self.wait()
        assert message["params"]["diagnostics"] == [], message["params"]["diagnostics"][:1]
        return time.perf_counter() - start

    def wait(self) -> dict[str, Any]:
        """The diagnostics of the latest version, counting those published before them."""
        while True:
            message = self.client.receive()
            if message.get("method") != "textDocument/publishDiagnostics":
                continue
            self.published += 1
            if message["params"].get("version") == self.version:
                return message

    def close(self) -> None:
        client = self.client
        ident = client.send("shutdown", None, True)
        client.wait_for(lambda m: m.get("id") == ident)
        client.send("exit", None)
        client.process.wait(timeout=10)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def run(folder: Path, uri: str, text: str, full: bool, edits: int) -> dict[str, Any]:
    lines = text.split("\n")
    session = Session(folder, uri, text, full)
    client = session.client
    rss_start = client.rss_mib()
    cpu_start = client.cpu_seconds()
    # Each edit retypes the text of one `say` line (the line count stays the same), as a
    # person typing does; every edit waits for its diagnostics before the next.
    says = [n for n, line in enumerate(lines) if line.startswith("    say ")]
    typing = []
    rss = {0: rss_start}
    for k in range(edits):
        n = says[k % len(says)]
        typing.append(session.change([edit(lines, n, n + 1, [f'    say "Edit number {k}."'])]))
        if k + 1 in (edits // 10, edits // 2):
            rss[k + 1] = client.rss_mib()
    rss[edits] = client.rss_mib()
    cpu = (client.cpu_seconds() - cpu_start) / edits
    # A line added, then taken away again: every step below it moves.
    moves = []
    cpu_start = client.cpu_seconds()
    rounds = max(10, edits // 20)
    for k in range(rounds):
        n = says[(k * 7) % len(says)]
        moves.append(session.change([edit(lines, n, n, ['    log "one more line"'])]))
        moves.append(session.change([edit(lines, n, n + 1, [])]))
    move_cpu = (client.cpu_seconds() - cpu_start) / (2 * rounds)
    # Fast typing: 30 edits sent at once, then the diagnostics of the last.
    session.published = 0
    start = time.perf_counter()
    n = says[3]
    for k in range(30):
        session.change([edit(lines, n, n + 1, [f'    say "Typed quickly {k}."'])], wait=False)
    session.wait()
    burst = time.perf_counter() - start
    published = session.published
    session.close()
    return {
        "first": session.first,
        "typing": typing,
        "cpu": cpu,
        "moves": moves,
        "move_cpu": move_cpu,
        "burst": burst,
        "published": published,
        "rss": rss,
    }


def main() -> int:
    edits = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    text = generate(LINES)
    folder = Path(tempfile.mkdtemp())
    path = folder / "big.flow"
    path.write_text(text)
    uri = path.as_uri()

    baseline = []
    baseline_cpu = []
    for _ in range(30):
        start, start_cpu = time.perf_counter(), time.process_time()
        check(Source(str(path), text))
        baseline.append(time.perf_counter() - start)
        baseline_cpu.append(time.process_time() - start_cpu)

    print(f"flow: {len(text.splitlines())} lines; {edits} edits, each waiting for diagnostics")
    print(
        f"check alone (in process): p50 {ms(statistics.median(baseline))}, "
        f"CPU {ms(statistics.median(baseline_cpu))}"
    )
    results = {}
    for label, whole in (("full check (baseline)", True), ("incremental", False)):
        r = results[label] = run(folder, uri, text, whole, edits)
        quantiles = statistics.quantiles(r["typing"], n=100)
        moves = statistics.quantiles(r["moves"], n=100)
        print(f"{label}:")
        print(f"  first diagnostics after opening: {ms(r['first'])}")
        print(
            f"  edit -> diagnostics: p50 {ms(statistics.median(r['typing']))}, "
            f"p99 {ms(quantiles[98])}, max {ms(max(r['typing']))}"
        )
        print(f"  server CPU per edit: {ms(r['cpu'])}")
        print(
            f"  a line added or removed (the steps below move): p50 "
            f"{ms(statistics.median(r['moves']))}, p99 {ms(moves[98])}, CPU {ms(r['move_cpu'])}"
        )
        print(
            f"  30 edits sent at once: last diagnostics after {ms(r['burst'])}, "
            f"{r['published']} versions published"
        )
        steps = ", ".join(f"{mib:.1f} MiB after {n}" for n, mib in r["rss"].items() if n)
        print(f"  server RSS: {r['rss'][0]:.1f} MiB at the start, {steps} edits")
    full, incremental = results["full check (baseline)"], results["incremental"]
    p99 = statistics.quantiles(incremental["typing"], n=100)[98]
    print(
        f"incremental / full: p50 "
        f"{statistics.median(incremental['typing']) / statistics.median(full['typing']):.2f}x, "
        f"CPU per edit {incremental['cpu'] / full['cpu']:.2f}x"
    )
    print(f"target: p99 under 100 ms: {'met' if p99 < 0.1 else 'NOT met'} ({ms(p99)})")
    print(f"machine load: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
