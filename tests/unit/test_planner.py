"""Tests of the planner (`planner.py`): pure, no Home Assistant, time injected through `planner.Context`.

Every planner call goes through `plan`, which checks that the state it read is unchanged afterwards (the planner
never mutates: what it learns is returned as `Settled`). Dates are real ones around the 2026 DST changes
(2026-03-29 spring, 2026-10-25 autumn).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from custom_components.enedis import fetcher, planner
from custom_components.enedis.api import Contract, Direction, Measure, Reading, SourceContract
from custom_components.enedis.api.calendar import local_midnight_utc, months_before, paris_datetime
from custom_components.enedis.api.contract import CONSO_API_CONTRACT, DATA_CONNECT_CONTRACT
from custom_components.enedis.const import (
    CONF_CURVE_MONTHS,
    CONF_DAILY_MONTHS,
    CONF_MEASURES,
    CONF_TARIFF,
    MEASURE_DAILY_ENERGY,
    MEASURE_LOAD_CURVE,
    MEASURE_MAX_POWER,
    MEASURE_PRODUCTION,
    TARIFF_HPHC,
)
from custom_components.enedis.ledger import CurveState
from custom_components.enedis.options import EntryOptions
from custom_components.enedis.planner import Context, Job, Settled
from custom_components.enedis.state import DayAttempts, EntryCache, MeasureRefusal, SeriesCache

PRM = "12345678901234"
C = Direction.CONSUMPTION
P = Direction.PRODUCTION
TODAY = date(2026, 3, 30)  # the Monday after the spring change
POLL_MINUTE = 9 * 60 + 17  # 09:17 Paris
RETRY = timedelta(minutes=75)
CONSUMPTION_ONLY = {CONF_MEASURES: [MEASURE_LOAD_CURVE, MEASURE_DAILY_ENERGY, MEASURE_MAX_POWER]}
"""The options of these tests unless they say otherwise (production is asked by the default options)."""


def api_name(direction: Direction, measure: Measure) -> str:
    """One API per (direction, measure), so that a test can unsubscribe one of them."""
    return f"{direction.value}/{measure.value}"


def make_ctx(
    today: date = TODAY,
    now: datetime | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    contract: SourceContract = DATA_CONNECT_CONTRACT,
    contracts: Mapping[str, Contract] | None = None,
    **kwargs: Any,
) -> Context:
    """A context at ``now`` (default: 12:00 Paris on ``today``, after the poll time)."""
    return Context(
        today=today,
        now=now or paris_datetime(today, 12),
        options=EntryOptions.from_entry({**CONSUMPTION_ONLY, **(options or {})}),
        contract=contract,
        prms=(PRM,),
        entry_prms=1,
        contracts=contracts or {},
        poll_minute=POLL_MINUTE,
        retry_interval=RETRY,
        api_name=api_name,
        **kwargs,
    )


def plan[T](call: Callable[..., T], ctx: Context, cache: EntryCache, *args: Any) -> T:
    """Call a planner function; fail if it changed the state it read."""
    before = cache.to_json()
    result = call(ctx, cache, *args)
    assert cache.to_json() == before, f"{call.__name__} mutated the state"
    return result


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def entry(series: SeriesCache | None = None, direction: Direction = C) -> EntryCache:
    cache = EntryCache()
    if series is not None:
        cache.prm(PRM).series[direction] = series
    return cache


def peak(day: date) -> Reading:
    start = local_midnight_utc(day)
    return Reading(start, local_midnight_utc(day + timedelta(days=1)), 6000.0, at=start + timedelta(hours=19))


def imported(today: date = TODAY, *, complete_until: date | None = None) -> SeriesCache:
    """A series whose history import is over: every measure known up to ``complete_until`` (excluded).

    Default: up to the day before yesterday (yesterday is what the daily poll asks for).
    """
    until = complete_until or today - timedelta(days=1)
    series = SeriesCache(curve_frontier=today - timedelta(days=60), last_poll_day=today - timedelta(days=1))
    for day in days(today - timedelta(days=60), until):
        series.curve_state[day] = CurveState.COMPLETE
        series.daily[day] = 12000.0
        series.max_power[day] = peak(day)
    for measure in Measure:
        series.progress[measure].history_done = True
    return series


# --- the backfill of a new entry ------------------------------------------------------------------------------------


def test_when_entry_is_new_then_newest_curve_week_first_then_daily_windows() -> None:
    ctx, cache = make_ctx(), entry()
    job, settled = plan(planner.next_backfill_job, ctx, cache)
    assert job == Job(PRM, C, Measure.LOAD_CURVE, date(2026, 3, 23), TODAY, backfill=True)
    assert settled == {}
    jobs, _ = plan(planner.backfill_jobs, ctx, cache, PRM, C)
    # Daily energy and max power: the newest 365 days of their 36 months; no index with the base tariff.
    assert jobs == [
        (0, job),
        (1, Job(PRM, C, Measure.DAILY_ENERGY, date(2025, 3, 30), TODAY, backfill=True)),
        (2, Job(PRM, C, Measure.MAX_POWER, date(2025, 3, 30), TODAY, backfill=True)),
    ]


def test_when_newest_week_is_known_then_daily_energy_before_max_power_before_the_walk() -> None:
    series = SeriesCache(curve_frontier=date(2026, 3, 23))
    for day in days(date(2026, 3, 23), TODAY):
        series.curve_state[day] = CurveState.COMPLETE
    ctx, cache = make_ctx(), entry(series)
    job, _ = plan(planner.next_backfill_job, ctx, cache)
    assert job is not None
    assert job.measure is Measure.DAILY_ENERGY
    series.progress[Measure.DAILY_ENERGY].history_done = True
    job, _ = plan(planner.next_backfill_job, ctx, cache)
    assert job is not None
    assert job.measure is Measure.MAX_POWER
    series.progress[Measure.MAX_POWER].history_done = True
    jobs, settled = plan(planner.backfill_jobs, ctx, cache, PRM, C)
    assert jobs == [(3, Job(PRM, C, Measure.LOAD_CURVE, date(2026, 3, 16), date(2026, 3, 23), backfill=True))]
    assert not settled


def test_when_daily_history_is_partly_fetched_then_the_next_window_ends_at_the_newest_missing_day() -> None:
    series = SeriesCache(curve_frontier=date(2026, 3, 23))
    series.progress[Measure.DAILY_ENERGY].fetched.update(days(date(2025, 3, 30), TODAY))
    jobs, _ = plan(planner.backfill_jobs, make_ctx(), entry(series), PRM, C)
    assert (1, Job(PRM, C, Measure.DAILY_ENERGY, date(2024, 3, 30), date(2025, 3, 30), backfill=True)) in jobs


def test_when_walk_meets_known_weeks_then_it_passes_them_and_settles_the_frontier_without_mutating() -> None:
    series = SeriesCache(curve_frontier=date(2026, 3, 23))
    for day in days(date(2026, 3, 9), date(2026, 3, 23)):  # two weeks already known below the frontier
        series.curve_state[day] = CurveState.COMPLETE
    series.curve_state[date(2026, 3, 20)] = CurveState.PARTIAL  # known too (recent: the daily poll retries it)
    series.given_up.add(date(2026, 3, 8))
    series.curve_state[date(2026, 3, 8)] = CurveState.MISSING
    for measure in (Measure.DAILY_ENERGY, Measure.MAX_POWER):
        series.progress[measure].history_done = True
    jobs, settled = plan(planner.backfill_jobs, make_ctx(), entry(series), PRM, C)
    assert jobs == [(3, Job(PRM, C, Measure.LOAD_CURVE, date(2026, 3, 2), date(2026, 3, 9), backfill=True))]
    assert settled == Settled(frontier=date(2026, 3, 9))
    assert series.curve_frontier == date(2026, 3, 23)  # applied by the coordinator, not the planner


def test_when_a_known_week_has_an_empty_day_then_the_walk_asks_it_again() -> None:
    series = SeriesCache(curve_frontier=date(2026, 3, 23))
    for day in days(date(2026, 3, 16), date(2026, 3, 23)):
        series.curve_state[day] = CurveState.COMPLETE
    series.curve_state[date(2026, 3, 18)] = CurveState.MISSING
    jobs, settled = plan(planner.backfill_jobs, make_ctx(), entry(series), PRM, C)
    assert (3, Job(PRM, C, Measure.LOAD_CURVE, date(2026, 3, 16), date(2026, 3, 23), backfill=True)) in jobs
    assert settled.frontier is None


def test_when_walk_reaches_its_start_then_settled_walk_ended() -> None:
    ctx = make_ctx(options={CONF_CURVE_MONTHS: 1})
    first = months_before(TODAY, 1)  # 2026-02-28
    series = SeriesCache(curve_frontier=first)
    jobs, settled = plan(planner.backfill_jobs, ctx, entry(series), PRM, C)
    assert not [j for _, j in jobs if j.measure is Measure.LOAD_CURVE]
    assert settled.walk_ended
    assert settled.frontier is None
    # Known weeks down to the start: passed, and the walk ends at once.
    series = SeriesCache(curve_frontier=date(2026, 3, 23))
    for day in days(first, date(2026, 3, 23)):
        series.curve_state[day] = CurveState.COMPLETE
    jobs, settled = plan(planner.backfill_jobs, ctx, entry(series), PRM, C)
    assert settled.walk_ended
    assert settled.frontier == first
    assert not [j for _, j in jobs if j.measure is Measure.LOAD_CURVE]
    assert not series.curve_done


def test_when_every_day_of_a_history_was_asked_then_settled_history_done() -> None:
    ctx = make_ctx(options={CONF_DAILY_MONTHS: 1})
    series = SeriesCache(curve_frontier=date(2026, 3, 23))
    series.progress[Measure.DAILY_ENERGY].fetched.update(days(months_before(TODAY, 1), TODAY))
    series.progress[Measure.MAX_POWER].fetched.update(days(months_before(TODAY, 1) + timedelta(days=1), TODAY))
    jobs, settled = plan(planner.backfill_jobs, ctx, entry(series), PRM, C)
    assert settled.history_done == frozenset({Measure.DAILY_ENERGY})
    assert [j.measure for _, j in jobs] == [Measure.LOAD_CURVE, Measure.MAX_POWER]
    assert jobs[1] == (2, Job(PRM, C, Measure.MAX_POWER, date(2026, 2, 28), date(2026, 3, 1), backfill=True))
    assert not series.progress[Measure.DAILY_ENERGY].history_done


def test_when_a_probe_is_in_progress_then_its_middle_goes_first() -> None:
    series = SeriesCache(curve_frontier=date(2026, 3, 23))
    series.progress[Measure.DAILY_ENERGY].probe = (date(2023, 4, 1), date(2023, 6, 1))
    job, _ = plan(planner.next_backfill_job, make_ctx(), entry(series))
    middle = date(2023, 5, 1)  # 61 days apart: 30 and a half days on
    assert job == Job(PRM, C, Measure.DAILY_ENERGY, middle, date(2023, 6, 1), backfill=True, probe=True)
    series.progress[Measure.LOAD_CURVE].probe = (date(2024, 3, 15), date(2024, 3, 22))
    jobs, _ = plan(planner.backfill_jobs, make_ctx(), entry(series), PRM, C)
    assert (0, Job(PRM, C, Measure.LOAD_CURVE, date(2024, 3, 18), date(2024, 3, 22), backfill=True, probe=True)) in jobs


def test_when_floor_or_activation_is_recent_then_the_start_is_that_day() -> None:
    activated = Contract(PRM, last_activation_date=date(2026, 3, 26), production_activation_date=date(2026, 1, 5))
    ctx = make_ctx(contracts={PRM: activated})
    cache = entry()
    assert plan(planner.start, ctx, cache, PRM, C, Measure.LOAD_CURVE) == date(2026, 3, 26)
    assert plan(planner.start, ctx, cache, PRM, P, Measure.DAILY_ENERGY) == date(2026, 1, 5)
    job, _ = plan(planner.next_backfill_job, ctx, cache)
    assert job == Job(PRM, C, Measure.LOAD_CURVE, date(2026, 3, 26), TODAY, backfill=True)
    series = SeriesCache()
    series.progress[Measure.DAILY_ENERGY].floor = date(2025, 11, 2)
    cache = entry(series)
    ctx = make_ctx()
    assert plan(planner.start, ctx, cache, PRM, C, Measure.DAILY_ENERGY) == date(2025, 11, 2)
    assert plan(planner.start, ctx, cache, PRM, C, Measure.MAX_POWER) == date(2023, 3, 30)  # floors are per measure


def test_when_import_history_asks_older_then_start_goes_back_to_the_source_horizon_only() -> None:
    cache = entry()
    ctx = make_ctx(options={CONF_CURVE_MONTHS: 6})
    assert plan(planner.start, ctx, cache, PRM, C, Measure.LOAD_CURVE) == date(2025, 9, 30)
    cache.prm(PRM).history_start = date(2025, 1, 1)
    assert plan(planner.start, ctx, cache, PRM, C, Measure.LOAD_CURVE) == date(2025, 1, 1)
    cache.prm(PRM).history_start = date(2020, 1, 1)
    # Enedis serves 24 months of curve plus 15 days, 36 of daily energy plus 15 days.
    assert plan(planner.start, ctx, cache, PRM, C, Measure.LOAD_CURVE) == date(2024, 3, 15)
    assert plan(planner.start, ctx, cache, PRM, C, Measure.DAILY_ENERGY) == date(2023, 3, 15)


# --- a refused load curve ---------------------------------------------------------------------------------------------


def refused(next_try: date) -> SeriesCache:
    series = imported()
    series.refused[Measure.LOAD_CURVE.value] = MeasureRefusal(since=next_try - timedelta(days=7), next_try=next_try)
    series.progress[Measure.LOAD_CURVE].history_done = False  # a refusal stops the walk where it was
    return series


def test_when_curve_is_refused_then_no_backfill_and_reasked_weekly_by_the_first_poll() -> None:
    series = refused(next_try=TODAY + timedelta(days=1))
    cache, ctx = entry(series), make_ctx()
    jobs, _ = plan(planner.backfill_jobs, ctx, cache, PRM, C)
    assert not [j for _, j in jobs if j.measure is Measure.LOAD_CURVE]
    assert [j.measure for j in plan(planner.daily_jobs, ctx, cache, PRM, C)] == [
        Measure.DAILY_ENERGY,
        Measure.MAX_POWER,
    ]
    series.refused[Measure.LOAD_CURVE.value].next_try = TODAY
    polled = plan(planner.daily_jobs, ctx, cache, PRM, C)
    assert polled[0] == Job(PRM, C, Measure.LOAD_CURVE, date(2026, 3, 23), TODAY, backfill=False)
    series.last_poll_day = TODAY  # not the first poll of the day: no re-ask
    ctx = make_ctx(now=paris_datetime(TODAY, 15))
    assert not [j for j in plan(planner.daily_jobs, ctx, cache, PRM, C) if j.measure is Measure.LOAD_CURVE]


# --- the daily poll ---------------------------------------------------------------------------------------------------


def test_when_before_the_poll_time_then_no_daily_job() -> None:
    cache = entry(imported())
    before = make_ctx(now=paris_datetime(TODAY, 9, 16))
    assert plan(planner.daily_jobs, before, cache, PRM, C) == []


def test_when_first_poll_of_the_day_then_yesterday_and_the_late_correction_days() -> None:
    cache = entry(imported())
    at = make_ctx(now=paris_datetime(TODAY, 9, 17))
    late = TODAY - timedelta(days=2)
    assert plan(planner.daily_jobs, at, cache, PRM, C) == [
        Job(PRM, C, Measure.LOAD_CURVE, late, TODAY, backfill=False),
        Job(PRM, C, Measure.DAILY_ENERGY, late, TODAY, backfill=False),
        Job(PRM, C, Measure.MAX_POWER, late, TODAY, backfill=False),
    ]


def test_when_the_index_was_answered_without_registers_then_the_poll_does_not_ask_it_again() -> None:
    """A meter whose index Enedis does not serve answers "no data": the days asked are not asked again at the next
    refresh (a backfill refreshes every second), only with the next day's first poll (its late corrections)."""
    series = imported()
    series.last_poll_day = TODAY
    hphc = make_ctx(now=paris_datetime(TODAY, 15), options={CONF_TARIFF: TARIFF_HPHC})
    cache = entry(series)
    asked = [j for j in plan(planner.daily_jobs, hphc, cache, PRM, C) if j.measure is Measure.INDEX]
    assert asked == [Job(PRM, C, Measure.INDEX, TODAY - timedelta(days=14), TODAY, backfill=False)]
    series.progress[Measure.INDEX].fetched.update(days(TODAY - timedelta(days=14), TODAY))  # "no data"
    assert not [j for j in plan(planner.daily_jobs, hphc, cache, PRM, C) if j.measure is Measure.INDEX]
    tomorrow = make_ctx(
        TODAY + timedelta(days=1), paris_datetime(TODAY + timedelta(days=1), 15), options={CONF_TARIFF: TARIFF_HPHC}
    )
    asked = [j for j in plan(planner.daily_jobs, tomorrow, cache, PRM, C) if j.measure is Measure.INDEX]
    assert asked == [Job(PRM, C, Measure.INDEX, TODAY - timedelta(days=1), TODAY + timedelta(days=1), backfill=False)]


def test_when_the_poll_already_ran_today_then_only_yesterday_after_the_retry_interval() -> None:
    series = imported()
    series.last_poll_day = TODAY
    cache = entry(series)
    last = paris_datetime(TODAY, 9, 17)
    attempts = {(PRM, C): last}
    early = make_ctx(now=last + RETRY - timedelta(seconds=1), last_poll_attempt=attempts)
    assert plan(planner.daily_jobs, early, cache, PRM, C) == []
    due = make_ctx(now=last + RETRY, last_poll_attempt=attempts)
    yesterday = TODAY - timedelta(days=1)
    assert plan(planner.daily_jobs, due, cache, PRM, C) == [
        Job(PRM, C, m, yesterday, TODAY, backfill=False)
        for m in (Measure.LOAD_CURVE, Measure.DAILY_ENERGY, Measure.MAX_POWER)
    ]
    assert plan(planner.next_wake, early, cache) == last + RETRY


def test_when_past_the_give_up_hour_then_yesterday_waits_for_tomorrow() -> None:
    series = imported()
    series.last_poll_day = TODAY
    cache = entry(series)
    before = make_ctx(now=paris_datetime(TODAY, 19, 59))
    assert plan(planner.daily_jobs, before, cache, PRM, C)
    after = make_ctx(now=paris_datetime(TODAY, 20))
    assert plan(planner.daily_jobs, after, cache, PRM, C) == []
    # A retry that would fall after 20:00 is not planned: the next wake is Paris midnight.
    last = {(PRM, C): paris_datetime(TODAY, 19)}
    ctx = make_ctx(now=paris_datetime(TODAY, 19, 30), last_poll_attempt=last)
    assert plan(planner.next_wake, ctx, cache) == local_midnight_utc(TODAY + timedelta(days=1))


def test_when_an_older_day_is_incomplete_then_it_is_due_only_after_its_back_off() -> None:
    series = imported(complete_until=TODAY)
    old = TODAY - timedelta(days=5)
    del series.daily[old]
    series.attempts[old] = DayAttempts(count=2, next_retry=TODAY + timedelta(days=1))
    assert planner.due_days(series, Measure.DAILY_ENERGY, TODAY, first_poll=False) == []
    series.attempts[old] = DayAttempts(count=2, next_retry=TODAY)
    assert planner.due_days(series, Measure.DAILY_ENERGY, TODAY, first_poll=False) == [old]
    del series.attempts[old]  # never booked yet: due
    assert planner.due_days(series, Measure.DAILY_ENERGY, TODAY, first_poll=False) == [old]
    series.given_up.add(old)
    assert planner.due_days(series, Measure.DAILY_ENERGY, TODAY, first_poll=False) == []


def test_when_yesterday_is_given_up_then_it_is_skipped_even_by_the_late_correction() -> None:
    series = imported()
    yesterday = TODAY - timedelta(days=1)
    series.given_up.add(yesterday)
    assert planner.due_days(series, Measure.DAILY_ENERGY, TODAY, first_poll=True) == [TODAY - timedelta(days=2)]


def test_when_yesterday_is_incomplete_then_it_is_due_whatever_its_back_off() -> None:
    series = imported()
    yesterday = TODAY - timedelta(days=1)
    series.attempts[yesterday] = DayAttempts(count=1, next_retry=TODAY + timedelta(days=1))
    assert planner.due_days(series, Measure.MAX_POWER, TODAY, first_poll=False) == [yesterday]


def test_when_histories_are_not_done_then_the_daily_poll_leaves_their_days_to_the_backfill() -> None:
    series = imported()
    series.progress[Measure.DAILY_ENERGY].history_done = False
    series.curve_frontier = None
    assert planner.due_days(series, Measure.DAILY_ENERGY, TODAY, first_poll=True) == []
    assert planner.due_days(series, Measure.LOAD_CURVE, TODAY, first_poll=True) == []


def test_when_an_api_is_not_subscribed_then_its_jobs_are_skipped() -> None:
    cache = entry(imported())
    ctx = make_ctx(unsubscribed=frozenset({api_name(C, Measure.LOAD_CURVE)}))
    assert [j.measure for j in plan(planner.daily_jobs, ctx, cache, PRM, C)] == [
        Measure.DAILY_ENERGY,
        Measure.MAX_POWER,
    ]
    job, _ = plan(planner.next_backfill_job, ctx, entry())
    assert job is not None
    assert job.measure is Measure.DAILY_ENERGY
    every = frozenset(api_name(C, m) for m in Measure)
    ctx = make_ctx(unsubscribed=every)
    assert plan(planner.next_backfill_job, ctx, entry()) == (None, {})
    # Due now but nothing may be asked: no wake every second, the next is Paris midnight.
    assert plan(planner.next_wake, ctx, cache) == local_midnight_utc(TODAY + timedelta(days=1))


# --- what is imported -------------------------------------------------------------------------------------------------


def test_when_production_then_no_max_power_and_index_only_with_hphc() -> None:
    ctx = make_ctx()
    assert planner.wants(ctx, Measure.MAX_POWER, C)
    assert not planner.wants(ctx, Measure.MAX_POWER, P)  # the contract serves none in production
    assert planner.wants(ctx, Measure.LOAD_CURVE, P)
    assert planner.wants(ctx, Measure.DAILY_ENERGY, P)
    assert not planner.wants(ctx, Measure.INDEX, C)  # base tariff
    hphc = make_ctx(options={CONF_TARIFF: TARIFF_HPHC})
    assert planner.wants(hphc, Measure.INDEX, C)
    assert not planner.wants(hphc, Measure.INDEX, P)
    unsupported = make_ctx(options={CONF_TARIFF: TARIFF_HPHC}, index_unsupported=True)
    assert not planner.wants(unsupported, Measure.INDEX, C)
    jobs, _ = plan(planner.backfill_jobs, hphc, entry(), PRM, C)
    assert (2, Job(PRM, C, Measure.INDEX, date(2025, 3, 30), TODAY, backfill=True)) in jobs


def test_when_options_leave_a_measure_out_then_it_is_not_wanted_nor_planned() -> None:
    ctx = make_ctx(options={CONF_MEASURES: [MEASURE_DAILY_ENERGY]})
    assert not planner.wants(ctx, Measure.LOAD_CURVE, C)
    assert not planner.wants(ctx, Measure.MAX_POWER, C)
    assert plan(planner.directions, ctx, entry(), PRM) == [C]
    jobs, _ = plan(planner.backfill_jobs, ctx, entry(), PRM, C)
    assert [j.measure for _, j in jobs] == [Measure.DAILY_ENERGY]
    both = make_ctx(options={CONF_MEASURES: [MEASURE_LOAD_CURVE, MEASURE_MAX_POWER, MEASURE_PRODUCTION]})
    assert plan(planner.directions, both, entry(), PRM) == [C, P]


def test_when_contract_or_enedis_says_no_production_then_that_direction_is_dropped() -> None:
    with_production = {CONF_MEASURES: [MEASURE_DAILY_ENERGY, MEASURE_PRODUCTION]}
    assert plan(planner.directions, make_ctx(options=with_production), entry(), PRM) == [C, P]
    ctx = make_ctx(options=with_production, contracts={PRM: Contract(PRM, has_production=False)})
    assert plan(planner.directions, ctx, entry(), PRM) == [C]
    cache = entry()
    cache.prm(PRM).absent.add(P)
    assert plan(planner.directions, make_ctx(options=with_production), cache, PRM) == [C]
    producer = Contract(PRM, has_production=True, has_consumption=False)
    ctx = make_ctx(options=with_production, contracts={PRM: producer})
    assert plan(planner.directions, ctx, entry(), PRM) == [P]


# --- pacing (Conso API) -------------------------------------------------------------------------------------------


def test_when_conso_api_burst_is_not_spent_then_backfill_goes_back_to_back() -> None:
    now = paris_datetime(TODAY, 12)
    cache = entry()
    cache.backfill_requests, cache.last_backfill_request = 9, now.timestamp()
    ctx = make_ctx(now=now, contract=CONSO_API_CONTRACT, remaining_budget=80)
    assert plan(planner.backfill_allowed, ctx, cache)
    assert plan(planner.next_wake, ctx, cache) == now + CONSO_API_CONTRACT.policy.interval


def test_when_conso_api_burst_is_spent_then_one_request_per_pace() -> None:
    pace = CONSO_API_CONTRACT.policy.pace
    assert pace == timedelta(minutes=8)
    last = paris_datetime(TODAY, 12)
    cache = entry()
    cache.backfill_requests, cache.last_backfill_request = 10, last.timestamp()
    soon = make_ctx(now=last + pace - timedelta(seconds=1), contract=CONSO_API_CONTRACT, remaining_budget=50)
    assert not plan(planner.backfill_allowed, soon, cache)
    assert plan(planner.next_wake, soon, cache) == last + pace
    later = make_ctx(now=last + pace, contract=CONSO_API_CONTRACT, remaining_budget=50)
    assert plan(planner.backfill_allowed, later, cache)
    # Data Connect is unpaced: the same count changes nothing.
    assert plan(planner.backfill_allowed, make_ctx(now=last + timedelta(seconds=1)), cache)


def test_when_budget_is_down_to_the_reserve_then_no_backfill_until_it_frees_up() -> None:
    asked: list[int] = []

    def budget_wait(free: int) -> float:
        asked.append(free)
        return 600.0

    now = paris_datetime(TODAY, 12)
    cache = entry()
    ctx = make_ctx(now=now, contract=CONSO_API_CONTRACT, remaining_budget=5, budget_wait=budget_wait)
    assert plan(planner.backfill_allowed, ctx, cache)
    ctx = make_ctx(now=now, contract=CONSO_API_CONTRACT, remaining_budget=4, budget_wait=budget_wait)
    assert not plan(planner.backfill_allowed, ctx, cache)
    assert plan(planner.next_wake, ctx, cache) == now + timedelta(seconds=600)
    assert asked == [5]  # the reserve (4 per PRM) plus one
    ctx = make_ctx(now=now, contract=CONSO_API_CONTRACT, remaining_budget=0, budget_wait=lambda _free: 0.0)
    assert plan(planner.next_wake, ctx, cache) == now + timedelta(seconds=1)


# --- when to wake -----------------------------------------------------------------------------------------------------


def test_when_nothing_is_due_then_wake_at_paris_midnight() -> None:
    series = imported(complete_until=TODAY)
    series.last_poll_day = TODAY
    ctx = make_ctx(now=paris_datetime(TODAY, 15))
    assert plan(planner.next_wake, ctx, entry(series)) == datetime(2026, 3, 30, 22, tzinfo=UTC)


def test_when_the_poll_is_due_later_today_then_wake_at_the_poll_time() -> None:
    ctx = make_ctx(now=paris_datetime(TODAY, 7))
    assert plan(planner.next_wake, ctx, entry(imported())) == datetime(2026, 3, 30, 7, 17, tzinfo=UTC)


def test_when_the_poll_is_due_now_then_wake_one_second_later_not_earlier() -> None:
    now = paris_datetime(TODAY, 10)
    assert plan(planner.next_wake, make_ctx(now=now), entry(imported())) == now + timedelta(seconds=1)


def test_when_spring_forward_day_then_poll_time_and_midnight_follow_paris() -> None:
    spring = date(2026, 3, 29)
    assert planner.poll_time(make_ctx(spring), spring) == datetime(2026, 3, 29, 7, 17, tzinfo=UTC)  # CEST
    eve = date(2026, 3, 28)
    assert planner.poll_time(make_ctx(eve), eve) == datetime(2026, 3, 28, 8, 17, tzinfo=UTC)  # CET
    ctx = make_ctx(spring, now=datetime(2026, 3, 29, 6, tzinfo=UTC))  # 08:00 CEST
    assert plan(planner.daily_jobs, ctx, entry(imported(spring)), PRM, C) == []
    assert plan(planner.next_wake, ctx, entry(imported(spring))) == datetime(2026, 3, 29, 7, 17, tzinfo=UTC)
    ctx = make_ctx(eve, now=datetime(2026, 3, 28, 20, tzinfo=UTC))
    series_eve = imported(eve, complete_until=eve)
    series_eve.last_poll_day = eve
    # Saturday 21:00 CET: midnight of the 23-hour Sunday is 23:00 UTC.
    assert plan(planner.next_wake, ctx, entry(series_eve)) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    series = imported(spring, complete_until=spring)
    series.last_poll_day = spring
    ctx = make_ctx(spring, now=datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert plan(planner.next_wake, ctx, entry(series)) == datetime(2026, 3, 29, 22, tzinfo=UTC)


def test_when_fall_back_day_then_poll_time_and_midnight_follow_paris() -> None:
    autumn = date(2026, 10, 25)
    ctx = make_ctx(autumn, now=datetime(2026, 10, 25, 7, tzinfo=UTC))  # 08:00 CET
    assert plan(planner.next_wake, ctx, entry(imported(autumn))) == datetime(2026, 10, 25, 8, 17, tzinfo=UTC)
    series = imported(autumn, complete_until=autumn)
    series.last_poll_day = autumn
    ctx = make_ctx(autumn, now=datetime(2026, 10, 25, 12, tzinfo=UTC))
    # The 25-hour Sunday ends at 23:00 UTC; the Saturday before ended at 22:00 UTC.
    assert plan(planner.next_wake, ctx, entry(series)) == datetime(2026, 10, 25, 23, tzinfo=UTC)
    eve = date(2026, 10, 24)
    series_eve = imported(eve, complete_until=eve)
    series_eve.last_poll_day = eve
    ctx = make_ctx(eve, now=datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert plan(planner.next_wake, ctx, entry(series_eve)) == datetime(2026, 10, 24, 22, tzinfo=UTC)


def test_when_backfill_has_work_then_wake_after_the_source_interval() -> None:
    now = paris_datetime(TODAY, 12)
    assert plan(planner.next_wake, make_ctx(now=now), entry()) == now + DATA_CONNECT_CONTRACT.policy.interval


def test_when_old_partial_days_remain_then_a_repair_job_comes_last() -> None:
    series = imported()
    old = [TODAY - timedelta(days=40), TODAY - timedelta(days=38), TODAY - timedelta(days=20)]
    for day in old:
        series.curve_state[day] = CurveState.PARTIAL
    series.attempts[old[1]] = DayAttempts(count=planner.OLD_PARTIAL_ATTEMPTS)
    recent = TODAY - timedelta(days=3)
    series.curve_state[recent] = CurveState.PARTIAL  # within the daily poll's reach: not a repair
    jobs, _ = plan(planner.backfill_jobs, make_ctx(), entry(series), PRM, C)
    repair = Job(PRM, C, Measure.LOAD_CURVE, old[0], old[0] + timedelta(days=1), backfill=True, repair=True)
    assert jobs == [(4, repair)]


def test_when_the_curve_starts_today_then_the_walk_ends_and_tomorrow_poll_asks_yesterday() -> None:
    """A meter activated today (or whose bisection found nothing served before today) has no curve to walk.

    The walk ended without a frontier, and the daily poll leaves the curve to a walk that has no frontier yet
    (`due_days`): the curve was never asked again, not even the next days.
    """
    activated = {PRM: Contract(PRM, last_activation_date=TODAY)}
    series = SeriesCache()
    cache = entry(series)
    jobs, settled = plan(planner.backfill_jobs, make_ctx(contracts=activated), cache, PRM, C)
    assert not [j for _, j in jobs if j.measure is Measure.LOAD_CURVE]
    assert settled.frontier == TODAY
    assert settled.walk_ended
    series.settle(settled.frontier, settled.walk_ended, settled.history_done)
    tomorrow = TODAY + timedelta(days=1)
    ctx = make_ctx(tomorrow, contracts=activated)
    assert Job(PRM, C, Measure.LOAD_CURVE, TODAY, tomorrow, backfill=False) in plan(
        planner.daily_jobs, ctx, cache, PRM, C
    )


def test_when_the_meter_was_activated_last_week_then_the_poll_asks_no_day_before() -> None:
    """Days before the activation have nothing to give: asked with yesterday, they would make Enedis refuse it too."""
    activation = date(2026, 3, 27)
    series = SeriesCache(curve_frontier=activation, last_poll_day=TODAY - timedelta(days=1))
    for day in days(activation, TODAY - timedelta(days=1)):
        series.curve_state[day] = CurveState.COMPLETE
        series.daily[day] = 12000.0
        series.max_power[day] = peak(day)
    for measure in Measure:
        series.progress[measure].history_done = True
    ctx = make_ctx(contracts={PRM: Contract(PRM, last_activation_date=activation)})
    late = TODAY - timedelta(days=2)
    assert plan(planner.daily_jobs, ctx, entry(series), PRM, C) == [
        Job(PRM, C, Measure.LOAD_CURVE, late, TODAY, backfill=False),
        Job(PRM, C, Measure.DAILY_ENERGY, late, TODAY, backfill=False),
        Job(PRM, C, Measure.MAX_POWER, late, TODAY, backfill=False),
    ]
    # And the poll's book-keeping does not count them as incomplete (nor give them up later).
    fetcher.book_incomplete_days(ctx, series, C, planner.start(ctx, entry(series), PRM, C, Measure.DAILY_ENERGY))
    assert not [day for day in series.attempts if day < activation]
