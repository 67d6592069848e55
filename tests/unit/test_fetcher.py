"""Tests of the fetcher (`fetcher.py`): outcomes applied to the state (pure), refusals, the daily poll's back-off.

No Home Assistant and no network: states are built by hand, dates are real ones around the 2026 DST changes.
`async_fetch`'s error mapping is checked with a small `MeteringSource` subclass whose request raises the library's
typed errors (the source's public interface; the HTTP side is covered by tests/api and the integration tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest

from custom_components.enedis import planner
from custom_components.enedis.api import (
    ApiNotSubscribedError,
    AuthError,
    BeforeActivationError,
    CommunicationError,
    Contract,
    Direction,
    EnedisError,
    HistoryLimitError,
    Measure,
    MeteringSource,
    NoDataError,
    RateLimitError,
    Reading,
    Series,
    SourceContract,
    UnsupportedError,
)
from custom_components.enedis.api.calendar import day_bounds, local_day_bounds, paris_datetime, to_paris
from custom_components.enedis.api.contract import DATA_CONNECT_CONTRACT
from custom_components.enedis.api.errors import CurveNotEnabledError, InvalidDatesError, WrongDirectionError
from custom_components.enedis.const import (
    CONF_MEASURES,
    CONF_TARIFF,
    MEASURE_DAILY_ENERGY,
    MEASURE_LOAD_CURVE,
    MEASURE_MAX_POWER,
    TARIFF_BASE,
    TARIFF_HPHC,
)
from custom_components.enedis.fetcher import (
    REFUSAL_RETRY,
    Effects,
    Kind,
    Outcome,
    apply_outcome,
    async_fetch,
    book_incomplete_days,
)
from custom_components.enedis.ledger import CurveState
from custom_components.enedis.options import EntryOptions
from custom_components.enedis.planner import OLD_PARTIAL_ATTEMPTS, RETRY_DAYS, Context, Job
from custom_components.enedis.state import DayAttempts, EntryCache, MeasureRefusal, PrmCache, SeriesCache

PRM = "12345678901234"
C = Direction.CONSUMPTION
P = Direction.PRODUCTION
TODAY = date(2026, 3, 30)  # the Monday after the spring change (2026-03-29 has 23 hours)
CURVE = Measure.LOAD_CURVE
DAILY = Measure.DAILY_ENERGY


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def hourly(day: date, hours: Iterable[int] | None = None) -> list[Reading]:
    """The day's hourly curve readings (23, 24 or 25 of them), or only ``hours`` of them (a partial day)."""
    start, end = day_bounds(day)
    count = int((end - start) / timedelta(hours=1))
    keep = set(range(count) if hours is None else hours)
    hour = timedelta(hours=1)
    return [Reading(to_paris(start + i * hour), to_paris(start + (i + 1) * hour), 400.0) for i in sorted(keep)]


def curve(readings: Iterable[Reading] = ()) -> Series:
    return Series(PRM, C, CURVE, "W", tuple(readings))


def daily(values: Mapping[date, float], measure: Measure = DAILY) -> Series:
    readings = []
    for day, value in values.items():
        start, end = local_day_bounds(day)
        readings.append(Reading(start, end, value, at=start + timedelta(hours=19) if measure is not DAILY else None))
    return Series(PRM, C, measure, "Wh" if measure is DAILY else "VA", tuple(readings))


def apply(
    series: SeriesCache,
    job: Job,
    outcome: Outcome,
    *,
    prm_cache: PrmCache | None = None,
    wants_curve: bool = True,
    today: date = TODAY,
) -> Effects:
    return apply_outcome(prm_cache or PrmCache(), series, job, outcome, today=today, wants_curve=wants_curve)


def curve_job(start: date, end: date, *, backfill: bool = True, **kwargs: Any) -> Job:
    return Job(PRM, C, CURVE, start, end, backfill=backfill, **kwargs)


# --- outcomes that say something of the PRM or the source ------------------------------------------------------------


def test_when_direction_is_absent_then_only_the_prm_records_it() -> None:
    prm_cache, series = PrmCache(), SeriesCache()
    before = series.to_json()
    effects = apply(
        series,
        Job(PRM, P, DAILY, TODAY - timedelta(7), TODAY, backfill=True),
        Outcome(Kind.ABSENT),
        prm_cache=prm_cache,
    )
    assert effects == Effects()
    assert prm_cache.absent == {P}
    assert series.to_json() == before


def test_when_api_is_not_subscribed_or_index_unsupported_then_effects_say_so_and_state_is_unchanged() -> None:
    series = SeriesCache()
    before = series.to_json()
    job = Job(PRM, C, Measure.INDEX, TODAY - timedelta(7), TODAY, backfill=True)
    assert apply(series, job, Outcome(Kind.NOT_SUBSCRIBED, api="mesures")) == Effects(not_subscribed="mesures")
    assert apply(series, job, Outcome(Kind.UNSUPPORTED)) == Effects(index_unsupported=True)
    assert series.to_json() == before


# --- out of range: bisection, then floor ---------------------------------------------------------------------------


def test_when_a_one_day_window_is_out_of_range_then_the_next_day_is_the_floor() -> None:
    series = SeriesCache()
    job = Job(PRM, C, DAILY, date(2023, 3, 15), date(2023, 3, 16), backfill=True)
    assert apply(series, job, Outcome(Kind.OUT_OF_RANGE)) == Effects(touched=True)
    assert series.progress[DAILY].floor == date(2023, 3, 16)
    assert series.progress[DAILY].probe is None


def test_when_a_window_is_out_of_range_then_bisection_finds_the_oldest_day_served() -> None:
    oldest = date(2023, 7, 19)  # what Enedis serves, unknown to the engine
    ctx = Context(
        today=TODAY,
        now=paris_datetime(TODAY, 12),
        options=EntryOptions.from_entry({CONF_MEASURES: [MEASURE_DAILY_ENERGY]}),
        contract=DATA_CONNECT_CONTRACT,
        prms=(PRM,),
        entry_prms=1,
        contracts={},
        poll_minute=9 * 60,
        retry_interval=timedelta(hours=1),
        api_name=lambda _d, _m: "api",
    )
    cache = EntryCache()
    series = cache.prm(PRM).series.setdefault(C, SeriesCache())
    first = Job(PRM, C, DAILY, date(2023, 3, 15), date(2024, 3, 14), backfill=True)
    apply(series, first, Outcome(Kind.OUT_OF_RANGE))
    assert series.progress[DAILY].probe == (date(2023, 3, 15), date(2024, 3, 14))
    requests = 0
    while series.progress[DAILY].probe is not None:
        failing, working = series.progress[DAILY].probe
        assert failing < oldest <= working  # the oldest day is always inside the bracket
        job, _ = planner.next_backfill_job(ctx, cache)
        assert job is not None
        assert job.probe
        assert job.end == working
        if job.start < oldest:
            outcome = Outcome(Kind.OUT_OF_RANGE)
        else:
            outcome = Outcome(Kind.READINGS, daily(dict.fromkeys(days(job.start, job.end), 1000.0)))
        apply(series, job, outcome)
        requests += 1
    assert series.progress[DAILY].floor == oldest
    assert requests <= 9  # log2(365) rounded up
    assert planner.start(ctx, cache, PRM, C, DAILY) == oldest
    assert min(series.daily) >= oldest  # every probe that worked kept its data


# --- index registers ----------------------------------------------------------------------------------------------


def test_when_index_registers_come_back_then_they_are_kept_and_the_window_is_marked_asked() -> None:
    series = SeriesCache()
    job = Job(PRM, C, Measure.INDEX, date(2026, 3, 27), TODAY, backfill=True)
    registers = {date(2026, 3, 28): {"HP": 5000.0, "HC": 3000.0}, date(2026, 3, 29): {"HP": 4000.0, "HC": 2500.0}}
    assert apply(series, job, Outcome(Kind.INDEX, registers=registers)) == Effects(touched=True)
    assert series.registers == registers
    assert series.progress[Measure.INDEX].fetched == set(days(date(2026, 3, 27), TODAY))


def test_when_index_request_fails_then_no_register_is_kept_but_the_window_is_asked() -> None:
    series = SeriesCache()
    job = Job(PRM, C, Measure.INDEX, date(2023, 4, 16), date(2023, 6, 1), backfill=True)
    registers = {date(2023, 4, 20): {"HP": 1.0}}
    assert apply(series, job, Outcome(Kind.INDEX, registers=registers, error=NoDataError())) == Effects(touched=True)
    assert series.registers == {}
    assert series.progress[Measure.INDEX].fetched == set(days(date(2023, 4, 16), date(2023, 6, 1)))


def test_when_an_index_probe_is_served_then_the_bisection_moves_on() -> None:
    series = SeriesCache()
    series.progress[Measure.INDEX].probe = (date(2023, 3, 1), date(2023, 6, 1))
    job = Job(PRM, C, Measure.INDEX, date(2023, 4, 16), date(2023, 6, 1), backfill=True, probe=True)
    apply(series, job, Outcome(Kind.INDEX, registers={date(2023, 4, 20): {"HP": 1.0}}))
    assert series.progress[Measure.INDEX].probe == (date(2023, 3, 1), date(2023, 4, 16))
    assert series.registers == {date(2023, 4, 20): {"HP": 1.0}}


def test_when_an_index_probe_answers_no_data_then_the_bisection_moves_on_instead_of_asking_again() -> None:
    """A window Enedis answers "no data" is not out of range: the oldest day served is at or before its start.

    Daily energy and the load curve already read it so; the index kept the probe, and the planner sent the same
    request again at every refresh, for ever.
    """
    ctx = poll_ctx(TODAY, [MEASURE_DAILY_ENERGY], tariff=TARIFF_HPHC)
    cache = EntryCache()
    series = cache.prm(PRM).series.setdefault(C, SeriesCache())
    series.progress[DAILY].history_done = True
    series.progress[Measure.INDEX].probe = (date(2023, 3, 1), date(2023, 6, 1))
    job, _ = planner.next_backfill_job(ctx, cache)
    assert job == Job(PRM, C, Measure.INDEX, date(2023, 4, 16), date(2023, 6, 1), backfill=True, probe=True)
    apply(series, job, Outcome(Kind.INDEX, error=NoDataError()))
    assert series.progress[Measure.INDEX].probe == (date(2023, 3, 1), date(2023, 4, 16))
    again, _ = planner.next_backfill_job(ctx, cache)
    assert again != job


# --- readings -------------------------------------------------------------------------------------------------------


def test_when_the_newest_curve_week_comes_back_then_each_day_gets_its_state_dst_day_included() -> None:
    series = SeriesCache()
    week = days(date(2026, 3, 23), TODAY)
    readings = [r for day in week if day not in (date(2026, 3, 27), date(2026, 3, 28)) for r in hourly(day)]
    readings += hourly(date(2026, 3, 27), range(12))
    job = curve_job(date(2026, 3, 23), TODAY)
    assert apply(series, job, Outcome(Kind.READINGS, curve(readings))) == Effects(touched=True)
    assert series.curve_state == {
        **dict.fromkeys(week, CurveState.COMPLETE),
        date(2026, 3, 27): CurveState.PARTIAL,
        date(2026, 3, 28): CurveState.MISSING,
    }
    assert len(series.curve[date(2026, 3, 29)]) == 23  # the spring day has 23 hours, and they make it complete
    assert date(2026, 3, 28) not in series.curve
    assert series.curve_frontier == date(2026, 3, 23)
    assert series.last_poll_day == TODAY  # the newest week is today's poll


def test_when_a_refetch_comes_back_shorter_then_known_days_are_never_downgraded() -> None:
    series = SeriesCache(curve_frontier=date(2026, 3, 9))
    complete, partial, upgraded = date(2026, 3, 24), date(2026, 3, 25), date(2026, 3, 26)
    series.curve_state.update({complete: CurveState.COMPLETE, partial: CurveState.PARTIAL})
    series.curve_state[upgraded] = CurveState.PARTIAL
    readings = hourly(complete, range(5)) + hourly(upgraded)  # complete -> partial, partial -> missing
    job = curve_job(date(2026, 3, 23), date(2026, 3, 27), backfill=False)
    apply(series, job, Outcome(Kind.READINGS, curve(readings)))
    assert series.curve_state[complete] is CurveState.COMPLETE
    assert series.curve_state[partial] is CurveState.PARTIAL
    assert series.curve_state[upgraded] is CurveState.COMPLETE
    assert series.curve_state[date(2026, 3, 23)] is CurveState.MISSING
    assert series.curve_frontier == date(2026, 3, 9)  # a daily-poll job does not move the walk
    assert series.last_poll_day is None


def test_when_the_walk_refetches_newer_weeks_then_the_frontier_only_goes_back() -> None:
    series = SeriesCache(curve_frontier=date(2026, 3, 9))
    job = curve_job(date(2026, 3, 16), date(2026, 3, 23))
    apply(series, job, Outcome(Kind.READINGS, curve(r for d in days(job.start, job.end) for r in hourly(d))))
    assert series.curve_frontier == date(2026, 3, 9)
    assert series.last_poll_day is None  # the window does not reach today
    apply(
        series, curve_job(date(2026, 3, 2), date(2026, 3, 9)), Outcome(Kind.READINGS, curve(hourly(date(2026, 3, 5))))
    )
    assert series.curve_frontier == date(2026, 3, 2)


def test_when_a_repair_stays_partial_then_it_is_given_up_after_the_attempts() -> None:
    day = date(2025, 10, 25)  # an old partial day (the eve of the autumn change)
    series = SeriesCache(curve_frontier=date(2025, 1, 1))
    series.curve_state[day] = CurveState.PARTIAL
    job = curve_job(day, day + timedelta(days=1), repair=True)
    for attempt in range(1, OLD_PARTIAL_ATTEMPTS):
        apply(series, job, Outcome(Kind.READINGS, curve(hourly(day, range(10)))))
        assert series.attempts[day].count == attempt
        assert day not in series.given_up
    apply(series, job, Outcome(Kind.READINGS, curve()))
    assert day in series.given_up
    assert day not in series.attempts
    assert series.curve_frontier == date(2025, 1, 1)  # a repair is not the walk


def test_when_a_repair_comes_back_complete_then_its_attempts_go() -> None:
    day = date(2026, 10, 25)  # 25 hours
    series = SeriesCache()
    series.curve_state[day] = CurveState.PARTIAL
    series.attempts[day] = DayAttempts(count=1)
    apply(series, curve_job(day, day + timedelta(days=1), repair=True), Outcome(Kind.READINGS, curve(hourly(day))))
    assert series.curve_state[day] is CurveState.COMPLETE
    assert len(series.curve[day]) == 25
    assert series.attempts == {}


def test_when_daily_energy_and_max_power_come_back_then_values_and_asked_marks_are_kept() -> None:
    series = SeriesCache()
    window = (date(2026, 3, 26), TODAY)
    values = {date(2026, 3, 28): 9000.0, date(2026, 3, 29): 8000.0}  # 03-26 and 03-27 answered nothing
    effects = apply(series, Job(PRM, C, DAILY, *window, backfill=True), Outcome(Kind.READINGS, daily(values)))
    assert effects == Effects(touched=True)
    assert series.daily == values
    assert series.progress[DAILY].fetched == set(days(*window))
    peaks = daily({date(2026, 3, 29): 6100.0}, Measure.MAX_POWER)
    apply(series, Job(PRM, C, Measure.MAX_POWER, *window, backfill=True), Outcome(Kind.READINGS, peaks))
    assert series.max_power[date(2026, 3, 29)].value == 6100.0
    assert series.progress[Measure.MAX_POWER].fetched == set(days(*window))
    assert series.progress[DAILY].fetched == set(days(*window))


# --- refused load curves ------------------------------------------------------------------------------------------


def with_daily(first: date, end: date) -> SeriesCache:
    series = SeriesCache()
    series.daily.update(dict.fromkeys(days(first, end), 11000.0))
    return series


def test_when_enedis_says_the_curve_is_not_recorded_then_it_is_refused_for_a_week() -> None:
    series = SeriesCache()
    job = curve_job(date(2026, 3, 23), TODAY)
    effects = apply(series, job, Outcome(Kind.READINGS, curve(), explicit_refusal=True))
    assert effects == Effects(touched=True, curve_refused=True)
    assert series.refused[CURVE.value] == MeasureRefusal(since=TODAY, next_try=TODAY + REFUSAL_RETRY)
    assert planner.curve_refused(series)


def test_when_seven_days_with_daily_energy_have_no_curve_then_it_is_refused() -> None:
    series = with_daily(date(2026, 3, 23), TODAY)
    job = curve_job(date(2026, 3, 23), TODAY)
    assert apply(series, job, Outcome(Kind.READINGS, curve())) == Effects(touched=True, curve_refused=True)
    assert planner.curve_refused(series)


def test_when_six_empty_days_have_daily_energy_then_it_is_not_a_refusal() -> None:
    series = with_daily(date(2026, 3, 24), TODAY)  # 03-23 has no daily energy either: says nothing
    job = curve_job(date(2026, 3, 23), TODAY)
    assert apply(series, job, Outcome(Kind.READINGS, curve())) == Effects(touched=True)
    assert series.refused == {}


def test_when_the_curve_is_not_imported_then_empty_days_refuse_nothing() -> None:
    series = with_daily(date(2026, 3, 23), TODAY)
    job = curve_job(date(2026, 3, 23), TODAY)
    effects = apply(series, job, Outcome(Kind.READINGS, curve(), explicit_refusal=True), wants_curve=False)
    assert effects == Effects(touched=True)
    assert series.refused == {}


def refused_series() -> SeriesCache:
    """A series refused a week ago, whose older curve days came back empty while daily energy exists."""
    series = with_daily(date(2026, 3, 9), TODAY)
    for day in days(date(2026, 3, 9), date(2026, 3, 23)):
        series.curve_state[day] = CurveState.MISSING
    series.given_up.add(date(2026, 3, 20))
    series.attempts[date(2026, 3, 21)] = DayAttempts(count=2, next_retry=TODAY)
    series.curve_state[date(2026, 3, 1)] = CurveState.COMPLETE
    series.curve_frontier = date(2026, 3, 1)
    series.refused[CURVE.value] = MeasureRefusal(since=date(2026, 3, 23), next_try=TODAY)
    return series


def test_when_the_weekly_reask_is_empty_then_the_refusal_is_renewed() -> None:
    series = refused_series()
    job = curve_job(date(2026, 3, 23), TODAY, backfill=False)
    assert apply(series, job, Outcome(Kind.READINGS, curve())) == Effects(touched=True)
    assert series.refused[CURVE.value] == MeasureRefusal(since=date(2026, 3, 23), next_try=TODAY + REFUSAL_RETRY)


def test_when_the_weekly_reask_brings_readings_then_the_refusal_is_lifted_and_empty_days_forgotten() -> None:
    series = refused_series()
    series.progress[CURVE].history_done = True
    job = curve_job(date(2026, 3, 23), TODAY, backfill=False)
    effects = apply(series, job, Outcome(Kind.READINGS, curve(hourly(date(2026, 3, 29)))))
    assert effects == Effects(touched=True, curve_lifted=True)
    assert series.refused[CURVE.value].lifted
    assert not planner.curve_refused(series)
    assert not any(day in series.curve_state for day in days(date(2026, 3, 9), date(2026, 3, 23)))
    assert series.curve_state[date(2026, 3, 1)] is CurveState.COMPLETE  # readings are kept
    assert series.given_up == set()
    assert series.attempts == {}
    assert series.curve_frontier == date(2026, 3, 23)
    assert not series.curve_done
    series.end_curve_walk()  # the walk that follows ends: the refusal record goes
    assert series.refused == {}


def walked_to(frontier: date) -> SeriesCache:
    """Curve known from ``frontier`` to today, daily energy for three weeks before it too."""
    series = with_daily(frontier - timedelta(days=21), TODAY)
    for day in days(frontier, TODAY):
        series.curve_state[day] = CurveState.COMPLETE
    series.curve_frontier = frontier
    return series


def test_when_the_walk_meets_a_week_of_empty_days_with_daily_energy_then_the_curve_begins_there() -> None:
    series = walked_to(date(2026, 3, 16))
    job = curve_job(date(2026, 3, 9), date(2026, 3, 16))
    assert apply(series, job, Outcome(Kind.READINGS, curve())) == Effects(touched=True)
    assert series.progress[CURVE].floor == date(2026, 3, 16)
    assert series.curve_done
    assert series.refused == {}


def test_when_import_history_set_a_start_then_empty_weeks_do_not_end_the_walk() -> None:
    series = walked_to(date(2026, 3, 16))
    prm_cache = PrmCache(history_start=date(2025, 1, 1))
    job = curve_job(date(2026, 3, 9), date(2026, 3, 16))
    apply(series, job, Outcome(Kind.READINGS, curve()), prm_cache=prm_cache)
    assert series.progress[CURVE].floor is None
    assert not series.curve_done
    apply(series, job, Outcome(Kind.READINGS, curve(), explicit_refusal=True), prm_cache=prm_cache)
    assert series.progress[CURVE].floor is None
    assert not series.curve_done
    assert series.refused == {}


def test_when_an_older_week_is_refused_explicitly_below_known_curve_then_the_curve_begins_at_the_oldest_known() -> None:
    series = walked_to(date(2026, 3, 16))
    series.curve_state[date(2026, 3, 16)] = CurveState.PARTIAL
    job = curve_job(date(2026, 3, 9), date(2026, 3, 16))
    effects = apply(series, job, Outcome(Kind.READINGS, curve(), explicit_refusal=True))
    assert effects == Effects(touched=True)
    assert series.progress[CURVE].floor == date(2026, 3, 16)
    assert series.curve_done
    assert series.refused == {}


def test_when_a_gap_of_empty_days_has_curve_below_it_then_the_walk_goes_on() -> None:
    series = walked_to(date(2026, 3, 16))
    series.curve_state[date(2026, 2, 1)] = CurveState.COMPLETE  # curve below the frontier: a hole, not a start
    job = curve_job(date(2026, 3, 9), date(2026, 3, 16))
    apply(series, job, Outcome(Kind.READINGS, curve()))
    assert series.progress[CURVE].floor is None
    assert not series.curve_done


# --- the daily poll's back-off --------------------------------------------------------------------------------------


def poll_ctx(today: date, measures: list[str] | None = None, tariff: str = TARIFF_BASE) -> Context:
    return Context(
        today=today,
        now=paris_datetime(today, 10),
        options=EntryOptions.from_entry({CONF_MEASURES: measures or [MEASURE_DAILY_ENERGY], CONF_TARIFF: tariff}),
        contract=DATA_CONNECT_CONTRACT,
        prms=(PRM,),
        entry_prms=1,
        contracts={},
        poll_minute=9 * 60,
        retry_interval=timedelta(hours=1),
        api_name=lambda _d, _m: "api",
    )


def test_when_a_day_stays_incomplete_then_it_backs_off_1_2_4_8_days_then_is_given_up() -> None:
    first = date(2026, 10, 20)
    missing = first - timedelta(days=2)  # yesterday is asked until complete, not booked
    series = with_daily(first - timedelta(days=20), first + timedelta(days=30))
    del series.daily[missing]
    expected = {
        first: (1, first + timedelta(days=1)),
        first + timedelta(days=1): (2, first + timedelta(days=3)),
        first + timedelta(days=2): (2, first + timedelta(days=3)),  # not due again yet: unchanged
        first + timedelta(days=3): (3, first + timedelta(days=7)),
        first + timedelta(days=7): (4, first + timedelta(days=15)),
        first + timedelta(days=12): (4, first + timedelta(days=15)),
    }
    for today, (count, next_retry) in expected.items():
        book_incomplete_days(poll_ctx(today), series, C)
        assert series.attempts == {missing: DayAttempts(count, next_retry)}, today
        assert series.given_up == set()
    book_incomplete_days(poll_ctx(missing + timedelta(days=RETRY_DAYS + 1)), series, C)
    assert series.given_up == {missing}
    assert series.attempts == {}


def test_when_back_off_has_reached_eight_days_then_it_stays_at_eight() -> None:
    day = date(2026, 3, 20)
    series = SeriesCache()
    series.attempts[day] = DayAttempts(count=4, next_retry=TODAY)
    book_incomplete_days(poll_ctx(TODAY), series, C)
    assert series.attempts[day] == DayAttempts(5, TODAY + timedelta(days=8))


def test_when_a_booked_day_is_complete_then_its_attempts_go() -> None:
    series = with_daily(TODAY - timedelta(days=20), TODAY)
    day = TODAY - timedelta(days=3)
    series.attempts[day] = DayAttempts(count=2, next_retry=TODAY + timedelta(days=1))
    book_incomplete_days(poll_ctx(TODAY), series, C)
    assert series.attempts == {}


def test_when_the_curve_is_wanted_then_an_incomplete_curve_is_booked_too() -> None:
    series = with_daily(TODAY - timedelta(days=20), TODAY)
    for day in days(TODAY - timedelta(days=20), TODAY):
        series.curve_state[day] = CurveState.COMPLETE
    partial = TODAY - timedelta(days=2)
    series.curve_state[partial] = CurveState.PARTIAL
    book_incomplete_days(poll_ctx(TODAY, [MEASURE_LOAD_CURVE, MEASURE_DAILY_ENERGY, MEASURE_MAX_POWER]), series, C)
    assert series.attempts == {partial: DayAttempts(1, TODAY + timedelta(days=1))}
    book_incomplete_days(poll_ctx(TODAY, [MEASURE_DAILY_ENERGY]), series, C)  # curve not imported: complete
    assert series.attempts == {}


# --- async_fetch: typed errors to outcomes ---------------------------------------------------------------------------


class RaisingSource(MeteringSource):
    """A source whose every request raises ``error`` (the library's typed errors, as its parsers raise them)."""

    def __init__(self, session: aiohttp.ClientSession, error: EnedisError) -> None:
        super().__init__(session, base_url="http://127.0.0.1:9")
        self.error = error

    @property
    def contract(self) -> SourceContract:
        return DATA_CONNECT_CONTRACT

    def api_name(self, direction: Direction, measure: Measure) -> str:
        return "api"

    async def async_get_prms(self) -> list[str]:
        return [PRM]

    async def async_get_contract(self, prm: str) -> Contract:
        return Contract(prm)

    async def _async_fetch_body(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> object:
        raise self.error


async def fetch(error: EnedisError, measure: Measure = CURVE) -> Outcome:
    async with aiohttp.ClientSession() as session:
        return await async_fetch(
            RaisingSource(session, error), Job(PRM, C, measure, date(2026, 3, 23), TODAY, backfill=True)
        )


@pytest.mark.parametrize("measure", [CURVE, DAILY, Measure.INDEX])
async def test_when_the_source_raises_a_data_error_then_it_becomes_an_outcome(measure: Measure) -> None:
    assert (await fetch(ApiNotSubscribedError(api="mesures"), measure)) == Outcome(Kind.NOT_SUBSCRIBED, api="mesures")
    assert (await fetch(ApiNotSubscribedError(), measure)).api == "unknown"
    assert (await fetch(BeforeActivationError(), measure)).kind is Kind.OUT_OF_RANGE
    assert (await fetch(HistoryLimitError(), measure)).kind is Kind.OUT_OF_RANGE


async def test_when_a_measure_request_fails_on_its_data_then_readings_are_empty() -> None:
    assert await fetch(WrongDirectionError()) == Outcome(Kind.ABSENT)
    empty = Series(PRM, C, CURVE, "")
    assert await fetch(NoDataError()) == Outcome(Kind.READINGS, empty)
    refused = CurveNotEnabledError(code="ADAM-ERR0075")
    assert await fetch(refused) == Outcome(Kind.READINGS, empty, explicit_refusal=True, error=refused)
    invalid = InvalidDatesError()
    assert await fetch(invalid) == Outcome(Kind.READINGS, empty, error=invalid)


async def test_when_an_index_request_fails_then_unsupported_or_recorded_error() -> None:
    assert await fetch(UnsupportedError(), Measure.INDEX) == Outcome(Kind.UNSUPPORTED)
    no_data = NoDataError()
    assert await fetch(no_data, Measure.INDEX) == Outcome(Kind.INDEX, error=no_data)


@pytest.mark.parametrize("error", [AuthError(), RateLimitError(retry_after=60.0), CommunicationError()])
@pytest.mark.parametrize("measure", [CURVE, Measure.INDEX])
async def test_when_the_error_concerns_the_entry_or_the_moment_then_it_propagates(
    error: EnedisError, measure: Measure
) -> None:
    with pytest.raises(type(error)):
        await fetch(error, measure)
