"""Time `flowlang lsp` diagnostics after edits of a 2,000-line flow, against `check` alone.

Target (issue 14): diagnostics arrive within 100 ms of an edit (p50 and p99 are printed), and
the server's memory stays flat over 1,000 edits (its RSS is printed at the start and the end).
The baseline is the same `check` the server runs, timed in this process on the same text.
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

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [FLOWLANG, "lsp", "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
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


def main() -> int:
    edits = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    text = generate(LINES)
    lines = text.split("\n")
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

    client = Client()
    ident = client.send(
        "initialize", {"processId": None, "rootUri": folder.as_uri(), "capabilities": {}}, True
    )
    client.wait_for(lambda m: m.get("id") == ident)
    client.send("initialized", {})
    item = {"uri": uri, "languageId": "flowlang", "version": 1, "text": text}
    client.send("textDocument/didOpen", {"textDocument": item})
    client.wait_for(diagnostics_for(1))
    rss_start = client.rss_mib()
    cpu_start = client.cpu_seconds()

    # Each edit retypes the text of one `say` line (the line count stays the same), as a
    # person typing does; every edit waits for its diagnostics before the next.
    says = [n for n, line in enumerate(lines) if line.startswith("    say ")]
    latencies = []
    for version in range(2, edits + 2):
        n = says[version % len(says)]
        new = f'    say "Edit number {version}."'
        change = {
            "range": {
                "start": {"line": n, "character": 0},
                "end": {"line": n, "character": len(lines[n])},
            },
            "text": new,
        }
        lines[n] = new
        start = time.perf_counter()
        client.send(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        message = client.wait_for(diagnostics_for(version))
        latencies.append(time.perf_counter() - start)
        assert message["params"]["diagnostics"] == [], message["params"]["diagnostics"][:1]
    rss_end = client.rss_mib()
    server_cpu = (client.cpu_seconds() - cpu_start) / edits
    ident = client.send("shutdown", None, True)
    client.wait_for(lambda m: m.get("id") == ident)
    client.send("exit", None)
    client.process.wait(timeout=10)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    quantiles = statistics.quantiles(latencies, n=100)
    p50, p99 = statistics.median(latencies), quantiles[98]
    check_p50 = statistics.median(baseline)
    print(f"flow: {len(text.splitlines())} lines; {edits} edits, each waiting for diagnostics")
    check_cpu = statistics.median(baseline_cpu)
    print(f"check alone (in process): p50 {ms(check_p50)}, CPU {ms(check_cpu)}")
    print(f"edit -> diagnostics:      p50 {ms(p50)}, p99 {ms(p99)}, max {ms(max(latencies))}")
    print(f"ratio to check alone:     p50 {p50 / check_p50:.2f}x, p99 {p99 / check_p50:.2f}x")
    print(f"server CPU per edit:      {ms(server_cpu)} (machine load: {os.getloadavg()[0]:.1f})")
    print(f"target: p99 under 100 ms: {'met' if p99 < 0.1 else 'NOT met'}")
    print(f"server RSS: {rss_start:.1f} MiB at the start, {rss_end:.1f} MiB after {edits} edits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
