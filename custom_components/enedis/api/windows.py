"""Request windows: how a date range is cut into the fewest calls Enedis accepts.

Rules (Data Connect 2026 Swagger, same as v5): ``dateDebut`` is included and ``dateFin`` excluded,
``dateDebut < dateFin``, ``dateFin <= today`` (Paris). A load curve call spans at most 7 days and reaches back
24 months + 15 days; daily energy and max power reach back 36 months + 15 days, and we ask for at most 365
days per call (the v5 practice; the v2 Swagger states no limit). Index registers follow the daily rules (no
limit published). A request for N days of curve therefore costs exactly ceil(N / 7) calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

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


@dataclass(frozen=True, slots=True)
class WindowLimits:
    """What one request for a measure may cover: at most ``max_days`` days, none older than the history horizon.

    The horizon is ``history_months`` calendar months before today, minus ``margin_days`` (Enedis serves a little
    more than its published 24 / 36 months; asking for it costs nothing and keeps the oldest days).
    """

    max_days: int
    history_months: int
    margin_days: int = HISTORY_MARGIN_DAYS

    def __post_init__(self) -> None:
        """Refuse limits no request could satisfy."""
        if self.max_days < 1 or self.history_months < 0 or self.margin_days < 0:
            msg = f"invalid window limits {self}"
            raise ValueError(msg)

    def history_start(self, today: date) -> date:
        """Oldest ``dateDebut`` served when asked on ``today``."""
        return months_before(today, self.history_months) - timedelta(days=self.margin_days)


ENEDIS_WINDOWS: Mapping[Measure, WindowLimits] = MappingProxyType(
    {measure: WindowLimits(MAX_WINDOW_DAYS[measure], HISTORY_MONTHS[measure]) for measure in Measure}
)
"""Enedis' limits (Data Connect 2026, and Conso API which passes its calls through): the values above."""


def history_start(measure: Measure, today: date, limits: Mapping[Measure, WindowLimits] = ENEDIS_WINDOWS) -> date:
    """Oldest ``dateDebut`` served for ``measure`` when asked on ``today`` (Enedis' limits by default)."""
    return limits[measure].history_start(today)


def clamp_range(
    measure: Measure, start: date, end: date, today: date, limits: Mapping[Measure, WindowLimits] = ENEDIS_WINDOWS
) -> tuple[date, date] | None:
    """Clamp ``[start, end)`` to what can be asked today; ``None`` when nothing is left."""
    start = max(start, history_start(measure, today, limits))
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
    limits: Mapping[Measure, WindowLimits] = ENEDIS_WINDOWS,
) -> list[tuple[date, date]]:
    """Cut ``[start, end)`` into the fewest windows ``[dateDebut, dateFin)`` the API accepts.

    ``newest_first`` cuts from the end backwards (backfill shows recent data first); the number of windows
    is the same either way: ceil(days / max window). ``limits`` are the source's (`SourceContract.windows`).
    """
    clamped = clamp_range(measure, start, end, today, limits)
    if clamped is None:
        return []
    start, end = clamped
    size = timedelta(days=limits[measure].max_days)
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
