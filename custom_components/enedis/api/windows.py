"""Request windows: how a date range is cut into the fewest calls Enedis accepts.

Rules (Data Connect 2026 Swagger, same as v5): ``dateDebut`` is included and ``dateFin`` excluded,
``dateDebut < dateFin``, ``dateFin <= today`` (Paris). A load curve call spans at most 7 days and reaches back
24 months + 15 days; daily energy and max power reach back 36 months + 15 days, and we ask for at most 365
days per call (the v5 practice; the v2 Swagger states no limit). Index registers follow the daily rules (no
limit published). A request for N days of curve therefore costs exactly ceil(N / 7) calls.
"""

from __future__ import annotations

from datetime import date, timedelta

from .calendar import months_before
from .models import Measure

MAX_WINDOW_DAYS: dict[Measure, int] = {
    Measure.LOAD_CURVE: 7,
    Measure.DAILY_ENERGY: 365,
    Measure.MAX_POWER: 365,
    Measure.INDEX: 365,
}
HISTORY_MONTHS: dict[Measure, int] = {
    Measure.LOAD_CURVE: 24,
    Measure.DAILY_ENERGY: 36,
    Measure.MAX_POWER: 36,
    Measure.INDEX: 36,
}
HISTORY_MARGIN_DAYS = 15


def history_start(measure: Measure, today: date) -> date:
    """Oldest ``dateDebut`` Enedis serves for ``measure`` when asked on ``today``."""
    return months_before(today, HISTORY_MONTHS[measure]) - timedelta(days=HISTORY_MARGIN_DAYS)


def clamp_range(measure: Measure, start: date, end: date, today: date) -> tuple[date, date] | None:
    """Clamp ``[start, end)`` to what can be asked today; ``None`` when nothing is left."""
    start = max(start, history_start(measure, today))
    end = min(end, today)
    if start >= end:
        return None
    return start, end


def plan_windows(
    measure: Measure,
    start: date,
    end: date,
    today: date,
    *,
    newest_first: bool = False,
) -> list[tuple[date, date]]:
    """Cut ``[start, end)`` into the fewest windows ``[dateDebut, dateFin)`` the API accepts.

    ``newest_first`` cuts from the end backwards (backfill shows recent data first); the number of windows
    is the same either way: ceil(days / max window).
    """
    clamped = clamp_range(measure, start, end, today)
    if clamped is None:
        return []
    start, end = clamped
    size = timedelta(days=MAX_WINDOW_DAYS[measure])
    windows: list[tuple[date, date]] = []
    if newest_first:
        cursor = end
        while cursor > start:
            lower = max(start, cursor - size)
            windows.append((lower, cursor))
            cursor = lower
    else:
        cursor = start
        while cursor < end:
            upper = min(end, cursor + size)
            windows.append((cursor, upper))
            cursor = upper
    return windows
