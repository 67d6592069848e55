"""Tests of the hourly energy ledger (pure functions, real cases, no mocks)."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
import gc
import itertools
from itertools import accumulate

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.enedis.api.calendar import PARIS, day_bounds
from custom_components.enedis.api.models import Reading
from custom_components.enedis.ledger import (
    TOLERANCE_KWH,
    CurveState,
    DayCurve,
    DayInput,
    HourRun,
    HourValues,
    StatRow,
    StatRows,
    SumShift,
    build_hours,
    build_rows,
    choose_origin,
    contiguous_hours,
    curve_state_of,
    daily_energy_from_hours,
    hourly_from_curve,
    oldest_hour,
    publish,
    publish_update,
    published,
    rows_to_repair,
    rows_to_write,
    run_of,
    written_hours,
)

from .recorder_table import assert_holds, assert_same_tables, recorder_after

HOUR = timedelta(hours=1)
SPRING = date(2026, 3, 29)
AUTUMN = date(2026, 10, 25)
WINTER = date(2026, 1, 15)
SUMMER = date(2026, 7, 15)


def fixed(moment: datetime) -> datetime:
    """A UTC instant as the parser gives it: Paris wall time with a fixed offset."""
    local = moment.astimezone(PARIS)
    offset = local.utcoffset()
    assert offset is not None
    return local.astimezone(timezone(offset))


def curve(
    start: datetime, end: datetime, step_min: int, watts: Callable[[int], float] = lambda k: 1000 + k
) -> tuple[Reading, ...]:
    """Readings of ``step_min`` minutes from ``start`` to ``end`` (UTC instants), value ``watts(k)``."""
    step = timedelta(minutes=step_min)
    readings: list[Reading] = []
    k = 0
    moment = start
    while moment < end:
        readings.append(Reading(start=fixed(moment), end=fixed(moment + step), value=watts(k)))
        moment += step
        k += 1
    return tuple(readings)


def day_curve(day: date, step_min: int = 30, watts: Callable[[int], float] = lambda k: 1000 + k) -> tuple[Reading, ...]:
    return curve(*day_bounds(day), step_min, watts)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def ramp(base: float, slope: float = 1, period: int = 10_000) -> Callable[[int], float]:
    """Watts of the k-th reading: ``base + (k % period) * slope``."""
    return lambda k: base + (k % period) * slope


def assert_continuous(rows: Sequence[StatRow]) -> None:
    for before, after in itertools.pairwise(rows):
        assert before.start < after.start
        assert after.sum - before.sum == pytest.approx(after.state, abs=1e-9)


def choose_anchor(today: date) -> datetime:
    """A fixed anchor for the tests of `build_rows` / `rows_to_write`: local midnight 15 days before ``today``."""
    return day_bounds(today - timedelta(days=15))[0]


def assert_from_zero(rows: Sequence[StatRow]) -> None:
    """What the Energy dashboard needs: the oldest row's sum is its state, sums never decrease, states add up."""
    assert rows, "no row"
    assert rows[0].sum == pytest.approx(rows[0].state, abs=1e-9)
    assert_continuous(rows)
    assert all(row.state >= 0 for row in rows)


def energy(readings: Iterable[Reading]) -> float:
    return sum(r.energy_wh for r in readings)


# --- time ------------------------------------------------------------------------------------------------


def test_day_bounds_normal_and_dst_days() -> None:
    assert day_bounds(WINTER) == (utc(2026, 1, 14, 23), utc(2026, 1, 15, 23))
    assert day_bounds(SUMMER) == (utc(2026, 7, 14, 22), utc(2026, 7, 15, 22))
    start, end = day_bounds(SPRING)
    assert (start, end) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert end - start == timedelta(hours=23)
    start, end = day_bounds(AUTUMN)
    assert (start, end) == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    assert end - start == timedelta(hours=25)
    assert start.tzinfo is UTC


def test_choose_origin_first_write_takes_everything_known() -> None:
    hours = [utc(2026, 1, 10, h) for h in range(5)]
    assert choose_origin(hours, None, oldest_written=None, complete=False) == utc(2026, 1, 10, 0)
    assert choose_origin([], None, oldest_written=None, complete=False) is None
    # In another zone: the same instants.
    assert choose_origin([fixed(h) for h in hours], None, oldest_written=None, complete=False) == hours[0]


def test_choose_origin_holds_older_hours_until_the_span_doubles_or_history_is_complete() -> None:
    origin = utc(2026, 1, 25)
    newest = utc(2026, 1, 31, 23)  # span since the origin: 7 days
    recent = [origin + HOUR * i for i in range(int((newest - origin) / HOUR) + 1)]
    six_more_days = [origin - HOUR * i for i in range(1, 6 * 24 + 1)]
    seven_more_days = [origin - HOUR * i for i in range(1, 7 * 24 + 1)]
    # 13 days known, 7 written: held.
    assert choose_origin([*six_more_days, *recent], origin, oldest_written=origin, complete=False) == origin
    # ... unless nothing older will come.
    assert choose_origin([*six_more_days, *recent], origin, oldest_written=origin, complete=True) == min(six_more_days)
    # 14 days known: the span doubled, the origin moves to the oldest hour.
    assert choose_origin([*seven_more_days, *recent], origin, oldest_written=origin, complete=False) == min(
        seven_more_days
    )
    # Nothing older: unchanged, also when the oldest hours went away (their zeroed rows stay counted).
    assert choose_origin(recent, origin, oldest_written=origin, complete=True) == origin
    assert choose_origin(recent[24:], origin, oldest_written=origin, complete=True) == origin


def test_choose_origin_migrates_rows_written_before_it() -> None:
    """Versions before this one anchored sums 15 days back: rows before the anchor carry negative sums."""
    anchor = utc(2026, 1, 17)
    written_from = utc(2025, 12, 1)
    hours = [written_from + HOUR * i for i in range(24 * 60)]
    assert choose_origin(hours, anchor, oldest_written=written_from, complete=False) == written_from
    # A refetch that emptied the oldest days: the origin stays at the oldest row the recorder holds.
    assert choose_origin(hours[48:], anchor, oldest_written=written_from, complete=False) == written_from


# --- curve to hours --------------------------------------------------------------------------------------


@pytest.mark.parametrize("step_min", [10, 15, 30, 60])
def test_aligned_curve_gives_hourly_wh(step_min: int) -> None:
    readings = day_curve(WINTER, step_min)
    hours = hourly_from_curve(readings)
    per_hour = 60 // step_min
    start, _ = day_bounds(WINTER)
    assert list(hours) == [start + i * HOUR for i in range(24)]
    for i, (hour, wh) in enumerate(hours.items()):
        assert hour.tzinfo is UTC
        expected = sum(1000 + k for k in range(i * per_hour, (i + 1) * per_hour)) * step_min / 60
        assert wh == pytest.approx(expected, abs=1e-9)
    assert sum(hours.values()) == pytest.approx(energy(readings), abs=1e-6)


def test_thirty_minute_curve_exact_values() -> None:
    start = utc(2026, 1, 15, 10)
    readings = curve(start, start + 2 * HOUR, 30, lambda k: [1200, 800, 500, 300][k])
    assert hourly_from_curve(readings) == {start: 1000.0, start + HOUR: 400.0}


def test_misaligned_curve_is_split_proportionally() -> None:
    # Off-peak style steps starting at :50: each reading straddles a UTC hour boundary.
    start = utc(2026, 1, 15, 9, 50)
    readings = curve(start, start + 3 * HOUR, 30, lambda k: [600, 1200, 1800, 2400, 3000, 3600][k])
    hours = hourly_from_curve(readings)
    # 09:50-10:20 at 600 W: 10 min in 09h, 20 min in 10h; 10:20-10:50 at 1200 W in 10h;
    # 10:50-11:20 at 1800 W: 10 min in 10h, 20 min in 11h ...
    assert hours == pytest.approx(
        {
            utc(2026, 1, 15, 9): 600 / 6,
            utc(2026, 1, 15, 10): 600 / 3 + 1200 / 2 + 1800 / 6,
            utc(2026, 1, 15, 11): 1800 / 3 + 2400 / 2 + 3000 / 6,
            utc(2026, 1, 15, 12): 3000 / 3 + 3600 / 2,
        }
    )
    assert sum(hours.values()) == pytest.approx(energy(readings), abs=1e-9)


def test_misaligned_day_conserves_energy_in_build_hours() -> None:
    # A whole local day of :50-aligned half-hours: the readings straddling midnight are given to both days.
    lower, upper = day_bounds(WINTER)
    readings = curve(lower - timedelta(minutes=10), upper + timedelta(minutes=20), 30, lambda k: 700 + 13 * k)
    assert curve_state_of(WINTER, readings) is CurveState.COMPLETE
    hours = build_hours([DayInput(WINTER, readings, CurveState.COMPLETE)])
    assert list(hours) == [lower + i * HOUR for i in range(24)]
    exact = hourly_from_curve(readings)
    inside = sum(wh for hour, wh in exact.items() if lower <= hour < upper)
    assert sum(hours.values()) == pytest.approx(inside, abs=0.5)
    for hour, wh in hours.items():
        assert wh == round(wh)
        assert abs(wh - exact[hour]) <= 1
    # Clipped to the day: the minutes before local midnight belong to the previous day.
    assert inside == pytest.approx(energy(readings) - 700 / 6 - (700 + 13 * 48) * 20 / 60, abs=1e-6)


def test_duplicate_and_empty_readings() -> None:
    start = utc(2026, 1, 15, 10)
    reading = Reading(start=fixed(start), end=fixed(start + HOUR), value=1000)
    empty = Reading(start=fixed(start), end=fixed(start), value=5000)
    assert hourly_from_curve([reading, reading, empty]) == {start: 1000.0}


# --- DayCurve: the compact form kept in memory ---------------------------------------------------------


@pytest.mark.parametrize(
    "readings",
    [
        day_curve(WINTER),
        day_curve(SPRING),  # 46 half-hours
        day_curve(AUTUMN),  # 50 half-hours, two local 02:00-03:00 hours
        day_curve(SUMMER, 10),
        curve(utc(2026, 1, 14, 22, 50), utc(2026, 1, 15, 23, 20), 30, ramp(700, 13)),  # :50 steps over midnight
        day_curve(WINTER)[:10] + day_curve(WINTER)[12:],  # a hole
        (),
    ],
    ids=["winter", "spring", "autumn", "10min", "misaligned", "hole", "empty"],
)
def test_day_curve_is_the_readings(readings: tuple[Reading, ...]) -> None:
    compact = DayCurve.of(readings)
    assert len(compact) == len(readings)
    assert tuple(compact) == readings  # the same instants and values (equality across offsets)
    assert [(r.start.utcoffset(), r.end.utcoffset()) for r in compact] == [
        (r.start.utcoffset(), r.end.utcoffset()) for r in readings
    ]  # Paris fixed offsets, as the parsers build them
    assert compact.energy_wh() == sum(r.energy_wh for r in readings)  # exactly
    assert hourly_from_curve(compact) == hourly_from_curve(readings)  # exactly, through the numbers
    for state in (CurveState.COMPLETE, CurveState.PARTIAL):
        days = [DayInput(WINTER, compact, state)], [DayInput(WINTER, readings, state)]
        assert build_hours(days[0]) == build_hours(days[1])
    assert DayCurve.of(compact) == compact
    assert hash(DayCurve.of(compact)) == hash(compact)
    assert repr(compact) == f"DayCurve({len(readings)} readings)"


def test_day_curve_indexing() -> None:
    readings = day_curve(AUTUMN)
    compact = DayCurve.of(readings)
    assert compact[0] == readings[0]
    assert compact[-1] == readings[-1]
    assert compact[3:7] == readings[3:7]
    assert compact[::-1] == readings[::-1]
    assert compact == DayCurve.of(readings)
    with pytest.raises(IndexError):
        compact[50]
    with pytest.raises(IndexError):
        compact[-51]
    assert compact != DayCurve.of(readings[1:])
    assert compact != readings  # a DayCurve only equals a DayCurve (its hash is its numbers')
    with pytest.raises(ValueError, match="naive"):
        DayCurve.of([Reading(start=datetime(2026, 1, 15, 10), end=datetime(2026, 1, 15, 11), value=1)])


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 1, 15, 10)
    with pytest.raises(ValueError, match="naive"):
        hourly_from_curve([Reading(start=naive, end=naive + HOUR, value=1)])
    with pytest.raises(ValueError, match="naive"):
        build_rows({naive: 1.0}, utc(2026, 1, 1))


def test_spring_forward_day() -> None:
    readings = day_curve(SPRING)
    assert len(readings) == 46
    assert curve_state_of(SPRING, readings) is CurveState.COMPLETE
    hours = build_hours([DayInput(SPRING, readings, CurveState.COMPLETE)])
    assert len(hours) == 23
    # Half-hours of odd watts give x.5 Wh hours: whole Wh, rounded on the running total.
    assert sum(hours.values()) == pytest.approx(energy(readings), abs=0.5)
    exact = hourly_from_curve(readings)
    assert all(abs(wh - exact[hour]) <= 1 for hour, wh in hours.items())
    rows = build_rows(hours, choose_anchor(date(2026, 4, 20)))
    assert len(rows) == 23
    assert_continuous(rows)
    assert daily_energy_from_hours(hours) == {SPRING: sum(hours.values())}


def test_fall_back_day_has_25_hours_and_two_local_2am_rows() -> None:
    start = datetime(2026, 10, 25, 0, 0, tzinfo=UTC) - 2 * HOUR  # local midnight (CEST)
    readings = tuple(
        Reading(
            start=fixed(start + k * timedelta(minutes=30)),
            end=fixed(start + (k + 1) * timedelta(minutes=30)),
            value=2000 + 10 * k,
        )
        for k in range(50)
    )
    # Local stamps repeat (02:00 and 02:30 twice) but the readings are 50 distinct instants.
    local_stamps = [r.start.replace(tzinfo=None) for r in readings]
    assert len(set(local_stamps)) == 48
    assert curve_state_of(AUTUMN, readings) is CurveState.COMPLETE
    hours = build_hours([DayInput(AUTUMN, readings, CurveState.COMPLETE)])
    assert len(hours) == 25
    two_am = [hour for hour in hours if hour.astimezone(PARIS).hour == 2]
    assert two_am == [utc(2026, 10, 25, 0), utc(2026, 10, 25, 1)]
    assert hours[utc(2026, 10, 25, 0)] == (2040 + 2050) / 2  # 02:00 CEST, k = 4, 5
    assert hours[utc(2026, 10, 25, 1)] == (2060 + 2070) / 2  # 02:00 CET, k = 6, 7
    assert sum(hours.values()) == energy(readings)
    rows = build_rows(hours, choose_anchor(date(2026, 11, 20)))
    assert len(rows) == 25
    assert len({row.start for row in rows}) == 25
    assert_continuous(rows)
    assert daily_energy_from_hours(hours) == {AUTUMN: energy(readings)}


# --- curve state -----------------------------------------------------------------------------------------


def test_curve_state_of() -> None:
    full = day_curve(WINTER)
    assert curve_state_of(WINTER, full) is CurveState.COMPLETE
    assert curve_state_of(WINTER, list(reversed(full))) is CurveState.COMPLETE
    assert curve_state_of(WINTER, full[:20] + full[21:]) is CurveState.PARTIAL  # hole inside
    assert curve_state_of(WINTER, full[1:]) is CurveState.PARTIAL  # hole at the start
    assert curve_state_of(WINTER, full[:-1]) is CurveState.PARTIAL  # hole at the end
    assert curve_state_of(WINTER, ()) is CurveState.MISSING
    # Readings of other days are ignored.
    assert curve_state_of(WINTER, day_curve(WINTER + timedelta(days=1))) is CurveState.MISSING
    assert curve_state_of(WINTER, full + day_curve(WINTER - timedelta(days=1))) is CurveState.COMPLETE
    # Overlapping readings of different steps still cover the day.
    assert curve_state_of(WINTER, full[:30] + day_curve(WINTER, 60)[14:]) is CurveState.COMPLETE
    assert curve_state_of(SPRING, day_curve(SPRING)) is CurveState.COMPLETE
    assert curve_state_of(AUTUMN, day_curve(AUTUMN)[:48]) is CurveState.PARTIAL  # 48 points != a full day


# --- rule 2 ----------------------------------------------------------------------------------------------


def test_pending_gives_nothing_even_with_daily() -> None:
    assert build_hours([DayInput(WINTER, (), CurveState.PENDING, 12_345)]) == {}
    assert build_hours([DayInput(WINTER, day_curve(WINTER), CurveState.PENDING, 12_345)]) == {}


def test_complete_curve_wins_over_daily() -> None:
    readings = day_curve(WINTER)
    hours = build_hours([DayInput(WINTER, readings, CurveState.COMPLETE, 99_999)])
    assert len(hours) == 24
    assert sum(hours.values()) == energy(readings)


@pytest.mark.parametrize("state", [CurveState.PARTIAL, CurveState.MISSING, CurveState.NOT_WANTED])
@pytest.mark.parametrize(("day", "midnight"), [(WINTER, utc(2026, 1, 14, 23)), (SUMMER, utc(2026, 7, 14, 22))])
def test_daily_known_gives_one_midnight_row(state: CurveState, day: date, midnight: datetime) -> None:
    readings = day_curve(day)[:10] if state is CurveState.PARTIAL else ()
    assert build_hours([DayInput(day, readings, state, 12_345.4)]) == {midnight: 12_345.0}


def test_partial_without_daily_gives_partial_hours() -> None:
    readings = day_curve(WINTER)[:15]  # 7.5 hours
    hours = build_hours([DayInput(WINTER, readings, CurveState.PARTIAL)])
    assert len(hours) == 8
    assert sum(hours.values()) == pytest.approx(energy(readings), abs=0.5)
    exact = hourly_from_curve(readings)
    assert list(hours) == list(exact)
    assert all(wh == round(wh) and abs(wh - exact[hour]) <= 1 for hour, wh in hours.items())


@pytest.mark.parametrize("state", [CurveState.MISSING, CurveState.NOT_WANTED])
def test_hole_without_daily_stays_a_hole(state: CurveState) -> None:
    assert build_hours([DayInput(WINTER, day_curve(WINTER), state)]) == {}


def test_days_merge_and_duplicate_day_is_refused() -> None:
    days = [
        DayInput(WINTER, day_curve(WINTER), CurveState.COMPLETE),
        DayInput(WINTER + timedelta(days=1), (), CurveState.MISSING, 5000),
        DayInput(WINTER + timedelta(days=2), (), CurveState.PENDING, 5000),
    ]
    hours = build_hours(days)
    assert len(hours) == 25
    assert daily_energy_from_hours(hours) == {WINTER: energy(days[0].curve), WINTER + timedelta(days=1): 5000}
    with pytest.raises(ValueError, match="twice"):
        build_hours([*days, DayInput(WINTER)])


def test_complete_curve_replaces_midnight_row() -> None:
    anchor = choose_anchor(WINTER + timedelta(days=3))
    before = build_hours([DayInput(WINTER, (), CurveState.MISSING, 30_000)])
    readings = day_curve(WINTER)
    after = build_hours([DayInput(WINTER, readings, CurveState.COMPLETE, 30_000)])
    midnight, _ = day_bounds(WINTER)
    assert before == {midnight: 30_000}
    written = rows_to_write(before, after, anchor)
    assert [row.start for row in written] == list(after)
    assert written[0].start == midnight
    assert written[0].state == after[midnight] / 1000
    assert written == build_rows(after, anchor)
    assert_continuous(written)


# --- sums ------------------------------------------------------------------------------------------------


def test_build_rows_anchored_sums() -> None:
    anchor = utc(2026, 1, 15, 3)
    hours = {utc(2026, 1, 15, h): float(100 * (h + 1)) for h in range(6)}
    rows = build_rows(hours, anchor)
    assert [row.start for row in rows] == sorted(hours)
    assert [row.state for row in rows] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    # Before the anchor: minus the energy strictly between the row and the anchor.
    assert [row.sum for row in rows] == [-0.5, -0.3, 0.0, 0.4, 0.9, 1.5]
    assert_continuous(rows)
    # An anchor in a gap, outside, or given in another zone.
    assert [row.sum for row in build_rows(hours, utc(2026, 1, 1))] == [0.1, 0.3, 0.6, 1.0, 1.5, 2.1]
    assert [row.sum for row in build_rows(hours, utc(2026, 2, 1))] == [-2.0, -1.8, -1.5, -1.1, -0.6, 0.0]
    assert build_rows(hours, fixed(anchor)) == rows
    assert build_rows({}, anchor) == []


def test_build_rows_validation() -> None:
    with pytest.raises(ValueError, match="on the hour"):
        build_rows({utc(2026, 1, 15, 3, 30): 1.0}, utc(2026, 1, 15))
    with pytest.raises(ValueError, match="on the hour"):
        build_rows({}, utc(2026, 1, 15, 3, 30))
    # Keys in another zone are the same instants.
    assert build_rows({fixed(utc(2026, 1, 15, 3)): 1.0}, utc(2026, 1, 15)) == [
        StatRow(utc(2026, 1, 15, 3), 0.001, 0.001)
    ]


def test_sum_of_states_equals_sum_difference_exactly() -> None:
    days = [
        DayInput(
            WINTER + timedelta(days=i),
            day_curve(WINTER + timedelta(days=i), 10, lambda k: 333.3 + k / 7),
            CurveState.COMPLETE,
        )
        for i in range(10)
    ]
    hours = build_hours(days)
    rows = build_rows(hours, choose_anchor(WINTER + timedelta(days=5)))
    # Whole Wh per hour; the states add up to the sum difference (accumulated in Wh, exact).
    assert all(wh == round(wh) for wh in hours.values())
    assert all(row.state == hours[row.start] / 1000 for row in rows)
    assert rows[-1].sum - rows[0].sum == pytest.approx(sum(row.state for row in rows[1:]), abs=1e-9)
    assert rows[-1].sum * 1000 - rows[0].sum * 1000 == pytest.approx(sum(list(hours.values())[1:]), abs=1e-6)
    assert_continuous(rows)
    # Cumulative rounding per day: each day within 0.5 Wh of its readings, each hour within 1 Wh.
    for entry in days:
        day_total = daily_energy_from_hours(hours)[entry.day]
        assert day_total == pytest.approx(energy(entry.curve), abs=0.5)
    exact = hourly_from_curve(r for d in days for r in d.curve)
    assert all(abs(wh - exact[hour]) <= 1 for hour, wh in hours.items())


def _days(first: date, count: int, state: CurveState = CurveState.COMPLETE) -> list[DayInput]:
    return [
        DayInput(
            first + timedelta(days=i),
            day_curve(first + timedelta(days=i), 60, ramp(500 + 10 * i)),
            state,
            9_000,
        )
        for i in range(count)
    ]


def test_prepending_older_days_writes_only_the_new_rows() -> None:
    today = date(2026, 2, 1)
    anchor = choose_anchor(today)
    recent = _days(today - timedelta(days=20), 20)
    older = _days(today - timedelta(days=30), 10)
    previous = build_hours(recent)
    current = build_hours(older + recent)
    written = rows_to_write(previous, current, anchor)
    assert [row.start for row in written] == sorted(set(current) - set(previous))
    assert len(written) == 240
    full = {row.start: row for row in build_rows(current, anchor)}
    assert written == [full[row.start] for row in written]
    # Existing rows are unchanged.
    assert all(full[row.start] == row for row in build_rows(previous, anchor))


def test_correction_inside_a_recent_day_writes_rows_up_to_the_anchor() -> None:
    today = date(2026, 2, 1)
    anchor = choose_anchor(today)  # 2026-01-17 local midnight
    days = _days(today - timedelta(days=40), 40)
    previous = build_hours(days)

    # A late correction 5 days back: that day and the rows after it (towards now) move, nothing before.
    corrected_day = today - timedelta(days=5)
    changed = [
        DayInput(d.day, tuple(Reading(r.start, r.end, r.value + 100) for r in d.curve), d.curve_state)
        if d.day == corrected_day
        else d
        for d in days
    ]
    current = build_hours(changed)
    written = rows_to_write(previous, current, anchor)
    lower, _ = day_bounds(corrected_day)
    assert [row.start for row in written] == [hour for hour in current if hour >= lower]
    assert_continuous(build_rows(current, anchor))

    # A correction before the anchor (older than the retries reach) moves that day and every older row:
    # rows before the anchor carry minus the energy between them and the anchor.
    old_day = today - timedelta(days=25)
    changed = [
        DayInput(d.day, tuple(Reading(r.start, r.end, r.value + 100) for r in d.curve), d.curve_state)
        if d.day == old_day
        else d
        for d in days
    ]
    current = build_hours(changed)
    written = rows_to_write(previous, current, anchor)
    old_lower, old_upper = day_bounds(old_day)
    assert {row.start for row in written} == {hour for hour in current if hour < old_upper}
    assert min(row.start for row in written) == min(current)
    assert all(row.start < anchor for row in written)
    assert old_lower in {row.start for row in written}


def test_removed_hours_are_written_as_zero_with_carried_sum() -> None:
    anchor = utc(2026, 1, 1)
    partial = day_curve(WINTER)[:12]  # 6 hours
    previous = build_hours([DayInput(WINTER, partial, CurveState.PARTIAL)])
    current = build_hours([DayInput(WINTER, partial, CurveState.PARTIAL, 20_000)])
    midnight, _ = day_bounds(WINTER)
    assert list(current) == [midnight]
    written = rows_to_write(previous, current, anchor)
    assert [row.start for row in written] == list(previous)
    assert written[0] == StatRow(midnight, 20.0, 20.0)
    assert all(row == StatRow(row.start, 0.0, 20.0) for row in written[1:])
    held = written_hours(previous, current)
    assert held == {midnight: 20_000, **dict.fromkeys(list(previous)[1:], 0.0)}
    # The zeroed rows keep following: a new day before them moves their sums.
    later = build_hours(
        [
            DayInput(WINTER - timedelta(days=1), (), CurveState.MISSING, 1_000),
            DayInput(WINTER, partial, CurveState.PARTIAL, 20_000),
        ]
    )
    again = rows_to_write(held, later, anchor)
    assert [row.start for row in again] == [*later, *list(previous)[1:]]
    assert all(row.sum == 21.0 for row in again[1:])
    # Nothing changed: nothing to write.
    assert rows_to_write(held, current, anchor) == []


# --- write cost ------------------------------------------------------------------------------------------


class Recorder:
    """A simulated recorder table of one statistic: rows upserted by start, chunks applied newest first."""

    def __init__(self) -> None:
        self.table: dict[datetime, StatRow] = {}
        self.written = 0

    def write(self, rows: Sequence[StatRow], chunk: int = 1000, *, newest_first: bool = True) -> None:
        """Apply ``rows`` as `statistics.async_write` queues them. Between two chunks the sums never decrease and,
        while no older row has arrived yet, the oldest row's sum is its state; a period spanning the border between
        rewritten and not yet rewritten rows may show more energy for those seconds, never less."""
        self.written += len(rows)
        oldest_before = min(self.table, default=None)
        adds_older = bool(rows) and oldest_before is not None and rows[0].start < oldest_before
        starts = range(0, len(rows), chunk)
        for first in reversed(starts) if newest_first else starts:
            for row in rows[first : first + chunk]:
                self.table[row.start] = row
            current = self.rows()
            assert all(after.sum >= before.sum - 1e-9 for before, after in itertools.pairwise(current))
            if not adds_older:
                assert current[0].sum == pytest.approx(current[0].state, abs=1e-9)
        assert_continuous(self.rows())

    def rows(self) -> list[StatRow]:
        return [self.table[hour] for hour in sorted(self.table)]


def test_backfill_write_cost_simulation() -> None:
    """Two years of curve, most recent first in 7-day windows, then the daily-only third year: sums always start at
    0 at the oldest row, and each row is written at most ~3 times in all (the origin moves back when the span
    doubles, and once more at the end)."""
    today = date(2026, 6, 1)
    first = today - timedelta(days=730)
    daily_only = [first - timedelta(days=i) for i in range(365, 0, -1)]  # beyond the curve horizon
    all_days = [first + timedelta(days=i) for i in range(730)]
    missing_curve = {all_days[i] for i in (3, 100, 250, 600, 725)}  # fetched, nothing: daily midnight row
    holes = {all_days[i] for i in (50, 400, 727)}  # no daily either (a hole stays a hole)
    partial_hole = all_days[500]  # half a curve, no daily

    def final(day: date) -> DayInput:
        daily = None if day in holes or day == partial_hole else 20_000.0 + day.toordinal() % 97
        if day < first:
            return DayInput(day, (), CurveState.NOT_WANTED, daily)
        if day in missing_curve or day in holes:
            return DayInput(day, (), CurveState.MISSING, daily)
        readings = day_curve(day, 60, lambda k: 300 + 7 * k + day.day)
        if day == partial_hole:
            return DayInput(day, readings[:10], CurveState.PARTIAL, daily)
        return DayInput(day, readings, CurveState.COMPLETE, daily)

    finals = {day: final(day) for day in daily_only + all_days}
    # Start: daily known everywhere, every curve PENDING: nothing is written.
    per_day = {day: build_hours([DayInput(day, (), CurveState.PENDING, finals[day].daily_wh)]) for day in finals}
    assert all(hours == {} for hours in per_day.values())

    recorder = Recorder()
    previous: dict[datetime, float] = {}
    origin: datetime | None = None
    origins: list[datetime] = []
    windows = 0
    end = today
    while True:
        complete = end <= first
        if complete:  # the curve is done: the days beyond its horizon are written from their daily energy
            for day in daily_only:
                per_day[day] = build_hours([finals[day]])
        else:
            start = max(first, end - timedelta(days=7))
            for offset in range((end - start).days):
                day = start + timedelta(days=offset)
                per_day[day] = build_hours([finals[day]])  # the window's curve arrives
            end = start
            windows += 1
        current = dict(sorted((hour, wh) for hours in per_day.values() for hour, wh in hours.items()))
        new_origin = choose_origin(current, origin, oldest_written=min(previous, default=None), complete=complete)
        assert new_origin is not None
        publication = publish(previous, current, new_origin, origin)
        recorder.write(publication.rows, newest_first=publication.newest_first)
        assert_from_zero(recorder.rows())
        assert sorted(recorder.table) == sorted(publication.written)
        if new_origin != origin:
            origins.append(new_origin)
        origin, previous = new_origin, publication.written
        if complete:
            break

    final_hours = build_hours(finals.values())
    final_rows = build_rows(contiguous_hours(final_hours, min(final_hours), max(final_hours) + HOUR), min(final_hours))
    assert recorder.rows() == final_rows
    assert len(final_rows) == (today - daily_only[0]).days * 24 - 1 + 1  # one row per hour (+1 h, -1 h: DST)
    assert_from_zero(final_rows)
    assert windows == 105
    ratio = recorder.written / len(final_rows)
    print(
        f"backfill: {windows} windows, {len(final_rows)} rows, {recorder.written} written, ratio {ratio:.3f}, "
        f"{len(origins)} origins"
    )
    assert ratio <= 3
    # 1 week, then 2, 4, 8, 16, 32, 64 weeks, then the whole history: 8 full writes.
    assert len(origins) == 8


def test_publish_migrates_negative_sums_in_one_rewrite() -> None:
    """Rows written by earlier versions (sums anchored 15 days back) are rewritten from 0 at the first start."""
    today = date(2026, 2, 1)
    anchor = choose_anchor(today)
    hours = build_hours(_days(today - timedelta(days=40), 40))
    legacy = build_rows(hours, anchor)
    assert legacy[0].sum < 0
    recorder = Recorder()
    recorder.table = {row.start: row for row in legacy}
    origin = choose_origin(hours, anchor, oldest_written=min(hours), complete=False)
    assert origin == min(hours)
    publication = publish(hours, hours, origin, anchor)
    recorder.write(publication.rows, newest_first=publication.newest_first)
    assert recorder.rows() == build_rows(hours, origin)  # curve days: already one row per hour
    assert_from_zero(recorder.rows())
    # Every row after the oldest moved (its sum grew by the energy before the anchor); then nothing more to do.
    assert len(publication.rows) == len(hours)
    assert publish(publication.written, hours, origin, origin).rows == []


def test_rows_to_repair_finds_missing_changed_and_foreign_rows() -> None:
    hours = {utc(2026, 1, 10, h): 100.0 * (h + 1) for h in range(6)}
    expected = build_rows(hours, min(hours))
    recorded = {row.start.timestamp(): (row.state, row.sum) for row in expected}
    assert rows_to_repair(expected, recorded) == ([], False)
    # Cleared: everything; lost the newest rows (an older backup): those; one row changed: that one.
    assert rows_to_repair(expected, {}) == (expected, False)
    newest_lost = {k: v for k, v in recorded.items() if k < expected[4].start.timestamp()}
    assert rows_to_repair(expected, newest_lost) == (expected[4:], False)
    edited = {**recorded, expected[2].start.timestamp(): (expected[2].state, expected[2].sum + 1)}
    assert rows_to_repair(expected, edited) == ([expected[2]], False)
    # A row the cache never wrote (e.g. an older row with another sum): clear and write everything.
    foreign = {**recorded, utc(2026, 1, 9, 23).timestamp(): (0.5, -0.5)}
    assert rows_to_repair(expected, foreign) == (expected, True)


# --- order independence (property) ----------------------------------------------------------------------

_FIRST_DAYS = [date(2026, 1, 10), date(2026, 3, 27), date(2026, 10, 23), date(2026, 7, 1)]
_FINAL_STATES = [CurveState.COMPLETE, CurveState.PARTIAL, CurveState.MISSING, CurveState.NOT_WANTED]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[list[DayInput]], list[int], datetime]:
    first = draw(st.sampled_from(_FIRST_DAYS))
    count = draw(st.integers(min_value=1, max_value=5))
    stages: list[list[DayInput]] = []
    for i in range(count):
        day = first + timedelta(days=i)
        base = draw(st.integers(min_value=0, max_value=3000))
        step = draw(st.sampled_from([15, 30, 60]))
        watts = ramp(base, 11.5, 5)
        readings = day_curve(day, step, watts)
        state = draw(st.sampled_from(_FINAL_STATES))
        daily = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=80_000).map(float)))
        if state is CurveState.PARTIAL:
            readings = readings[: draw(st.integers(min_value=1, max_value=len(readings) - 1))]
        elif state is not CurveState.COMPLETE:
            readings = ()
        path = [DayInput(day, readings, state, daily)]
        # Sometimes an intermediate stage first: a partial curve without daily, later completed or replaced.
        if draw(st.booleans()):
            cut = draw(st.integers(min_value=1, max_value=len(day_curve(day, step)) - 1))
            path.insert(
                0,
                DayInput(
                    day,
                    day_curve(day, step, watts)[:cut],
                    CurveState.PARTIAL,
                ),
            )
        stages.append(path)
    events = [i for i, path in enumerate(stages) for _ in path]
    order = draw(st.permutations(events))
    anchor_day = first + timedelta(days=draw(st.integers(min_value=-2, max_value=count + 1)))
    return stages, list(order), day_bounds(anchor_day)[0]


def _replay(
    stages: list[list[DayInput]], order: Sequence[int], anchor: datetime
) -> tuple[dict[datetime, StatRow], dict[datetime, float]]:
    """Apply the arrivals in ``order`` to a simulated recorder table; check it after every write."""
    reached = [-1] * len(stages)
    previous: dict[datetime, float] = {}
    table: dict[datetime, StatRow] = {}
    for index in order:
        reached[index] += 1
        days = [path[reached[i]] if reached[i] >= 0 else DayInput(path[0].day) for i, path in enumerate(stages)]
        current = build_hours(days)
        for row in rows_to_write(previous, current, anchor):
            table[row.start] = row
        previous = written_hours(previous, current)
        rows = [table[hour] for hour in sorted(table)]
        assert_continuous(rows)
        assert all(row.state >= 0 for row in rows)
        assert rows == build_rows(previous, anchor)
    return table, previous


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_arrival_order_does_not_matter(scenario: tuple[list[list[DayInput]], list[int], datetime]) -> None:
    stages, order, anchor = scenario
    table, _ = _replay(stages, order, anchor)
    canonical = [i for i, path in enumerate(stages) for _ in path]
    reference, _ = _replay(stages, canonical, anchor)
    assert table == reference
    final_hours = build_hours(path[-1] for path in stages)
    for row in build_rows(final_hours, anchor):
        assert table[row.start] == row
    # Any extra row is a zeroed hour carrying its neighbour's sum.
    assert all(table[hour].state == 0 for hour in set(table) - set(final_hours))


def test_daily_energy_from_hours_groups_by_paris_day() -> None:
    hours: Mapping[datetime, float] = {
        utc(2026, 1, 14, 22): 1.0,  # 23:00 local, 14th
        utc(2026, 1, 14, 23): 2.0,  # 00:00 local, 15th
        utc(2026, 7, 14, 22): 4.0,  # 00:00 local, 15th (summer)
    }
    assert daily_energy_from_hours(hours) == {date(2026, 1, 14): 1.0, WINTER: 2.0, SUMMER: 4.0}


@st.composite
def backfills(draw: st.DrawFn) -> tuple[list[DayInput], list[int]]:
    """Final days and the order their curve arrives in (newest-first windows, with random jumps)."""
    first = draw(st.sampled_from(_FIRST_DAYS))
    count = draw(st.integers(min_value=1, max_value=20))
    days = []
    for i in range(count):
        day = first + timedelta(days=i)
        state = draw(st.sampled_from(_FINAL_STATES))
        daily = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=80_000).map(float)))
        readings = (
            day_curve(day, 60, ramp(draw(st.integers(min_value=0, max_value=3000))))
            if state
            in (
                CurveState.COMPLETE,
                CurveState.PARTIAL,
            )
            else ()
        )
        if state is CurveState.PARTIAL:
            readings = readings[: draw(st.integers(min_value=1, max_value=len(readings) - 1))]
        days.append(DayInput(day, readings, state, daily))
    order = draw(st.permutations(range(count)))
    return days, list(order)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(backfills())
def test_published_sums_start_from_zero_whatever_the_arrival_order(scenario: tuple[list[DayInput], list[int]]) -> None:
    days, order = scenario
    arrived: dict[date, DayInput] = {}
    recorder = Recorder()
    previous: dict[datetime, float] = {}
    origin: datetime | None = None
    for step, index in enumerate(order):
        arrived[days[index].day] = days[index]
        current = build_hours(arrived.values())
        complete = step == len(order) - 1
        new_origin = choose_origin(current, origin, oldest_written=min(previous, default=None), complete=complete)
        if new_origin is None:
            continue
        publication = publish(previous, current, new_origin, origin)
        recorder.write(publication.rows, chunk=7, newest_first=publication.newest_first)
        if recorder.table:
            assert_from_zero(recorder.rows())
            assert min(recorder.table) >= new_origin
        origin, previous = new_origin, publication.written
    final_hours = build_hours(days)
    for row in build_rows(final_hours, origin or utc(2000, 1, 1)):
        assert recorder.table[row.start] == row
    assert all(recorder.table[hour].state == 0 for hour in set(recorder.table) - set(final_hours))


def test_rows_to_write_are_compact_and_compare_as_rows() -> None:
    """`StatRows`: the rows a publication holds until the recorder has them, as the list of `StatRow` they replace."""
    origin = utc(2026, 1, 1)
    rows = [StatRow(origin + i * HOUR, i / 1000, i * (i + 1) / 2000) for i in range(10)]
    compact = StatRows(rows)
    assert compact == rows
    assert rows == compact
    assert list(compact) == rows
    assert len(compact) == 10
    assert (compact[3], compact[-1]) == (rows[3], rows[-1])
    assert compact[2:5] == rows[2:5]
    assert isinstance(compact[2:5], StatRows)
    assert list(reversed(compact)) == rows[::-1]
    assert compact != rows[:-1]
    assert compact != [*rows[:-1], StatRow(rows[-1].start, rows[-1].state, rows[-1].sum + 1e-3)]
    assert StatRows() == []
    # What the cycle collector walks: three arrays (starts as epoch seconds, states, sums), no object per row.
    referents = [ref for ref in gc.get_referents(compact) if ref is not StatRows]
    assert len(referents) == 3
    assert all(isinstance(ref, array) for ref in referents)
    assert [row.start.tzinfo for row in compact] == [UTC] * 10


def test_rows_columns_are_the_rows_whatever_their_starts() -> None:
    """`StatRows.columns`, what the writer hands the recorder: each row's start, state and sum, the same whether the
    starts are consecutive hours (made by adding an hour), have a gap, go back, or are off the hour."""
    origin = utc(2026, 3, 29)  # the spring change in Paris: UTC hours are still consecutive
    consecutive = [StatRow(origin + i * HOUR, i / 1000, i / 100) for i in range(30)]
    gap = [*consecutive[:10], *consecutive[11:]]
    backwards = [consecutive[1], consecutive[0], *consecutive[2:]]
    off_hour = [StatRow(row.start + timedelta(minutes=30), row.state, row.sum) for row in consecutive]
    for rows in (consecutive, gap, backwards, off_hour, consecutive[:1], []):
        columns = list(StatRows(rows).columns())
        assert columns == [(row.start, row.state, row.sum) for row in rows]
        assert all(start.tzinfo is UTC for start, _, _ in columns)
    assert list(StatRows(consecutive)[5:9].columns()) == [(r.start, r.state, r.sum) for r in consecutive[5:9]]


def test_publish_update_is_publish_for_a_few_changed_hours() -> None:
    """A changed hour, a new hour and a removed hour: the rows `publish` gives, from the first hour that moves."""
    origin = utc(2026, 1, 1)
    hours = {origin + i * HOUR: float(100 + i) for i in range(48)}
    first = publish({}, hours, origin, None)
    before = published(first.written, origin)
    assert before is not None
    assert before.sums[-1] == sum(hours.values())
    current = dict(hours)
    current[origin + 30 * HOUR] = 500.0  # changed: this hour and every later sum move
    del current[origin + 40 * HOUR]  # removed: written as 0
    current[origin + 50 * HOUR] = 7.0  # new, after a new hour 48 and 49 at 0
    updates = {origin + 30 * HOUR: 500.0, origin + 40 * HOUR: 0.0, origin + 50 * HOUR: 7.0}
    expected = publish(first.written, current, origin, origin)
    publication, after = publish_update(before, updates, origin + 50 * HOUR)
    assert publication == expected
    assert publication.rows[0].start == origin + 30 * HOUR
    assert after.written == expected.written
    assert after.sums[-1] == sum(current.values())
    assert list(after.written) == [origin + i * HOUR for i in range(51)]
    # Kept between imports as raw numbers: arrays the cycle collector never walks, not lists of float objects.
    assert all(isinstance(values, array) for values in (before.states, before.sums, after.states, after.sums))
    # Nothing moves: no row, the same written hours (the very mapping: the importer knows it by identity).
    again, same = publish_update(after, {origin + 30 * HOUR: 500.0}, origin + 50 * HOUR)
    assert again.rows == []
    assert again.written is after.written
    assert same is after


def test_publish_update_moves_the_origin_back_and_never_forward() -> None:
    origin = utc(2026, 1, 2)
    hours = {origin + i * HOUR: 10.0 for i in range(24)}
    before = published(publish({}, hours, origin, None).written, origin)
    assert before is not None
    older = {origin - (i + 1) * HOUR: 5.0 for i in range(3)}  # held hours the new origin brings in
    expected = publish(before.written, {**older, **hours}, origin - 3 * HOUR, origin)
    assert len(expected.rows) == 27  # rewritten one by one, every sum moved by the 15 Wh before
    publication, _ = publish_update(before, older, origin + 23 * HOUR, origin - 3 * HOUR)
    # The 24 rows already written take the 15 Wh into their sums in one update of the recorder: only the 3 older
    # hours are rows.
    assert publication.shift == SumShift(origin, 0.015)
    assert [row.start for row in publication.rows] == [origin - (3 - i) * HOUR for i in range(3)]
    assert (publication.written, publication.newest_first) == (expected.written, expected.newest_first)
    table = recorder_after(before.written, origin, publication)
    assert_same_tables(table, recorder_after(before.written, origin, expected))
    assert_holds(table, publication.written, origin - 3 * HOUR)
    # Held hours of 0 Wh (a day's first hour, then the hours filled before the former origin): new rows all the same,
    # though no sum moves, and nothing to add to the sums.
    zero = {origin - 3 * HOUR: 0.0}
    expected = publish(before.written, {**zero, **hours}, origin - 3 * HOUR, origin)
    publication, _ = publish_update(before, zero, origin + 23 * HOUR, origin - 3 * HOUR)
    assert publication == expected
    assert publication.shift is None
    assert [row.start for row in publication.rows] == [origin - (3 - i) * HOUR for i in range(3)]
    with pytest.raises(ValueError, match="never moves forward"):
        publish_update(before, {}, None, origin + HOUR)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=60),
    st.integers(-30, 70),
    st.lists(st.sampled_from([0.0, 1e-7, 0.4, 250.0, 3000.0]), min_size=0, max_size=40),
    st.integers(0, 20),
    st.booleans(),
)
def test_publish_update_of_a_run_of_hours_is_publish(
    wh: list[int], offset: int, values: list[float], back: int, shuffled: bool
) -> None:
    """A run of consecutive hours as updates (what the importer gives when the origin moves back, in order) or the
    same hours in another order, partly before the origin (held), partly new, changes below the tolerance: the
    written hours `publish` gives, and the recorder holds the same rows after either; the very rows `publish` gives
    when the origin stays (when it moves back over energy, the rows already written take it in one `SumShift`)."""
    origin = utc(2026, 3, 1)
    hours = {origin + i * HOUR: float(v) for i, v in enumerate(wh)}
    before = published(publish({}, hours, origin, None).written, origin)
    assert before is not None
    new_origin = origin - back * HOUR
    run = [origin + (offset + i) * HOUR for i in range(len(values))]
    updates = {hour: hours.get(hour, 0.0) + value for hour, value in zip(run, values, strict=True)}
    # Every hour between the new origin and the former one must be given (`publish_update`): held hours.
    held = {origin - (i + 1) * HOUR: updates.get(origin - (i + 1) * HOUR, 5.0) for i in range(back)}
    updates = dict(sorted({**held, **updates}.items()))
    if shuffled:
        updates = dict(reversed(updates.items()))
    current = {**hours, **updates}
    newest = max(current)
    expected = publish(before.written, current, new_origin, origin)
    publication, after = publish_update(before, updates, newest, new_origin)
    assert (publication.written, publication.newest_first) == (expected.written, expected.newest_first)
    if publication.shift is None:
        assert publication == expected
    else:
        assert publication.shift.start == origin
        assert len(publication.rows) <= len(expected.rows)
    table = recorder_after(before.written, origin, publication)
    assert_same_tables(table, recorder_after(before.written, origin, expected), 2 * TOLERANCE_KWH)
    assert_holds(table, publication.written, new_origin, tolerance=TOLERANCE_KWH)
    assert after.written == expected.written
    assert list(after.sums) == list(accumulate(after.states))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=60),
    st.integers(1, 60),
    st.lists(st.integers(1, 26), min_size=1, max_size=8),
    st.sets(st.integers(0, 80), max_size=6),
    st.lists(st.tuples(st.integers(-70, 70), st.sampled_from([0.0, 1e-7, 250.0])), max_size=10),
)
def test_publish_update_of_held_days_is_the_same_hours_as_updates(
    wh: list[int], back: int, sizes: list[int], gaps: set[int], changes: list[tuple[int, float]]
) -> None:
    """The held hours given as days (`publish_update`'s ``held``, set a day at a time) and the same hours given
    among ``updates``: the same publication and state. The days cut the run anywhere (one straddles the former
    origin, one starts before the new origin, some miss an hour: those are set hour by hour) and ``updates`` still
    change hours on both sides of the former origin after them."""
    origin = utc(2026, 3, 1)
    hours = {origin + i * HOUR: float(v) for i, v in enumerate(wh)}
    before = published(publish({}, hours, origin, None).written, origin)
    assert before is not None
    new_origin = origin - back * HOUR
    held_hours = [new_origin + (i - 3) * HOUR for i in range(back + 6) if i not in gaps]
    days: list[HourValues] = []
    first = 0
    for size in itertools.cycle(sizes):
        if first >= len(held_hours):
            break
        day = held_hours[first : first + size]
        days.append(HourValues({hour: 7.0 + hour.hour for hour in day}))
        first += size
    updates = {origin + offset * HOUR: value for offset, value in changes}
    given = {**{hour: value for day in days for hour, value in day.items()}, **updates}
    newest = max(*hours, *given)
    expected = publish_update(before, given, newest, new_origin)
    assert publish_update(before, updates, newest, new_origin, held=days) == expected


def test_publish_update_of_a_statistic_without_rows_when_the_origin_moves_back() -> None:
    """A statistic without a row yet (a cost while no hour is priced: RTE down during the backfill) whose series'
    origin moves back: no row, as `publish` (0 EUR rows would read as free hours on the Energy dashboard); once it
    has an hour, its rows start at the origin, as `publish`'s."""
    origin = utc(2026, 3, 1)
    before = published({}, origin)
    assert before is not None
    new_origin = origin - 48 * HOUR
    publication, after = publish_update(before, {}, None, new_origin)
    assert publication == publish({}, {}, new_origin, origin)
    assert len(publication.rows) == 0
    assert publication.shift is None
    assert not after.written
    priced = {origin + 5 * HOUR: 30.0}
    publication, after = publish_update(after, priced, origin + 5 * HOUR, new_origin - 24 * HOUR)
    assert publication == publish({}, priced, new_origin - 24 * HOUR, origin)
    assert publication.rows[0].start == new_origin - 24 * HOUR
    assert len(publication.rows) == 24 + 48 + 6


@pytest.mark.parametrize("first", [1, 2])
def test_publish_update_writes_an_hour_whose_state_moved_though_its_sum_did_not(first: int) -> None:
    """Two consecutive hours exchange their energy (the later one's state goes down, then up): its sum is the same,
    its state is not, so it is written."""
    origin = utc(2026, 3, 1)
    hours = {origin + i * HOUR: 100.0 * (1 + i % 2) for i in range(6)}  # 100, 200, 100, 200, ...
    before = published(publish({}, hours, origin, None).written, origin)
    assert before is not None
    one, two = origin + first * HOUR, origin + (first + 1) * HOUR
    updates = {one: hours[two], two: hours[one]}
    publication, _ = publish_update(before, updates, origin + 5 * HOUR)
    assert publication == publish(before.written, {**hours, **updates}, origin, origin)
    assert [row.start for row in publication.rows] == [one, two]


def test_published_refuses_hours_that_are_not_contiguous_from_the_origin() -> None:
    origin = utc(2026, 1, 1)
    assert published({origin: 1.0, origin + 2 * HOUR: 1.0, origin + HOUR: 1.0}, origin) is None
    assert published({origin + HOUR: 1.0}, origin) is None  # an older version's rows, not from the origin
    assert published({}, origin) is not None


def test_a_run_of_hours_is_the_mapping_it_replaces() -> None:
    """`HourRun` (what a statistic holds, kept per statistic for as long as Home Assistant runs) is the dict it
    replaces: same hours in the same order, same lookups, equal both ways; the collector sees one array."""
    origin = utc(2026, 3, 28, 22)  # across the spring change in Paris: UTC hours stay consecutive
    values = [float(i) for i in range(30)]
    as_dict = {origin + i * HOUR: value for i, value in enumerate(values)}
    run = HourRun(origin, values)
    assert run == as_dict
    assert as_dict == run
    assert list(run) == list(as_dict)
    assert all(hour.tzinfo is UTC for hour in run)
    assert list(reversed(run)) == list(reversed(as_dict))
    assert list(run.items()) == list(as_dict.items())
    assert list(run.values()) == values
    assert (len(run), run.start, oldest_hour(run)) == (30, origin, origin)
    assert run[origin + 5 * HOUR] == 5.0
    assert origin + 5 * HOUR in run
    assert run[(origin + 29 * HOUR).astimezone(PARIS)] == 29.0  # an aware hour in another zone is the same hour
    for missing in (
        origin - HOUR,
        origin + 30 * HOUR,
        origin + timedelta(minutes=30),
        (origin + HOUR).replace(tzinfo=None),
        "2026-03-28T22:00:00+00:00",
    ):
        assert missing not in run
        with pytest.raises(KeyError):
            run[missing]  # type: ignore[index]
    assert run.get(origin - HOUR) is None
    assert run != {**as_dict, origin: 1.0}
    assert run != HourRun(origin + HOUR, values)
    assert run != HourRun(origin, values[:-1])
    assert run == HourRun(origin.astimezone(PARIS), values)
    assert HourRun() == {} == HourRun(origin, [])
    assert (HourRun().start, oldest_hour(HourRun()), oldest_hour(as_dict)) == (None, None, origin)
    assert repr(run) == f"HourRun({origin!r}, 30 hours)"
    referents = [ref for ref in gc.get_referents(run) if ref is not HourRun]
    assert sorted(type(ref).__name__ for ref in referents) == ["array", "float"]  # nothing the collector walks
    assert all(isinstance(ref, type) for ref in gc.get_referents(run.array))  # not one reference per value
    with pytest.raises(ValueError, match="first hour"):
        HourRun(None, [1.0])
    with pytest.raises(ValueError, match="not on the hour"):
        HourRun(origin + timedelta(minutes=30), [1.0])
    with pytest.raises(TypeError):
        hash(run)


def test_run_of_keeps_what_is_not_one_run_of_hours() -> None:
    """Only consecutive aware whole hours in order become a `HourRun`; anything else (hours written by an older
    version) stays the mapping it is, for `publish` to rewrite."""
    origin = utc(2026, 1, 1)
    run = run_of({origin.astimezone(PARIS): 1.0, origin + HOUR: 2.0})
    assert isinstance(run, HourRun)
    assert run == {origin: 1.0, origin + HOUR: 2.0}
    assert run_of(run) is run
    assert run_of({}) == HourRun()
    for hours in (
        {origin: 1.0, origin + 2 * HOUR: 2.0},
        {origin + HOUR: 1.0, origin: 2.0},
        {origin + timedelta(minutes=30): 1.0},
        {origin: 1.0, (origin + HOUR).replace(tzinfo=None): 1.0},
    ):
        assert run_of(hours) is hours


def test_what_a_publication_writes_is_a_run_of_hours() -> None:
    """`publish` and `publish_update` both leave a `HourRun` (from the origin), the latter without making an hour."""
    origin = utc(2026, 1, 1)
    first = publish({}, {origin: 1.0, origin + 3 * HOUR: 2.0}, origin, None)
    assert isinstance(first.written, HourRun)
    assert first.written == {origin: 1.0, origin + HOUR: 0.0, origin + 2 * HOUR: 0.0, origin + 3 * HOUR: 2.0}
    before = published(first.written, origin)
    assert before is not None
    assert before.written is first.written
    publication, after = publish_update(
        before, {origin - HOUR: 5.0, origin + 4 * HOUR: 1.0}, origin + 4 * HOUR, origin - HOUR
    )
    assert isinstance(publication.written, HourRun)
    assert publication.written is after.written
    assert after.states is after.written.array
    assert publication.written == {origin - HOUR: 5.0, **first.written, origin + 4 * HOUR: 1.0}
