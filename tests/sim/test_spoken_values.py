"""What the caller hears of a value that is not text: a list said as a list (and written as one
in a text message), a record warned of, and an empty value heard as nothing reported by
`flowlang fuzz` at the line of its `say`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.cli import main
from flowlang.compiler import compile_source
from flowlang.offline.fuzz import fuzz
from flowlang.offline.phone import FetchAnswer
from flowlang.offline.simulator import Logged, Requested, Sent, Simulation
from flowlang.source import Source
from tests.sim.helpers import VOICE, flow, program, write_flow

LOOKUP = flow(
    """\
    main:
        answer
        fetch "https://api.acme.com/orders/{caller}" into found:
            on error: hangup
        say "You have {found.orders}."
        hangup
    """
)


def _heard(text: str, answer: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What the caller hears, and the warnings, when the backend gives `answer`."""
    sim = Simulation.begin(program(text))
    sim.give(FetchAnswer(answer))
    said = [e.command.body["payload"] for e in sim.entries
            if isinstance(e, Sent) and "payload" in e.command.body]
    warnings = [e.line.text for e in sim.entries
                if isinstance(e, Logged) and e.line.level == "warning"]
    return said, warnings


@pytest.mark.parametrize(
    ("orders", "said"),
    [
        (["A1", "B2", "C3"], "You have A1, B2 and C3."),
        (["A1"], "You have A1."),
        ([12, 3.0, True], "You have 12, 3 and true."),
    ],
    ids=["three", "one", "numbers-and-yes"],
)
def test_a_list_from_the_backend_is_said_as_a_person_lists_things(orders: list[Any],
                                                                     said: str) -> None:
    assert _heard(VOICE + LOOKUP, {"orders": orders}) == ([said], [])


def test_an_empty_list_is_said_as_nothing_like_an_empty_text_with_a_warning() -> None:
    for empty in ([], "", None):
        said, warnings = _heard(VOICE + LOOKUP, {"orders": empty})
        assert said == ["You have ."]
        assert warnings == [
            "`found.orders` is empty here, so the caller heard nothing in its place"
        ]


def test_a_list_in_a_french_say_is_joined_with_the_french_and() -> None:
    french = VOICE + 'language "fr-FR"\n' + LOOKUP
    assert _heard(french, {"orders": ["A1", "B2", "C3"]})[0] == ["You have A1, B2 et C3."]


def test_a_list_in_a_japanese_say_is_joined_with_commas_only() -> None:
    japanese = VOICE + 'language "ja-JP"\n' + LOOKUP
    assert _heard(japanese, {"orders": ["A1", "B2", "C3"]})[0] == ["You have A1, B2, C3."]


def test_a_list_in_a_gather_prompt_is_said_in_the_gathers_language() -> None:
    text = VOICE + flow(
        """\
        main:
            answer
            fetch "https://api.acme.com/orders/{caller}" into found:
                on error: hangup
            gather tries 1 language "de-DE":
                say "Bestellungen {found.orders}."
                on digits "1": hangup
        """
    )
    sim = Simulation.begin(program(text))
    sim.give(FetchAnswer({"orders": ["A1", "B2"]}))
    assert sim.phone.waiting is not None
    assert sim.phone.waiting.command.body["payload"] == "Bestellungen A1 und B2."


def test_a_list_of_records_is_said_as_written_with_a_warning_naming_what_to_say() -> None:
    said, warnings = _heard(VOICE + LOOKUP, {"orders": [{"id": "A1"}, {"id": "B2"}]})
    assert said == ['You have [{"id": "A1"}, {"id": "B2"}].']
    assert warnings == [
        "`{found.orders}` is a list of records or lists, so the caller heard it read out with"
        " its brackets and quotes: say `{found.orders.first.id}`, or how many there are,"
        " `{found.orders.count}`"
    ]


def test_a_log_keeps_the_exact_value_of_a_list() -> None:
    text = VOICE + LOOKUP.replace('say "You have', 'log "You have')
    sim = Simulation.begin(program(text))
    sim.give(FetchAnswer({"orders": ["A1", "B2"]}))
    logs = [e.line.text for e in sim.entries if isinstance(e, Logged)]
    assert logs == ['You have ["A1", "B2"].']


# LOOKUP that also texts the caller what it said.
TEXTED = LOOKUP.replace("    hangup\n",
                        '    sms "{caller}" "You have {found.orders}."\n    hangup\n')


def _texted(flow_program: Any, answer: dict[str, Any]) -> list[str]:
    """The text messages sent when the backend gives `answer`."""
    sim = Simulation.begin(flow_program)
    sim.give(FetchAnswer(answer))
    return [e.command.body["text"] for e in sim.entries
            if isinstance(e, Sent) and e.command.is_message]


@pytest.mark.parametrize(
    ("language", "orders", "texted"),
    [
        ("", ["A1", "B2", "C3"], "You have A1, B2 and C3."),
        ('language "en-GB"\n', [12, 3.0, True], "You have 12, 3 and true."),
        ('language "fr-FR"\n', ["A1", "B2", "C3"], "You have A1, B2 et C3."),
        ("", [], "You have ."),
    ],
    ids=["english", "numbers-and-yes", "french", "empty"],
)
def test_an_sms_text_lists_a_list_as_speech_does_in_the_flows_language(
    language: str, orders: list[Any], texted: str
) -> None:
    assert _texted(program(VOICE + language + TEXTED), {"orders": orders}) == [texted]


def test_an_sms_text_words_a_format_in_the_flows_language() -> None:
    text = VOICE + 'language "en-GB"\n' + TEXTED.replace("{found.orders}.\"\n    hangup",
                                                          "{found.orders as money}.\"\n    hangup")
    assert _texted(program(text), {"orders": ["12.5", "3"]}) == [
        "You have 12 pounds and 50 pence and 3 pounds."
    ]


# LOOKUP that only texts the value, as money.
TEXTED_AS_MONEY = TEXTED.replace('    say "You have {found.orders}."\n', "").replace(
    "{found.orders}", "{found.orders as money}"
)


@pytest.mark.parametrize(
    ("language", "value", "texted", "warnings"),
    [
        ('language "de-DE"\n', "12.5", "You have 12.5.", []),
        (
            "",
            "soon",
            "You have soon.",
            ["`{found.orders as money}`: 'soon' is not a value `money` can write out, so the"
             " text has it as written"],
        ),
    ],
    ids=["language-without-words", "value-that-does-not-fit"],
)
def test_an_sms_text_writes_an_unworded_value_as_it_is(
    language: str, value: str, texted: str, warnings: list[str]
) -> None:
    # In a language without money words the value as it is (`12.5`) is what a reader expects,
    # and `check` allows it: no warning. A value that is no amount at all is worth one, in the
    # words of a text, not of speech.
    sim = Simulation.begin(program(VOICE + language + TEXTED_AS_MONEY))
    sim.give(FetchAnswer({"orders": value}))
    sent = [e.command.body["text"] for e in sim.entries
            if isinstance(e, Sent) and e.command.is_message]
    logged = [e.line.text for e in sim.entries if isinstance(e, Logged)]
    assert (sent, logged) == ([texted], warnings)


def test_an_sms_text_lists_a_list_in_the_language_the_caller_chose() -> None:
    text = flow(
        """\
        languages:
            "en-US" voice "Telnyx.KokoroTTS.af"
            "es-US" voice "AWS.Polly.Lupe-Neural"

        main:
            answer
            set language = "es-US"
            fetch "https://api.acme.com/orders/{caller}" into found:
                on error: hangup
            sms "{caller}" "Pedidos: {found.orders}."
            hangup
        """
    )
    spanish = Source("test.es-US.texts", "")
    chosen = compile_source(Source("test.flow", text, catalogs=(spanish,)))
    assert _texted(chosen, {"orders": ["A1", "B2", "C3"]}) == ["Pedidos: A1, B2 y C3."]


def test_an_sms_text_keeps_a_list_of_records_as_written_without_a_warning() -> None:
    orders = [{"id": "A1"}, {"id": "B2"}]
    text = VOICE + TEXTED.replace('    say "You have {found.orders}."\n', "")
    sim = Simulation.begin(program(text))
    sim.give(FetchAnswer({"orders": orders}))
    texts = [e.command.body["text"] for e in sim.entries
             if isinstance(e, Sent) and e.command.is_message]
    assert texts == ['You have [{"id": "A1"}, {"id": "B2"}].']
    assert not [e for e in sim.entries if isinstance(e, Logged)]


def test_a_fetch_address_keeps_the_exact_value_of_a_list() -> None:
    text = VOICE + LOOKUP.replace(
        '    say "You have {found.orders}."\n',
        '    fetch "https://api.acme.com/ship?ids={found.orders}" into shipped:\n'
        "        on error: hangup\n",
    )
    sim = Simulation.begin(program(text))
    sim.give(FetchAnswer({"orders": ["A1", "B2"]}))
    urls = [e.fetch.url for e in sim.entries if isinstance(e, Requested)]
    assert urls[1] == "https://api.acme.com/ship?ids=%5B%22A1%22%2C%20%22B2%22%5D"


_PLAIN = st.one_of(st.text(max_size=5), st.integers(-99, 99), st.booleans(), st.none())


@settings(max_examples=60, deadline=None, database=None)
@given(orders=st.lists(_PLAIN, max_size=4),
       language=st.sampled_from(["", 'language "en-GB"\n', 'language "de-DE"\n']))
def test_an_sms_text_reads_a_plain_list_as_the_caller_hears_it(orders: list[Any],
                                                                language: str) -> None:
    sim = Simulation.begin(program(VOICE + language + TEXTED))
    sim.give(FetchAnswer({"orders": orders}))
    said = [e.command.body["payload"] for e in sim.entries
            if isinstance(e, Sent) and "payload" in e.command.body]
    texted = [e.command.body["text"] for e in sim.entries
              if isinstance(e, Sent) and e.command.is_message]
    assert said == texted


def test_fuzz_reports_an_empty_value_the_caller_hears_at_the_line_of_its_say() -> None:
    report = fuzz(program(VOICE + LOOKUP), examples=100)
    finding = report.finding
    assert finding is not None
    assert finding.kind == "empty"
    assert finding.line == 6
    assert finding.message.startswith("`found.orders` ")
    assert finding.message.endswith(': the caller heard "You have ."')
    assert len(finding.inputs) == 1 and finding.inputs[0].startswith("fetch=")


def test_fuzz_command_reports_the_empty_value_and_its_replay_shows_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_flow(tmp_path, VOICE + LOOKUP)
    assert main(["fuzz", str(path), "--examples", "100"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Problem found in {path}: the caller heard an empty value (line 6)."
    argv = shlex.split(out[-1].strip())
    assert main(argv[1:]) == 0
    assert 'say "You have ."' in capsys.readouterr().out


def test_fuzz_finds_nothing_when_the_flow_guards_the_empty_value() -> None:
    guarded = VOICE + LOOKUP.replace(
        '    say "You have {found.orders}."\n',
        '    if found.orders:\n        say "You have {found.orders}."\n',
    )
    assert fuzz(program(guarded), examples=100).finding is None


def test_fuzz_gives_an_outbound_flow_its_inputs_and_the_replay_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outbound = VOICE + flow(
        """\
        outbound from "+13125550199"
        input patient

        main:
            say "Hello {patient}."
            gather digits 1 tries 1 into choice:
                say "Press a key."
                on digits: say "You pressed {choice} for {patient}."
            say "You said {choice}."
        """
    )
    path = write_flow(tmp_path, outbound)
    assert main(["fuzz", str(path), "--examples", "100"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("the caller heard an empty value (line 10).")
    argv = shlex.split(out[-1].strip())
    assert argv[3:5] == ["--with", "patient=patient"]
    assert main(argv[1:]) == 0
    assert 'say "Hello patient."' in capsys.readouterr().out


def test_an_unset_value_heard_keeps_todays_warning_once() -> None:
    sim = Simulation.begin(program(VOICE + LOOKUP))
    sim.give(FetchAnswer({}))
    warnings = [e.line for e in sim.entries if isinstance(e, Logged)]
    assert [(w.text, w.line, w.gap) for w in warnings] == [
        ("`found.orders` has no value here, so it was left empty", 6, "found.orders")
    ]


def test_a_gap_in_a_gather_prompt_is_warned_at_the_line_of_its_say() -> None:
    text = VOICE + flow(
        """\
        main:
            answer
            set extra = ""
            gather tries 1:
                say "Press 1."
                say "Then {extra}."
                on digits "1": hangup
        """
    )
    sim = Simulation.begin(program(text))
    warnings = [e.line for e in sim.entries if isinstance(e, Logged)]
    assert [(w.line, w.gap) for w in warnings] == [(7, "extra")]
