"""`flowlang dial` over loopback: a CSV list through the real server and the fake Telnyx."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowlang.cli import main
from flowlang.cli.dial import Campaign
from flowlang.serve.store import StoreError
from tests.server.live import ROOT
from tests.server.test_e2e import Rig

REMINDER = ROOT / "examples" / "appointment_reminder.flow"
CSV = ROOT / "examples" / "appointment_reminder.csv"
TOKEN = "another-s3cret"


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setenv("FLOWLANG_DIAL_TOKEN", TOKEN)
    built = Rig(tmp_path, REMINDER, dial_token=TOKEN, connection_id="1494404757140276705")
    yield built
    built.close()


def dial(rig: Rig, *extra: str) -> int:
    return main(["dial", "--server", rig.server.url, "--rate", "6000", "--concurrency", "2",
                 "--poll", "0.1", *extra])


def test_a_csv_list_is_called_and_reported_then_nobody_is_called_twice(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rig.fake.callees.extend([["answered", "human", "1"], ["answered", "machine", "beep"],
                             ["busy"]])
    state = tmp_path / "calls.state.jsonl"
    assert dial(rig, "--csv", str(CSV), "--state", str(state)) == 0
    report = capsys.readouterr().out
    assert "3 of 3 calls tried:" in report
    for count, words in ((1, "answered by a person"), (1, "answered by a machine"),
                         (0, "not answered"), (1, "busy"), (0, "failed")):
        assert f"{count:>5}  {words}" in report
    assert sorted(d["to"] for d in rig.fake.dials) == [
        "+13125550111", "+13125550122", "+13125550133"
    ]
    assert rig.fake.dials[0]["client_state"]
    assert dial(rig, "--csv", str(CSV), "--state", str(state)) == 0
    assert len(rig.fake.dials) == 3
    assert rig.fake.invalid == []


def test_a_stopped_list_goes_on_where_it_stopped(rig: Rig, tmp_path: Path) -> None:
    state = tmp_path / "calls.state.jsonl"
    # The first row was started and finished by an earlier run that was then stopped.
    state.write_text(json.dumps({"row": 0, "to": "+13125550111", "id": "earlier",
                                 "status": "no_answer", "finished": True}) + "\n")
    rig.fake.callees.extend([["no_answer"], ["busy"]])
    assert dial(rig, "--csv", str(CSV), "--state", str(state)) == 0
    assert [d["to"] for d in rig.fake.dials] == ["+13125550122", "+13125550133"]


def test_one_call_with_its_inputs(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    rig.fake.callees.append(["no_answer"])
    assert dial(rig, "--to", "+13125550144", "--with", "patient=Ann Lee", "--with", "day=Friday",
                "--with", "time=noon") == 0
    assert "1  not answered" in capsys.readouterr().out
    assert rig.fake.dials[0]["to"] == "+13125550144"


def test_a_wrong_token_stops_before_calling_anyone(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWLANG_DIAL_TOKEN", "wrong")
    assert dial(rig, "--to", "+13125550144") == 2
    assert "refused to place calls (401)" in capsys.readouterr().err
    assert rig.fake.dials == []


@pytest.mark.parametrize("problem", ["wrong-token", "calling-out-off"])
def test_a_resumed_list_the_server_will_not_talk_about_is_stopped_not_marked_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    problem: str,
) -> None:
    # A call placed by an earlier run, then the list run again against a server that refuses
    # to say how it went (a wrong token, or restarted without FLOWLANG_DIAL_TOKEN): recording
    # it as failed would have `--retry-failed` ring that person a second time.
    if problem == "wrong-token":
        monkeypatch.setenv("FLOWLANG_DIAL_TOKEN", "wrong")
        built = Rig(tmp_path, REMINDER, dial_token=TOKEN, connection_id="1494404757140276705")
        expected, fix = "(401)", "set FLOWLANG_DIAL_TOKEN to the token the server was started"
    else:
        monkeypatch.setenv("FLOWLANG_DIAL_TOKEN", TOKEN)
        built = Rig(tmp_path, REMINDER)
        expected, fix = "(404)", "start the server with FLOWLANG_DIAL_TOKEN set"
    state = tmp_path / "calls.state.jsonl"
    placed = {"row": 0, "to": "+13125550111", "line": 2, "id": "placed-earlier",
              "status": "queued", "finished": False}
    state.write_text(json.dumps(placed) + "\n")
    try:
        assert dial(built, "--csv", str(CSV), "--state", str(state)) == 2
    finally:
        built.close()
    err = capsys.readouterr().err
    assert f"the server refused to say how the calls went {expected}" in err and fix in err
    assert "Traceback" not in err
    assert [json.loads(line) for line in state.read_text().splitlines()] == [placed]
    assert built.fake.dials == []


def test_a_store_unavailable_for_a_moment_does_not_stop_the_list(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server answers 503 while its database cannot be read: asked again at the next poll.
    dialer = rig.app.dialer
    assert dialer is not None
    real = dialer.status
    outage = [StoreError("database is locked")] * 2

    async def status(request_id: str) -> Any:
        if outage:
            raise outage.pop()
        return await real(request_id)

    monkeypatch.setattr(dialer, "status", status)
    rig.fake.callees.append(["no_answer"])
    assert dial(rig, "--to", "+13125550144", "--with", "patient=Ann Lee", "--with", "day=Friday",
                "--with", "time=noon") == 0
    assert outage == []
    assert "1  not answered" in capsys.readouterr().out


def test_calls_the_server_refuses_are_listed_with_why_and_the_exit_status_is_1(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tutorial's first flow has no `input day`; this list gives a `room` the flow lacks.
    table = tmp_path / "list.csv"
    table.write_text("to,patient,day,time,room\n+13125550111,Ann Lee,Tuesday,10 AM,3\n"
                     "+13125550122,Omar Haddad,Tuesday,2 PM,4\n")
    assert dial(rig, "--csv", str(table)) == 1
    report = capsys.readouterr().out
    assert "    2  failed" in report
    for number, line in (("+13125550111", 2), ("+13125550122", 3)):
        assert (f"  {number} (line {line}): the server refused the call: inputs.room: the flow "
                "has no `input room` (its inputs: patient, day, time): leave `room` out, or add "
                "`input room` to the flow") in report
    assert rig.fake.dials == []


def test_a_call_that_fails_after_it_was_placed_is_listed_and_exits_1(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    rig.fake.callees.append(["failed"])
    assert dial(rig, "--to", "+13125550144", "--with", "patient=Ann Lee", "--with", "day=Friday",
                "--with", "time=noon") == 1
    report = capsys.readouterr().out
    assert "1  failed" in report
    assert "  +13125550144: the call ended before it was answered (Telnyx's hangup cause: " \
        in report


def test_failed_rows_are_called_again_only_when_asked(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "calls.state.jsonl"
    rig.fake.callees.extend([["failed"], ["busy"], ["answered", "human", "1"]])
    assert dial(rig, "--csv", str(CSV), "--state", str(state)) == 1
    assert "1  failed" in capsys.readouterr().out
    first = [d["to"] for d in rig.fake.dials]
    assert dial(rig, "--csv", str(CSV), "--state", str(state)) == 1
    assert len(rig.fake.dials) == 3  # a plain second run calls nobody twice
    failed = first[0]  # the fake answers dials in the order they come: the first failed
    rig.fake.callees.append(["answered", "human", "1"])
    assert dial(rig, "--csv", str(CSV), "--state", str(state), "--retry-failed") == 0
    assert [d["to"] for d in rig.fake.dials] == [*first, failed]  # only the failed row
    report = capsys.readouterr().out
    assert "3 of 3 calls tried:" in report and "    0  failed" in report
    assert dial(rig, "--csv", str(CSV), "--state", str(state)) == 0  # the state says so too
    assert len(rig.fake.dials) == 4


def test_an_unreachable_server_is_said_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWLANG_DIAL_TOKEN", TOKEN)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once it is closed
    state = tmp_path / "calls.state.jsonl"
    status = main(["dial", "--server", f"http://127.0.0.1:{port}", "--csv", str(CSV),
                   "--state", str(state), "--poll", "0.1"])
    err = capsys.readouterr().err
    assert status == 2
    assert f"cannot reach the flowlang server at http://127.0.0.1:{port}" in err
    assert "run the same command again to go on" in err and "Traceback" not in err


MISTAKES = [
    ("empty-to", ["--to", ""], "--to needs the number to call"),
    ("with-without-value", ["--to", "+13125550111", "--with", "patient"], "write NAME=VALUE"),
    ("with-without-name", ["--to", "+13125550111", "--with", "=Ann"], "write NAME=VALUE"),
    ("csv-not-utf8", ["--csv", "latin.csv"], "latin.csv is not UTF-8 text: save it as UTF-8"),
    ("state-a-folder", ["--csv", "ok.csv", "--state", "folder"], "--state folder: cannot read"),
    ("state-not-progress", ["--csv", "ok.csv", "--state", "bad.state"], "not a progress file"),
]


@pytest.mark.parametrize(("argv", "message"), [m[1:] for m in MISTAKES],
                         ids=[m[0] for m in MISTAKES])
def test_a_mistake_in_the_command_is_one_line_before_anyone_is_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str], message: str,
) -> None:
    monkeypatch.setenv("FLOWLANG_DIAL_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "latin.csv").write_bytes("to,name\n+13125550111,José\n".encode("latin-1"))
    (tmp_path / "ok.csv").write_text("to\n+13125550111\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "bad.state").write_bytes(b"\xff\xfe\x00garbage")
    # No server listens on port 9: a mistake must be found before any call is tried.
    assert main(["dial", "--server", "http://127.0.0.1:9", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowlang: error: ") and message in err
    assert "Traceback" not in err and "cannot reach" not in err


def test_progress_in_a_log_is_a_line_when_it_changes_and_a_bar_on_a_terminal(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rig.fake.callees.extend([["answered", "human", "1"], ["no_answer"], ["busy"]])
    assert dial(rig, "--csv", str(CSV), "--state", str(tmp_path / "calls.state.jsonl")) == 0
    lines = capsys.readouterr().err.splitlines()
    # Not a bar redrawn at every poll (a service's log would fill up): each line differs from
    # the one before, and the last says all is done.
    assert lines and "\r" not in "".join(lines)
    assert all(a != b for a, b in zip(lines, lines[1:], strict=False))
    assert lines[-1] == "3/3 done, 0 under way"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown = Terminal()
    campaign = Campaign(None, [{"to": "+13125550111"}], None, 60.0, 1, 0.1)
    campaign._save({"row": 0, "to": "+13125550111", "finished": True, "status": "busy"})
    campaign.run(shown)
    assert shown.getvalue() == f"\r[{'#' * 30}] 1/1 done, 0 under way\n"


def test_sigterm_stops_a_list_as_ctrl_c_does(tmp_path: Path) -> None:
    # A server that takes the connection and never answers: dial waits on its first call.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        state = tmp_path / "calls.state.jsonl"
        proc = subprocess.Popen(
            [sys.executable, "-c", "from flowlang.cli import entry; entry()", "dial",
             "--server", f"http://127.0.0.1:{port}", "--csv", str(CSV), "--state", str(state)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "FLOWLANG_DIAL_TOKEN": TOKEN},
            stderr=subprocess.PIPE, text=True,
        )
        connection, _ = silent.accept()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        connection.close()
    assert proc.returncode == 143
    assert err.strip().splitlines()[-1] == (
        f"stopped: 0 of 3 calls started; progress is in {state}, run the same command again"
        " to go on"
    )
    assert "Traceback" not in err


def test_progress_kept_for_another_list_is_refused_before_anyone_is_called(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first run called the first row; then that row was taken out of the list (the person
    # asked not to be called). Rows are known by their place: going on would skip the new
    # first row and ring the last one twice.
    state = tmp_path / "calls.state.jsonl"
    state.write_text(json.dumps({"row": 0, "to": "+13125550111", "line": 2, "id": "earlier",
                                 "status": "answered", "finished": True}) + "\n")
    lines = CSV.read_text(encoding="utf-8").splitlines()
    edited = tmp_path / "list.csv"
    edited.write_text("\n".join([lines[0], *lines[2:]]) + "\n", encoding="utf-8")
    rig.fake.callees.extend([["no_answer"], ["no_answer"]])  # so a wrong run ends quickly
    assert dial(rig, "--csv", str(edited), "--state", str(state)) == 2
    err = capsys.readouterr().err
    assert f"--state {state}: the progress kept there is for another list (row 2 was" \
           " +13125550111, it is now +13125550122)" in err
    assert "give a new --state file" in err
    assert rig.fake.dials == []


def test_a_call_the_server_forgot_is_of_unknown_outcome_and_not_rung_again(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first row's call was under way when the last run stopped, and the server has since
    # forgotten it (past its --retention): the person may have answered.
    state = tmp_path / "calls.state.jsonl"
    state.write_text(json.dumps({"row": 0, "to": "+13125550111", "line": 2, "id": "forgotten",
                                 "status": "ringing", "finished": False}) + "\n")
    rig.fake.callees.extend([["no_answer"], ["busy"]])
    assert dial(rig, "--csv", str(CSV), "--state", str(state)) == 0
    report = capsys.readouterr().out
    assert "    1  outcome unknown" in report and "    0  failed" in report
    assert "outcome unknown:\n  +13125550111 (line 2): the server no longer knows this call" \
        in report
    assert dial(rig, "--csv", str(CSV), "--state", str(state), "--retry-failed") == 0
    assert [d["to"] for d in rig.fake.dials] == ["+13125550122", "+13125550133"]
