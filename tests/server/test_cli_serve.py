"""`flowlang serve` refuses to start, with one clear line, when it cannot serve safely."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from flowlang.cli import main
from flowlang.cli.serve import duration
from tests.server.scenarios import EVERYTHING
from tests.server.signing import public_key_b64

GOOD_KEY = public_key_b64(SigningKey.generate())


def serve(
    argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys
) -> tuple[int, str]:
    for name in ("TELNYX_PUBLIC_KEY", "TELNYX_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status = main(["serve", *argv])
    return status, capsys.readouterr().err


REFUSALS = [
    ("no-public-key", [str(EVERYTHING)], {}, "TELNYX_PUBLIC_KEY is not set"),
    (
        "public-key-not-base64",
        [str(EVERYTHING)],
        {"TELNYX_PUBLIC_KEY": "not-a-key!"},
        "not valid base64",
    ),
    (
        "public-key-wrong-size",
        [str(EVERYTHING)],
        {"TELNYX_PUBLIC_KEY": base64.b64encode(b"x" * 31).decode()},
        "31 bytes",
    ),
    (
        "no-such-flow",
        ["missing.flow"],
        {"TELNYX_PUBLIC_KEY": GOOD_KEY},
        "missing.flow: no such file or folder",
    ),
    ("no-such-flow-before-the-key", ["missing.flow"], {}, "missing.flow: no such file or folder"),
    (
        "api-base-not-a-url",
        [str(EVERYTHING), "--api-base", "notaurl"],
        {"TELNYX_PUBLIC_KEY": GOOD_KEY},
        "--api-base notaurl is not a web address",
    ),
    (
        "zero-give-up",
        [str(EVERYTHING), "--give-up-after", "0s"],
        {"TELNYX_PUBLIC_KEY": GOOD_KEY},
        "--give-up-after must be longer than zero",
    ),
    (
        "bad-store-url",
        [str(EVERYTHING), "--store", "mysql://x"],
        {"TELNYX_PUBLIC_KEY": GOOD_KEY},
        "unsupported store URL",
    ),
]


@pytest.mark.parametrize(
    ("argv", "env", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refuses_to_start_with_one_clear_line(
    argv: list[str], env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    status, err = serve(argv, env, monkeypatch, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowlang: error: ")
    assert message in lines[0]


def test_a_flow_with_errors_is_not_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    flow = tmp_path / "broken.flow"
    flow.write_text("main:\n    answer\n    goto nowhere\n")
    status, err = serve([str(flow)], {"TELNYX_PUBLIC_KEY": GOOD_KEY}, monkeypatch, capsys)
    assert status == 1
    assert "nowhere" in err and "has errors" in err


def test_a_port_in_use_is_explained(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        status, err = serve(
            [str(EVERYTHING), "--port", str(port), "--store", "sqlite:///:memory:"],
            {"TELNYX_PUBLIC_KEY": GOOD_KEY},
            monkeypatch,
            capsys,
        )
    assert status == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err


def test_an_address_not_of_this_machine_is_explained(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # 192.0.2.1 is reserved for documentation: never an address of this machine.
    status, err = serve(
        [str(EVERYTHING), "--host", "192.0.2.1", "--port", "0", "--store", "sqlite:///:memory:"],
        {"TELNYX_PUBLIC_KEY": GOOD_KEY},
        monkeypatch,
        capsys,
    )
    assert status == 2
    assert "cannot listen on 192.0.2.1:0" in err and "is --host an address of this machine" in err
    assert "another --port" not in err


DURATIONS = [("90", 90.0), ("90s", 90.0), ("30m", 1800.0), ("12h", 43200.0), ("7d", 604800.0)]


@pytest.mark.parametrize(("text", "seconds"), DURATIONS, ids=[d[0] for d in DURATIONS])
def test_retention_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


def test_a_bad_retention_is_explained(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", str(EVERYTHING), "--retention", "soon"])
    assert exit_.value.code == 2
    assert "not a duration" in capsys.readouterr().err


def test_a_served_run_logs_where_it_listens_and_leaves_no_handler_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import json
    import logging

    import uvicorn

    def run(self: uvicorn.Server, sockets: list | None = None) -> None:
        self.started = True
        for sock in sockets or []:
            sock.close()  # as uvicorn does when it stops

    monkeypatch.setattr(uvicorn.Server, "run", run)
    store = f"sqlite:///{tmp_path / 'calls.db'}"
    argv = [str(EVERYTHING), "--port", "0", "--store", store, "--insecure-skip-verify"]
    status, err = serve(argv, {"TELNYX_API_KEY": "KEY123"}, monkeypatch, capsys)
    assert status == 0
    listening = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [entry["event"] for entry in listening] == ["listening", "stopped"]
    assert "KEY123" not in err
    # A later log line must not go to this run's stream, which may be closed by then.
    assert logging.getLogger("flowlang").handlers == []
