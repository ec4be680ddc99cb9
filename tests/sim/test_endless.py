"""A flow that goes round without ever waiting for the caller: the simulator, the scenario runner
and fuzz stop it with a clear message instead of running forever."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowlang.compiler import build_program
from flowlang.lint import check_source
from flowlang.offline.fuzz import fuzz
from flowlang.offline.scenario.run import run_scenario
from flowlang.offline.scenario.suite import load
from flowlang.offline.simulator import AUTOMATIC_EVENT_LIMIT, simulate
from flowlang.source import Source
from flowlang.syntax.parser import parse_source
from tests.sim.helpers import VOICE, chain, flow, program, simulate_jsonl, write_flow

# `say` and `goto` round and round: every `speak` ends by itself, the caller is never asked.
SAYING = VOICE + flow(
    """\
    main:
        answer
        goto again

    again:
        say "Please hold."
        goto again
    """
)

# `answer` again and again: `check` refuses it (FL114), but a flow built without the checks
# must not hang the simulator either.
ANSWERING = VOICE + flow(
    """\
    main:
        answer
        goto main
    """
)


def within(seconds: float, work: Callable[[], Any]) -> Any:
    """`work()`'s result; the test fails after `seconds` rather than hanging when it loops."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert done, f"still running after {seconds} s: the simulator did not stop the loop"
    return done[0]


def test_check_passes_a_say_loop_but_refuses_an_answer_loop() -> None:
    assert [d.code for d in check_source(Source("say.flow", SAYING))] == []
    assert "FL114" in [d.code for d in check_source(Source("answer.flow", ANSWERING))]


def test_a_say_loop_is_stopped_with_an_error_that_says_why() -> None:
    transcript = within(30, lambda: simulate(program(SAYING), []))
    assert transcript.end.reason == "error"
    message = transcript.end.message or ""
    assert f"{AUTOMATIC_EVENT_LIMIT} commands without waiting for the caller once" in message
    assert "`speak` in step `again`" in message
    assert "it loops (step `again` again and again)" in message
    assert "until the caller hangs up" in message
    assert len(transcript.commands) <= AUTOMATIC_EVENT_LIMIT + 2


def test_an_answer_loop_built_without_the_checks_is_stopped_too() -> None:
    source = Source("answer.flow", ANSWERING)
    unchecked = build_program(parse_source(source), source)
    transcript = within(30, lambda: simulate(unchecked, []))
    assert transcript.end.reason == "error"
    assert "`answer` in step `main`" in (transcript.end.message or "")


def test_simulate_jsonl_ends_with_the_error_line(tmp_path: Path, capsys: Any) -> None:
    path = write_flow(tmp_path, SAYING)
    status, lines = within(30, lambda: simulate_jsonl(capsys, path))
    assert status == 1
    assert lines[-1]["end"] == "error"
    assert "it loops (step `again` again and again) without ever waiting" in lines[-1]["message"]


def test_fuzz_reports_the_loop_as_an_error_with_no_input() -> None:
    report = within(60, lambda: fuzz(program(SAYING), examples=5))
    assert report.finding is not None
    assert report.finding.kind == "error"
    assert report.finding.inputs == ()
    assert "commands without waiting for the caller" in report.finding.message


def test_a_scenario_of_the_loop_fails_instead_of_hanging(tmp_path: Path) -> None:
    write_flow(tmp_path, SAYING, "hold.flow")
    scenarios = tmp_path / "hold.scenarios"
    scenarios.write_text('scenario "hold":\n    expect say "Please hold"\n    expect hangup\n')
    loaded = load(scenarios)
    assert loaded.ok and loaded.file is not None
    scenario = loaded.file.scenarios[0]
    result = within(30, lambda: run_scenario(loaded.program, scenario, loaded.file))
    assert not result.passed



def test_a_long_run_without_a_loop_is_stopped_without_blaming_a_loop() -> None:
    transcript = within(60, lambda: simulate(program(chain(AUTOMATIC_EVENT_LIMIT)), []))
    assert transcript.end.reason == "error"
    message = transcript.end.message or ""
    assert f"{AUTOMATIC_EVENT_LIMIT} commands without waiting for the caller once" in message
    assert "not a loop, but a very long run of" in message
    assert "loops" not in message and "way round the loop" not in message


def test_a_run_just_under_the_limit_ends_normally() -> None:
    transcript = within(60, lambda: simulate(program(chain(AUTOMATIC_EVENT_LIMIT - 2)), []))
    assert transcript.end.reason == "hangup"


def test_fuzz_tells_a_long_run_from_a_loop() -> None:
    report = within(120, lambda: fuzz(program(chain(AUTOMATIC_EVENT_LIMIT)), examples=2))
    assert report.finding is not None
    assert "not a loop" in report.finding.message
