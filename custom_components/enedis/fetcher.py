"""The fetcher: one job against the source, its answer or typed error turned into an `Outcome`; then applied.

`async_fetch` is the only I/O. The errors that concern the job's data become outcomes: the PRM does not measure that
direction, the API is not subscribed, the window starts before what Enedis serves, the index is not served, no data,
a refused load curve (ADAM-ERR0075), a request Enedis will never accept. The errors that concern the entry or the
moment propagate to the coordinator, which maps them (`AuthError` to reauthentication, `ConsentError` /
`NotHolderError` to the PRM's refusal, `RateLimitError` and communication errors to a retry later).

`apply_outcome` (pure: no I/O) records an outcome in the series' state and says what the coordinator must do about
it (`Effects`: a repair issue to create or delete, an API to stop asking today, the series to import).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
import enum
import logging

from .api import (
    ApiNotSubscribedError,
    Direction,
    EnedisError,
    Measure,
    MeteringSource,
    NoDataError,
    Reading,
    RequestError,
    Series,
    UnsupportedError,
)
from .api.calendar import local_day
from .api.errors import BeforeActivationError, CurveNotEnabledError, HistoryLimitError, WrongDirectionError
from .ledger import CurveState, DayCurve, curve_state_of
from .planner import (
    OLD_PARTIAL_ATTEMPTS,
    RETRY_DAYS,
    Context,
    Job,
    curve_refused,
    days_between,
    expects_curve,
    wants,
)
from .state import DayAttempts, MeasureRefusal, PrmCache, SeriesCache
from .tariffs import daily_register_energy

_LOGGER = logging.getLogger(__name__)

REFUSAL_RETRY = timedelta(days=7)
"""A measure the PRM refuses is asked again after this long: one request a week, in the daily poll."""
REFUSAL_EMPTY_DAYS = 7
"""Days of load curve that came back empty while daily energy exists for them that make a pattern, not a hole: the
newest ones mean the PRM refuses its curve (as ADAM-ERR0075 says explicitly); a run of them at the backfill's
frontier, below days that have a curve, is where the recorded curve begins (the walk stops there). Sandbox client
4's weekly holes (Tuesday and Wednesday) have no daily energy either, so they never count."""


class Kind(enum.StrEnum):
    """What a job's request came to."""

    READINGS = "readings"
    """An answer for the window, maybe empty (no data, a refused curve, a request Enedis will never accept)."""
    INDEX = "index"
    """The index registers of the window (none after an error, which is then recorded)."""
    ABSENT = "absent"
    """The PRM does not measure this direction (ADAM-ERR0069)."""
    NOT_SUBSCRIBED = "not_subscribed"
    """The application has not subscribed the API (asked again tomorrow)."""
    OUT_OF_RANGE = "out_of_range"
    """The window starts before the meter's activation or the source's horizon."""
    UNSUPPORTED = "unsupported"
    """The source does not serve the index."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one job's request came to."""

    kind: Kind
    series: Series | None = None
    registers: Mapping[date, Mapping[str, float]] = field(default_factory=dict)
    explicit_refusal: bool = False
    """Enedis said the load curve is not recorded (ADAM-ERR0075)."""
    error: EnedisError | None = None
    """An error worth recording (diagnostics' last errors) that still produced this outcome."""
    api: str | None = None
    """The API not subscribed."""


@dataclass(slots=True)
class Effects:
    """What the coordinator does after an outcome was applied (the state itself is already updated)."""

    touched: bool = False
    """The series changed, or its history may be complete now: import it."""
    not_subscribed: str | None = None
    index_unsupported: bool = False
    curve_refused: bool = False
    """The PRM refuses this series' load curve: create the repair issue."""
    curve_lifted: bool = False
    """The load curve came back: delete the repair issue."""


def _empty(job: Job) -> Series:
    return Series(job.prm, job.direction, job.measure, "")


async def async_fetch(source: MeteringSource, job: Job) -> Outcome:
    """Send the job's request; errors about the job's data become outcomes, the others propagate."""
    if job.measure is Measure.INDEX:
        return await _async_fetch_index(source, job)
    try:
        series = await source.async_fetch_window(job.prm, job.direction, job.measure, job.start, job.end)
    except WrongDirectionError:
        return Outcome(Kind.ABSENT)
    except ApiNotSubscribedError as err:
        return Outcome(Kind.NOT_SUBSCRIBED, api=err.api or "unknown")
    except (BeforeActivationError, HistoryLimitError) as err:
        _LOGGER.debug("%s: %s", job, err)
        return Outcome(Kind.OUT_OF_RANGE)
    except NoDataError:
        return Outcome(Kind.READINGS, _empty(job))
    except CurveNotEnabledError as err:
        # ADAM-ERR0075: the customer objected to the load-curve recording (`_review_refusal` decides what for).
        return Outcome(Kind.READINGS, _empty(job), explicit_refusal=True, error=err)
    except RequestError as err:
        # A request Enedis will never accept as is: record it and do not ask again.
        return Outcome(Kind.READINGS, _empty(job), error=err)
    return Outcome(Kind.READINGS, series)


async def _async_fetch_index(source: MeteringSource, job: Job) -> Outcome:
    """Index registers of a window: the daily energy of each register class (HP/HC...)."""
    try:
        index = await source.async_get_index(job.prm, job.direction, job.start, job.end)
    except UnsupportedError:
        return Outcome(Kind.UNSUPPORTED)
    except ApiNotSubscribedError as err:
        return Outcome(Kind.NOT_SUBSCRIBED, api=err.api or "unknown")
    except (BeforeActivationError, HistoryLimitError):
        return Outcome(Kind.OUT_OF_RANGE)
    except (NoDataError, RequestError) as err:
        return Outcome(Kind.INDEX, error=err)
    identity = {register.class_id: register.class_id for register in index.supplier_registers()}
    registers = {
        day: classes for day, classes in daily_register_energy(index, identity).items() if job.start <= day < job.end
    }
    return Outcome(Kind.INDEX, registers=registers)


# --- applying an outcome (pure) -----------------------------------------------------------------------------------


def apply_outcome(
    prm_cache: PrmCache, series: SeriesCache, job: Job, outcome: Outcome, *, today: date, wants_curve: bool
) -> Effects:
    """Record ``outcome`` of ``job`` in the state; say what else must happen."""
    kind = outcome.kind
    if kind is Kind.ABSENT:
        prm_cache.absent.add(job.direction)
        return Effects()
    if kind is Kind.NOT_SUBSCRIBED:
        return Effects(not_subscribed=outcome.api)
    if kind is Kind.UNSUPPORTED:
        return Effects(index_unsupported=True)
    if kind is Kind.OUT_OF_RANGE:
        on_range_error(series, job)
        # No reading, but the oldest day may now be known and the history complete: the import decides (its last
        # full write from the oldest hour happens once the backfill has no job left).
        return Effects(touched=True)
    if kind is Kind.INDEX:
        if job.probe:
            # Not out of range, even when answered "no data" (as for the other measures): the bisection moves on,
            # or the planner would ask the same window again at every refresh.
            on_probe_success(series, job)
        if outcome.error is None:
            series.registers.update({day: dict(classes) for day, classes in outcome.registers.items()})
        series.progress[Measure.INDEX].fetched.update(days_between(job.start, job.end))
        return Effects(touched=True)
    if job.probe:
        on_probe_success(series, job)
    store_readings(series, job, outcome.series or _empty(job), today)
    effects = review_refusal(
        prm_cache,
        series,
        job,
        outcome.series or _empty(job),
        today=today,
        wants_curve=wants_curve,
        explicit=outcome.explicit_refusal,
    )
    effects.touched = True
    return effects


def on_range_error(series: SeriesCache, job: Job) -> None:
    """The window starts before the meter's activation or Enedis' horizon.

    Bisect between the failing start and the newest start known to work (each probe fetches real data), so the
    oldest day Enedis serves is found in about log2(window) requests, without losing any day.
    """
    progress = series.progress[job.measure]
    failing, working = progress.probe or (job.start, job.end)
    if job.probe:
        failing = job.start
    if (working - failing).days <= 1:
        progress.probe = None
        progress.floor = working
    else:
        progress.probe = (failing, working)


def on_probe_success(series: SeriesCache, job: Job) -> None:
    """A probe's window was served: the oldest day is at or before its start."""
    progress = series.progress[job.measure]
    if progress.probe is None:  # pragma: no cover - a probe job exists only while its bisection does
        return
    failing, _ = progress.probe
    if (job.start - failing).days <= 1:
        progress.probe = None
        progress.floor = job.start
    else:
        progress.probe = (failing, job.start)


def store_readings(series: SeriesCache, job: Job, result: Series, today: date) -> None:
    """Keep a window's readings: never lose what is known because a refetch came back empty or shorter."""
    days = days_between(job.start, job.end)
    if job.measure is Measure.LOAD_CURVE:
        _store_curve(series, job, result, days, today)
    elif job.measure is Measure.DAILY_ENERGY:
        for reading in result.readings:
            series.daily[local_day(reading.start)] = reading.value
        series.progress[Measure.DAILY_ENERGY].fetched.update(days)
    else:
        for reading in result.readings:
            series.max_power[local_day(reading.start)] = reading
        series.progress[Measure.MAX_POWER].fetched.update(days)


def _store_curve(series: SeriesCache, job: Job, result: Series, days: list[date], today: date) -> None:
    by_day: dict[date, list[Reading]] = {day: [] for day in days}
    for reading in result.readings:
        day = local_day(reading.start)
        if day in by_day:
            by_day[day].append(reading)
    for day, readings in by_day.items():
        state = curve_state_of(day, readings)
        previous = series.curve_state.get(day)
        if state is CurveState.MISSING and previous in (CurveState.COMPLETE, CurveState.PARTIAL):
            continue  # never lose what we have because a refetch came back empty
        if state is CurveState.PARTIAL and previous is CurveState.COMPLETE:
            continue
        series.curve_state[day] = state
        if readings:
            series.curve[day] = DayCurve.of(readings)
    if job.repair:
        _count_repair(series, days)
    elif job.backfill:
        series.curve_frontier = min(job.start, series.curve_frontier or job.start)
        if job.end >= today:
            # The newest week was just fetched: today's poll must not ask for those days again.
            series.last_poll_day = today


def _count_repair(series: SeriesCache, days: list[date]) -> None:
    """A repair of old partial days: those still partial are given up after `OLD_PARTIAL_ATTEMPTS` requests."""
    for day in days:
        if series.curve_state.get(day) is CurveState.PARTIAL:
            attempts = series.attempts.setdefault(day, DayAttempts())
            attempts.count += 1
            if attempts.count >= OLD_PARTIAL_ATTEMPTS:
                series.given_up.add(day)
                series.attempts.pop(day, None)
        else:
            series.attempts.pop(day, None)


# --- refused load curves ------------------------------------------------------------------------------------------


def review_refusal(
    prm_cache: PrmCache,
    series: SeriesCache,
    job: Job,
    result: Series,
    *,
    today: date,
    wants_curve: bool,
    explicit: bool,
) -> Effects:
    """After a load-curve or daily-energy answer: find, renew or lift a refusal of the curve; end a walk.

    A request whose answer the recent answers predict is not sent:

    - **Refused**: Enedis answered ADAM-ERR0075 (``explicit``) for days with no newer curve, or the newest
      `REFUSAL_EMPTY_DAYS` fetched days whose daily energy is known all came back without curve (Enedis also
      answers 404 ``no_data_found`` when the hourly collection is off). The curve is then neither walked back
      nor retried: the daily poll asks the newest week once a week (`REFUSAL_RETRY`), daily energy still feeds
      the statistics, and a repair issue says how to enable the curve.
    - **Lifted**: that weekly request brought readings. The issue goes; the days whose curve was empty while
      daily energy existed are forgotten so the backfill, restarted from that week, asks them once more and
      walks on into the older history (known weeks are passed without a request).
    - **History start**: a backfill window older than the known curve came back refused, or left a run of at
      least `REFUSAL_EMPTY_DAYS` empty days with daily energy between the frontier and the oldest curve day
      (and no curve is known below it): the recorded curve begins at that day. It becomes the series' floor
      (as an activation date would) and the walk ends, instead of asking every older week for nothing
      (`import_history` forgets that floor and walks to the date it is given).
    """
    if job.measure not in (Measure.LOAD_CURVE, Measure.DAILY_ENERGY) or not wants_curve:
        return Effects()
    refusal = series.refused.get(Measure.LOAD_CURVE.value)
    if job.measure is Measure.LOAD_CURVE:
        if refusal is not None and not refusal.lifted:
            if result.readings:
                lift_refusal(series, job, refusal)
                return Effects(curve_lifted=True)
            refusal.next_try = today + REFUSAL_RETRY
            return Effects()
        # A walk the user asked for with `import_history` goes on to the date given.
        walk = job.backfill and not job.repair and not job.probe and prm_cache.history_start is None
        if explicit:
            newer = oldest_curve_day(series, job.end)
            if newer is None:
                return refuse_curve(series, today)
            if walk:
                curve_history_starts(series, newer)
            return Effects()
        if walk and (first := curve_history_start(series)) is not None:
            curve_history_starts(series, first)
    if not curve_refused(series) and curve_empty_lately(series):
        return refuse_curve(series, today)
    return Effects()


def oldest_curve_day(series: SeriesCache, since: date) -> date | None:
    """The oldest day from ``since`` on whose curve has readings."""
    days = [
        day
        for day, state in series.curve_state.items()
        if day >= since and state in (CurveState.COMPLETE, CurveState.PARTIAL)
    ]
    return min(days, default=None)


def curve_empty_lately(series: SeriesCache) -> bool:
    """The newest `REFUSAL_EMPTY_DAYS` fetched curve days with known daily energy all came back empty.

    Days without daily energy either (a meter that did not communicate) say nothing and are skipped.
    """
    count = 0
    for day in sorted(series.curve_state, reverse=True):
        if series.curve_state[day] is not CurveState.MISSING:
            return False
        if day in series.daily:
            count += 1
            if count >= REFUSAL_EMPTY_DAYS:
                return True
    return False


def curve_history_start(series: SeriesCache) -> date | None:
    """The day the recorded curve begins, when the walk's last window fell before it (see `review_refusal`)."""
    frontier = series.curve_frontier
    if frontier is None:
        return None
    first = oldest_curve_day(series, frontier)
    if first is None or oldest_curve_day(series, date.min) != first:
        return None  # no newer curve (that is a refusal), or curve below the frontier (a gap, not a start)
    run = days_between(frontier, first)
    if any(day not in series.curve_state for day in run):
        return None
    empty = sum(1 for day in run if series.curve_state[day] is CurveState.MISSING and day in series.daily)
    return first if empty >= REFUSAL_EMPTY_DAYS else None


def curve_history_starts(series: SeriesCache, first: date) -> None:
    """The recorded curve begins at ``first``: it is the curve's floor, and the walk ends."""
    series.progress[Measure.LOAD_CURVE].floor = first
    series.end_curve_walk()


def refuse_curve(series: SeriesCache, today: date) -> Effects:
    """Record that the PRM refuses this series' curve: asked again in a week."""
    series.refused[Measure.LOAD_CURVE.value] = MeasureRefusal(since=today, next_try=today + REFUSAL_RETRY)
    _LOGGER.debug("Load curve refused; asked again on %s", today + REFUSAL_RETRY)
    return Effects(curve_refused=True)


def lift_refusal(series: SeriesCache, job: Job, refusal: MeasureRefusal) -> None:
    """The refused curve came back: walk the older history again from this week."""
    refusal.lifted = True
    for day in [
        d
        for d, state in series.curve_state.items()
        if d < job.start and state is CurveState.MISSING and d in series.daily
    ]:
        del series.curve_state[day]
        series.given_up.discard(day)
        series.attempts.pop(day, None)
    series.curve_frontier = job.start
    series.progress[Measure.LOAD_CURVE].history_done = False


# --- after the daily poll -----------------------------------------------------------------------------------------


def book_incomplete_days(ctx: Context, series: SeriesCache, direction: Direction, first: date | None = None) -> None:
    """After a daily poll: back-off of the incomplete recent days (1, 2, 4, 8 days), given up after `RETRY_DAYS`.

    Days before ``first`` (the series' start: activation, what the source serves) are not incomplete: they have
    nothing to give.
    """
    today = ctx.today
    oldest = today - timedelta(days=RETRY_DAYS + 1)
    if first is not None:
        oldest = max(oldest, first)
    for day in days_between(oldest, today - timedelta(days=1)):
        incomplete = (
            expects_curve(ctx, direction, series, day) and series.curve_state.get(day) is not CurveState.COMPLETE
        ) or (wants(ctx, Measure.DAILY_ENERGY, direction) and day not in series.daily)
        if not incomplete or day in series.given_up:
            series.attempts.pop(day, None)
            continue
        if day < today - timedelta(days=RETRY_DAYS):
            series.given_up.add(day)
            series.attempts.pop(day, None)
            continue
        attempts = series.attempts.setdefault(day, DayAttempts())
        if attempts.next_retry is None or attempts.next_retry <= today:
            attempts.count += 1
            attempts.next_retry = today + timedelta(days=2 ** min(attempts.count - 1, 3))
