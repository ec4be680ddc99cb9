"""A time far in the past or future (`--at`, a scenario's `at`, a webhook's `occurred_at`) is a
clear error or ignored, never an OverflowError from moving it into the flow's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowlang.cli import main
from flowlang.clock import FIRST_YEAR, LAST_YEAR, OutOfRange, local_time, parse_at, parse_instant
from tests.sim.helpers import EXAMPLES

FRONT_DESK = EXAMPLES / "front_desk.flow"  # has a `timezone`, so `--at` is moved into it
ZONES = ["America/Chicago", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC", "Asia/Tokyo"]
OFFSETS = st.none() | st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    offset=OFFSETS,
    zone=st.sampled_from(ZONES),
)
def test_any_written_time_is_read_or_refused_in_plain_words(
    moment: datetime, offset: timezone | None, zone: str
) -> None:
    written = moment.replace(tzinfo=offset).isoformat(timespec="minutes")
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        with pytest.raises(OutOfRange, match=f"give a date between {FIRST_YEAR} and {LAST_YEAR}"):
            parse_at(written, zone)
        return
    instant = parse_at(written, zone)
    assert instant.tzinfo is not None
    local_time(instant, zone)  # and the flow's clock can read it


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    zone=st.sampled_from(ZONES),
)
def test_a_webhook_time_out_of_range_counts_as_missing(moment: datetime, zone: str) -> None:
    instant = parse_instant(moment.replace(tzinfo=UTC).isoformat())
    if FIRST_YEAR <= moment.year <= LAST_YEAR:
        assert instant is not None
        local_time(instant, zone)
    else:
        assert instant is None


@pytest.mark.parametrize("command", ["simulate", "debug"])
@pytest.mark.parametrize("at", ["9999-12-31T23:59", "0001-01-01T00:00+14:00", "2101-01-01T00:00"])
def test_at_out_of_range_is_one_line_exit_2(
    command: str, at: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, str(FRONT_DESK), "--at", at]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"flowlang: error: --at: {at} is out of range: give a date between 1900 and 2100\n"
    )


def test_a_scenario_at_out_of_range_is_an_error_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "front_desk.flow").write_text(FRONT_DESK.read_text())
    scenarios = tmp_path / "front_desk.scenarios"
    scenarios.write_text('scenario "late":\n    at "9999-12-31T23:59"\n    hang up\n')
    assert main(["test", str(scenarios)]) == 1
    out = capsys.readouterr().out
    assert 'error[FL902]: "9999-12-31T23:59" is out of range' in out
    assert "front_desk.scenarios:2:" in out and "give a date between 1900 and 2100" in out
