"""Rules about time (FL821-FL829): the timezone, `hours` blocks and the `open` tests on them."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from flowlang.clock import UnknownZone, suggest_zone, zone
from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.runtime.events import WEEKDAYS, LocalTime
from flowlang.source import Span
from flowlang.syntax import nodes


def open_tests(ctx: Context) -> Iterator[nodes.OpenTest]:
    """Every `open NAME` in the flow's conditions and `set` values, in source order."""
    for stmt in ctx.statements():
        exprs: list[nodes.Node] = []
        if isinstance(stmt, nodes.If):
            exprs = [stmt.cond, *(e.cond for e in stmt.elifs)]
        elif isinstance(stmt, nodes.Set):
            exprs = [stmt.value]
        stack = list(reversed(exprs))
        while stack:
            e = stack.pop()
            if isinstance(e, nodes.OpenTest):
                yield e
            elif isinstance(e, nodes.BinOp):
                stack += (e.right, e.left)
            elif isinstance(e, nodes.Not):
                stack.append(e.operand)


def _timezone(ctx: Context) -> nodes.Str | None:
    """The `timezone` setting's value, when the flow has one written out (no `{...}`)."""
    setting = next((s for s in ctx.flow.settings if s.name == "timezone"), None)
    if setting is None or setting.value.interpolations:
        return None
    return setting.value


@rule("FL821", "unknown-timezone", Severity.ERROR)
def unknown_timezone(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that the `timezone` setting names a time zone of the IANA database, like
    `America/Chicago`, `Europe/London` or `UTC`.

    ## Why is this bad?
    flowlang could not tell what time it is where the callers are: opening hours and `now`
    would be read on the wrong clock.

    ## Example
    ```
    timezone "America/Chicgo"
    ```

    ## Use instead
    ```
    timezone "America/Chicago"
    ```
    """
    written = _timezone(ctx)
    if written is None:
        return
    name = written.text
    try:
        zone(name)
        return
    except UnknownZone:
        pass
    guess = suggest_zone(name)
    fix = f"did you mean `{guess}`? " if guess else ""
    yield Finding(
        written.span,
        f"`{name}` is not a time zone",
        label="unknown time zone",
        help=f"{fix}write an IANA time zone name: a region and a city, like "
        "`America/Chicago`, `Europe/London` or `Asia/Kolkata`, or `UTC`",
    )


# Zone names that are a fixed offset, or a legacy abbreviation, where the people who write them
# usually live by a clock with summer time: the place's own zone, for the suggestion.
_SUMMERLESS = {
    "EST": "America/New_York",
    "MST": "America/Denver",
    "GMT": "Europe/London",
    "Etc/GMT": "Europe/London",
    "GMT0": "Europe/London",
    "Greenwich": "Europe/London",
}


@rule("FL827", "timezone-without-summer-time", Severity.WARNING)
def timezone_without_summer_time(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a `timezone` written as an abbreviation that never changes for summer time (`EST`,
    `MST`, `GMT`), where the callers' own clock does.

    ## Why is this bad?
    `EST` is UTC-5 all year. New York moves to UTC-4 from March to November, so during those
    months a flow with `timezone "EST"` opens and closes an hour late, and `now` is an hour off.

    ## Example
    ```
    timezone "EST"
    ```

    ## Use instead
    Name the place, and flowlang follows its summer time:
    ```
    timezone "America/New_York"
    ```
    """
    written = _timezone(ctx)
    if written is None:
        return
    name = written.text
    place = _SUMMERLESS.get(name)
    if place is None:
        return
    arizona = " (Arizona, which keeps no summer time: `America/Phoenix`)" if name == "MST" else ""
    yield Finding(
        written.span,
        f"`{name}` never changes for summer time",
        label="no summer time",
        help=f"write the callers' place instead, like `{place}`{arizona}: its clock moves to "
        "summer time and back, and opening hours follow it",
    )


@rule("FL828", "unknown-now-field", Severity.ERROR)
def unknown_now_field(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that `now` is read by one of its fields: `now.date` (`2026-11-30`), `now.time`
    (`14:05`), `now.hour`, `now.minute` and `now.weekday` (`monday` ... `sunday`).

    ## Why is this bad?
    Any other field is always empty: the caller hears a gap in the sentence.

    ## Example
    ```
    say "Today is {now.day}."
    ```

    ## Use instead
    ```
    say "Today is {now.date as date}."
    ```
    """
    for n in ctx.analysis.graph.nodes:
        for r in n.reads:
            if r.name != "now" or len(r.path) < 2 or r.path[1] in LocalTime.FIELDS:
                continue
            close = difflib.get_close_matches(r.path[1], LocalTime.FIELDS, n=1, cutoff=0.5)
            listed = ", ".join(f"`now.{f}`" for f in LocalTime.FIELDS)
            fix = f"did you mean `now.{close[0]}`? " if close else ""
            yield Finding(
                r.span,
                f"`now` has no field `{r.path[1]}`",
                label="not a field of now",
                help=f"{fix}the fields of `now` are {listed}",
            )


@rule("FL822", "unknown-hours", Severity.ERROR)
def unknown_hours(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that every `open NAME` names an `hours NAME:` block of the file.

    ## Why is this bad?
    There are no opening hours to look at, so the flow cannot decide; the call would stop
    with an error at that line.

    ## Example
    ```
    hours office:
        mon-fri 9:00-17:00

    main:
        if open ofice:
            goto menu
    ```

    ## Use instead
    ```
    main:
        if open office:
            goto menu
    ```
    """
    defined = [h.name.value for h in ctx.flow.hours]
    for test in open_tests(ctx):
        name = test.name.value
        if name in defined:
            continue
        close = difflib.get_close_matches(name, defined, n=1, cutoff=0.6)
        if close:
            fix = f"did you mean `{close[0]}`?"
        elif defined:
            fix = "the hours of this file are " + ", ".join(f"`{d}`" for d in defined)
        else:
            fix = f"add the hours at the top level, like\n    hours {name}:\n" \
                "        mon-fri 9:00-17:00"
        yield Finding(
            test.name.span,
            f"no `hours {name}:` in this file",
            label="unknown hours",
            help=fix,
        )


@rule("FL823", "hours-range-backwards", Severity.ERROR)
def hours_range_backwards(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that each time range of an `hours` line ends after it starts. A range cannot run
    across midnight: `22:00-2:00` is written as two ranges on two days.

    ## Why is this bad?
    A range that ends before it starts (or where it starts) holds no minute at all: the hours
    would be closed when you meant them open.

    ## Example
    ```
    hours night_line:
        fri 22:00-2:00
    ```

    ## Use instead
    ```
    hours night_line:
        fri 22:00-24:00
        sat 0:00-2:00
    ```
    """
    for hours in ctx.flow.hours:
        for line in hours.lines:
            if not isinstance(line, nodes.DayHours):
                continue
            for r in line.ranges:
                start, end = r.minutes
                if start < end or start > 24 * 60 or end > 24 * 60:
                    continue
                if start == end:
                    message = f"the range `{r.written}` starts and ends at the same time"
                    fix = "write the time it closes after the time it opens, like `9:00-17:00`"
                else:
                    message = f"the range `{r.written}` ends before it starts"
                    fix = (
                        "a range cannot run past midnight: end it at `24:00` and go on from "
                        f"`0:00` on the next day's line, like `{r.start}-24:00` and "
                        f"`0:00-{r.end}`"
                    )
                yield Finding(r.span, message, label="no time in this range", help=fix)


@rule("FL824", "hours-overlap", Severity.WARNING)
def hours_overlap(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds time ranges of one `hours` block that overlap on the same day, on one line or on
    two (`mon-fri 9:00-17:00` and `fri 16:00-18:00`), and a `closed` day written twice
    (`dec 25` and `2026-12-25`).

    ## Why is this bad?
    It does no harm to the call, but it usually means a typo or a line left over from an
    earlier timetable, and the hours are not what the file seems to say.

    ## Example
    ```
    hours office:
        mon-fri 9:00-13:00, 12:00-17:00
    ```

    ## Use instead
    ```
    hours office:
        mon-fri 9:00-17:00
    ```
    """
    for hours in ctx.flow.hours:
        yield from _closed_twice(hours)
        seen: list[list[tuple[int, int, nodes.ClockRange]]] = [[] for _ in range(7)]
        reported: set[int] = set()
        for line in hours.lines:
            if not isinstance(line, nodes.DayHours):
                continue
            days = sorted({d for item in line.days for d in item.weekdays})
            for r in line.ranges:
                start, end = r.minutes
                if start >= end:
                    continue
                clash = None
                for day in days:
                    for other_start, other_end, other in seen[day]:
                        if clash is None and start < other_end and other_start < end:
                            clash = (day, other)
                    seen[day].append((start, end, r))
                if clash is None or id(r) in reported:
                    continue
                reported.add(id(r))
                day, other = clash
                where = other.span
                yield Finding(
                    r.span,
                    f"`{r.written}` overlaps `{other.written}` on {WEEKDAYS[day].capitalize()}s",
                    label="overlaps another range",
                    help="merge the two ranges into one, or correct the time that is wrong",
                    notes=(f"the other range is at line {where.line}",) if where else (),
                )


def _closed_twice(hours: nodes.Hours) -> Iterator[Finding]:
    """A `closed` day already closed above: the same date, or a date of a day closed every
    year (`dec 25` and `2026-12-25`)."""
    yearly: dict[str, nodes.Date] = {}
    dated: dict[str, nodes.Date] = {}
    for line in hours.lines:
        if not isinstance(line, nodes.Closed):
            continue
        for date in line.dates:
            if date.every_year:
                other = yearly.get(date.month_day) or next(
                    (d for d in dated.values() if d.month_day == date.month_day), None
                )
                yearly.setdefault(date.month_day, date)
            else:
                other = dated.get(date.value) or yearly.get(date.month_day)
                dated.setdefault(date.value, date)
            if other is None:
                continue
            where = other.span
            yield Finding(
                date.span,
                f"`{date.value}` is closed twice"
                if other.value == date.value
                else f"`{date.value}` is already closed by `{other.value}`",
                label="closed twice",
                help="remove one of them",
                notes=(f"the other is at line {where.line}",) if where else (),
            )


@rule("FL826", "duplicate-hours", Severity.ERROR)
def duplicate_hours(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that no two `hours` blocks have the same name, across the file and the files it
    includes. (Twice in one file is already a syntax error, FL013.)

    ## Why is this bad?
    `if open NAME` can only look at one of them, and which one is not written anywhere: the
    call would keep hours you did not mean.

    ## Example
    ```
    include "shared.flow"    # shared.flow has its own `hours office:`

    hours office:
        mon-fri 9:00-17:00
    ```

    ## Use instead
    Keep one `hours office:`, in the shared file, or give this one its own name:
    ```
    include "shared.flow"

    hours front_desk:
        mon-fri 9:00-17:00
    ```
    """
    first: dict[str, nodes.Hours] = {}
    for hours in ctx.flow.hours:
        name = hours.name.value
        earlier = first.setdefault(name, hours)
        if earlier is hours:
            continue
        where = earlier.name.span or earlier.span
        yield Finding(
            hours.name.span or hours.span,
            f"`hours {name}` is defined twice (first at line {where.line if where else '?'})",
            label="second definition",
            help=f"keep one `hours {name}:`, or give this one another name",
        )


@rule("FL825", "clock-without-timezone", Severity.WARNING)
def clock_without_timezone(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds flows that read the clock (`open NAME`, or `now`) without a `timezone` setting.

    ## Why is this bad?
    Without it the clock is UTC: a flow for callers in Chicago would open six hours early in
    winter. Setting the time zone also makes the clock follow daylight saving time.

    ## Example
    ```
    hours office:
        mon-fri 9:00-17:00
    ```

    ## Use instead
    ```
    timezone "America/Chicago"

    hours office:
        mon-fri 9:00-17:00
    ```
    """
    if ctx.flow.setting("timezone") is not None:
        return
    first: Span | None = None
    for test in open_tests(ctx):
        first = test.span
        break
    if first is None:
        for node in ctx.analysis.graph.nodes:
            read = next((r for r in node.reads if r.name == "now"), None)
            if read is not None:
                first = read.span
                break
    if first is None:
        return
    yield Finding(
        first,
        "this flow reads the clock, but the file sets no `timezone`: the time is UTC",
        label="read on UTC",
        help='add a setting at the top of the file with the callers\' time zone, like '
        '`timezone "America/Chicago"`',
    )
