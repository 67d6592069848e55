"""Tariff series from the ledger's hours: HP/HC with and without registers, costs, compensation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.models import Reading
from custom_components.enedis.ledger import CurveState, DayInput, build_hours
from custom_components.enedis.tariff_series import (
    TariffConfig,
    build_consumption_tariffs,
    build_production_compensation,
)
from custom_components.enedis.tariffs import TEMPO_CLASSES, PricePeriod, parse_offpeak

DAY = date(2026, 11, 10)


def day_curve(day: date, watts: float = 1000.0) -> tuple[Reading, ...]:
    start = datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)
    readings = []
    for k in range(48):
        lower = (start + timedelta(minutes=30 * k)).astimezone(PARIS)
        upper = (start + timedelta(minutes=30 * (k + 1))).astimezone(PARIS)
        readings.append(
            Reading(
                lower.astimezone(timezone(lower.utcoffset() or timedelta())),
                upper.astimezone(timezone(upper.utcoffset() or timedelta())),
                watts,
            )
        )
    return tuple(readings)


def inputs(*days: date) -> list[DayInput]:
    return [DayInput(day=d, curve=day_curve(d), curve_state=CurveState.COMPLETE, daily_wh=24000) for d in days]


def test_hphc_from_the_curve_and_from_the_registers() -> None:
    days = inputs(DAY, DAY + timedelta(days=1))
    hours = build_hours(days)
    config = TariffConfig(option="hphc", windows=parse_offpeak("HC (22H00-6H00)"))
    curve = build_consumption_tariffs(days, hours, config, {})
    off, peak = curve.series["consumption_offpeak"], curve.series["consumption_peak"]
    assert all(off[h] + peak[h] == hours[h] for h in hours)
    assert sum(v for h, v in off.items() if h.astimezone(PARIS).date() == DAY) == 8000  # 8 h at 1 kW

    # The meter says 7.8 kWh off-peak that day: its split wins, scaled to the curve's total, hour shapes kept.
    registers = {DAY: {"HC": 7800.0, "HP": 16440.0}}  # total 24240 Wh (the curve says 24000)
    meter = build_consumption_tariffs(days, hours, config, {}, registers)
    off, peak = meter.series["consumption_offpeak"], meter.series["consumption_peak"]
    assert all(off[h] + peak[h] == hours[h] for h in hours)
    day_off = sum(v for h, v in off.items() if h.astimezone(PARIS).date() == DAY)
    assert day_off == pytest.approx(7800 * 24000 / 24240, abs=1)
    assert all(v >= 0 for v in (*off.values(), *peak.values()))
    # Registers far from the curve's split (windows not matching the meter's relay): not used that day.
    far = build_consumption_tariffs(days, hours, config, {}, {DAY: {"HC": 12000.0, "HP": 12000.0}})
    off, peak = far.series["consumption_offpeak"], far.series["consumption_peak"]
    assert all(off[h] + peak[h] == hours[h] for h in hours)
    assert sum(v for h, v in off.items() if h.astimezone(PARIS).date() == DAY) == 8000
    # The next day has no registers: the curve's split stands.
    assert sum(v for h, v in off.items() if h.astimezone(PARIS).date() == DAY + timedelta(days=1)) == 8000


def test_daily_only_days_are_reported_not_split() -> None:
    days = [DayInput(day=DAY, curve_state=CurveState.MISSING, daily_wh=12000)]
    hours = build_hours(days)
    result = build_consumption_tariffs(days, hours, TariffConfig("hphc", parse_offpeak("HC (22H00-6H00)")), {})
    assert result.unsplit_days == (DAY,)
    assert result.series["consumption_offpeak"] == {}


def test_costs_compensation_and_missing_prices() -> None:
    days = inputs(DAY)
    hours = build_hours(days)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    config = TariffConfig("base", periods=(PricePeriod(start, {"base": 0.25, "feed_in": 0.1}),))
    result = build_consumption_tariffs(days, hours, config, {})
    assert sum(result.series["consumption_cost"].values()) == pytest.approx(24 * 0.25 * 1000)  # milli-EUR
    compensation = build_production_compensation(hours, config)
    assert sum(compensation.series["production_compensation"].values()) == pytest.approx(24 * 0.1 * 1000)
    assert build_production_compensation(hours, TariffConfig()).series == {}
    # HP/HC with only a Base price: no hour can be priced, none gets a cost row; all are counted.
    unpriced = build_consumption_tariffs(
        days, hours, TariffConfig("hphc", parse_offpeak("HC (22H00-6H00)"), config.periods), {}
    )
    assert unpriced.unpriced is not None
    assert "'offpeak' price" in unpriced.unpriced
    assert unpriced.series["consumption_cost"] == {}
    assert unpriced.unpriced_hours == 24
    assert result.unpriced_hours == 0
    assert result.unpriced is None


def test_no_cost_row_for_an_hour_whose_price_or_colour_is_unknown() -> None:
    """Tempo without colours, a class without a price, a day not split: no cost row, never 0 EUR; counted."""
    days = [*inputs(DAY), DayInput(day=DAY + timedelta(days=1), curve_state=CurveState.MISSING, daily_wh=12000)]
    hours = build_hours(days)
    tempo_prices = dict.fromkeys(TEMPO_CLASSES, 0.2)
    periods = (PricePeriod(datetime(2026, 11, 1, tzinfo=UTC), tempo_prices),)
    tempo = TariffConfig("tempo", periods=periods, monthly_fee=30.0)

    no_colour = build_consumption_tariffs(days, hours, tempo, {})
    assert no_colour.series["consumption_cost"] == {}
    assert no_colour.unpriced_hours == len(hours) == 25  # 24 curve hours + the daily total's row
    assert no_colour.unpriced == "Tempo colour unknown"

    # The day before is blue, the day itself red (its 00:00-06:00 night belongs to the day before).
    coloured = build_consumption_tariffs(days, hours, tempo, {DAY - timedelta(days=1): "blue", DAY: "red"})
    cost = coloured.series["consumption_cost"]
    assert len(cost) == 24
    assert all(value > 0 for value in cost.values())
    assert coloured.unpriced_hours == 1  # the day known only by its total cannot be split
    assert coloured.unpriced == "day known only by its total, not split"

    # Red prices missing: the red hours have no cost row, the blue night keeps its cost.
    partial = TariffConfig("tempo", periods=(PricePeriod(periods[0].start, {"blue_offpeak": 0.1}),))
    missing = build_consumption_tariffs(days, hours, partial, {DAY - timedelta(days=1): "blue", DAY: "red"})
    assert len(missing.series["consumption_cost"]) == 6  # 00:00-06:00, blue off-peak
    assert missing.unpriced_hours == 19
    assert missing.unpriced is not None
    assert "'red_" in missing.unpriced
