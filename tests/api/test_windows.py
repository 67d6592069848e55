"""Request windows: fewest calls, within the API's rules."""

from __future__ import annotations

from datetime import date, timedelta
import itertools
import math

import pytest

from custom_components.enedis.api.calendar import months_before
from custom_components.enedis.api.models import Measure
from custom_components.enedis.api.windows import history_start, plan_windows

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 22), 24, date(2024, 11, 22)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2028, 3, 30), 1, date(2028, 2, 29)),
        (date(2026, 1, 15), 36, date(2023, 1, 15)),
        (date(2026, 5, 31), 1, date(2026, 4, 30)),
    ],
)
def test_months_before(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


def test_history_horizons() -> None:
    assert history_start(Measure.LOAD_CURVE, TODAY) == date(2024, 11, 7)
    assert history_start(Measure.DAILY_ENERGY, TODAY) == date(2023, 11, 7)
    assert history_start(Measure.MAX_POWER, TODAY) == date(2023, 11, 7)


@pytest.mark.parametrize("newest_first", [False, True])
def test_730_days_of_curve_is_105_calls(newest_first: bool) -> None:
    windows = plan_windows(Measure.LOAD_CURVE, TODAY - timedelta(days=730), TODAY, TODAY, newest_first=newest_first)
    assert len(windows) == 105 == math.ceil(730 / 7)
    covered = sorted(windows)
    assert covered[0][0] == TODAY - timedelta(days=730)
    assert covered[-1][1] == TODAY
    for (_, end), (start, _) in itertools.pairwise(covered):
        assert end == start  # contiguous, no overlap
    for start, end in windows:
        assert 1 <= (end - start).days <= 7
        assert start < end <= TODAY
    if newest_first:
        assert windows[0][1] == TODAY


@pytest.mark.parametrize("days", [1, 6, 7, 8, 14, 15, 100])
def test_n_days_of_curve_is_ceil_n_over_7_calls(days: int) -> None:
    start = TODAY - timedelta(days=days)
    assert len(plan_windows(Measure.LOAD_CURVE, start, TODAY, TODAY)) == math.ceil(days / 7)


def test_three_years_of_daily_is_at_most_4_calls() -> None:
    windows = plan_windows(Measure.DAILY_ENERGY, date(2020, 1, 1), TODAY, TODAY)
    assert len(windows) <= 4
    assert windows[0][0] == history_start(Measure.DAILY_ENERGY, TODAY)
    assert all((end - start).days <= 365 for start, end in windows)


def test_clamping() -> None:
    # Beyond the horizon: clamped. Future: clamped to today. Empty or inverted: nothing to ask.
    windows = plan_windows(Measure.LOAD_CURVE, date(2000, 1, 1), date(2030, 1, 1), TODAY)
    assert windows[0][0] == history_start(Measure.LOAD_CURVE, TODAY)
    assert windows[-1][1] == TODAY
    assert plan_windows(Measure.LOAD_CURVE, TODAY, TODAY, TODAY) == []
    assert plan_windows(Measure.DAILY_ENERGY, TODAY, TODAY - timedelta(days=3), TODAY) == []
    future = TODAY + timedelta(days=1)
    assert plan_windows(Measure.DAILY_ENERGY, future, future + timedelta(days=8), TODAY) == []
