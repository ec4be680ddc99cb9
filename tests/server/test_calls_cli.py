"""`flowlang calls` and `flowlang replay` on a store filled with served calls: the list and its
filters, one call shown, a replay that matches (and one that does not), a what-if against an
edited flow, a call turned into a scenario that `flowlang test` passes; and, for any caller,
a served call replays exactly."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowlang.cli import main
from flowlang.offline.fuzz import Vocabulary
from flowlang.offline.phone import CLOCK_START
from flowlang.offline.replay import load_call, replay
from flowlang.offline.scenario.recorded import scenario_text
from flowlang.offline.simulator import Simulation, input_text
from tests.server.postgres import Cluster
from tests.server.scenarios import BEYOND, EVERYTHING, EXAMPLES, program
from tests.server.served import serve_calls

BUSINESS = EXAMPLES / "business_line.flow"
CALLS = [
    ("v3:hours-then-orders", ["1", "1", "2"]),
    ("v3:silent", ["timeout", "timeout", "timeout"]),
    ("v3:gone", ["hangup"]),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("calls")
    url = f"sqlite:///{folder}/calls.db"
    serve_calls(url, program(BUSINESS), CALLS, caller="+13125550147")
    serve_calls(url, program(BUSINESS), [("v3:other", ["0"])], caller="+17735550123",
                started=1_800_000_600.0)
    return url


def flowlang(capsys: pytest.CaptureFixture[str], *words: str) -> tuple[int, str, str]:
    status = main(list(words))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_the_list_shows_the_newest_call_first_with_how_each_ended(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = flowlang(capsys, "calls", "--store", store)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["When", "From", "To", "Flow", "Ended", "Length", "Call"]
    ids = [line.split()[-1] for line in lines[1:5]]
    assert ids == ["v3:other", "v3:gone", "v3:silent", "v3:hours-then-orders"]
    assert "transferred" in lines[4] and "+13125550147" in lines[4]
    assert "hung up" in lines[3]
    assert "4 calls" in out


def test_the_list_is_filtered_by_number_status_and_time(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def ids(*options: str) -> list[str]:
        status, out, _ = flowlang(capsys, "calls", "--store", store, "--json", *options)
        assert status == 0
        return [c["id"] for c in json.loads(out)]

    assert ids("--number", "773 555") == ["v3:other"]
    assert ids("--number", "5550147", "--limit", "1") == ["v3:gone"]
    assert ids("--since", "2027-01-15T08:09+00:00") == ["v3:other"]
    assert ids("--since", "2027-01-15T08:11+00:00") == []
    assert ids("--until", "2027-01-15T08:01+00:00") == ["v3:hours-then-orders"]
    assert ids("--status", "failed") == []
    (first,) = json.loads(flowlang(capsys, "calls", "--store", store, "--json",
                                   "--number", "7735550123")[1])
    assert first["from"] == "+17735550123" and first["status"] == "ended"
    assert first["flow"].endswith("business_line.flow") and first["seconds"] > 0


def test_a_bad_time_or_a_missing_store_is_one_clear_line(
    tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = flowlang(capsys, "calls", "--store", store, "--since", "yesterday")
    assert status == 2 and "--since 'yesterday' is not a time" in err
    status, _, err = flowlang(capsys, "calls", "--store", f"sqlite:///{tmp_path}/none.db")
    assert status == 2 and "there is no store at" in err
    assert not (tmp_path / "none.db").exists()
    status, _, err = flowlang(capsys, "calls", "show", "v3:nobody", "--store", store)
    assert status == 2 and "no call 'v3:nobody' in this store" in err
    status, _, err = flowlang(capsys, "replay", "v3:", "--store", store)
    assert status == 2 and "more than one call starts with 'v3:'" in err
    status, _, err = flowlang(capsys, "calls", "show", "", "--store", store)
    assert status == 2 and "no call id given" in err


def quietly(*words: str) -> tuple[int, str, str]:
    """`flowlang WORDS`: its status, output and errors (capsys cannot serve hypothesis)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(words))
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (("--since", "0001-01-01"), "--since 0001-01-01 is out of range: give a date between"
         " 1900 and 2100"),
        (("--until", "0001-01-01"), "--until 0001-01-01 is out of range"),
        (("--since", "9999-12-31T23:59+14:00"), "is out of range"),
        (("--since", "-5m"), "--since -5m: write a while ago without a minus sign, like"
         " --since 5m"),
        (("--until", "-2026-01-01"), "--until -2026-01-01: write a while ago without a minus"),
        (("--since", "1h", "--until", "2h"), "--since 1h is not before --until 2h, so no call"
         " can match: did you mean --since 2h --until 1h?"),
        (("--since", "2027-01-02", "--until", "2027-01-01"), "did you mean --since 2027-01-01"
         " --until 2027-01-02?"),
        (("--limit", "abc"), "--limit abc: write a whole number from 1 to 10000"),
        (("--limit", "99999999999999999999999"), "--limit 99999999999999999999999: write a"
         " whole number from 1 to 10000"),
        (("--limit", "0"), "from 1 to 10000"),
        (("--limit", "-3"), "from 1 to 10000"),
    ],
)
def test_a_time_or_limit_out_of_range_is_one_plain_line(
    store: str, words: tuple[str, ...], said: str
) -> None:
    status, out, err = quietly("calls", "--store", store, *words)
    assert (status, out) == (2, "")
    assert err.startswith("flowlang: error: ") and err.count("\n") == 1, err
    assert said in err


@given(text=st.text(max_size=30) | st.sampled_from(["\n", "1\n", " 7 ", "10000", "10001"])
       | st.integers(-10**30, 10**30).map(str))
@settings(max_examples=60, deadline=None)
def test_any_limit_lists_or_is_refused_in_one_line(store: str, text: str) -> None:
    status, out, err = quietly("calls", "--store", store, "--json", f"--limit={text}")
    if status == 0:
        assert 1 <= int(text) <= 10_000 and len(json.loads(out)) == min(int(text), 4)
    else:
        assert status == 2 and err.count("\n") == 1 and err.startswith("flowlang: error: --limit")


@given(text=st.text(max_size=30) | st.datetimes().map(str) | st.integers(0, 10**30).map(
    lambda n: f"{n}d") | st.sampled_from(["-5m\n", "-1\t", "0001-01-01\n"]))
@settings(max_examples=60, deadline=None)
def test_any_since_lists_or_is_refused_in_one_line(store: str, text: str) -> None:
    status, out, err = quietly("calls", "--store", store, "--json", f"--since={text}")
    if status == 0:
        assert isinstance(json.loads(out), list)
    else:
        assert status == 2 and err.count("\n") == 1 and err.startswith("flowlang: error: --since")


READING = [("calls",), ("calls", "show", "v3:one"), ("replay", "v3:one"),
           ("debug", "--call", "v3:one")]


def foreign_db(path: Path) -> bytes:
    """Another program's SQLite database at `path` (with a table called `calls`); its bytes."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, who TEXT)")
        db.execute("CREATE TABLE notes (body TEXT)")
        db.commit()
    return path.read_bytes()


@pytest.mark.parametrize("words", READING, ids=lambda w: " ".join(w))
def test_reading_another_programs_database_is_refused_without_writing(
    tmp_path: Path, words: tuple[str, ...]
) -> None:
    path = tmp_path / "other.db"
    before = foreign_db(path)
    status, out, err = quietly(*words, "--store", f"sqlite:///{path}")
    assert (status, out) == (2, "")
    assert err == (
        f"flowlang: error: {path} is not a flowlang store (it has other tables: calls, notes):"
        " give a new file, or the --store URL `flowlang serve` uses\n"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


@pytest.mark.parametrize("words", READING, ids=lambda w: " ".join(w))
def test_reading_an_empty_file_says_there_are_no_calls_without_writing(
    tmp_path: Path, words: tuple[str, ...]
) -> None:
    path = tmp_path / "new.db"
    path.touch()
    status, out, err = quietly(*words, "--store", f"sqlite:///{path}")
    assert (status, out) == (2, "")
    assert err.startswith(f"flowlang: error: there are no calls in {path}: ")
    assert err.count("\n") == 1
    assert path.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.db"]


def pg_tables(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() ORDER BY table_name"
        ).fetchall()
    return [name for (name,) in rows]


@pytest.mark.parametrize("words", READING, ids=lambda w: " ".join(w))
def test_reading_an_empty_postgresql_database_says_there_are_no_calls_without_writing(
    postgres: Cluster, words: tuple[str, ...]
) -> None:
    # The operator's `--store` names the wrong database: nothing is made in it.
    url = postgres.database()
    status, out, err = quietly(*words, "--store", url)
    assert (status, out) == (2, "")
    assert err.startswith("flowlang: error: there are no calls in the database postgres")
    assert err.count("\n") == 1
    assert pg_tables(url) == []


def test_a_postgresql_database_with_another_programs_tables_is_refused(
    postgres: Cluster,
) -> None:
    import psycopg

    from flowlang.serve.store import StoreError
    from flowlang.serve.store.postgres import PostgresStore

    url = postgres.database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, who TEXT)")

    async def first_use(url: str, read_only: bool) -> None:
        store = PostgresStore(url, read_only=read_only)
        try:
            # What `flowlang calls` does first, or `flowlang serve`.
            await (store.counts() if read_only else store.ping())
        finally:
            await store.close()

    for read_only in (False, True):
        with pytest.raises(StoreError, match=r"is not a flowlang store \(it has other tables: "
                                             r"calls\): give flowlang an empty database"):
            asyncio.run(first_use(url, read_only))
    assert pg_tables(url) == ["calls"]
    # An empty database is given its tables, then read as a store.
    fresh = postgres.database()
    asyncio.run(first_use(fresh, False))
    asyncio.run(first_use(fresh, True))
    assert "calls" in pg_tables(fresh)


def layout(url: str) -> list[tuple[str, str]]:
    """The tables, columns and indexes of the store at `url`."""
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
            return sorted(db.execute("SELECT name, coalesce(sql, '') FROM sqlite_master"))
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT table_name::text, column_name::text FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        ).fetchall()
        indexes = conn.execute(
            "SELECT tablename::text, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        ).fetchall()
    return sorted(columns + indexes)


def older(url: str, history: bool = True) -> list[tuple[str, str]]:
    """The store at `url` with one call served into it, its tables then put back as an older
    flowlang left them: before a wait had a limit (no calls.expires; on PostgreSQL, nor the
    schema's recorded version) and, without `history`, before calls' histories were kept.
    Its layout."""
    serve_calls(url, program(BUSINESS), [("v3:one", ["1", "1", "2"])])
    statements = ["DROP INDEX calls_expiring", "ALTER TABLE calls DROP COLUMN expires"]
    statements += [] if history else ["DROP TABLE history"]
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
            for statement in statements:
                db.execute(statement)
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            for statement in [*statements, "DROP TABLE flowlang_schema"]:
                conn.execute(statement)
    return layout(url)


def test_calls_read_an_older_flowlangs_store_as_it_is(store_url: str) -> None:
    before = older(store_url)
    status, out, err = quietly("calls", "--store", store_url)
    assert (status, err) == (0, ""), err
    assert "v3:one" in out and "1 call;" in out
    status, out, err = quietly("calls", "show", "v3:one", "--store", store_url)
    assert (status, err) == (0, ""), err
    assert "transferred" in out
    status, _, err = quietly("replay", "v3:one", "--store", store_url)
    assert (status, err) == (0, ""), err
    # Only `flowlang serve` updates the tables.
    assert layout(store_url) == before


def test_calls_read_postgresql_with_a_role_that_may_only_read(postgres: Cluster) -> None:
    import psycopg

    url = postgres.database()
    before = older(url)
    schema = url.rpartition("%3D")[2]
    name = f"reader_{schema}"
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {name} LOGIN")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {name}")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}")
    reader = url.replace("postgres@", f"{name}@", 1)
    status, out, err = quietly("calls", "--store", reader)
    assert (status, err) == (0, ""), err
    assert "v3:one" in out
    status, out, err = quietly("calls", "show", "v3:one", "--store", reader)
    assert (status, err) == (0, ""), err
    assert layout(url) == before


@pytest.mark.parametrize("words", READING, ids=lambda w: " ".join(w))
def test_a_store_from_before_call_histories_is_left_as_it_is_with_what_to_do(
    store_url: str, words: tuple[str, ...]
) -> None:
    before = older(store_url, history=False)
    status, out, err = quietly(*words, "--store", store_url)
    assert (status, out) == (2, "")
    assert err.startswith("flowlang: error: ")
    assert "was written by an older flowlang, which kept no history of its calls: start" in err
    assert "`flowlang serve` on it once to update it" in err
    assert err.count("\n") == 1
    assert layout(store_url) == before


def test_serving_into_another_programs_database_is_refused_before_it_starts(
    tmp_path: Path,
) -> None:
    from flowlang.serve.store import StoreError
    from flowlang.serve.store.sqlite import SQLiteStore

    path = tmp_path / "other.db"
    before = foreign_db(path)
    with pytest.raises(StoreError, match="is not a flowlang store"):
        SQLiteStore.check(str(path))  # what `flowlang serve` opens first
    assert path.read_bytes() == before
    # A table named like one of flowlang's is not enough: its columns must be the store's.
    lone = tmp_path / "lone.db"
    with contextlib.closing(sqlite3.connect(lone)) as db:
        db.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, who TEXT)")
    with pytest.raises(StoreError, match=r"is not a flowlang store \(it has other tables: calls\)"):
        SQLiteStore.check(str(lone))
    # A store, and a new file, are opened as before.
    SQLiteStore.check(str(tmp_path / "new.db"))
    SQLiteStore.check(str(tmp_path / "new.db"))


def test_show_tells_the_call_in_the_simulators_words_with_times_and_lines(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = flowlang(capsys, "calls", "show", "v3:hours", "--store", store)
    assert status == 0
    assert out.startswith("Call v3:hours-then-orders\n  from +13125550147 to +15550002222")
    assert "version " + program(BUSINESS).digest[:12] + ": transferred" in out
    assert "    +0.0s  step main (line 5)" in out
    assert ">>>       caller presses 1" in out
    assert 'line 16   say "Connecting you to our order desk."' in out
    assert "The call ended: the caller was transferred to +13125550101." in out
    assert "Commands to Telnyx and requests: 8 sent." in out
    status, out, _ = flowlang(capsys, "calls", "show", "v3:hours", "--store", store, "--json")
    shown = json.loads(out)
    assert [line["kind"] for line in shown["lines"]][-2:] == ["transfer", "end"]
    assert shown["steps"][0]["start"]["caller"] == "+13125550147"


def test_every_call_replays_with_no_mismatch(store: str, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    for call_id in ("v3:hours-then-orders", "v3:silent", "v3:gone", "v3:other"):
        status, out, _ = flowlang(capsys, "replay", call_id, "--store", store)
        assert status == 0
        assert out.startswith(f"Replayed call {call_id} on ") and "the same commands" in out


def tampered(folder: Path, *statements: str) -> tuple[str, int]:
    """A store in `folder` with one call to the order desk, changed behind the server's back by
    `statements`; its URL, and how many rows the last statement changed."""
    url = f"sqlite:///{folder}/calls.db"
    serve_calls(url, program(BUSINESS), [("v3:one", ["2"])])
    changed = 0
    with sqlite3.connect(folder / "calls.db") as db:
        for statement in statements:
            changed = db.execute(statement).rowcount
    return url, changed


def test_a_recording_that_differs_from_the_replay_is_reported_with_both_sides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, changed = tampered(
        tmp_path,
        "UPDATE outbox SET body = replace(body, 'Connecting you', 'Transferring you')"
        " WHERE body LIKE '%Connecting you%'",
    )
    assert changed == 1
    status, out, _ = flowlang(capsys, "replay", "v3:one", "--store", url)
    assert status == 1
    assert "does not replay the same: at event 3 (call.gather.ended" in out
    recorded, replayed = out.split("  recorded:\n")[1].split("  replayed:\n")
    assert "Transferring you to our order desk." in recorded
    assert "Connecting you to our order desk." in replayed.split("\n\n")[0]
    assert "this is a bug in flowlang" in out


def fixed(folder: Path) -> Path:
    """The business line with the order desk moved to another number, in `folder`."""
    edited = folder / "business_line.flow"
    edited.write_text(BUSINESS.read_text().replace('"+13125550101"', '"+13125550199"'))
    return edited


def test_the_same_caller_on_an_edited_flow_shows_what_they_would_hear_differently(
    tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = fixed(tmp_path)
    status, out, _ = flowlang(capsys, "replay", "v3:hours", "--store", store, "--flow",
                              str(edited))
    assert status == 0
    marked = [line for line in out.splitlines() if line.startswith("X")]
    assert len(marked) == 1
    assert "transfer to +13125550101" in marked[0] and "transfer to +13125550199" in marked[0]
    assert "would hear 1 thing differently" in out
    status, out, _ = flowlang(capsys, "replay", "v3:hours", "--store", store, "--flow",
                              str(BUSINESS))
    assert status == 0 and "would hear exactly the same" in out


def test_a_caller_whose_behaviour_no_longer_fits_says_where_it_stopped(
    tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    short = tmp_path / "short.flow"
    short.write_text('voice "Telnyx.KokoroTTS.af"\n\nmain:\n    answer\n    say "Closed."\n'
                     "    hangup\n")
    status, out, _ = flowlang(capsys, "replay", "v3:hours", "--store", store, "--flow",
                              str(short))
    assert status == 0
    assert "X" in out and "not used" in out


def test_a_call_becomes_a_scenario_that_flowlang_test_passes(
    tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "incidents.scenarios"
    status, out, _ = flowlang(capsys, "replay", "v3:hours", "--store", store, "--scenario",
                              str(target))
    assert status == 0 and f"to {target}" in out
    flowlang(capsys, "replay", "v3:silent", "--store", store, "--scenario", str(target))
    text = target.read_text()
    assert text.count("\nscenario ") == 2
    assert f'flow "{BUSINESS.resolve()}"' in text
    assert '    press "1"\n' in text and '    expect transfer "+13125550101"\n' in text
    status, out, _ = flowlang(capsys, "test", str(target))
    assert status == 0, out
    assert "2 passed, 0 failed" in out


def test_with_the_fixed_flow_the_scenario_checks_the_fix(
    tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "business_line.scenarios"
    status, _, _ = flowlang(capsys, "replay", "v3:hours", "--store", store, "--flow",
                            str(fixed(tmp_path)), "--scenario", str(target))
    assert status == 0
    assert "flow " not in target.read_text().split("scenario")[0]
    assert '    expect transfer "+13125550199"\n' in target.read_text()
    assert flowlang(capsys, "test", str(target))[0] == 0
    status, out, _ = flowlang(capsys, "replay", "v3:hours", "--store", store, "--scenario", "-")
    assert status == 0 and out.startswith('scenario "recorded call v3:hours-then-orders')


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("copy.flow", BUSINESS.read_bytes(), "copy.flow is a flow, not a scenarios file; give a"
         " file ending in .scenarios, such as copy.scenarios"),
        ("notes.txt", b"my notes\n", "notes.txt is not a .scenarios file, not a scenarios file"),
        ("broken.scenarios", b'scenario "a":\n    presss "1"\n', "broken.scenarios has errors,"
         " so the call was not added to it (line 2: `presss` is not a scenario step); fix them"
         " first: `flowlang test"),
        ("latin1.scenarios", 'scenario "caf\u00e9":\n    hang up\n'.encode("latin-1"),
         "latin1.scenarios: not UTF-8 text (line 1, column 14); save the file as UTF-8"),
        ("new.scenarios", None, "new.scenarios: a folder, not a file; give the path of a"
         " .scenarios file"),
    ],
)
def test_a_scenario_is_only_added_to_a_scenarios_file_that_parses(
    tmp_path: Path, store: str, name: str, content: bytes | None, said: str
) -> None:
    target = tmp_path / name
    if content is None:
        target.mkdir()
    else:
        target.write_bytes(content)
    status, out, err = quietly("replay", "v3:hours", "--store", store, "--scenario", str(target))
    assert (status, out) == (2, ""), out
    assert err.startswith("flowlang: error: ") and err.count("\n") == 1, err
    assert said in err
    assert content is None or target.read_bytes() == content


def test_a_pipe_is_not_a_scenarios_file(tmp_path: Path, store: str) -> None:
    target = tmp_path / "pipe.scenarios"
    os.mkfifo(target)
    # In a process of its own, so that waiting on the pipe fails in seconds, not hangs.
    done = subprocess.run(
        [sys.executable, "-m", "flowlang", "replay", "v3:hours", "--store", store,
         "--scenario", str(target)],
        capture_output=True, text=True, timeout=20, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 2
    assert "not a regular file" in done.stderr and ".scenarios file" in done.stderr


def test_a_call_already_in_the_file_is_not_added_again(
    tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "incidents.scenarios"
    for call in ("v3:hours", "v3:silent"):
        assert quietly("replay", call, "--store", store, "--scenario", str(target))[0] == 0
    before = target.read_text()
    status, out, _ = quietly("replay", "v3:hours", "--store", store, "--scenario", str(target))
    assert status == 0
    assert out.startswith(f'{target} already has the call as scenario "recorded call'
                          " v3:hours-then-orders from +13125550147 at ")
    assert out.endswith('"; nothing added.\n') and out.count("\n") == 1
    assert target.read_text() == before
    status, out, _ = flowlang(capsys, "test", str(target))
    assert status == 0 and "2 passed, 0 failed" in out


FLOWS = [EVERYTHING, BEYOND, BUSINESS, EXAMPLES / "order_status.flow",
         EXAMPLES / "front_desk.flow"]


@given(data=st.data(), flow=st.sampled_from(FLOWS))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_served_call_replays_exactly_and_becomes_a_passing_scenario(
    data: st.DataObject, flow: Path
) -> None:
    compiled = program(flow)
    vocabulary = Vocabulary(compiled)
    sim = Simulation.begin(compiled, at=CLOCK_START)
    inputs: list[str] = []
    while not sim.ended and not sim.stuck and len(inputs) < 8:
        action = data.draw(vocabulary.for_call(sim))
        inputs.append(input_text(action))
        sim.give(action)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/calls.db"
        serve_calls(url, compiled, [("v3:any", inputs)])
        call = load_call(url, "v3:any")
    assert replay(call).ok
    scenario_text(call)


def test_show_says_what_became_of_a_command_that_was_not_simply_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = tampered(
        tmp_path,
        "UPDATE outbox SET attempts = 2 WHERE action = 'answer'",
        "UPDATE outbox SET sent = 2 WHERE action = 'transfer'",
    )
    status, out, _ = flowlang(capsys, "calls", "show", "v3:one", "--store", url)
    assert status == 0
    assert "line 6    answer the call  (sent after 3 tries)\n" in out
    assert "transfer to +13125550101  (not sent: the call was over or the run was stopped)" in out
    assert 'say "Connecting you to our order desk."\n' in out
    assert "Commands to Telnyx and requests: 4 sent, 1 dropped.\n" in out
