"""What the entities and the diagnostics show, built from the state by pure functions (no I/O, no mutation).

`build_snapshot` gives the entities their `EnedisData` (per PRM: yesterday's energy, the last power reading,
coverage, the import's progress, consent); `build_diagnostics` the coverage, holes and book-keeping per series
(raw PRMs: ``diagnostics.py`` masks them and redacts the rest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from .api import Direction, Measure, Reading
from .api.calendar import months_before
from .bill import DayBill, MonthBill, forecast_month, month_bill
from .const import ACCESS_OK
from .data import BillSummary, EnedisData, PrmData
from .ledger import CurveState
from .planner import Context, curve_refused, directions, old_partial_days, series_of, start, wants
from .state import AccessRefusal, EntryCache, SeriesCache
from .tariffs import PricePeriod


@dataclass(frozen=True, slots=True)
class BillBook:
    """What the bill sensors of one PRM are computed from (`bill_summary`).

    Each priced day's bill and the price periods (the forecast prices the subscription of the days to come).
    """

    days: dict[date, DayBill]
    periods: tuple[PricePeriod, ...]
    monthly_fee: float


def bill_summary(today: date, book: BillBook | None) -> BillSummary | None:
    """The bill this month so far, its forecast, last month's and the same month's a year ago (Paris months).

    A month without a single priced day has no figure (None), never 0 EUR.
    """
    if book is None:
        return None
    this_month = today.replace(day=1)

    def month(first: date) -> MonthBill | None:
        days = [bill for day, bill in book.days.items() if day.replace(day=1) == first]
        return month_bill(first, days) if days else None

    return BillSummary(
        this_month=month(this_month),
        forecast=forecast_month(book.days, this_month, book.periods, book.monthly_fee),
        last_month=month(months_before(this_month, 1)),
        same_month_last_year=month(months_before(this_month, 12)),
    )


def backfill_progress(ctx: Context, cache: EntryCache, prm: str) -> float:
    """The history import's progress in percent: curve weeks walked, other measures' histories done."""
    today = ctx.today
    total = done = 0.0
    for direction in directions(ctx, cache, prm):
        series = series_of(cache, prm, direction)
        if wants(ctx, Measure.LOAD_CURVE, direction):
            span = max(1, (today - start(ctx, cache, prm, direction, Measure.LOAD_CURVE)).days)
            total += span / 7
            if series.curve_done or curve_refused(series):
                done += span / 7
            elif series.curve_frontier is not None:
                done += min(span, (today - series.curve_frontier).days) / 7
        for measure in (Measure.DAILY_ENERGY, Measure.MAX_POWER, Measure.INDEX):
            if wants(ctx, measure, direction):
                total += 3
                done += 3 if series.progress[measure].history_done else 0
    progress = 100.0 if total == 0 else round(100 * done / total, 1)
    pending_repairs = any(old_partial_days(series_of(cache, prm, d), today) for d in directions(ctx, cache, prm))
    return min(progress, 99.9) if pending_repairs else progress


def day_energy(series: SeriesCache | None, day: date) -> float | None:
    """The energy of ``day`` in Wh: its daily energy, else its complete curve's."""
    if series is None:
        return None
    if day in series.daily:
        return series.daily[day]
    if series.curve_state.get(day) is CurveState.COMPLETE:
        return series.curve[day].energy_wh()
    return None


def _load_curve(
    ctx: Context, prm_directions: tuple[Direction, ...], cons: SeriesCache | None, last: Reading | None
) -> bool | None:
    """Whether the PRM has a load curve: True with a reading, False when it cannot or will not, None not known yet."""
    if last is not None:
        return True
    if Direction.CONSUMPTION not in prm_directions or not wants(ctx, Measure.LOAD_CURVE, Direction.CONSUMPTION):
        return False
    if cons is not None and (cons.curve_done or curve_refused(cons)):
        return False  # the whole history was asked for, or refused: not a single reading
    return None


def prm_data(ctx: Context, cache: EntryCache, prm: str, refusal: AccessRefusal | None) -> PrmData:
    """What the entities of one PRM show."""
    yesterday = ctx.today - timedelta(days=1)
    prm_cache = cache.prm(prm) if prm in cache.prms else None
    all_series = prm_cache.series if prm_cache is not None else {}
    cons = all_series.get(Direction.CONSUMPTION)
    prod = all_series.get(Direction.PRODUCTION)
    covered: set[date] = set()
    complete: set[date] = set()
    missing: set[date] = set()
    for series in all_series.values():
        covered |= set(series.daily) | {d for d, s in series.curve_state.items() if s is not CurveState.MISSING}
        complete |= set(series.daily) | {d for d, s in series.curve_state.items() if s is CurveState.COMPLETE}
        missing |= series.given_up
    last_power = cons.curve[max(cons.curve)][-1] if cons is not None and cons.curve else None
    prm_directions = tuple(directions(ctx, cache, prm))
    return PrmData(
        prm=prm,
        directions=prm_directions,
        access=refusal.reason if refusal else ACCESS_OK,
        access_refused_since=refusal.since if refusal else None,
        access_code=refusal.code if refusal else None,
        contract=ctx.contracts.get(prm),
        consumption_yesterday_wh=day_energy(cons, yesterday),
        production_yesterday_wh=day_energy(prod, yesterday),
        last_power=last_power,
        load_curve=_load_curve(ctx, prm_directions, cons, last_power),
        max_power_yesterday=cons.max_power.get(yesterday) if cons is not None else None,
        newest_complete_day=max(complete) if complete else None,
        oldest_day=min(covered) if covered else None,
        days_covered=len(covered),
        backfill_progress=backfill_progress(ctx, cache, prm),
        missing_days=tuple(sorted(missing)),
    )


def build_snapshot(
    ctx: Context,
    cache: EntryCache,
    prms: Iterable[str],
    refused: Mapping[str, AccessRefusal],
    *,
    expires_at: datetime | None,
    last_error: str | None,
    bills: Mapping[str, BillBook] | None = None,
) -> EnedisData:
    """The entities' data for every PRM of the entry (refused ones included: their entities say so)."""
    books = bills or {}
    return EnedisData(
        prms={
            prm: replace(prm_data(ctx, cache, prm, refused.get(prm)), bill=bill_summary(ctx.today, books.get(prm)))
            for prm in prms
        },
        requests_today=cache.requests_today if cache.requests_day == ctx.today else 0,
        expires_at=expires_at,
        last_error=last_error,
    )


def ranges(days: Iterable[date]) -> list[str]:
    """Compress days into ``first..last`` ranges."""
    ordered = sorted(set(days))
    runs: list[list[date]] = []
    for day in ordered:
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}" for a, b in runs]


def series_diagnostics(series: SeriesCache) -> dict[str, Any]:
    """Coverage, holes and the history import's book-keeping of one series."""
    return {
        "curve_days": ranges(d for d, s in series.curve_state.items() if s is CurveState.COMPLETE),
        "curve_partial": [d.isoformat() for d, s in sorted(series.curve_state.items()) if s is CurveState.PARTIAL],
        "curve_missing": ranges(d for d, s in series.curve_state.items() if s is CurveState.MISSING),
        "daily_days": ranges(series.daily),
        "max_power_days": ranges(series.max_power),
        "curve_frontier": series.curve_frontier.isoformat() if series.curve_frontier else None,
        "curve_done": series.curve_done,
        "refused": {k: r.to_json() for k, r in series.refused.items()},
        "floors": {m.value: p.floor.isoformat() for m, p in series.progress.items() if p.floor is not None},
        "daily_history_done": series.progress[Measure.DAILY_ENERGY].history_done,
        "history_done": sorted(m.value for m, p in series.progress.items() if p.history_done),
        "retrying": {d.isoformat(): a.count for d, a in sorted(series.attempts.items())},
        "given_up": [d.isoformat() for d in sorted(series.given_up)],
        "hours_written": len(series.written),
    }


def prm_diagnostics(cache: EntryCache, prm: str) -> dict[str, Any]:
    """Diagnostics of one PRM: absent directions, refused access, and each series'."""
    prm_cache = cache.prms.get(prm)
    if prm_cache is None:
        return {"absent": [], "access_refused": None}
    out: dict[str, Any] = {
        "absent": sorted(a.value for a in prm_cache.absent),
        "access_refused": prm_cache.refusal.to_json() if prm_cache.refusal else None,
    }
    for direction, series in prm_cache.series.items():
        if direction not in prm_cache.absent:
            out[direction.value] = series_diagnostics(series)
    return out
