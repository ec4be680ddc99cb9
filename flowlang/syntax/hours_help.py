"""Explaining a line of an `hours` block that cannot be read, with the line written right.

A person writes opening hours the way they would on a shop door: `Mon-Fri 9am-5pm`,
`monday-friday 9 - 17`, `closed 12/25/2026`, `closed Dec 25th`. The parser stops at the first
token it cannot take there, which says little; these helpers read the whole line, name the
first habit that flowlang writes differently, and show the line as flowlang wants it.
"""

from __future__ import annotations

import re

from flowlang.source import Span
from flowlang.syntax.nodes import DAY_NAMES, MONTH_NAMES, MONTHS
from flowlang.syntax.problems import Problem

# `hours office:` (the line that opens the block).
_HOURS_HEADER = re.compile(r"hours\s+\w+\s*:")


# One time of day as people write it: `9`, `9:30`, `9am`, `9.30 pm`, `17h`.
_TIME = re.compile(r"(?P<hour>\d{1,2})(?:[:.h](?P<minute>\d{2}))?\s*(?P<half>[ap]\.?m\.?)?", re.I)
# A range of them: `9am-5pm`, `9:00 - 17:00`, `9 to 5`.
_RANGE = re.compile(
    rf"(?P<start>{_TIME.pattern})\s*(?:-|–|to)\s*(?P<end>{_TIME.pattern.replace('?P<', '?P<e')})",
    re.I,
)
_DATE_EXAMPLE = "2026-12-25"
_YEARLY_EXAMPLE = "dec 25"


def in_hours_block(text: str, pos: int) -> bool:
    """Whether the line holding `pos` is an indented line of an `hours NAME:` block."""
    start = text.rfind("\n", 0, pos) + 1
    line = text[start : text.find("\n", start) if "\n" in text[start:] else len(text)]
    indent = len(line) - len(line.lstrip(" "))
    if indent == 0:
        return False
    while start > 0:
        end = start - 1
        start = text.rfind("\n", 0, end) + 1
        above = text[start:end].rstrip("\r")
        content = above.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        if len(above) - len(content) < indent:
            return _HOURS_HEADER.match(content) is not None
    return False


def hours_line_problem(text: str, pos: int) -> Problem | None:
    """The first mistake in the `hours` line holding `pos`, with the line written right, or
    None when the line is not one of the habits recognised here."""
    if not in_hours_block(text, pos):
        return None
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", start)
    raw = text[start : len(text) if end < 0 else end].rstrip("\r")
    comment = raw.find("#")
    body = raw if comment < 0 else raw[:comment]
    body = body.rstrip()
    indent = len(body) - len(body.lstrip(" "))
    line_number = text.count("\n", 0, start) + 1
    content = body[indent:]
    if re.match(r"closed\b", content):
        return _closed(content, line_number, indent)
    return _days_and_times(content, line_number, indent)


def _closed(content: str, line: int, indent: int) -> Problem | None:
    offset = len("closed")
    items = content[offset:]
    fixed: list[str | None] = []
    first_bad: tuple[int, int] | None = None
    bad_fix: str | None = None
    column = offset
    for item in items.split(","):
        stripped = item.strip()
        at = column + (len(item) - len(item.lstrip()))
        column += len(item) + 1
        if not stripped:
            continue
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", stripped) or _yearly_as_written(stripped):
            fixed.append(stripped)
            continue
        fix = _as_date(stripped)
        fixed.append(fix)
        if first_bad is None:
            first_bad, bad_fix = (at, at + len(stripped)), fix
    if first_bad is None:
        return None
    span = Span(line, indent + first_bad[0] + 1, line, indent + first_bad[1] + 1)
    if any(f is None for f in fixed):
        # Not a date flowlang can read (`closed easter`): no line to show, only the two forms.
        return Problem(
            "FL064",
            "dates are written YEAR-MONTH-DAY, or as a month and a day for every year",
            span,
            f"not a date like {_DATE_EXAMPLE} or {_YEARLY_EXAMPLE}",
            f"write a single date as `{_DATE_EXAMPLE}` (the year, the month, the day, with `-` "
            f"between them), or a day of every year as `{_YEARLY_EXAMPLE}`",
        )
    corrected = "closed " + ", ".join(f for f in fixed if f is not None)
    if bad_fix is not None and not bad_fix[:1].isdigit():
        # Written without a year (`12/25`, `25 December`): that day every year.
        return Problem(
            "FL064",
            "a day of every year is written as the month's first three letters and the day",
            span,
            f"not a day like {_YEARLY_EXAMPLE}",
            f"write `{corrected}` (closed that day every year; a single date is written "
            f"YEAR-MONTH-DAY, like {_DATE_EXAMPLE})",
        )
    return Problem(
        "FL064",
        "dates are written YEAR-MONTH-DAY",
        span,
        f"not a date like {_DATE_EXAMPLE}",
        f"write `{corrected}` (the year, the month, the day, with `-` between them)",
    )


def _yearly_as_written(written: str) -> bool:
    """Whether `written` is a day of every year as flowlang reads it (`dec 25`, `december 25`:
    whether that day exists is the builder's to say)."""
    words = re.fullmatch(r"([a-z]+) (\d+)", written)
    return words is not None and words.group(1) in MONTH_NAMES


def _as_date(written: str) -> str | None:
    """`12/25/2026`, `25-12-2026`, `2026/12/25`, `25 December 2026` as YEAR-MONTH-DAY; a day
    written without a year (`12/25`, `Dec 25th`, `25 december`) as that day of every year
    (`dec 25`); None when it is not a date."""
    numbers = re.fullmatch(r"(\d{1,4})\s*[-/.]\s*(\d{1,2})(?:\s*[-/.]\s*(\d{2,4}))?", written)
    if numbers is not None:
        a, b, c = numbers.groups()
        if len(a) == 4:
            return _ymd(a, b, c) if c is not None else None
        # The month comes first unless it cannot (25/12/2026 is a day first).
        month, day = (a, b) if int(a) <= 12 and int(b) > 12 else (b, a)
        if int(a) <= 12 and int(b) <= 12 and "/" in written:
            month, day = a, b
        if c is None:
            return _every_year(month, day)
        year = c if len(c) == 4 else f"20{c}"
        return _ymd(year, month, day)
    words = re.fullmatch(
        r"(?:(\d{1,2})(?:st|nd|rd|th)?\s*([a-z]+)|([a-z]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?)"
        r",?(?:\s+(\d{4}))?",
        written,
        re.I,
    )
    if words is None:
        return None
    day = words.group(1) or words.group(4)
    month_word = (words.group(2) or words.group(3)).lower()[:3]
    if month_word not in MONTHS:
        return None
    month = str(MONTHS.index(month_word) + 1)
    if words.group(5) is None:
        return _every_year(month, day)
    return _ymd(words.group(5), month, day)


def _every_year(month: str, day: str) -> str | None:
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    return f"{MONTHS[int(month) - 1]} {int(day)}"


def _ymd(year: str, month: str, day: str) -> str | None:
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _days_and_times(content: str, line: int, indent: int) -> Problem | None:
    digit = re.search(r"\d", content)
    split = digit.start() if digit else len(content)
    days_text, times_text = content[:split], content[split:]
    ampersand = days_text.find("&")
    # `tue to sun`, `mon through fri`, `mon - fri`: a range of days written another way.
    worded = re.search(
        r"\s+(?:to|through|thru|till|until)\s+|(?<=\w)(?:\s+-\s*|\s*-\s+)(?=\w)", days_text, re.I
    )
    if worded is not None:
        days_text = days_text[: worded.start()] + "-" + days_text[worded.end() :]
    days, day_mistake = _fix_days(days_text.replace("&", ","))
    times, time_mistake = _fix_times(times_text)
    if days is None or times is None:
        return None
    corrected = f"{days} {times}".strip()
    if ampersand >= 0 and day_mistake is None:
        # `tue&thu`, as in Asterisk's GotoIfTime.
        return Problem(
            "FL062",
            "days in a list are separated by `,`",
            Span(line, indent + ampersand + 1, line, indent + ampersand + 2),
            "write `,` here",
            f"write `{corrected}`",
        )
    if worded is not None:
        return Problem(
            "FL062",
            "a range of days is written with `-`, without spaces",
            Span(line, indent + worded.start() + 1, line, indent + worded.end() + 1),
            "write `-` here",
            f"write `{corrected}`",
        )
    if day_mistake is None and time_mistake is None:
        return None
    if day_mistake is not None:
        start, end = day_mistake
        return Problem(
            "FL062",
            "days are written in lowercase and short",
            Span(line, indent + start + 1, line, indent + end + 1),
            f"write `{days}`",
            f"write `{corrected}` (the days are `mon` `tue` `wed` `thu` `fri` `sat` `sun`)",
        )
    assert time_mistake is not None
    kind, start, end = time_mistake
    at = indent + split
    span = Span(line, at + start + 1, line, at + end + 1)
    if kind == "half":
        return Problem(
            "FL063",
            "times use the 24-hour clock, without am or pm",
            span,
            "am/pm time",
            f"write `{corrected}` (`5pm` is `17:00`)",
        )
    if kind == "colon":
        return Problem(
            "FL063",
            "the hours and minutes of a time are separated by `:`",
            span,
            "write `:` in these times",
            f"write `{corrected}`",
        )
    if kind == "spaces":
        return Problem(
            "FL063",
            "a time range is written without spaces around its `-`",
            span,
            "remove these spaces",
            f"write `{corrected}`",
        )
    return Problem(
        "FL063",
        "a time is written with its minutes, like `9:00`",
        span,
        "minutes missing",
        f"write `{corrected}`",
    )


def _fix_days(written: str) -> tuple[str | None, tuple[int, int] | None]:
    """The days part written right, and where its first day word needs fixing (or None)."""
    fixed = written
    first: tuple[int, int] | None = None
    for match in reversed(list(re.finditer(r"[^\W\d_]+", written))):
        word = match.group()
        if word in DAY_NAMES or word == "daily":
            continue
        short = word.lower()[:3]
        if short not in DAY_NAMES and word.lower() != "daily":
            return None, None
        right = "daily" if word.lower() == "daily" else short
        fixed = fixed[: match.start()] + right + fixed[match.end() :]
        first = (match.start(), first[1] if first else match.end())
    fixed = re.sub(r"\s*-\s*", "-", fixed.strip())
    fixed = re.sub(r"\s*,\s*", ", ", fixed)
    return fixed, first


def _fix_times(written: str) -> tuple[str | None, tuple[str, int, int] | None]:
    """The times part written right, and the first mistake: its kind ("half" for am/pm,
    "minutes", "colon" for `7.00`, "spaces") and where it is. None when the text is not time
    ranges at all."""
    if not written.strip():
        return "", None
    ranges: list[str] = []
    first: tuple[str, int, int] | None = None
    position = 0
    for item in written.split(","):
        stripped = item.strip()
        lead = position + len(item) - len(item.lstrip())
        position += len(item) + 1
        match = _RANGE.fullmatch(stripped)
        if match is None:
            return None, None
        start = _clock(match.group("hour"), match.group("minute"), match.group("half"))
        end = _clock(match.group("ehour"), match.group("eminute"), match.group("ehalf"))
        if start is None or end is None:
            return None, None
        ranges.append(f"{start}-{end}")
        if first is not None:
            continue
        if match.group("half") or match.group("ehalf"):
            first = ("half", lead, lead + len(stripped))
        elif match.group("minute") is None or match.group("eminute") is None:
            first = ("minutes", lead, lead + len(stripped))
        elif re.search(r"\d[.h]\d", stripped):  # `7.00-15.00`, `7h00-15h00`
            first = ("colon", lead, lead + len(stripped))
        else:
            gap = re.search(r"\s*(?:-|–|to)\s*", stripped)
            assert gap is not None
            if gap.group() != "-":  # `09:00-17:00` is fine: only the `-` is looked at
                first = ("spaces", lead + gap.start(), lead + gap.end())
    return ", ".join(ranges), first


def _clock(hour_text: str, minute_text: str | None, half: str | None) -> str | None:
    hour = int(hour_text)
    minute = minute_text or "00"
    if half:
        if not 1 <= hour <= 12:
            return None
        pm = half.lower().startswith("p")
        hour = (hour % 12) + (12 if pm else 0)
    if hour > 24 or int(minute) > 59:
        return None
    return f"{hour}:{minute}"
