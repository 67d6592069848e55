"""The planner: which requests are due, and when to wake up, from the state alone.

Pure: no I/O, no Home Assistant, and no mutation of the state it reads. Everything that varies is injected in a
`Context` (today, now, the options, the source's contract, the budget left…), so its tests set up a state and a
context and read the answer (``tests/unit/test_planner.py``).

What planning learns without a request (the curve walk passes weeks whose every day is known; a measure has every
day of its history) is returned as `Settled`, which the coordinator applies to the state (`SeriesCache.settle`):
computing the next wake-up never changes what is persisted.

The schedule (see ``coordinator.py`` for how refreshes run it):

- **backfill**: per PRM and direction, the newest week of load curve first (tier 0), then daily energy (1), max
  power and the index (2) back to their start (at most 4 calls each), then the load curve week by week, newest first
  (3), then incomplete old days worth one more request (4). A bisection looking for the oldest day Enedis serves
  goes first (tier 0, `MeasureProgress.probe`).
- **daily poll**: from this installation's poll time on, the recent days (up to `RETRY_DAYS` back) that are due:
  yesterday until complete, the day before yesterday once (late corrections), older incomplete days after their
  back-off; a refused load curve's newest week once a week.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import hashlib

from .api import Contract, Direction, Measure, SourceContract
from .api.calendar import local_midnight_utc, months_before, paris_datetime
from .const import MEASURE_DAILY_ENERGY, MEASURE_LOAD_CURVE, MEASURE_MAX_POWER, MEASURE_PRODUCTION, TARIFF_HPHC
from .ledger import CurveState
from .options import EntryOptions
from .state import DayAttempts, EntryCache, PrmCache, SeriesCache

RETRY_DAYS = 14
"""Recent incomplete days are retried by the daily poll for this many days, then given up (reported)."""
OLD_PARTIAL_ATTEMPTS = 3
"""Days older than `RETRY_DAYS` whose curve came back incomplete during the backfill (a truncated answer) are
fetched again up to this many times, after the backfill's main work, then given up (reported)."""
GIVE_UP_HOUR = 20
"""While yesterday is incomplete the daily poll retries until this Paris hour, then waits for tomorrow."""
LATE_CORRECTION_DAYS = 2
"""The first poll of the day asks the last days again once (late corrections)."""
CURVE_TIERS = {Measure.LOAD_CURVE: 3, Measure.DAILY_ENERGY: 1, Measure.MAX_POWER: 2, Measure.INDEX: 2}
"""Backfill priority per measure (lower first); the newest curve week and probes go first (0), repairs last (4)."""
POLL_ORDER = (Measure.LOAD_CURVE, Measure.DAILY_ENERGY, Measure.MAX_POWER, Measure.INDEX)


@dataclass(frozen=True, slots=True)
class Job:
    """One request to make: a measure over a window, for one PRM and direction."""

    prm: str
    direction: Direction
    measure: Measure
    start: date
    end: date
    backfill: bool
    probe: bool = False
    repair: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    """Everything the planner reads besides the state."""

    today: date
    """Today in Paris."""
    now: datetime
    options: EntryOptions
    contract: SourceContract
    """The source's contract: measures served, window limits, quota policy."""
    prms: tuple[str, ...]
    """The PRMs requests are sent for (the entry's, without those Enedis refuses)."""
    entry_prms: int
    """How many PRMs the entry has (the daily poll's reserve is kept per PRM)."""
    contracts: Mapping[str, Contract]
    poll_minute: int
    """This installation's minute of the Paris day for the first daily poll."""
    retry_interval: timedelta
    """Between two polls while yesterday is incomplete."""
    api_name: Callable[[Direction, Measure], str]
    unsubscribed: frozenset[str] = frozenset()
    """APIs refused as not subscribed (asked again tomorrow)."""
    index_unsupported: bool = False
    last_poll_attempt: Mapping[tuple[str, Direction], datetime] = field(default_factory=dict)
    remaining_budget: int | None = None
    """What the source's long quotas still allow now (None: no long quota)."""
    budget_wait: Callable[[int], float] = lambda _free: 0.0
    """Seconds until the source's quotas allow that many more requests."""


@dataclass(frozen=True, slots=True)
class Settled:
    """What planning learnt of a series without a request (applied by `SeriesCache.settle`)."""

    frontier: date | None = None
    """The curve walk's new frontier: the weeks above it were all known."""
    walk_ended: bool = False
    """The curve walk reached its start."""
    history_done: frozenset[Measure] = frozenset()
    """Measures whose every day from their start was asked."""

    def __bool__(self) -> bool:
        """Whether there is anything to apply."""
        return self.frontier is not None or self.walk_ended or bool(self.history_done)


def stable_fraction(seed: str) -> float:
    """A per-installation number in [0, 1), stable across restarts."""
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) / 0x1_0000_0000


def days_between(start: date, end: date) -> list[date]:
    """The days of ``[start, end)``."""
    return [start + timedelta(days=i) for i in range((end - start).days)]


def group_windows(days: Iterable[date], size: int) -> list[tuple[date, date]]:
    """The fewest windows of at most ``size`` days covering ``days`` (sorted, gaps allowed inside)."""
    windows: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if windows and (day - windows[-1][0]).days < size:
            windows[-1] = (windows[-1][0], day + timedelta(days=1))
        else:
            windows.append((day, day + timedelta(days=1)))
    return windows


_EMPTY_PRM = PrmCache()


def series_of(cache: EntryCache, prm: str, direction: Direction) -> SeriesCache:
    """A series as the planner reads it: the cached one, or an empty one (not added to the cache)."""
    series = cache.prms.get(prm, _EMPTY_PRM).series.get(direction)
    return series if series is not None else SeriesCache()


def poll_time(ctx: Context, day: date) -> datetime:
    """When the first daily poll of ``day`` is due."""
    return paris_datetime(day, *divmod(ctx.poll_minute, 60))


def give_up_time(ctx: Context, day: date) -> datetime:
    """After this, an incomplete yesterday waits for tomorrow's poll."""
    return paris_datetime(day, GIVE_UP_HOUR)


# --- what to import -----------------------------------------------------------------------------------------------


def directions(ctx: Context, cache: EntryCache, prm: str) -> list[Direction]:
    """The directions imported for ``prm``: the options', minus what its contract or Enedis said it does not have."""
    absent = cache.prms.get(prm, _EMPTY_PRM).absent
    wanted = [Direction.CONSUMPTION]
    if MEASURE_PRODUCTION in ctx.options.measures:
        wanted.append(Direction.PRODUCTION)
    contract = ctx.contracts.get(prm)
    if contract is not None:
        if not contract.has_production and Direction.PRODUCTION in wanted:
            wanted.remove(Direction.PRODUCTION)
        if not contract.has_consumption:
            wanted.remove(Direction.CONSUMPTION)
    return [d for d in wanted if d not in absent]


def wants(ctx: Context, measure: Measure, direction: Direction) -> bool:
    """Whether ``measure`` is imported in ``direction``: served by the source and asked for by the options."""
    if not ctx.contract.serves(direction, measure):
        return False  # e.g. no max power in production: the source's contract says what it serves
    if measure is Measure.LOAD_CURVE:
        return MEASURE_LOAD_CURVE in ctx.options.measures
    if measure is Measure.MAX_POWER:
        return MEASURE_MAX_POWER in ctx.options.measures
    if measure is Measure.INDEX:
        # The meter's HP/HC registers, only when they are used (HP/HC option; the contract said it serves them).
        return direction is Direction.CONSUMPTION and ctx.options.tariff == TARIFF_HPHC and not ctx.index_unsupported
    return MEASURE_DAILY_ENERGY in ctx.options.measures


def activation(ctx: Context, prm: str, direction: Direction) -> date | None:
    """The day the meter started measuring ``direction``, when the contract says."""
    contract = ctx.contracts.get(prm)
    if contract is None:
        return None
    if direction is Direction.PRODUCTION:
        return contract.production_activation_date
    return contract.last_activation_date


def start(ctx: Context, cache: EntryCache, prm: str, direction: Direction, measure: Measure) -> date:
    """Oldest day to import for a measure: options, the source's horizon, activation, import_history, floor."""
    months = ctx.options.curve_months if measure is Measure.LOAD_CURVE else ctx.options.daily_months
    first = months_before(ctx.today, months)
    override = cache.prms.get(prm, _EMPTY_PRM).history_start
    if override is not None:
        first = min(first, override)
    first = max(first, ctx.contract.history_start(measure, ctx.today))
    activated = activation(ctx, prm, direction)
    if activated is not None:
        first = max(first, activated)
    floor = series_of(cache, prm, direction).progress[measure].floor
    if floor is not None:
        first = max(first, floor)
    return first


def curve_refused(series: SeriesCache) -> bool:
    """The PRM refuses this series' load curve (and the refusal has not been lifted)."""
    refusal = series.refused.get(Measure.LOAD_CURVE.value)
    return refusal is not None and not refusal.lifted


def curve_known(series: SeriesCache, day: date) -> bool:
    """The curve of ``day`` is in the cache (complete or partial, repaired apart) or was given up."""
    return series.curve_state.get(day) in (CurveState.COMPLETE, CurveState.PARTIAL) or day in series.given_up


def expects_curve(ctx: Context, direction: Direction, series: SeriesCache, day: date) -> bool:
    """A curve is wanted and can exist for ``day``: not refused, not before the recorded curve begins."""
    floor = series.progress[Measure.LOAD_CURVE].floor
    return wants(ctx, Measure.LOAD_CURVE, direction) and not curve_refused(series) and (floor is None or day >= floor)


def old_partial_days(series: SeriesCache, today: date) -> list[date]:
    """Incomplete curve days beyond the daily poll's reach, still worth one more request."""
    limit = today - timedelta(days=RETRY_DAYS)
    return [
        day
        for day, state in sorted(series.curve_state.items())
        if state is CurveState.PARTIAL
        and day < limit
        and day not in series.given_up
        and (series.attempts.get(day) or DayAttempts()).count < OLD_PARTIAL_ATTEMPTS
    ]


# --- backfill -----------------------------------------------------------------------------------------------------


def _curve_backfill(
    ctx: Context, cache: EntryCache, prm: str, direction: Direction, series: SeriesCache
) -> tuple[tuple[int, Job] | None, Settled]:
    """The curve walk's next window, newest first; weeks whose every day is known are passed without a request.

    A window whose every day already has its readings (or was given up) is not asked again: after `refetch`, a
    source change or a lifted refusal, the walk passes those weeks. Days that came back empty are asked (the reason
    to walk again may be that they were answered wrongly).
    """
    measure = Measure.LOAD_CURVE
    first = start(ctx, cache, prm, direction, measure)
    frontier = series.curve_frontier
    upper = frontier or ctx.today
    window = timedelta(days=ctx.contract.window_days(measure))
    while (
        frontier is not None
        and upper > first
        and all(curve_known(series, day) for day in days_between(max(first, upper - window), upper))
    ):
        upper = frontier = max(first, upper - window)
    moved = frontier if frontier != series.curve_frontier else None
    if upper <= first:
        if frontier is None:
            # Nothing to walk (the curve starts today): the frontier is today, so that the daily poll asks the
            # next days (it leaves the days of a walk without frontier to the walk, which is over).
            moved = ctx.today
        return None, Settled(frontier=moved, walk_ended=True)
    lower = max(first, upper - window)
    tier = 0 if frontier is None else CURVE_TIERS[measure]
    return (tier, Job(prm, direction, measure, lower, upper, backfill=True)), Settled(frontier=moved)


def _probe_job(prm: str, direction: Direction, measure: Measure, probe: tuple[date, date]) -> Job:
    """The bisection's next request: from the middle of (failing start, working start) to the working start."""
    failing, working = probe
    return Job(prm, direction, measure, failing + (working - failing) / 2, working, backfill=True, probe=True)


def _history_window(
    ctx: Context, cache: EntryCache, prm: str, direction: Direction, measure: Measure
) -> tuple[date, date] | None:
    """The newest window of days not asked yet from the measure's start (None: every day was asked)."""
    fetched = series_of(cache, prm, direction).progress[measure].fetched
    needed = [d for d in days_between(start(ctx, cache, prm, direction, measure), ctx.today) if d not in fetched]
    if not needed:
        return None
    window_end = needed[-1] + timedelta(days=1)
    return max(needed[0], window_end - timedelta(days=ctx.contract.window_days(measure))), window_end


def _measure_backfill(
    ctx: Context, cache: EntryCache, prm: str, direction: Direction, measure: Measure
) -> tuple[tuple[int, Job] | None, Settled]:
    """One measure's next backfill request (with its tier) and what was settled without one."""
    series = series_of(cache, prm, direction)
    progress = series.progress[measure]
    if progress.probe is not None:
        return (0, _probe_job(prm, direction, measure, progress.probe)), Settled()
    if progress.history_done:
        return None, Settled()
    if measure is Measure.LOAD_CURVE:
        return _curve_backfill(ctx, cache, prm, direction, series)
    window = _history_window(ctx, cache, prm, direction, measure)
    if window is None:
        return None, Settled(history_done=frozenset({measure}))
    return (CURVE_TIERS[measure], Job(prm, direction, measure, *window, backfill=True)), Settled()


def backfill_jobs(
    ctx: Context, cache: EntryCache, prm: str, direction: Direction
) -> tuple[list[tuple[int, Job]], Settled]:
    """Pending backfill requests of one series with their priority tier (lower first), and what was settled."""
    series = series_of(cache, prm, direction)
    jobs: list[tuple[int, Job]] = []
    frontier: date | None = None
    walk_ended = False
    done: set[Measure] = set()
    for measure in CURVE_TIERS:
        if not wants(ctx, measure, direction):
            continue
        if measure is Measure.LOAD_CURVE and curve_refused(series):
            continue  # asked again once a week by the daily poll (`daily_jobs`), never walked back
        job, settled = _measure_backfill(ctx, cache, prm, direction, measure)
        if job is not None:
            jobs.append(job)
        frontier = settled.frontier or frontier
        walk_ended = walk_ended or settled.walk_ended
        done |= settled.history_done
    repair = [] if curve_refused(series) else old_partial_days(series, ctx.today)
    if repair:
        first, end = group_windows(repair, ctx.contract.window_days(Measure.LOAD_CURVE))[0]
        jobs.append((4, Job(prm, direction, Measure.LOAD_CURVE, first, end, backfill=True, repair=True)))
    return jobs, Settled(frontier, walk_ended, frozenset(done))


def next_backfill_job(ctx: Context, cache: EntryCache) -> tuple[Job | None, dict[tuple[str, Direction], Settled]]:
    """The backfill's next request over every polled PRM and direction (lowest tier first), and what was settled."""
    candidates: list[tuple[int, int, Job]] = []
    settled: dict[tuple[str, Direction], Settled] = {}
    order = 0
    for prm in ctx.prms:
        for direction in directions(ctx, cache, prm):
            jobs, learnt = backfill_jobs(ctx, cache, prm, direction)
            if learnt:
                settled[(prm, direction)] = learnt
            for tier, job in jobs:
                if ctx.api_name(direction, job.measure) not in ctx.unsubscribed:
                    candidates.append((tier, order, job))
                order += 1
    if not candidates:
        return None, settled
    return min(candidates, key=lambda c: (c[0], c[1]))[2], settled


def reserve_reached(ctx: Context) -> bool:
    """The source keeps a reserve for the daily poll (`QuotaPolicy.reserve_per_prm`); its budget is down to it."""
    reserve = ctx.contract.policy.reserve_per_prm * ctx.entry_prms
    return bool(reserve) and ctx.remaining_budget is not None and ctx.remaining_budget <= reserve


def burst_spent(ctx: Context, cache: EntryCache) -> bool:
    """A paced source's first burst of backfill requests is spent: from now on one request per pace."""
    policy = ctx.contract.policy
    return policy.paced and cache.backfill_requests >= policy.burst


def backfill_allowed(ctx: Context, cache: EntryCache) -> bool:
    """Follow the source's pacing (`QuotaPolicy`) and keep its reserve of the budget for the daily poll."""
    if reserve_reached(ctx):
        return False
    pace = ctx.contract.policy.pace
    last = cache.last_backfill_request
    if pace is None or not burst_spent(ctx, cache) or last is None:
        return True
    return ctx.now.timestamp() >= last + pace.total_seconds()


# --- daily poll ---------------------------------------------------------------------------------------------------


def _day_complete(series: SeriesCache, measure: Measure, day: date) -> bool:
    if measure is Measure.LOAD_CURVE:
        return series.curve_state.get(day) is CurveState.COMPLETE
    if measure is Measure.DAILY_ENERGY:
        return day in series.daily
    if measure is Measure.MAX_POWER:
        return day in series.max_power
    # The index: asked and answered, with registers or without (a meter whose index Enedis does not serve answers
    # "no data": it is not asked the same days again at every refresh). Registers published late come with the
    # next day's first poll (its late corrections); until then the day's split is the curve's.
    return day in series.registers or day in series.progress[Measure.INDEX].fetched


def _poll_reach(series: SeriesCache, measure: Measure, today: date, first: date | None) -> date | None:
    """The oldest day the daily poll may ask for a measure; None while the backfill has the measure's days."""
    if measure is Measure.LOAD_CURVE:
        if series.curve_frontier is None:
            return None
        # Not beyond the walk's frontier, nor before the recorded curve begins (no day there to retry).
        bounds: list[date | None] = [series.curve_frontier, series.progress[measure].floor]
    else:
        if not series.progress[measure].history_done:
            return None  # the backfill asks the days of a history not done yet
        bounds = []
    return max([today - timedelta(days=RETRY_DAYS), *(day for day in (first, *bounds) if day is not None)])


def due_days(
    series: SeriesCache, measure: Measure, today: date, first_poll: bool, first: date | None = None
) -> list[date]:
    """Recent days (up to 14 back, not before ``first``, the measure's `start`) to (re)fetch in the daily poll.

    Days the backfill has not reached yet are left to it; yesterday is due until complete; the day before
    yesterday is refetched once (first poll of the day) for late corrections; older incomplete days are
    due again after their back-off. Days before the meter's activation or what the source serves are never asked
    (a meter activated last week: one refused window would also delay yesterday's answer).
    """
    oldest = _poll_reach(series, measure, today, first)
    if oldest is None:
        return []
    yesterday = today - timedelta(days=1)
    due: list[date] = []
    for day in days_between(oldest, today):
        if day in series.given_up:
            continue
        if first_poll and day >= today - timedelta(days=LATE_CORRECTION_DAYS):
            due.append(day)
            continue
        if _day_complete(series, measure, day):
            continue
        attempts = series.attempts.get(day)
        if day == yesterday or attempts is None or attempts.next_retry is None or attempts.next_retry <= today:
            due.append(day)
    return due


def daily_jobs(ctx: Context, cache: EntryCache, prm: str, direction: Direction) -> list[Job]:
    """The daily poll's requests for one series, if due now."""
    today, now = ctx.today, ctx.now
    if now < poll_time(ctx, today):
        return []
    series = series_of(cache, prm, direction)
    first_poll = series.last_poll_day != today
    if not first_poll:
        if now >= give_up_time(ctx, today):
            return []
        last = ctx.last_poll_attempt.get((prm, direction))
        if last is not None and now < last + ctx.retry_interval:
            return []
    jobs: list[Job] = []
    for measure in POLL_ORDER:
        if not wants(ctx, measure, direction) or ctx.api_name(direction, measure) in ctx.unsubscribed:
            continue
        window = ctx.contract.window_days(measure)
        if measure is Measure.LOAD_CURVE and curve_refused(series):
            refusal = series.refused[measure.value]
            if first_poll and refusal.next_try <= today:
                # The weekly re-ask: the newest week in one request; its answer lifts or renews the refusal.
                jobs.append(Job(prm, direction, measure, today - timedelta(days=window), today, backfill=False))
            continue
        due = due_days(series, measure, today, first_poll, start(ctx, cache, prm, direction, measure))
        jobs.extend(Job(prm, direction, measure, s, e, backfill=False) for s, e in group_windows(due, window))
    return jobs


def yesterday_complete(ctx: Context, cache: EntryCache, prm: str, direction: Direction) -> bool:
    """Every wanted measure of yesterday is in the cache."""
    series = series_of(cache, prm, direction)
    yesterday = ctx.today - timedelta(days=1)
    if (
        expects_curve(ctx, direction, series, yesterday)
        and series.curve_state.get(yesterday) is not CurveState.COMPLETE
    ):
        return False
    if wants(ctx, Measure.DAILY_ENERGY, direction) and yesterday not in series.daily:
        return False
    return not (wants(ctx, Measure.MAX_POWER, direction) and yesterday not in series.max_power)


# --- when to wake -------------------------------------------------------------------------------------------------


def _backfill_wake(ctx: Context, cache: EntryCache) -> datetime:
    policy = ctx.contract.policy
    if reserve_reached(ctx):
        # The long budget is down to the daily poll's reserve: wake when it frees up.
        reserve = policy.reserve_per_prm * ctx.entry_prms
        return ctx.now + timedelta(seconds=max(1.0, ctx.budget_wait(reserve + 1)))
    last = cache.last_backfill_request
    if policy.pace is not None and last is not None and burst_spent(ctx, cache):
        return max(ctx.now + timedelta(seconds=1), datetime.fromtimestamp(last, UTC) + policy.pace)
    return ctx.now + policy.interval


def _poll_wake(ctx: Context, cache: EntryCache, prm: str, direction: Direction) -> datetime | None:
    now, today = ctx.now, ctx.today
    wake: datetime | None = None
    if series_of(cache, prm, direction).last_poll_day != today:
        wake = max(now, poll_time(ctx, today))
    elif not yesterday_complete(ctx, cache, prm, direction):
        retry = (ctx.last_poll_attempt.get((prm, direction)) or now) + ctx.retry_interval
        if retry < give_up_time(ctx, today):
            wake = retry
    if wake is not None and wake <= now and not daily_jobs(ctx, cache, prm, direction):
        # Due, yet this refresh's poll found nothing it may ask (every measure's API refused as not subscribed,
        # asked again tomorrow): waking at once would find nothing either, every second.
        return None
    return wake


def next_wake(ctx: Context, cache: EntryCache) -> datetime:
    """When the next refresh has work: the backfill's pace, else the daily poll, its retries, Paris midnight."""
    if next_backfill_job(ctx, cache)[0] is not None:
        return _backfill_wake(ctx, cache)
    tomorrow = ctx.today + timedelta(days=1)
    candidates = [
        wake
        for prm in ctx.prms
        for direction in directions(ctx, cache, prm)
        if (wake := _poll_wake(ctx, cache, prm, direction)) is not None
    ]
    candidates.append(poll_time(ctx, tomorrow))
    # Also wake at Paris midnight (no request): "yesterday" sensors must move to the new day.
    candidates.append(local_midnight_utc(tomorrow))
    return max(ctx.now + timedelta(seconds=1), min(candidates))
