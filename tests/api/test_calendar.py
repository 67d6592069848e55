"""The Paris calendar (`api/calendar.py`): local days, their bounds in UTC, fixed offsets, months before."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from custom_components.enedis.api.calendar import (
    PARIS,
    day_bounds,
    fixed_offset,
    local_day,
    local_day_bounds,
    local_midnight_utc,
    months_before,
    paris_datetime,
    paris_instant,
    paris_offset,
    to_paris,
    to_utc,
    utc_hour,
    wall_instants,
)

HOUR = timedelta(hours=1)
SPRING = date(2026, 3, 29)  # 02:00 -> 03:00, 23 h
AUTUMN = date(2026, 10, 25)  # 03:00 -> 02:00, 25 h
WINTER, SUMMER = timezone(HOUR), timezone(2 * HOUR)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        (date(2026, 1, 15), "2026-01-14 23:00", "2026-01-15 23:00", 24),
        (date(2026, 7, 15), "2026-07-14 22:00", "2026-07-15 22:00", 24),
        (SPRING, "2026-03-28 23:00", "2026-03-29 22:00", 23),
        (AUTUMN, "2026-10-24 22:00", "2026-10-25 23:00", 25),
        (date(2026, 12, 31), "2026-12-30 23:00", "2026-12-31 23:00", 24),
    ],
)
def test_day_bounds_are_local_midnights_in_utc(day: date, start: str, end: str, hours: int) -> None:
    lower, upper = day_bounds(day)
    assert (lower, upper) == (utc(start), utc(end))
    assert lower.tzinfo is UTC
    assert upper.tzinfo is UTC
    assert upper - lower == hours * HOUR
    assert local_midnight_utc(day) == lower
    assert local_midnight_utc(day + timedelta(days=1)) == upper


def test_only_the_two_dst_days_of_a_year_are_not_24_hours() -> None:
    lengths: dict[date, timedelta] = {}
    day = date(2020, 1, 1)
    while day < date(2031, 1, 1):
        start, end = day_bounds(day)
        assert start.minute == start.second == 0  # a Paris midnight is a whole UTC hour
        assert local_day(start) == day
        assert local_day(end - timedelta(microseconds=1)) == day
        assert local_day(end) == day + timedelta(days=1)
        if end - start != 24 * HOUR:
            lengths[day] = end - start
        day += timedelta(days=1)
    assert len(lengths) == 22
    assert lengths[SPRING] == 23 * HOUR
    assert lengths[AUTUMN] == 25 * HOUR
    assert {(d.month, d.weekday()) for d in lengths} == {(3, 6), (10, 6)}  # last Sundays of March and October


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        ("2026-07-14 21:59:59", date(2026, 7, 14)),
        ("2026-07-14 22:00:00", date(2026, 7, 15)),  # 00:00 summer time
        ("2026-01-14 22:59:59", date(2026, 1, 14)),
        ("2026-01-14 23:00:00", date(2026, 1, 15)),  # 00:00 winter time
        ("2026-10-25 00:30:00", AUTUMN),  # 02:30 +02:00, first of the repeated hour
        ("2026-10-25 01:30:00", AUTUMN),  # 02:30 +01:00, second
    ],
)
def test_local_day_of_an_instant(instant: str, day: date) -> None:
    assert local_day(utc(instant)) == day
    assert local_day(utc(instant).astimezone(timezone(-5 * HOUR))) == day  # any offset: the same instant


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 7, 14, 22)
    for convert in (local_day, to_utc, to_paris, paris_offset, utc_hour):
        with pytest.raises(ValueError, match="naive"):
            convert(naive)


def test_utc_hour() -> None:
    assert utc_hour(datetime(2026, 7, 15, 2, tzinfo=SUMMER)) == utc("2026-07-15 00:00")
    with pytest.raises(ValueError, match="not on the hour"):
        utc_hour(utc("2026-07-15 00:30"))


def test_paris_offset_changes_on_the_utc_hour() -> None:
    assert paris_offset(utc("2026-03-29 00:59:59")) == HOUR
    assert paris_offset(utc("2026-03-29 01:00:00")) == 2 * HOUR
    assert paris_offset(utc("2026-10-25 00:59:59")) == 2 * HOUR
    assert paris_offset(utc("2026-10-25 01:00:00")) == HOUR


def test_fixed_offsets_on_the_repeated_autumn_hour() -> None:
    first, second = utc("2026-10-25 00:30"), utc("2026-10-25 01:30")
    summer, winter = to_paris(first), to_paris(second)
    # The same wall clock, 02:30, with the offset of each instant.
    assert summer.replace(tzinfo=None) == winter.replace(tzinfo=None) == datetime(2026, 10, 25, 2, 30)
    assert (summer.utcoffset(), winter.utcoffset()) == (2 * HOUR, HOUR)
    assert summer.tzinfo is fixed_offset(2 * HOUR)
    assert winter.tzinfo is fixed_offset(HOUR)
    # Fixed offsets keep the arithmetic and the order exact...
    assert winter - summer == HOUR
    assert summer < winter
    assert (summer, winter) == (first, second)
    # ...where two datetimes sharing the ZoneInfo compare by wall clock (the reason for the rule).
    zoned_first, zoned_second = first.astimezone(PARIS), second.astimezone(PARIS)
    assert zoned_second - zoned_first == timedelta(0)
    # A local day subtracted with fixed offsets is 25 h; the ZoneInfo pair says 24 h.
    start, end = local_day_bounds(AUTUMN)
    assert end - start == 25 * HOUR
    assert end.astimezone(PARIS) - start.astimezone(PARIS) == 24 * HOUR


def test_local_day_bounds_carry_fixed_paris_offsets() -> None:
    start, end = local_day_bounds(SPRING)
    assert (start.isoformat(), end.isoformat()) == ("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00")
    assert end - start == 23 * HOUR
    assert (start, end) == day_bounds(SPRING)


def test_paris_instant_is_to_paris_of_the_epoch() -> None:
    for text in ("2026-10-25 00:30", "2026-10-25 01:30", "2026-03-29 00:59", "2026-03-29 01:00", "2026-07-01 12:00"):
        instant = utc(text)
        local = paris_instant(instant.timestamp())
        assert local == instant
        assert local.utcoffset() == paris_offset(instant)
        assert local.tzinfo is to_paris(instant).tzinfo
        assert (local.isoformat(), local.fold) == (to_paris(instant).isoformat(), 0)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        (datetime(2026, 7, 1, 12), ["2026-07-01 10:00"]),
        (datetime(2026, 1, 1, 0), ["2025-12-31 23:00"]),
        (datetime(2026, 10, 25, 2, 0), ["2026-10-25 00:00", "2026-10-25 01:00"]),
        (datetime(2026, 10, 25, 2, 30), ["2026-10-25 00:30", "2026-10-25 01:30"]),
        (datetime(2026, 10, 25, 3, 0), ["2026-10-25 02:00"]),
        (datetime(2026, 3, 29, 2, 0), []),  # the spring gap does not exist
        (datetime(2026, 3, 29, 2, 59), []),
        (datetime(2026, 3, 29, 3, 0), ["2026-03-29 01:00"]),
    ],
)
def test_wall_instants(wall: datetime, expected: list[str]) -> None:
    assert list(wall_instants(wall)) == [utc(text) for text in expected]


@pytest.mark.parametrize(
    ("day", "hour", "minute", "expected"),
    [
        (date(2026, 1, 15), 8, 17, "2026-01-15 07:17"),
        (date(2026, 7, 15), 8, 17, "2026-07-15 06:17"),
        (SPRING, 8, 0, "2026-03-29 06:00"),  # after the change: summer time
        (AUTUMN, 20, 0, "2026-10-25 19:00"),  # after the change: winter time
        (AUTUMN, 2, 30, "2026-10-25 00:30"),  # repeated: its first occurrence
        (date(2026, 7, 15), 0, 0, "2026-07-14 22:00"),
    ],
)
def test_paris_datetime(day: date, hour: int, minute: int, expected: str) -> None:
    moment = paris_datetime(day, hour, minute)
    assert moment == utc(expected)
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 22), 0, date(2026, 11, 22)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),  # clamped to the month's last day
        (date(2024, 3, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2028, 2, 29), 12, date(2027, 2, 28)),  # from a 29 February
        (date(2028, 2, 29), 48, date(2024, 2, 29)),
        (date(2026, 12, 31), 2, date(2026, 10, 31)),
        (date(2026, 12, 31), 3, date(2026, 9, 30)),
        (date(2026, 1, 31), 1, date(2025, 12, 31)),  # across a year
        (date(2026, 1, 15), 13, date(2024, 12, 15)),
        (date(2026, 11, 30), 24, date(2024, 11, 30)),
        (date(2026, 11, 30), 36, date(2023, 11, 30)),
    ],
)
def test_months_before(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected
