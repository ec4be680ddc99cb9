"""Spoken formats (LANGUAGE.md 12): `{value as FORMAT}` reads a value as a person would say it."""

from __future__ import annotations

import string
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowlang.days import weekday
from flowlang.errors import FlowSyntaxError
from flowlang.lint.telnyx_data import SPEAK_LANGUAGES
from flowlang.runtime.expressions import interpolate, text_of
from flowlang.runtime.spoken import (
    AND,
    ENGLISH,
    formats_of,
    parse_money,
    parse_time,
    say_as,
    say_list,
)
from flowlang.source import Source
from flowlang.syntax.nodes import Interp, Str
from flowlang.syntax.parser import parse_source
from tests.runtime.calls import Call

CASES = [
    ("digits", "1234", "en-US", "1 2 3 4"),
    ("digits", "A 12#", "de-DE", "A 1 2 #"),
    ("phone", "+13125550100", "en-US", "3 1 2, 5 5 5, 0 1 0 0"),
    ("phone", "(312) 555-0100", "fr-FR", "3 1 2, 5 5 5, 0 1 0 0"),
    ("phone", "+442071838750", "en-GB", "4 4 2, 0 7 1, 8 3 8, 7 5 0"),
    ("money", "12.5", "en-US", "12 dollars and 50 cents"),
    ("money", "1", "en-US", "1 dollar"),
    ("money", "0.01", "en-AU", "1 cent"),
    ("money", "$1,234.00", "en-US", "1234 dollars"),
    ("money", "-3.999", "en-US", "minus 4 dollars"),
    ("money", "12.5", "en-GB", "12 pounds and 50 pence"),
    ("money", "1.01", "en-GB-WLS", "1 pound and 1 penny"),
    ("money", "250", "en-IN", "250 rupees"),
    ("date", "2026-11-23", "en-US", "Monday, November 23, 2026"),
    ("date", "2026-11-23", "en-GB", "Monday 23 November 2026"),
    ("date", "2024-02-29T10:00:00Z", "en-IN", "Thursday 29 February 2024"),
    ("time", "14:05", "en-US", "2:05 PM"),
    ("time", "0:00", "en-AU", "12 AM"),
    ("time", "12:30", "en-GB", "12:30 PM"),
    ("time", "2026-11-23T09:00:00-06:00", "en-US", "9 AM"),
]


@pytest.mark.parametrize(
    ("format", "value", "language", "said"), CASES, ids=[f"{c[0]}-{c[2]}-{c[1]}" for c in CASES]
)
def test_each_format_reads_a_value_as_a_person_would(
    format: str, value: str, language: str, said: str
) -> None:
    assert say_as(value, format, language) == (said, True)


@pytest.mark.parametrize(
    ("format", "value"),
    [("money", "lots"), ("date", "2026-02-30"), ("date", "tomorrow"), ("time", "25:00"),
     ("phone", "call me")],
    ids=["money", "impossible-date", "word-date", "time", "phone"],
)
def test_a_value_that_does_not_fit_is_said_as_written(format: str, value: str) -> None:
    assert say_as(value, format, "en-US") == (value, False)


def test_every_english_speak_language_has_every_format_and_all_have_digits_and_phone() -> None:
    for language in SPEAK_LANGUAGES:
        assert {"digits", "phone"} <= set(formats_of(language))
        if language.startswith("en-"):
            assert language in ENGLISH
            assert set(formats_of(language)) == {"digits", "phone", "money", "date", "time"}
    assert formats_of(None) == formats_of("en-US")


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2), st.sampled_from(list(ENGLISH)))
def test_money_round_trips(amount: Decimal, language: str) -> None:
    said, fits = say_as(str(amount), "money", language)
    assert fits
    assert parse_money(said, ENGLISH[language]) == amount


@given(st.integers(0, 23), st.integers(0, 59))
def test_time_round_trips(hour: int, minute: int) -> None:
    said, fits = say_as(f"{hour}:{minute:02d}", "time", "en-US")
    assert fits
    assert parse_time(said) == f"{hour}:{minute:02d}"


@given(st.dates())
def test_weekday_agrees_with_the_calendar(day: object) -> None:
    import datetime

    assert isinstance(day, datetime.date)
    assert weekday(day.year, day.month, day.day) == day.weekday()


HEAD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-GB"\n\nmain:\n    answer\n'


def test_a_say_uses_the_wording_of_its_own_language_else_the_files() -> None:
    call = Call.of(
        HEAD + '    set total = "12.5"\n'
        '    say "You owe {total as money}."\n'
        '    say "You owe {total as money}." language "en-US"\n'
        '    say "Order {total as digits}."\n'
    )
    call.start()
    said = []
    for _ in range(4):
        out = call.complete()
        said += [c.body["payload"] for c in out.commands if c.action == "speak"]
    assert said == [
        "You owe 12 pounds and 50 pence.",
        "You owe 12 dollars and 50 cents.",
        "Order 1 2 . 5.",
    ]


def test_a_value_that_does_not_fit_is_said_as_written_with_a_warning() -> None:
    call = Call.of(HEAD + '    set day = "soon"\n    say "See you {day as date}."\n')
    call.start()
    out = call.complete()
    assert out.commands[-1].body["payload"] == "See you soon."
    assert [(line.level, line.text) for line in out.logs] == [
        ("warning", "`{day as date}`: 'soon' cannot be said that way, so it was said as written")
    ]


def test_gather_prompts_and_reprompts_use_the_format_too() -> None:
    call = Call.of(
        HEAD + '    set number = "+13125550100"\n'
        "    gather tries 2:\n"
        '        say "We will call {number as phone}."\n'
        '        reprompt timeout "Again: {number as phone}."\n'
        '        on digits "1": hangup\n'
    )
    call.start()
    call.settle()
    assert call.last.commands[-1].body["payload"] == "We will call 3 1 2, 5 5 5, 0 1 0 0."
    out = call.press("", "timeout")
    assert out.commands[-1].body["payload"] == (
        "Again: 3 1 2, 5 5 5, 0 1 0 0. We will call 3 1 2, 5 5 5, 0 1 0 0."
    )


def test_an_unknown_format_is_a_syntax_error_with_a_suggestion() -> None:
    with pytest.raises(FlowSyntaxError) as error:
        parse_source(Source("f.flow", HEAD + '    say "Total {total as mony}."\n'))
    (diagnostic,) = error.value.diagnostics
    assert diagnostic.code == "FL061"
    assert diagnostic.help is not None and "did you mean `money`?" in diagnostic.help


# -- lists put into speech --------------------------------------------------------------------

# Items a backend may list: order numbers, names, amounts; never a bracket or a quote.
WORDS = st.text(string.ascii_letters + string.digits + " -.'", min_size=1, max_size=8).filter(
    lambda word: word.strip() and " and " not in f" {word} " and "," not in word
)
PLAIN_ITEMS = st.lists(
    st.one_of(WORDS, st.integers(-10_000, 10_000), st.floats(-1e6, 1e6, allow_nan=False)),
    max_size=6,
)
TEXT = Str(("You have ", Interp(("orders",)), "."))


def _heard(items: list[object], language: str | None) -> tuple[str, list[tuple[str, str]]]:
    """`TEXT` said with `orders` holding `items`, and what the caller-facing hook was told."""
    told: list[tuple[str, str]] = []
    said = interpolate(
        TEXT, {"orders": items}, lambda name: None, language,
        heard=lambda part, found, value, words: told.append((part.dotted, words)),
    )
    return said, told


@given(PLAIN_ITEMS, st.sampled_from(["en-US", "en-GB", None]))
def test_an_english_list_is_said_with_commas_and_a_last_and(
    items: list[object], language: str | None
) -> None:
    said, told = _heard(items, language)
    words = [text_of(item) for item in items]
    listed = said.removeprefix("You have ").removesuffix(".")
    assert told == [("orders", listed)]
    assert not set("[]{}\"") & set(said)
    if len(words) >= 2:
        head, _, last = listed.rpartition(" and ")
        assert [*head.split(", "), last] == words
    else:
        assert listed == "".join(words)  # one item alone, or nothing for an empty list


# Items of one word, so that no item holds the word for "and" between spaces.
ONE_WORD_ITEMS = st.lists(
    st.one_of(
        st.text(string.ascii_letters + string.digits, min_size=1, max_size=8),
        st.integers(-10_000, 10_000),
    ),
    max_size=6,
)


@given(ONE_WORD_ITEMS, st.sampled_from(["fr-FR", "de-DE", "sv-SE", "pt-BR", "ru-RU", "nb-NO"]))
def test_another_language_says_its_own_and_before_the_last_item(
    items: list[object], language: str
) -> None:
    said, _ = _heard(items, language)
    word = AND[language.split("-")[0]]
    listed = said.removeprefix("You have ").removesuffix(".")
    words = [text_of(item) for item in items]
    if len(words) >= 2:
        head, _, last = listed.rpartition(f" {word} ")
        assert [*head.split(", "), last] == words
    else:
        assert listed == "".join(words)
    assert " and " not in f" {listed} "
    assert not set("[]{}\"") & set(said)


@given(PLAIN_ITEMS, st.sampled_from(["ja-JP", "cmn-CN", "ko-KR", "arb", "hi-IN", "cy-GB"]))
def test_a_language_without_a_known_and_joins_a_list_with_commas_only(
    items: list[object], language: str
) -> None:
    said, _ = _heard(items, language)
    listed = said.removeprefix("You have ").removesuffix(".")
    assert (listed.split(", ") if items else []) == [text_of(item) for item in items]
    assert " and " not in f" {listed} "
    assert not set("[]{}\"") & set(said)


@pytest.mark.parametrize(
    ("items", "said"),
    [
        (["Ana", "Isabel"], "Ana e Isabel"),
        (["padres", "hijos"], "padres e hijos"),
        (["agua", "hielo"], "agua y hielo"),
        (["A1", "B2", "C3"], "A1, B2 y C3"),
    ],
)
def test_spanish_says_e_before_an_i_sound(items: list[str], said: str) -> None:
    assert say_list(items, "es-MX") == said


def test_every_speak_language_has_its_and_or_commas() -> None:
    # A language added to Telnyx's list is decided on, not said with English words.
    from flowlang.lint.telnyx_data import SPEAK_LANGUAGES

    codes = {language.split("-")[0] for language in SPEAK_LANGUAGES}
    assert set(AND) <= codes
    assert codes - set(AND) == {"arb", "cmn", "cy", "hi", "ja", "ko"}


def test_an_empty_item_is_left_out_and_an_empty_list_is_said_as_nothing() -> None:
    assert say_list(["A1", "", "  ", "B2"], "en-US") == "A1 and B2"
    assert say_list([], "en-US") == ""
    assert say_list(["A1"], "en-US") == "A1"
    assert say_list(["A1", "B2", "C3"], "fr-FR") == "A1, B2 et C3"
    assert say_list(["A1", "B2", "C3"], "ja-JP") == "A1, B2, C3"


def test_each_item_of_a_list_is_said_in_the_braces_format() -> None:
    text = Str(("Orders ", Interp(("orders",), "digits"), "."))
    said = interpolate(text, {"orders": ["12", 34]}, lambda name: None, "en-US",
                       heard=lambda *told: None)
    assert said == "Orders 1 2 and 3 4."


def test_outside_speech_a_list_keeps_its_json() -> None:
    # A `log` line or a text message is read by a person who may need the exact value.
    assert interpolate(TEXT, {"orders": ["A1", "B2"]}, lambda name: None) == (
        'You have ["A1", "B2"].'
    )


@given(st.lists(st.booleans(), min_size=1, max_size=3))
def test_yes_no_values_in_a_list_are_said_as_they_are_alone(values: list[bool]) -> None:
    said, _ = _heard(list(values), "en-US")
    for value in values:
        assert text_of(value) in said
