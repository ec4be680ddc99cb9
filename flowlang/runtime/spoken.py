"""Spoken values: how a value put into speech reads, in the wording of a `say`'s language.

`{value as FORMAT}`: `digits` and `phone` are digits, spaces and commas (a pause), so they read
right in every language. `money`, `date` and `time` need words: they exist for the English
`speak` languages, each with its own currency and date order. A value that does not fit the
format (`"soon" as date`) is said as written; `say_as` reports that through its second result.

A list is said as a person lists things: `A1, B2 and C3` in English, `A1, B2 und C3` in German,
with the word for "and" of each language in AND. In a language not there (Japanese, Chinese,
Korean, Arabic, Hindi, Welsh: the joining word changes with what it joins, or attaches to it),
the items are joined with commas only (`A1, B2, C3`) rather than with a word of another language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from attrs import frozen

from flowlang.days import days_in_month, weekday

__all__ = [
    "DEFAULT_LANGUAGE",
    "ENGLISH",
    "AND",
    "WORDED_FORMATS",
    "formats_of",
    "parse_money",
    "parse_time",
    "say_as",
    "say_list",
]

# Telnyx speaks `en-US` when a `speak` names no language.
DEFAULT_LANGUAGE = "en-US"

# Formats that need words of a language; `digits` and `phone` do not.
WORDED_FORMATS = ("money", "date", "time")


@frozen
class English:
    """How one English-speaking region says money and dates."""

    currency: tuple[str, str]  # one, many: ("dollar", "dollars")
    cents: tuple[str, str]
    day_first: bool  # "Monday 23 November 2026" rather than "Monday, November 23, 2026"


_DOLLARS = (("dollar", "dollars"), ("cent", "cents"))

# Every English language of Telnyx's `speak` (flowlang.lint.telnyx_data.SPEAK_LANGUAGES).
ENGLISH = {
    "en-US": English(*_DOLLARS, day_first=False),
    "en-AU": English(*_DOLLARS, day_first=True),
    "en-GB": English(("pound", "pounds"), ("penny", "pence"), day_first=True),
    "en-GB-WLS": English(("pound", "pounds"), ("penny", "pence"), day_first=True),
    "en-IN": English(("rupee", "rupees"), ("paisa", "paise"), day_first=True),
}

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def formats_of(language: str | None) -> tuple[str, ...]:
    """The formats `language` has (None: Telnyx's default language)."""
    if (language or DEFAULT_LANGUAGE) in ENGLISH:
        return ("digits", "phone", *WORDED_FORMATS)
    return ("digits", "phone")


def say_as(value: str, format: str, language: str | None) -> tuple[str, bool]:
    """`value` as `format` would say it in `language`; the flag is False when the value does not
    fit the format (or the language lacks it) and was left as written."""
    if format == "digits":
        return _digits(value)
    if format == "phone":
        return _phone(value)
    english = ENGLISH.get(language or DEFAULT_LANGUAGE)
    if english is None:
        return value, False
    if format == "money":
        return _money(value, english)
    if format == "date":
        return _date(value, english)
    return _time(value)


# The word for "and" before the last item of a list, by the language part of a `speak`
# language (`de` of `de-DE`).
AND = {
    "da": "og",
    "de": "und",
    "en": "and",
    "es": "y",
    "fr": "et",
    "is": "og",
    "it": "e",
    "nb": "og",
    "nl": "en",
    "pl": "i",
    "pt": "e",
    "ro": "și",
    "ru": "и",
    "sv": "och",
    "tr": "ve",
}

# Spanish says "e", not "y", before a word that starts with the sound "i" (`hijos e hijas`),
# but not before "hie"/"hia" (`agua y hielo`).
_SPANISH_I = re.compile(r"(?:i|í|hi|hí)(?![aeiouáéíóú])", re.IGNORECASE)


def say_list(items: Sequence[str], language: str | None) -> str:
    """`items` (each already in words) as a person lists them in `language` (None: Telnyx's
    default): `A1, B2 and C3` in English, with the word of AND in other languages, with commas
    only in a language not there. An item said as nothing is left out, so an empty list, or one
    of empty items, is said as nothing."""
    said = [item for item in items if item.strip()]
    code = (language or DEFAULT_LANGUAGE).split("-")[0].lower()
    word = AND.get(code)
    if len(said) < 2 or word is None:
        return ", ".join(said)
    last = said[-1]
    if code == "es" and _SPANISH_I.match(last.strip()):
        word = "e"
    return f"{', '.join(said[:-1])} {word} {last}"


def _digits(value: str) -> tuple[str, bool]:
    # Any text can be spelled out: an empty entry is said as nothing, without a warning.
    return " ".join(c for c in value if not c.isspace()), True


def _phone(value: str) -> tuple[str, bool]:
    digits = re.sub(r"[\s().\-]", "", value)
    international = digits.startswith("+")
    digits = digits.lstrip("+")
    if not digits.isdigit():
        return value, False
    # A North American number is read without its country code, 3-3-4 as people say it.
    if international and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    elif not international and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        groups = [digits[:3], digits[3:6], digits[6:]]
    else:
        groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        if len(groups) > 1 and len(groups[-1]) == 1:
            groups[-2:] = [groups[-2] + groups[-1]]
    return ", ".join(" ".join(group) for group in groups), True


def _plural(amount: int, words: tuple[str, str]) -> str:
    return f"{amount} {words[0] if amount == 1 else words[1]}"


_AMOUNT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def _money(value: str, english: English) -> tuple[str, bool]:
    text = value.strip().lstrip("$£₹").replace(",", "")
    if _AMOUNT.fullmatch(text) is None:
        return value, False
    try:
        amount = Decimal(text).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return value, False
    sign = "minus " if amount < 0 else ""
    cents_total = int(abs(amount) * 100)
    whole, cents = divmod(cents_total, 100)
    if whole and cents:
        said = f"{_plural(whole, english.currency)} and {_plural(cents, english.cents)}"
    elif cents:
        said = _plural(cents, english.cents)
    else:
        said = _plural(whole, english.currency)
    return sign + said, True


def parse_money(said: str, english: English) -> Decimal | None:
    """The amount `_money` said (for round-trip checks): `12 dollars and 50 cents` -> 12.50."""
    sign = -1 if said.startswith("minus ") else 1
    said = said.removeprefix("minus ")
    whole = cents = 0
    for piece in said.split(" and "):
        number, _, word = piece.partition(" ")
        if word in english.currency:
            whole = int(number)
        elif word in english.cents:
            cents = int(number)
        else:
            return None
    return sign * (Decimal(whole) + Decimal(cents) / 100)


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?")


def _date(value: str, english: English) -> tuple[str, bool]:
    found = _DATE.fullmatch(value.strip())
    if found is None:
        return value, False
    year, month, day = (int(g) for g in found.groups())
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        return value, False
    name = WEEKDAYS[weekday(year, month, day)].capitalize()
    if english.day_first:
        return f"{name} {day} {MONTHS[month - 1]} {year}", True
    return f"{name}, {MONTHS[month - 1]} {day}, {year}", True


# `14:05`, `14:05:30`, or the time of an ISO date-time (`2026-11-23T14:05:00Z`).
_TIME = re.compile(
    r"(?:\d{4}-\d{2}-\d{2}[T ])?(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)


def _time(value: str) -> tuple[str, bool]:
    found = _TIME.fullmatch(value.strip())
    if found is None:
        return value, False
    hour, minute = int(found.group(1)), int(found.group(2))
    if hour > 23 or minute > 59:
        return value, False
    suffix = "AM" if hour < 12 else "PM"
    twelve = hour % 12 or 12
    if minute == 0:
        return f"{twelve} {suffix}", True
    return f"{twelve}:{minute:02d} {suffix}", True


def parse_time(said: str) -> str | None:
    """The `H:MM` 24-hour time `_time` said (for round-trip checks): `2:05 PM` -> `14:05`."""
    found = re.fullmatch(r"(\d{1,2})(?::(\d{2}))? (AM|PM)", said)
    if found is None:
        return None
    hour = int(found.group(1)) % 12 + (12 if found.group(3) == "PM" else 0)
    return f"{hour}:{found.group(2) or '00'}"
