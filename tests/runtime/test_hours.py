"""Opening hours and the clock (LANGUAGE.md 11): `open NAME` and `now`, with the time an input."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.clock import local_time, parse_at
from flowlang.compiler import build_program, compile_source
from flowlang.errors import FlowSyntaxError
from flowlang.runtime.events import CallInfo, Event, LocalTime
from flowlang.runtime.interpreter import Interpreter
from flowlang.source import Source
from flowlang.syntax.nodes import DAY_NAMES, MONTHS, Closed
from flowlang.syntax.parser import parse_source

HEAD = 'voice "Telnyx.KokoroTTS.af"\ntimezone "America/Chicago"\n\n'
OFFICE = (
    "hours office:\n"
    "    mon-fri 9:00-12:00, 13:00-17:00\n"
    "    sat 10:00-14:00\n"
    "    closed 2026-12-25, 2027-01-01\n\n"
)


def run(text: str, at: LocalTime | None) -> list[str]:
    """The log lines of a run of `text` started at `at` (the flow only sets and logs)."""
    program = compile_source(Source("hours.flow", text))
    outcome = Interpreter(program).start(CallInfo("call", at=at))
    assert outcome.end is not None
    if outcome.end.reason == "error":
        return [f"error: {outcome.end.message}"]
    return [line.text for line in outcome.logs if line.level == "info"]


def opened(at: str) -> list[str]:
    text = HEAD + OFFICE + (
        'main:\n    if open office:\n        log "open"\n    else:\n        log "closed"\n'
    )
    return run(text, local_time(parse_at(at, "America/Chicago"), "America/Chicago"))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-11-23T09:00", "open"),  # Monday, the first minute
        ("2026-11-23T08:59", "closed"),
        ("2026-11-23T12:00", "closed"),  # lunch: the end of a range is not included
        ("2026-11-23T16:59", "open"),
        ("2026-11-23T17:00", "closed"),
        ("2026-11-28T13:30", "open"),  # Saturday
        ("2026-11-29T11:00", "closed"),  # Sunday
        ("2026-12-25T10:00", "closed"),  # a Friday, but a holiday
        ("2026-11-23T15:30Z", "open"),  # an explicit offset: 9:30 in Chicago
        ("2026-11-23T14:30Z", "closed"),  # 8:30 in Chicago
    ],
)
def test_open_is_decided_on_the_flows_clock(at: str, expected: str) -> None:
    assert opened(at) == [expected]


def test_now_gives_date_time_hour_minute_and_weekday_in_the_files_timezone() -> None:
    text = HEAD + (
        "main:\n"
        '    log "{now.date} {now.time} {now.hour} {now.minute} {now.weekday}"\n'
        '    log "{now.date as date} at {now.time as time}"\n'
    )
    at = local_time(datetime.fromisoformat("2026-11-23T20:05:00+00:00"), "America/Chicago")
    assert run(text, at) == [
        "2026-11-23 14:05 14 5 monday",
        "Monday, November 23, 2026 at 2:05 PM",
    ]


def test_each_event_brings_its_own_time() -> None:
    program = compile_source(
        Source(
            "t.flow",
            HEAD + OFFICE + "main:\n    answer\n"
            '    if open office:\n        log "open at {now.time}"\n'
            '    else:\n        log "closed at {now.time}"\n',
        )
    )
    interpreter = Interpreter(program)
    started = interpreter.start(CallInfo("call", at=LocalTime("2026-11-23", 8, 59, 0)))
    answered = Event(
        "call.answered",
        {"client_state": started.commands[0].body["client_state"]},
        at=LocalTime("2026-11-23", 9, 0, 0),
    )
    out = interpreter.handle(started.state, answered)
    assert [line.text for line in out.logs] == ["open at 09:00"]


def test_without_a_time_open_is_a_runtime_error_not_a_guess() -> None:
    text = HEAD + OFFICE + 'main:\n    if open office:\n        log "open"\n'
    assert run(text, None) == [
        "error: `open office` needs the time of the call, and this run was not given one"
    ]


# -- the brute-force model ------------------------------------------------------------------------

clocks = st.tuples(st.integers(0, 24), st.sampled_from([0, 15, 30, 59])).filter(
    lambda t: t[0] < 24 or t[1] == 0
)
ranges = st.tuples(clocks, clocks).filter(lambda r: r[0] < r[1])
day_items = st.one_of(
    st.sampled_from([*DAY_NAMES, "daily"]),
    st.tuples(st.sampled_from(DAY_NAMES), st.sampled_from(DAY_NAMES)).map("-".join),
)
lines = st.tuples(
    st.lists(day_items, min_size=1, max_size=3), st.lists(ranges, min_size=1, max_size=3)
)
holidays = st.lists(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=3)


def clock_text(t: tuple[int, int]) -> str:
    return f"{t[0]}:{t[1]:02d}"


def model_days(item: str) -> set[int]:
    """The weekdays of one day item, walking the week day by day."""
    if item == "daily":
        return set(range(7))
    first, _, last = item.partition("-")
    day = DAY_NAMES.index(first)
    found = {day}
    while last and DAY_NAMES[day] != last:
        day = (day + 1) % 7
        found.add(day)
    return found


def model_open(spec: list, closed: list[date], moment: datetime) -> bool:
    """Open at `moment` by listing every open minute of the week, one by one."""
    if moment.date() in closed:
        return False
    minutes: set[tuple[int, int]] = set()
    for days, rngs in spec:
        for item in days:
            for day in model_days(item):
                for start, end in rngs:
                    for m in range(start[0] * 60 + start[1], end[0] * 60 + end[1]):
                        minutes.add((day, m))
    return (moment.weekday(), moment.hour * 60 + moment.minute) in minutes


@settings(max_examples=60, deadline=None)
@given(
    st.lists(lines, min_size=1, max_size=3),
    holidays,
    st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31, 23, 59)),
)
def test_open_agrees_with_a_minute_by_minute_model(
    spec: list, closed: list[date], moment: datetime
) -> None:
    body = "".join(
        f"    {', '.join(days)} {', '.join(f'{clock_text(a)}-{clock_text(b)}' for a, b in rngs)}\n"
        for days, rngs in spec
    )
    if closed:
        body += "    closed " + ", ".join(d.isoformat() for d in closed) + "\n"
    text = (
        'voice "Telnyx.KokoroTTS.af"\n\nhours office:\n' + body
        + 'main:\n    if open office:\n        log "open"\n    else:\n        log "closed"\n'
    )
    at = LocalTime(moment.date().isoformat(), moment.hour, moment.minute, moment.weekday())
    # Compiled without the linter: random hours may overlap, which is only a warning.
    source = Source("m.flow", text)
    program = build_program(parse_source(source), source)
    outcome = Interpreter(program).start(CallInfo("call", at=at))
    said = [line.text for line in outcome.logs if line.level == "info"]
    assert said == ["open" if model_open(spec, closed, moment) else "closed"]


def test_hours_of_an_included_file_are_part_of_the_flow(tmp_path: Path) -> None:
    (tmp_path / "hours.flow").write_text(
        'hours office:\n    mon-fri 9:00-17:00\n\nunused:\n    hangup\n', encoding="utf-8"
    )
    main = tmp_path / "main.flow"
    main.write_text(
        HEAD + 'include "hours.flow"\n\nmain:\n    if open office:\n        log "open"\n'
        '    else:\n        log "closed"\n',
        encoding="utf-8",
    )
    text = main.read_text(encoding="utf-8")
    program = compile_source(Source(str(main), text))
    outcome = Interpreter(program).start(CallInfo("c", at=LocalTime("2026-11-23", 10, 0, 0)))
    assert [line.text for line in outcome.logs] == ["open"]


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        ("2026-03-08T02:30", "2026-03-08 03:30"),  # skipped when clocks go forward: 3:30 CDT
        ("2026-11-01T01:30", "2026-11-01 01:30"),  # repeated when they go back: the first one
        ("2026-11-01T01:30-06:00", "2026-11-01 01:30"),
        ("2026-07-01T12:00", "2026-07-01 12:00"),
    ],
)
def test_a_time_given_is_read_on_the_flows_clock_as_the_instant_it_is(at: str, shown: str) -> None:
    local = local_time(parse_at(at, "America/Chicago"), "America/Chicago")
    assert f"{local.date} {local.hour:02d}:{local.minute:02d}" == shown


# `closed dec 25`: that day of every year.
_DAYS = st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 12, 31))


@given(_DAYS, _DAYS)
@settings(max_examples=60, deadline=None)
def test_a_day_closed_every_year_is_closed_in_every_year(holiday: date, day: date) -> None:
    month = MONTHS[holiday.month - 1]
    text = HEAD + (
        "hours office:\n"
        "    daily 0:00-24:00\n"
        f"    closed {month} {holiday.day}\n\n"
        'main:\n    if open office:\n        log "open"\n    else:\n        log "closed"\n'
    )
    at = LocalTime(day.isoformat(), 12, 0, day.weekday())
    expected = "closed" if (day.month, day.day) == (holiday.month, holiday.day) else "open"
    assert run(text, at) == [expected]


def test_a_day_of_every_year_is_written_short_and_checked() -> None:
    flow = parse_source(Source("h.flow", HEAD + (
        "hours office:\n    mon-fri 9:00-17:00\n    closed december 25, jan 1, 2026-11-26\n\n"
        "main:\n    hangup\n"
    )))
    (closed,) = [line for line in flow.hours[0].lines if isinstance(line, Closed)]
    assert [d.value for d in closed.dates] == ["dec 25", "jan 1", "2026-11-26"]
    assert [d.every_year for d in closed.dates] == [True, True, False]
    for written, says in (("feb 30", "`feb 30` is not a day of the year"),
                          ("Dec 25", "months are written in lowercase"),
                          ("DECEMBER 25", "months are written in lowercase"),
                          ("decmber 24", "`decmber` is not a month")):
        text = f"hours office:\n    closed {written}\nmain:\n    hangup\n"
        with pytest.raises(FlowSyntaxError, match=says):
            parse_source(Source("h.flow", text))
