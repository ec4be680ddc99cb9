"""The simulator's driver: input spellings, stuck flows, notes, and what a transcript records."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.offline import fuzz as fuzz_module
from flowlang.offline import simulator
from flowlang.offline.phone import (
    INPUTS,
    AiResult,
    ConversationEnds,
    HangUp,
    KeyDuringAi,
    Phone,
    Press,
    Silence,
)
from flowlang.offline.simulator import (
    Entered,
    InputError,
    Logged,
    Note,
    Sent,
    Simulation,
    input_text,
    parse_input,
    simulate,
)
from flowlang.runtime.commands import Command
from flowlang.runtime.events import CallInfo
from flowlang.runtime.outcome import Outcome
from tests.sim.helpers import VOICE, flow, program

KEYS = st.text(st.sampled_from("0123456789*#"), min_size=1, max_size=8)
JSON = st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5) | st.booleans(),
                       max_size=3)
ACTIONS = st.one_of(
    KEYS.map(Press),
    st.just(Silence()),
    st.just(HangUp()),
    st.builds(AiResult, JSON, st.booleans()),
    st.sampled_from("0123456789*#").map(KeyDuringAi),
    st.just(ConversationEnds()),
)


@settings(max_examples=150, deadline=None)
@given(ACTIONS)
def test_input_spelling_round_trips(action: Any) -> None:
    assert parse_input(input_text(action)) == action


@pytest.mark.parametrize(
    ("text", "action"),
    [("1234#", Press("1234#")), ("timeout", Silence()), ("hangup", HangUp()),
     ('ai={"name": "Bob"}', AiResult({"name": "Bob"})),
     ("ai-invalid={}", AiResult({}, valid=False)), ("key=*", KeyDuringAi("*")),
     ("end", ConversationEnds())],
    ids=["keys", "timeout", "hangup", "ai", "ai-invalid", "key", "end"],
)
def test_language_md_input_spellings(text: str, action: Any) -> None:
    assert parse_input(text) == action


MENU = VOICE + flow(
    """\
    main:
        answer
        gather tries 1:
            say "Press 1."
            on digits "1": goto sales
            on timeout: hangup
        hangup

    sales:
        transfer "+13125550001"
    """
)


def test_transcript_records_steps_commands_and_unused_inputs() -> None:
    transcript = simulate(program(MENU), ["1", "2", "3"])
    assert [e.name for e in transcript.entries if isinstance(e, Entered)] == ["main", "sales"]
    assert [e.command.action for e in transcript.entries if isinstance(e, Sent)] == [
        "answer", "gather_using_speak", "transfer"]
    assert transcript.entries[-1] == Note(
        "2 inputs not used: the call no longer waits for the caller")
    assert transcript.inputs_used == 1
    assert transcript.end.reason == "transfer"


# What each step of a chain does before it moves on: log, and perhaps say or text.
STEP_BODIES = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(STEP_BODIES)
def test_the_transcript_shows_each_step_where_it_began(bodies: list[tuple[bool, bool]]) -> None:
    # A chain of steps that runs through without waiting for the caller between `goto`s (only
    # `log` and `sms`), or waits in some (`say`): either way each step's lines come after its
    # header and before the next one's.
    lines = ["main:", "    answer", "    goto s0", ""]
    expected: list[tuple[str, str]] = [("step", "main"), ("sent", "answer")]
    for n, (say, text) in enumerate(bodies):
        lines += [f"s{n}:", f'    log "at s{n}"']
        expected += [("step", f"s{n}"), ("log", f"at s{n}")]
        if text:
            lines.append(f'    sms "+13125550100" "from s{n}" from "+13125550199"')
            expected.append(("sent", "message"))
        if say:
            lines.append(f'    say "in s{n}"')
            expected.append(("sent", "speak"))
        lines += [f"    goto s{n + 1}" if n + 1 < len(bodies) else "    hangup", ""]
    expected.append(("sent", "hangup"))
    transcript = simulate(program(VOICE + "\n".join(lines)), [])
    seen: list[tuple[str, str]] = []
    for entry in transcript.entries:
        if isinstance(entry, Entered):
            seen.append(("step", entry.name))
        elif isinstance(entry, Logged):
            seen.append(("log", entry.line.text))
        elif isinstance(entry, Sent):
            seen.append(("sent", entry.command.action))
            # A command is told as sent from the step it was sent from.
            assert entry.step == [name for kind, name in seen if kind == "step"][-1]
    assert seen == expected


def test_a_runtime_warning_stands_after_the_commands_sent_before_it() -> None:
    source = VOICE + flow(
        """\
        main:
            answer
            if caller == "+1999":
                set name = "Ann"
            sms "+13125550100" "hi" from "+13125550199"
            say "Hello {name}"
            hangup
        """
    )
    transcript = simulate(program(source), [])
    told = [
        e.command.action if isinstance(e, Sent) else e.line.level
        for e in transcript.entries
        if isinstance(e, Sent | Logged)
    ]
    assert told == ["answer", "message", "warning", "speak", "hangup"]


def test_an_input_that_does_not_fit_names_its_number() -> None:
    with pytest.raises(InputError, match=r"input 1 \(end\): the end of the conversation"):
        simulate(program(MENU), ["end"])


class SpeaksFirst:
    """An interpreter that speaks before answering (the linter stops real flows doing that)."""

    def start(self, call: Any) -> Outcome:
        return Outcome(state={}, commands=(Command("speak", {"payload": "Hi"}),),
                       waiting="speak")

    def handle(self, state: dict[str, Any], event: Any) -> Outcome:
        return Outcome(state=state, commands=(Command("hangup", {}),),
                       end=simulator.End("hangup"))


def test_a_command_telnyx_would_refuse_is_noted() -> None:
    transcript = Simulation.begin(None, interpreter=SpeaksFirst()).transcript()
    assert Note("Telnyx refuses `speak`: the call is not answered yet") in transcript.entries
    assert transcript.end.reason == "hangup"


class NeverResumes:
    """An interpreter that answers the call and then ignores `call.answered`: it waits forever."""

    def start(self, call: Any) -> Outcome:
        return Outcome(state={}, commands=(Command("answer", {}),), waiting="answer")

    def handle(self, state: dict[str, Any], event: Any) -> Outcome:
        return Outcome(state=state, ignored=True, waiting="answer")


def test_a_run_that_waits_for_nothing_the_caller_can_do_is_stuck() -> None:
    sim = Simulation.begin(None, interpreter=NeverResumes())
    assert sim.stuck and sim.needs is None
    transcript = sim.transcript()
    assert transcript.stuck and transcript.end.reason == "waiting"
    assert transcript.waiting == "answer"


def test_the_transcript_says_a_stuck_flow_is_stuck() -> None:
    from flowlang.offline.conversation import render

    text = render(Simulation.begin(None, interpreter=NeverResumes()).transcript())
    assert text.endswith("The flow is stuck: it waits for answer, which nothing the caller "
                         "does can complete.\n")


def test_fuzz_reports_a_stuck_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulator, "_interpreter", lambda prog: NeverResumes())
    report = fuzz_module.fuzz(program(MENU), examples=5)
    assert report.finding is not None
    assert report.finding.kind == "stuck"
    assert report.finding.inputs == ()
    assert "waits for answer" in report.finding.message


class Raises:
    def start(self, call: Any) -> Outcome:
        raise RuntimeError("boom")

    def handle(self, state: dict[str, Any], event: Any) -> Outcome:
        raise RuntimeError("boom")


def test_an_interpreter_that_raises_ends_the_call_in_an_error_not_a_traceback() -> None:
    sim = Simulation.begin(None, interpreter=Raises())
    assert sim.end is not None and sim.end.reason == "error"
    assert "RuntimeError: boom" in (sim.end.message or "")


def test_the_late_end_of_an_assistant_left_with_on_key_does_not_end_the_next() -> None:
    two = VOICE + flow(
        """\
        main:
            answer
            assistant id "assistant-billing":
                on key "0": log "left billing"
            assistant id "assistant-sales":
                greeting "Sales here."
                on key "1": say "You pressed one."
            say "Goodbye."
        """
    )
    transcript = simulate(program(two), ["key=0", "key=1"])
    said = [c.body["payload"] for c in transcript.commands if c.action == "speak"]
    assert said == ["You pressed one.", "Goodbye."]
    # Each assistant's conversation has its own id; Telnyx names it in its answer to the start.
    phone = Phone(CallInfo("v3:x"))
    starts = [c for c in transcript.commands if c.action == "ai_assistant_start"]
    ids = {phone.answer_of(c)["conversation_id"] for c in starts}
    assert len(ids) == 2


def test_every_input_a_wait_offers_is_one_the_simulator_takes() -> None:
    # Errors, interactive prompts and the debugger offer the words of one table: a person who
    # copies an example from it must be understood.
    examples = [
        choice
        for inputs in INPUTS.values()
        for choice in inputs.choices
        if " " not in choice and "..." not in choice and choice != "keys"
    ]
    assert len(examples) > 20
    for example in examples:
        assert input_text(parse_input(example)) == example
