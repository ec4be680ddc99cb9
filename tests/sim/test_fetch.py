"""`fetch` offline: inputs and scenario steps stand in for the backend; no request is made."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from flowlang.cli import main
from flowlang.offline.simulator import (
    FetchAnswer,
    InputError,
    Simulation,
    input_text,
    parse_input,
    simulate,
)
from tests.sim.helpers import VOICE, flow, program, simulate_jsonl, write_flow

ORDER = VOICE + flow(
    """\
    main:
        answer
        gather digits 5 into order valid "0123456789":
            say "Enter your order number."
            on digits:
                fetch "https://api.acme.com/orders/{order}?from={caller}" into status timeout 3s:
                    header "Authorization" secret "ACME_TOKEN"
                    header "Accept" "application/json"
                    on error:
                        say "Sorry, I cannot look that up right now."
                        hangup
                say "Your order is {status.state}."
                fetch "https://api.acme.com/callbacks" method "POST" into booked:
                    send number = caller
                    send order = order + 0
                    on error: hangup
                say "Booked {booked.id}."
            on timeout: hangup
            on invalid: hangup
    """
)


def test_jsonl_prints_the_request_with_the_secret_by_name_and_encoded_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_TOKEN", "Bearer sk-live-very-secret")
    code, lines = simulate_jsonl(
        capsys, write_flow(tmp_path, ORDER), "00042", 'fetch={"state": "shipped"}',
        'fetch={"id": 7}',
    )
    assert code == 0
    fetches = [line["fetch"] for line in lines if "fetch" in line]
    assert fetches[0] == {
        "method": "GET",
        "url": "https://api.acme.com/orders/00042?from=%2B15550001111",
        "headers": {"Authorization": "<secret ACME_TOKEN>", "Accept": "application/json"},
    }
    assert fetches[1]["method"] == "POST"
    assert fetches[1]["body"] == {"number": "+15550001111", "order": 42}
    assert fetches[1]["headers"] == {}
    spoken = [line["body"]["payload"] for line in lines if line.get("action") == "speak"]
    assert spoken == ["Your order is shipped.", "Booked 7."]
    assert lines[-1] == {"end": "completed"}
    assert "sk-live" not in json.dumps(lines)


def test_a_failed_fetch_runs_on_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = simulate_jsonl(capsys, write_flow(tmp_path, ORDER), "12345", "fetch-error")
    assert code == 0
    spoken = [line["body"]["payload"] for line in lines if line.get("action") == "speak"]
    assert spoken == ["Sorry, I cannot look that up right now."]
    assert lines[-1] == {"end": "hangup"}


def test_inputs_run_out_while_the_flow_waits_for_its_backend() -> None:
    transcript = simulate(program(ORDER), ["12345"])
    assert transcript.end.reason == "waiting"
    assert not transcript.stuck


def test_caller_hangs_up_while_the_fetch_runs_and_a_late_answer_cannot_be_given() -> None:
    transcript = simulate(program(ORDER), ["12345", "hangup"])
    assert transcript.end.reason == "hangup"
    sim = Simulation.begin(program(ORDER))
    sim.give(parse_input("12345"))
    sim.give(parse_input("hangup"))
    with pytest.raises(InputError, match="already ended"):
        sim.give(parse_input("fetch-error"))


def test_keys_while_the_flow_waits_for_its_backend_are_refused_in_plain_words() -> None:
    with pytest.raises(InputError, match=r"waits for its backend \(give fetch="):
        simulate(program(ORDER), ["12345", "1"])


def test_a_backend_answer_while_the_caller_is_asked_for_keys_is_refused() -> None:
    with pytest.raises(InputError, match="a backend answer does not fit"):
        simulate(program(ORDER), ['fetch={"state": "x"}'])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fetch-error", FetchAnswer(None)),
        ('fetch={"state": "shipped", "items": [1]}',
         FetchAnswer({"state": "shipped", "items": [1]})),
    ],
)
def test_fetch_inputs_read_and_write_back(text: str, expected: FetchAnswer) -> None:
    assert parse_input(text) == expected
    assert parse_input(input_text(expected)) == expected


@pytest.mark.parametrize("bad", ["fetch=[1, 2]", "fetch={state}", "fetch="])
def test_a_fetch_answer_that_is_not_a_json_object_is_a_clear_input_error(bad: str) -> None:
    with pytest.raises(InputError, match="fetch="):
        parse_input(bad)


def test_simulate_never_opens_a_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the simulator tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    transcript = simulate(program(ORDER), ["12345", 'fetch={"state": "late"}', "fetch-error"])
    assert transcript.end.reason == "hangup"


SCENARIOS = """\
scenario "The order is found":
    press "12345"
    expect fetch "https://api.acme.com/orders/12345"
    backend returns {"state": "shipped"}
    expect say "Your order is shipped."
    backend returns {"id": 9}
    expect say "Booked 9."

scenario "The backend is down":
    press "12345"
    backend fails
    expect say "Sorry, I cannot look that up right now."
    expect end hangup

scenario "The booking fails":
    press "12345"
    backend returns {"state": "shipped"}
    backend fails
    expect end hangup

scenario "Nobody types":
    silence
    silence
    silence
    expect end hangup

scenario "Letters are not an order number":
    press "1234*"
    press "1234*"
    press "1234*"
    expect end hangup
"""


def test_scenario_files_give_backend_answers_and_cover_the_error_branch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_flow(tmp_path, ORDER, "order.flow")
    (tmp_path / "order.scenarios").write_text(SCENARIOS, encoding="utf-8")
    status = main(["test", str(tmp_path / "order.scenarios"), "--coverage"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "5 passed, 0 failed" in out
    assert "(100%)" in out


def test_a_misspelt_backend_step_is_a_positioned_scenario_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_flow(tmp_path, ORDER, "order.flow")
    (tmp_path / "order.scenarios").write_text(
        'scenario "x":\n    press "12345"\n    backend answers {}\n', encoding="utf-8"
    )
    status = main(["test", str(tmp_path / "order.scenarios")])
    out = capsys.readouterr()
    assert status != 0
    assert "after `backend` comes `returns` or `fails`" in out.out + out.err


def test_interactive_simulate_asks_for_the_backend_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    typed = io.StringIO('12345\nfetch={"state": "packed"}\nfetch-error\n')
    typed.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", typed)
    assert main(["simulate", str(write_flow(tmp_path, ORDER))]) == 0
    out = capsys.readouterr().out
    assert "The flow waits for its backend: type fetch=" in out
    assert "Your order is packed." in out
