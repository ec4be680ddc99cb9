"""The flow's clock at the edges: instants read from webhooks or `--at`, turned into local time.

The interpreter never reads a clock (flowlang/runtime is pure). Drivers (the simulator, the
server) read the moment of each event, Telnyx's `occurred_at` or the simulated time, and hand
the interpreter a `LocalTime` in the flow's `timezone`, computed here with the IANA database
(`zoneinfo`, backed by the `tzdata` package so it works on any machine).
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flowlang.runtime.events import LocalTime

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "OutOfRange",
    "UnknownZone",
    "local_time",
    "parse_at",
    "parse_instant",
    "suggest_zone",
    "zone",
]


class UnknownZone(ValueError):
    """A timezone name that is not in the IANA database."""


# The years a flow's clock can be set to (`simulate --at`, `debug --at`, a scenario's `at`,
# a webhook's `occurred_at`). Far wider than any call, and far from the edges of Python's
# dates (years 1 and 9999), where moving an instant into a timezone would overflow.
FIRST_YEAR = 1900
LAST_YEAR = 2100


class OutOfRange(ValueError):
    """A date and time written correctly, but outside FIRST_YEAR..LAST_YEAR."""


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (`America/Chicago`, `UTC`); UnknownZone when there is none."""
    # ZoneInfo also opens paths: only names made of zone-name characters are looked up.
    if not re.fullmatch(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", name):
        raise UnknownZone(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownZone(name) from None


@cache
def _zone_names() -> dict[str, str]:
    return {n.lower(): n for n in available_timezones()}


def suggest_zone(name: str) -> str | None:
    """The IANA name closest to a mistyped `name` (`America/Chicgo`), None when none is close."""
    names = _zone_names()
    exact = names.get(name.lower().replace(" ", "_"))
    if exact is not None:
        return exact
    # Most typos are in the city: compare city names first, then whole names.
    cities = {n.rsplit("/", 1)[-1].lower(): n for n in names.values()}
    city = name.rsplit("/", 1)[-1].lower().replace(" ", "_")
    close = difflib.get_close_matches(city, list(cities), n=1, cutoff=0.75)
    if close:
        return cities[close[0]]
    whole = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.6)
    return names[whole[0]] if whole else None


def local_time(instant: datetime, timezone: str) -> LocalTime:
    """`instant` (timezone-aware) on the clock of `timezone`; UTC for a zone that is unknown."""
    try:
        tz = zone(timezone)
    except UnknownZone:
        tz = zone("UTC")
    local = instant.astimezone(tz)
    return LocalTime(local.date().isoformat(), local.hour, local.minute, local.weekday())


def parse_instant(text: object) -> datetime | None:
    """A webhook's `occurred_at` (`2026-11-23T20:05:00.123456Z`) as an aware datetime; None
    when it is missing or not a time with an offset."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or not FIRST_YEAR <= moment.year <= LAST_YEAR:
        return None
    return moment


def parse_at(text: str, timezone: str) -> datetime:
    """A time written by a person (`simulate --at`, a scenario's `at`): `2026-11-23T14:05` in
    the flow's `timezone`, or with an explicit offset (`2026-11-23T14:05-06:00`, `...Z`).
    ValueError, in plain words, when it is not such a time; OutOfRange (a ValueError) when its
    year is not FIRST_YEAR..LAST_YEAR."""
    cleaned = text.strip().replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date and time: write it like 2026-11-23T14:05 (in the flow's "
            "timezone) or 2026-11-23T14:05-06:00 (with an offset)"
        ) from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise OutOfRange(
            f"{text.strip()} is out of range: give a date between {FIRST_YEAR} and {LAST_YEAR}"
        )
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=zone(timezone))
        except UnknownZone:
            moment = moment.replace(tzinfo=UTC)
    # As an instant: a wall-clock time the zone skips (2:30 on the night clocks go forward)
    # is then read on that clock as the time it really is (3:30), as `open` decides it.
    return moment.astimezone(UTC)


def now() -> datetime:
    """The current time, for drivers that were given none."""
    return datetime.now(UTC)
