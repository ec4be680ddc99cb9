"""Issue 13 end to end: real calls served over loopback against the fake Telnyx (on SQLite and
PostgreSQL), then listed, shown, every one replayed with no mismatch, one replayed against an
edited flow with the expected difference, and one turned into a scenario `flowlang test` passes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from flowlang.cli import main
from flowlang.serve.app import create_app
from flowlang.serve.store import open_store
from flowlang.serve.telnyx.signature import Verifier
from tests.server.fake_telnyx import FakeTelnyx
from tests.server.live import ServeProcess, ThreadServer
from tests.server.scenarios import BEYOND, EVERYTHING, EXAMPLES, SCENARIOS, finish, program
from tests.server.signing import public_key_b64

CALLERS = {
    "v3:hours-then-orders": ["1", "1", "2"],
    "v3:silent": ["timeout", "timeout", "timeout"],
    "v3:operator": ["0"],
    "v3:hung-up": ["hangup"],
    "v3:orders": ["2"],
}


def serve(flow: Path, store_url: str, callers: dict[str, list[str]] = CALLERS) -> None:
    """Serve every caller of `callers` at once on `flow`, and stop the server once they are
    done."""
    key = SigningKey.generate()
    fake = FakeTelnyx(key)
    app = create_app(
        program(flow),
        open_store(store_url),
        verifier=Verifier(key.verify_key),
        api_key=fake.api_key,
        api_base=fake.api_base,
        flow_path=flow,
    )
    server = ThreadServer(app)
    fake.webhook_url = server.url + "/webhook"
    try:
        calls = [fake.call(call_id, inputs, caller="+13125550147")
                 for call_id, inputs in callers.items()]
        finish(*calls)
    finally:
        server.stop()
        fake.close()


def flowlang(capsys: pytest.CaptureFixture[str], *words: str) -> tuple[int, str]:
    status = main(list(words))
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_real_calls_are_listed_shown_replayed_compared_and_made_tests(
    tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = tmp_path / "business_line.flow"
    flow.write_text((EXAMPLES / "business_line.flow").read_text())
    serve(flow, store_url)
    store = ("--store", store_url)

    status, out = flowlang(capsys, "calls", *store, "--json")
    assert status == 0
    listed = {c["id"]: c for c in json.loads(out)}
    assert set(listed) == set(CALLERS)
    assert {c["status"] for c in listed.values()} == {"ended"}
    assert {c["from"] for c in listed.values()} == {"+13125550147"}
    assert listed["v3:orders"]["end"] == "transfer"
    assert listed["v3:hung-up"]["end"] == "hangup"

    status, out = flowlang(capsys, "calls", *store)
    assert status == 0 and "5 calls" in out and "transferred" in out

    status, out = flowlang(capsys, "calls", "show", "v3:orders", *store)
    assert status == 0
    assert ">>>       caller presses 2" in out
    assert 'line 16   say "Connecting you to our order desk."' in out
    assert "The call ended: the caller was transferred to +13125550101." in out
    assert "sent." in out

    for call_id in CALLERS:
        status, out = flowlang(capsys, "replay", call_id, *store)
        assert status == 0, out
        assert "the same commands at every one" in out

    fixed = tmp_path / "fixed" / "business_line.flow"
    fixed.parent.mkdir()
    fixed.write_text(flow.read_text().replace('"+13125550101"', '"+13125550199"'))
    status, out = flowlang(capsys, "replay", "v3:orders", *store, "--flow", str(fixed))
    assert status == 0
    (marked,) = [line for line in out.splitlines() if line.startswith("X")]
    assert "transfer to +13125550101" in marked and "transfer to +13125550199" in marked
    status, out = flowlang(capsys, "replay", "v3:silent", *store, "--flow", str(fixed))
    assert "would hear exactly the same" in out

    incident = tmp_path / "incidents.scenarios"
    status, out = flowlang(capsys, "replay", "v3:hours-then-orders", *store, "--scenario",
                           str(incident))
    assert status == 0
    status, out = flowlang(capsys, "test", str(incident))
    assert status == 0 and "1 passed, 0 failed" in out
    beside = fixed.with_suffix(".scenarios")
    status, out = flowlang(capsys, "replay", "v3:orders", *store, "--flow", str(fixed),
                           "--scenario", str(beside))
    assert status == 0
    status, out = flowlang(capsys, "test", str(fixed))
    assert status == 0 and "1 passed, 0 failed" in out


def test_every_kind_of_served_call_replays_with_no_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What Telnyx answers to a command (an AI conversation's id) and the backend-free waits of
    # section 14 (transfers, queues, recordings after the hangup) are replayed too.
    callers = {f"v3:{flow.stem}-{n}": inputs
               for n, (flow, inputs) in enumerate(SCENARIOS) if flow in (EVERYTHING, BEYOND)}
    store = f"sqlite:///{tmp_path}/calls.db"
    for flow in (EVERYTHING, BEYOND):
        serve(flow, store, {k: v for k, v in callers.items() if k.startswith(f"v3:{flow.stem}")})
    for call_id in callers:
        status, out = flowlang(capsys, "replay", call_id, "--store", store)
        assert status == 0, out


def test_flowlang_serve_redact_keeps_the_callers_number_out_of_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = SigningKey.generate()
    fake = FakeTelnyx(key)
    env = {"TELNYX_PUBLIC_KEY": public_key_b64(key), "TELNYX_API_KEY": fake.api_key}
    store = f"sqlite:///{tmp_path}/calls.db"
    server = ServeProcess(EXAMPLES / "business_line.flow", store, fake.api_base, env,
                          extra=("--redact", "--retention", "2d"))
    fake.webhook_url = server.url + "/webhook"
    try:
        finish(fake.call("v3:private", ["2"], caller="+13125550147"))
    finally:
        server.stop()
        fake.close()
    with sqlite3.connect(tmp_path / "calls.db") as db:
        written = "".join(row[0] for row in db.execute("SELECT data FROM history"))
    assert "3125550147" not in written and "+*******0147" in written
    status, out = flowlang(capsys, "calls", "--store", store, "--number", "0147")
    assert status == 0 and "+*******0147" in out and "3125550147" not in out
    status, out = flowlang(capsys, "replay", "v3:private", "--store", store)
    assert status == 0 and "the same commands" in out
