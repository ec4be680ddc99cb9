"""`flowlang serve` as an operator meets it: how it starts, stops and fails, and what it logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from nacl.signing import SigningKey

from flowlang.cli.inputs import UsageError
from flowlang.cli.serve import _JsonLines, empty_metrics_folder
from flowlang.cli.workers import QUICK_DEATHS_ALLOWED, supervise
from flowlang.serve.store.url import without_password
from tests.server.live import ROOT, ServeProcess
from tests.server.postgres import Cluster
from tests.server.scenarios import EVERYTHING
from tests.server.signing import public_key_b64

ENV = {"TELNYX_PUBLIC_KEY": public_key_b64(SigningKey.generate()), "TELNYX_API_KEY": "KEY"}


def serve_until_exit(
    *argv: str, timeout: float = 20, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`flowlang serve ...` in a subprocess expected to stop by itself."""
    import os

    return subprocess.run(
        [sys.executable, "-c", "from flowlang.cli import entry; entry()", "serve", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_postgresql_role_that_cannot_make_the_tables_is_one_line_not_a_restart_loop(
    postgres: Cluster,
) -> None:
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute("CREATE ROLE reader LOGIN")
        conn.execute("CREATE DATABASE readonly OWNER postgres")
    url = f"postgresql://reader@127.0.0.1:{postgres.port}/readonly"
    done = serve_until_exit(str(EVERYTHING), "--port", "0", "--workers", "2", "--store", url)
    assert done.returncode == 2
    # The flow's check warnings, then the reason on one line, and nothing after it.
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "flowlang: error: the PostgreSQL store cannot be used: cannot make flowlang's tables"
    )
    assert "permission denied" in last
    assert "worker" not in done.stderr and "Traceback" not in done.stderr


def test_workers_that_die_as_they_start_stop_the_server_with_status_2(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="flowlang"):
        status = supervise(2, lambda: 2, quick=0.2)
    assert status == 2
    events = [json.loads(r.message)["event"] for r in caplog.records]
    assert events.count("worker_died") == QUICK_DEATHS_ALLOWED
    assert events[-1] == "workers_cannot_start"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_stop_signal_ends_the_server_with_status_0_and_a_last_line(
    tmp_path: Path, workers: str
) -> None:
    server = ServeProcess(
        EVERYTHING, f"sqlite:///{tmp_path}/calls.db", "http://127.0.0.1:9/v2", ENV,
        extra=("--workers", workers),
    )
    server.stop()
    assert server.proc.returncode == 0
    assert server.events("stopped") == [{"event": "stopped", "status": 0}]
    # Every line after the start is one JSON object.
    after = server.lines[server.lines.index(next(x for x in server.lines if "listening" in x)):]
    assert all(json.loads(line) for line in after)


def test_the_store_password_is_not_logged(postgres: Cluster) -> None:
    # The test cluster trusts loopback, so the password is taken and ignored.
    url = postgres.database().replace("postgres@", "postgres:SECRET-PW@", 1)
    server = ServeProcess(EVERYTHING, url, "http://127.0.0.1:9/v2", ENV)
    server.stop()
    assert server.listening is not None and ":***@" in server.listening["store"]
    assert not any("SECRET-PW" in line for line in server.lines)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://flowlang:pa:ss@db:5432/calls", "postgresql://flowlang:***@db:5432/calls"),
        ("postgresql://u@db/calls?password=pw&sslmode=require",
         "postgresql://u@db/calls?password=***&sslmode=require"),
        ("postgresql://u@db/calls", "postgresql://u@db/calls"),
        ("sqlite:///calls.db", "sqlite:///calls.db"),
    ],
)
def test_a_store_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert without_password(url) == shown


def test_library_messages_and_tracebacks_are_json_lines() -> None:
    formatter = _JsonLines()
    text = "error connecting\nin 'pool-1'"
    pool = logging.LogRecord("psycopg.pool", logging.WARNING, "", 0, text, None, None)
    assert json.loads(formatter.format(pool)) == {
        "event": "library", "logger": "psycopg.pool", "level": "warning",
        "text": text,
    }
    try:
        raise ValueError("broken")
    except ValueError:
        failed = logging.LogRecord("flowlang.serve.app", logging.ERROR, "", 0,
                                   '{"event": "webhook_failed"}', None, sys.exc_info())
    line = formatter.format(failed)
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["event"] == "webhook_failed" and "ValueError: broken" in fields["traceback"]


def test_the_operators_metrics_folder_is_emptied_of_the_last_runs_files(tmp_path: Path) -> None:
    # prometheus-client adds up every file in the folder: a last run's would be counted again.
    stale = ["counter_812.db", "gauge_mostrecent_812.db", "histogram_77.db", "summary_5.db"]
    kept = ["README", "counter.db", "notes_1.txt", "other"]
    for name in stale + kept:
        (tmp_path / name).write_text("x")
    (tmp_path / "gauge_all_3.db").mkdir()  # not a file: not prometheus-client's
    empty_metrics_folder(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "gauge_all_3.db"])


def test_a_metrics_folder_that_does_not_exist_is_one_line_not_failing_workers(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "metrics"
    with pytest.raises(UsageError, match="which is not a folder: create it"):
        empty_metrics_folder(str(missing))
    done = serve_until_exit(
        str(EVERYTHING), "--port", "0", "--workers", "2",
        "--store", f"sqlite:///{tmp_path}/calls.db",
        env={"PROMETHEUS_MULTIPROC_DIR": str(missing)},
    )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"flowlang: error: PROMETHEUS_MULTIPROC_DIR is {missing}, which is not a folder:"
        " create it (empty), or unset it, and flowlang keeps the workers' counts in a folder of"
        " its own"
    )
    assert "worker_" not in done.stderr and "Traceback" not in done.stderr
