"""Calendar arithmetic without a clock: month lengths and weekdays of the Gregorian calendar."""

from __future__ import annotations

__all__ = ["days_in_month", "weekday"]


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def weekday(year: int, month: int, day: int) -> int:
    """Monday 0 .. Sunday 6 for a date of the Gregorian calendar (Sakamoto's method)."""
    offsets = (0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4)
    y = year - 1 if month < 3 else year
    sunday_first = (y + y // 4 - y // 100 + y // 400 + offsets[month - 1] + day) % 7
    return (sunday_first + 6) % 7
