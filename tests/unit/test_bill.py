"""The bill (issue 15, section 2) on the REAL shipped price data, exact to the cent.

Every expected figure is written here as arithmetic on literal prices copied from
``custom_components/enedis/prices/grids.csv`` (and ``taxes.csv``), never computed by the code under test.

The synthetic household ("the profile") draws 400 Wh in each hour starting 00:00-05:59 local and 900 Wh in every
other hour: a normal day is 6 x 0.4 + 18 x 0.9 = 18.6 kWh, the spring DST day (no 02:00) 5 x 0.4 + 18 x 0.9 =
18.2 kWh, the autumn one (02:00 twice) 7 x 0.4 + 18 x 0.9 = 19.0 kWh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.enedis.api.calendar import PARIS, day_bounds, local_midnight_utc, to_paris
from custom_components.enedis.api.models import Reading
from custom_components.enedis.bill import (
    TARIF_BLEU_OFFERS,
    DayBill,
    day_bill,
    forecast_month,
    month_bill,
    month_subscription,
    regulated_periods,
)
from custom_components.enedis.ledger import CurveState, DayInput, build_hours
from custom_components.enedis.tariff_data import PriceData, load_price_data
from custom_components.enedis.tariff_series import TariffConfig, consumption_day, consumption_keys
from custom_components.enedis.tariffs import (
    FEED_IN,
    HOUR,
    TEMPO_CLASSES,
    PricePeriod,
    hourly_compensation,
    month_hours,
    price_each_hour,
    priced_hours,
)

DATA: PriceData = load_price_data()


def days_between(first: date, last: date) -> list[date]:
    """``first`` to ``last`` included."""
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def hours_of(day: date) -> list[datetime]:
    lower, upper = day_bounds(day)
    return [lower + k * HOUR for k in range(round((upper - lower) / HOUR))]


def profile(first: date, last: date) -> dict[str, dict[datetime, float]]:
    """The Base profile (see the module docstring) from ``first`` to ``last`` included."""
    hours = [hour for day in days_between(first, last) for hour in hours_of(day)]
    return {"base": {hour: 400.0 if to_paris(hour).hour < 6 else 900.0 for hour in hours}}


def bills(
    classes: Mapping[str, Mapping[datetime, float]],
    periods: tuple[PricePeriod, ...],
    first: date,
    last: date,
    data: PriceData | None = DATA,
) -> list[DayBill]:
    return [day_bill(day, classes, periods, data) for day in days_between(first, last)]


def cents(value: float) -> str:
    return f"{value:.2f}"


BASE_6 = regulated_periods(DATA, "base", 6)
JANUARY = (date(2025, 1, 1), date(2025, 1, 31))
OCTOBER = (date(2025, 10, 1), date(2025, 10, 31))
AUGUST = (date(2026, 8, 1), date(2026, 8, 31))


# ------------------------------------------------------------------------------- (a) a price change


def test_a_shipped_grid_change_january_vs_february_2025() -> None:
    classes = profile(date(2025, 1, 1), date(2025, 2, 28))
    days = bills(classes, BASE_6, date(2025, 1, 1), date(2025, 2, 28))
    january = month_bill(date(2025, 1, 1), days)
    february = month_bill(date(2025, 2, 1), days)
    # grids.csv: 2024-11-01,BASE,6: base 0.2516, subscription 12.68 (in force in January 2025)
    assert january.kwh == pytest.approx(31 * 18.6)
    assert january.energy == pytest.approx(31 * 18.6 * 0.2516, abs=1e-9)
    assert january.subscription == pytest.approx(12.68, abs=1e-9)
    assert january.total == pytest.approx(31 * 18.6 * 0.2516 + 12.68, abs=1e-9)
    assert cents(january.total) == "157.75"
    # grids.csv: 2025-02-01,BASE,6: base 0.2016, subscription 13.72
    assert february.total == pytest.approx(28 * 18.6 * 0.2016 + 13.72, abs=1e-9)
    assert cents(february.total) == "118.71"
    assert january.complete
    assert february.complete
    assert (january.days, february.days) == (31, 28)
    assert (january.priced_hours, february.priced_hours) == (744, 672)
    # The change is at Paris midnight: the last hour of January at the old grid, the first of February at the new.
    last_hour, first_hour = day_bounds(date(2025, 1, 31))[1] - HOUR, day_bounds(date(2025, 2, 1))[0]
    costs, _ = priced_hours(classes, BASE_6)
    assert costs[last_hour] == pytest.approx(0.9 * 0.2516 + 12.68 / 744)
    assert costs[first_hour] == pytest.approx(0.4 * 0.2016 + 13.72 / 672)


def test_a_user_period_from_mid_august_2026() -> None:
    """A grid entered by hand from 2026-08-15 (its own kWh price and subscription) wins from its date."""
    user = PricePeriod(local_midnight_utc(date(2026, 8, 15)), {"base": 0.21}, monthly_fee=16.50)
    periods = regulated_periods(DATA, "base", 6, [user])
    august = month_bill(date(2026, 8, 1), bills(profile(date(2026, 8, 1), date(2026, 8, 31)), periods, *AUGUST))
    # grids.csv: 2026-08-01,BASE,6: base 0.2001, subscription 15.86 for the 14 x 24 hours of the 1st-14th; the
    # user's 0.21 and 16.50 for the 17 x 24 hours of the 15th-31st; August has 744 hours.
    assert august.energy == pytest.approx(14 * 18.6 * 0.2001 + 17 * 18.6 * 0.21, abs=1e-9)
    assert august.subscription == pytest.approx(15.86 * 14 * 24 / 744 + 16.50 * 17 * 24 / 744, abs=1e-9)
    assert cents(august.total) == "134.72"
    assert august.complete


# ------------------------------------------------------------------------------------ (b) DST months


@pytest.mark.parametrize(
    ("month", "dst_day", "dst_hours", "expected", "text"),
    [
        # grids.csv 2025-02-01,BASE,6: base 0.2016, subscription 13.72; 743 hours (the 30th has 23)
        (date(2025, 3, 1), date(2025, 3, 30), 23, (30 * 18.6 + 18.2) * 0.2016 + 13.72, "129.88"),
        # grids.csv 2025-08-01,BASE,6: base 0.1952, subscription 15.47; 745 hours (the 26th has 25)
        (date(2025, 10, 1), date(2025, 10, 26), 25, (30 * 18.6 + 19.0) * 0.1952 + 15.47, "128.10"),
    ],
)
def test_a_dst_month(month: date, dst_day: date, dst_hours: int, expected: float, text: str) -> None:
    last = month.replace(day=31)
    fee = {3: 13.72, 10: 15.47}[month.month]
    count = {3: 743, 10: 745}[month.month]
    days = bills(profile(month, last), BASE_6, month, last)
    bill = month_bill(month, days)
    assert bill.total == pytest.approx(expected, abs=1e-9)
    assert cents(bill.total) == text
    assert bill.priced_hours == count
    assert bill.complete
    assert bill.subscription == pytest.approx(fee, abs=1e-9)  # exactly one subscription
    dst = next(day for day in days if day.day == dst_day)
    assert dst.priced_hours == dst_hours
    assert dst.subscription == pytest.approx(dst_hours * fee / count, abs=1e-12)
    assert days[0].subscription == pytest.approx(24 * fee / count, abs=1e-12)


# ------------------------------------------------------------------------------ (c) a Tempo winter month


def tempo_curve(day: date) -> tuple[Reading, ...]:
    """Half-hour readings: 600 W from 22:00 to 06:00 local (off-peak), 1000 W otherwise."""
    readings = []
    lower, upper = day_bounds(day)
    step = timedelta(minutes=30)
    moment = lower
    while moment < upper:
        start, end = to_paris(moment), to_paris(moment + step)
        night = start.hour >= 22 or start.hour < 6
        readings.append(Reading(start, end, 600.0 if night else 1000.0))
        moment += step
    return tuple(readings)


def test_a_tempo_winter_month_january_2025_with_its_real_colours() -> None:
    """Tempo 6 kVA, January 2025, through the tariff series (split, colours, prices) and the shipped colours.

    tempo.txt, season 2024-2025: 2024-12-31 white; January 2025 red on the 2, 3, 10, 13-17, 20-22, 30, 31
    (13 days), white on the 4, 7-9, 11, 18, 23, 29 (8 days), blue on the 1, 5, 6, 12, 19, 24-28 (10 days).
    Peak hours (06-22, 16 x 1 kWh a day) belong to their day; off-peak hours (22-06, 0.6 kWh each) to the Tempo
    day of the evening: January 1st 00-06 is the white 2024-12-31 (6 h), the 31st's night has 2 h in January.
    off-peak kWh: blue 10 x 4.8 = 48.0; white 3.6 + 8 x 4.8 = 42.0; red 12 x 4.8 + 1.2 = 58.8
    peak kWh: blue 10 x 16 = 160; white 8 x 16 = 128; red 13 x 16 = 208
    """
    config = TariffConfig("tempo", periods=regulated_periods(DATA, "tempo", 6), cost_key="bill", price_data=DATA)
    colours = {day: DATA.tempo[day] for day in days_between(date(2024, 12, 30), date(2025, 1, 31))}
    results = []
    for day in days_between(date(2025, 1, 1), date(2025, 1, 31)):
        entry = DayInput(day=day, curve=tempo_curve(day), curve_state=CurveState.COMPLETE)
        lower, upper = day_bounds(day)
        hours = {hour: wh for hour, wh in build_hours([entry]).items() if lower <= hour < upper}
        results.append(consumption_day(day, entry, hours, config, colours=colours))
    assert consumption_keys(config)[-1] == "bill"
    january = month_bill(date(2025, 1, 1), [result.bill for result in results if result.bill is not None])
    # grids.csv 2024-11-01,TEMPO,6: blue_hc 0.1296, blue_hp 0.1609, white_hc 0.1486, white_hp 0.1894,
    # red_hc 0.1568, red_hp 0.7562, subscription 13.03
    expected = 48.0 * 0.1296 + 160 * 0.1609 + 42.0 * 0.1486 + 128 * 0.1894 + 58.8 * 0.1568 + 208 * 0.7562 + 13.03
    assert january.total == pytest.approx(expected, abs=1e-9)
    assert cents(january.total) == "241.99"
    assert january.kwh == pytest.approx(248 * 0.6 + 496 * 1.0)
    assert january.complete
    red = next(result for result in results if result.day == date(2025, 1, 2))
    assert red.bill is not None
    # the red 2nd: 00-06 is the blue 1st's night (3.6 kWh blue_hc), 06-22 red peak, 22-24 red off-peak (1.2 kWh)
    assert red.bill.energy == pytest.approx(3.6 * 0.1296 + 16 * 0.7562 + 1.2 * 0.1568, abs=1e-9)
    # the series and the bill agree, day by day
    for result in results:
        assert result.bill is not None
        assert sum(result.series["bill"].values()) / 1000 == pytest.approx(result.bill.total, abs=1e-9)
        assert "consumption_cost" not in result.series


# ---------------------------------------------------------------------------------- (d) the tax split


def test_the_tax_split_adds_up_to_ttc_january_2025() -> None:
    january = month_bill(date(2025, 1, 1), bills(profile(date(2025, 1, 1), date(2025, 1, 31)), BASE_6, *JANUARY))
    kwh = 31 * 18.6
    # taxes.csv: accise 21.00 EUR/MWh from 2024-02-01; energy TTC = (HT + accise) x 1.2; subscription TVA 5.5 %
    # until 2025-07-31. grids.csv 2024-11-01,BASE,6: base 0.2516, subscription 12.68.
    assert january.accise == pytest.approx(kwh * 0.021, abs=1e-9)
    assert january.energy_ht == pytest.approx(kwh * (0.2516 / 1.2 - 0.021), abs=1e-9)
    assert january.energy_tva == pytest.approx(kwh * 0.2516 * (1 - 1 / 1.2), abs=1e-9)
    assert january.subscription_tva == pytest.approx(12.68 - 12.68 / 1.055, abs=1e-9)
    assert january.subscription_before_tva == pytest.approx(12.68 / 1.055, abs=1e-9)
    assert (cents(january.energy_ht or 0), cents(january.accise or 0), cents(january.energy_tva or 0)) == (
        "108.79",
        "12.11",
        "24.18",
    )
    assert january.energy_ht is not None
    assert january.accise is not None
    assert january.energy_tva is not None
    assert january.subscription_before_tva is not None
    assert january.subscription_tva is not None
    assert january.energy_ht + january.accise + january.energy_tva == pytest.approx(january.energy, abs=1e-9)
    assert january.subscription_before_tva + january.subscription_tva == pytest.approx(january.subscription, abs=1e-9)


def test_the_tax_split_with_20_percent_on_the_subscription_and_where_the_accise_is_unknown() -> None:
    october = month_bill(date(2025, 10, 1), bills(profile(date(2025, 10, 1), date(2025, 10, 31)), BASE_6, *OCTOBER))
    # taxes.csv: TVA on the subscription 20 % from 2025-08-01; accise 29.98 EUR/MWh from 2025-08-01
    assert october.subscription_tva == pytest.approx(15.47 - 15.47 / 1.2, abs=1e-9)
    assert october.accise == pytest.approx((30 * 18.6 + 19.0) * 0.02998, abs=1e-9)
    # August 2026: the accise is unknown from 2026-08-01 (taxes.csv): no energy split, the TVA still splits off.
    august = month_bill(date(2026, 8, 1), bills(profile(*AUGUST), BASE_6, *AUGUST))
    assert (august.energy_ht, august.accise, august.energy_tva) == (None, None, None)
    assert august.subscription_tva == pytest.approx(15.86 - 15.86 / 1.2, abs=1e-9)
    # Without price data, no split at all.
    bare = day_bill(date(2025, 10, 2), profile(date(2025, 10, 2), date(2025, 10, 2)), BASE_6, None)
    assert (bare.energy_ht, bare.subscription_tva, bare.subscription_before_tva) == (None, None, None)
    assert bare.total == pytest.approx(18.6 * 0.1952 + 24 * 15.47 / 745)


# ------------------------------------------------------------------------- (e) after the shipped data


def test_hours_after_the_shipped_data_are_unpriced_never_zero() -> None:
    """coverage.csv: the Tarif Bleu grids hold to 2026-12-01; from 2026-12-02 the prices are unknown."""
    classes = {"base": dict.fromkeys(hours_of(date(2026, 12, 1)) + hours_of(date(2026, 12, 2)), 0.0)}
    costs, unpriced = priced_hours(classes, BASE_6)
    assert list(costs) == hours_of(date(2026, 12, 1))  # 0 Wh priced: the subscription share (2026-08-01: 15.86)
    assert all(cost == pytest.approx(15.86 / 744) for cost in costs.values())
    assert list(unpriced) == hours_of(date(2026, 12, 2))  # 0 Wh and still unpriced: no 0 EUR row
    assert set(unpriced.values()) == {"no shipped price after 2026-12-01"}
    day = day_bill(date(2026, 12, 2), classes, BASE_6, DATA)
    assert (day.priced_hours, day.unpriced_hours, day.total) == (0, 24, 0.0)
    assert day.unpriced == "no shipped price after 2026-12-01"

    # A user period dated after the data prices the hours from its date.
    user = PricePeriod(local_midnight_utc(date(2026, 12, 10)), {"base": 0.25}, monthly_fee=17.0)
    periods = regulated_periods(DATA, "base", 6, [user])
    december = bills(profile(date(2026, 12, 1), date(2026, 12, 31)), periods, date(2026, 12, 1), date(2026, 12, 31))
    bill = month_bill(date(2026, 12, 1), december)
    assert not bill.complete
    assert bill.priced_hours == 24 + 22 * 24
    assert bill.unpriced_hours == 8 * 24
    # the 1st at grids.csv 2026-08-01,BASE,6 (0.2001, 15.86); the 10th-31st at the user's 0.25 and 17.0
    expected = 18.6 * 0.2001 + 15.86 * 24 / 744 + 22 * 18.6 * 0.25 + 17.0 * 22 * 24 / 744
    assert bill.total == pytest.approx(expected, abs=1e-9)
    assert cents(bill.total) == "118.60"

    # Through the tariff series: no cost row, counted, with the reason.
    config = TariffConfig("base", periods=BASE_6, cost_key="bill", price_data=DATA)
    hours = profile(date(2026, 12, 3), date(2026, 12, 3))["base"]
    result = consumption_day(date(2026, 12, 3), None, hours, config, colours={})
    assert result.series["bill"] == {}
    assert result.unpriced_hours == 24
    assert result.unpriced == "no shipped price after 2026-12-01"
    assert result.bill is not None
    assert result.bill.unpriced_hours == 24


def test_the_feed_in_price_is_paid_past_the_shipped_data_and_carries_no_subscription() -> None:
    user = PricePeriod(local_midnight_utc(date(2026, 6, 1)), {FEED_IN: 0.04})  # a feed-in price only
    periods = regulated_periods(DATA, "base", 6, [user])
    production = dict.fromkeys(hours_of(date(2026, 7, 1)) + hours_of(date(2026, 12, 5)), 1000.0)
    earned = hourly_compensation(production, [period for period in periods if FEED_IN in period.prices])
    assert len(earned) == 48
    assert sum(earned.values()) == pytest.approx(48 * 0.04)  # no subscription share in it


# -------------------------------------------------------------------------------------- (f) forecast


def bill_of(day: date, energy: float, priced: int | None = None, fee_share: float = 12.0 / 720) -> DayBill:
    hours = priced if priced is not None else len(hours_of(day))
    return DayBill(
        day=day,
        kwh=energy / 0.2,
        energy=energy,
        subscription=hours * fee_share,
        energy_ht=None,
        accise=None,
        energy_tva=None,
        subscription_tva=None,
        subscription_before_tva=None,
        priced_hours=hours,
        unpriced_hours=len(hours_of(day)) - hours,
    )


def pattern(day: date) -> float:
    """EUR of energy by weekday: Monday 2, Tuesday 3 ... Sunday 8."""
    return 2.0 + day.weekday()


FORECAST_PERIODS = (PricePeriod(local_midnight_utc(date(2025, 10, 1)), {"base": 0.2}, monthly_fee=12.0),)


def test_forecast_on_a_hand_example() -> None:
    """November 2025 (30 days, 720 hours; the 1st is a Saturday), known to the 10th (a Monday).

    The 4 weeks to the 10th: 2025-10-14 to 2025-11-10 (28 days), less 2025-10-22 (not fully priced): 27 days.
    Mondays there: 10-20 (4.0, an unusual one), 10-27, 11-03, 11-10 (2.0 each): mean 2.5. Wednesdays: 10-15,
    10-29, 11-05 (4.0 each; 10-22 left out although it says 40.0). Days before 10-14 say 100.0: not in the basis.
    Later days, the 11th (Tuesday) to the 30th (Sunday): 3 of each weekday but Monday (2):
    2 x 2.5 + 3 x (3 + 4 + 5 + 6 + 7 + 8) = 104.0.
    Known: 1st-10th = 7 + 8 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 2 = 52.0 of energy, + 10 x 24 x 12 / 720 = 4.0 of
    subscription. Subscription of the month: 12.0.
    """
    days = {day: bill_of(day, 100.0) for day in days_between(date(2025, 10, 1), date(2025, 10, 13))}
    days |= {day: bill_of(day, pattern(day)) for day in days_between(date(2025, 10, 14), date(2025, 11, 10))}
    days[date(2025, 10, 20)] = bill_of(date(2025, 10, 20), 4.0)
    days[date(2025, 10, 22)] = bill_of(date(2025, 10, 22), 40.0, priced=20)
    forecast = forecast_month(days, date(2025, 11, 1), FORECAST_PERIODS)
    assert forecast is not None
    assert forecast.so_far == pytest.approx(52.0 + 4.0, abs=1e-9)
    assert forecast.estimated == pytest.approx(2 * 2.5 + 3 * (3 + 4 + 5 + 6 + 7 + 8), abs=1e-9)
    assert forecast.subscription == pytest.approx(12.0, abs=1e-9)
    assert forecast.total == pytest.approx(52.0 + 104.0 + 12.0, abs=1e-9)
    assert (forecast.estimated_days, forecast.basis_days) == (20, 27)
    assert "same weekday" in forecast.method
    assert "2025-11-10" in forecast.method


def test_forecast_falls_back_to_the_mean_of_all_basis_days_and_needs_a_basis() -> None:
    """One week to the 10th (11-04 to 11-10), Thursday 11-06 not fully priced (it says 50.0): Thursdays take the
    mean of the 6 other days, (3 + 4 + 6 + 7 + 8 + 2) / 6 = 5.0; later days: 2 x 2 + 3 x (3 + 4 + 5.0 + 6 + 7 + 8).
    """
    days = {day: bill_of(day, pattern(day)) for day in days_between(date(2025, 11, 1), date(2025, 11, 10))}
    days[date(2025, 11, 6)] = bill_of(date(2025, 11, 6), 50.0, priced=23)
    forecast = forecast_month(days, date(2025, 11, 1), FORECAST_PERIODS, weeks=1)
    assert forecast is not None
    assert forecast.estimated == pytest.approx(2 * 2 + 3 * (3 + 4 + 5.0 + 6 + 7 + 8), abs=1e-9)
    assert forecast.basis_days == 6
    assert "3 from the mean of all of them" in forecast.method
    # the partial day counts as it is billed (50.0 of energy, 23 hours of subscription)
    assert forecast.so_far == pytest.approx(sum(bill.total for bill in days.values()), abs=1e-9)
    known_energy = 7 + 8 + 2 + 3 + 4 + 50.0 + 6 + 7 + 8 + 2
    assert forecast.total == pytest.approx(known_energy + forecast.estimated + 12.0, abs=1e-9)
    # no basis at all: no forecast
    assert forecast_month({}, date(2025, 11, 1), FORECAST_PERIODS) is None
    partial_only = {date(2025, 11, 1): bill_of(date(2025, 11, 1), 7.0, priced=10)}
    assert forecast_month(partial_only, date(2025, 11, 1), FORECAST_PERIODS) is None


def test_forecast_of_a_complete_month_is_its_bill_and_none_where_prices_are_unknown() -> None:
    days = bills(profile(*JANUARY), BASE_6, *JANUARY)
    forecast = forecast_month({bill.day: bill for bill in days}, date(2025, 1, 15), BASE_6)
    assert forecast is not None
    assert forecast.estimated_days == 0
    assert forecast.total == pytest.approx(month_bill(date(2025, 1, 1), days).total, abs=1e-9)
    assert cents(forecast.total) == "157.75"
    # December 2026 runs past the shipped data: its subscription (and prices) are unknown.
    assert month_subscription(date(2026, 12, 1), BASE_6) is None
    november = bills(profile(date(2026, 11, 1), date(2026, 11, 30)), BASE_6, date(2026, 11, 1), date(2026, 11, 30))
    assert forecast_month({bill.day: bill for bill in november}, date(2026, 12, 1), BASE_6) is None
    # A month whose subscription changes mid-month: each fee for its hours (the user period of the 15th).
    user = PricePeriod(local_midnight_utc(date(2026, 8, 15)), {"base": 0.21}, monthly_fee=16.50)
    subscription = month_subscription(date(2026, 8, 1), regulated_periods(DATA, "base", 6, [user]))
    assert subscription == pytest.approx(15.86 * 14 * 24 / 744 + 16.50 * 17 * 24 / 744, abs=1e-9)


# --------------------------------------------------------------------- (g) day_bill == priced_hours


DAYS = (date(2025, 3, 30), date(2025, 10, 26), date(2025, 6, 10), date(2026, 8, 1), date(2026, 12, 2))


@st.composite
def inputs(draw: st.DrawFn) -> tuple[date, dict[str, dict[datetime, float]], list[PricePeriod], float]:
    day = draw(st.sampled_from(DAYS))
    lower, upper = day_bounds(day)
    span = [lower + k * HOUR for k in range(-3, round((upper - lower) / HOUR) + 3)]  # some hours outside the day
    wh = st.one_of(st.just(0.0), st.floats(0, 5000, allow_nan=False))
    classes = {
        name: draw(st.dictionaries(st.sampled_from(span), wh, max_size=len(span)))
        for name in draw(st.lists(st.sampled_from(["base", "offpeak", "peak"]), unique=True, max_size=3))
    }
    periods = [
        PricePeriod(
            lower + draw(st.integers(-30, 30)) * HOUR,
            draw(st.dictionaries(st.sampled_from(["base", "offpeak", "peak"]), st.floats(0, 1), max_size=3)),
            monthly_fee=draw(st.one_of(st.none(), st.floats(0, 40))),
            known=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    return day, classes, periods, draw(st.floats(0, 40))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=inputs(), with_data=st.booleans())
def test_day_bill_is_the_sum_of_priced_hours(
    case: tuple[date, dict[str, dict[datetime, float]], list[PricePeriod], float], with_data: bool
) -> None:
    day, classes, periods, fee = case
    lower, upper = day_bounds(day)
    costs, unpriced = priced_hours(classes, periods, fee)
    in_day = {hour: cost for hour, cost in costs.items() if lower <= hour < upper}
    bill = day_bill(day, classes, periods, DATA if with_data else None, fee)
    # What the importer hands over (it prices each day's cost once): the same bill, and ignored when some of the
    # hours are outside the day (priced for the whole mapping, not the day).
    each = price_each_hour(classes, periods, fee)
    assert day_bill(day, classes, periods, DATA if with_data else None, fee, priced_as=each) == bill
    assert bill.total == pytest.approx(sum(in_day.values()), abs=1e-9)
    assert bill.priced_hours == len(in_day)
    assert bill.unpriced_hours == sum(1 for hour in unpriced if lower <= hour < upper)
    assert bill.kwh == pytest.approx(
        sum(hours.get(hour, 0.0) for hours in classes.values() for hour in in_day) / 1000, abs=1e-9
    )
    if bill.energy_ht is not None:
        assert bill.accise is not None
        assert bill.energy_tva is not None
        assert bill.energy_ht + bill.accise + bill.energy_tva == pytest.approx(bill.energy, abs=1e-9)
    if bill.subscription_tva is not None:
        assert bill.subscription_before_tva is not None
        assert bill.subscription_before_tva + bill.subscription_tva == pytest.approx(bill.subscription, abs=1e-9)


def test_the_tariff_series_bill_matches_its_cost_series() -> None:
    config = TariffConfig("base", periods=BASE_6, price_data=DATA)
    for day in (date(2025, 3, 30), date(2025, 10, 26), date(2026, 12, 1)):
        hours = profile(day, day)["base"]
        result = consumption_day(day, None, hours, config, colours={})
        assert result.bill is not None
        assert sum(result.series["consumption_cost"].values()) / 1000 == pytest.approx(result.bill.total, abs=1e-9)
        assert result.bill.priced_hours == len(hours)
    # manual prices without periods: no bill
    assert consumption_day(DAYS[0], None, {}, TariffConfig("base"), colours={}).bill is None
    # the price data is loaded once and is not part of the configuration's identity
    assert TariffConfig("base", periods=BASE_6, price_data=DATA) == TariffConfig("base", periods=BASE_6)
    assert "PriceData" not in repr(config)


# ------------------------------------------------------------------------- (h) regulated_periods


def paris_midnight(day: str) -> datetime:
    return local_midnight_utc(date.fromisoformat(day))


def test_regulated_periods_are_the_shipped_grids_then_unknown() -> None:
    # grids.csv BASE 6 kVA: subscription and base price of each valid_from
    assert [(p.start, dict(p.prices), p.monthly_fee, p.known) for p in BASE_6] == [
        (paris_midnight("2024-02-01"), {"base": 0.2516}, 12.6, True),
        (paris_midnight("2024-11-01"), {"base": 0.2516}, 12.68, True),
        (paris_midnight("2025-02-01"), {"base": 0.2016}, 13.72, True),
        (paris_midnight("2025-08-01"), {"base": 0.1952}, 15.47, True),
        (paris_midnight("2026-02-01"), {"base": 0.194}, 15.65, True),
        (paris_midnight("2026-08-01"), {"base": 0.2001}, 15.86, True),
        (paris_midnight("2026-12-02"), {}, None, False),
    ]
    assert BASE_6[0].start == datetime(2024, 1, 31, 23, tzinfo=UTC)
    tempo = regulated_periods(DATA, "tempo", 9)
    assert set(tempo[0].prices) == set(TEMPO_CLASSES)
    hphc = regulated_periods(DATA, "hphc", 6)
    assert set(hphc[0].prices) == {"offpeak", "peak"}
    assert set(TARIF_BLEU_OFFERS) == {"base", "hphc", "tempo"}
    with pytest.raises(ValueError, match="no 7 kVA"):
        regulated_periods(DATA, "base", 7)
    with pytest.raises(ValueError, match="not a Tarif Bleu option"):
        regulated_periods(DATA, "ejp", 6)


def test_regulated_periods_merge_the_users_periods() -> None:
    older = PricePeriod(datetime(2025, 5, 10, tzinfo=PARIS), {"base": 0.19, FEED_IN: 0.1269}, monthly_fee=14.0)
    equal = PricePeriod(paris_midnight("2026-02-01"), {"base": 0.18, FEED_IN: 0.1269})  # no fee
    before_end = PricePeriod(paris_midnight("2026-09-15"), {"base": 0.21, FEED_IN: 0.05})
    after_end = PricePeriod(datetime(2027, 1, 1, tzinfo=timezone(timedelta(hours=1))), {"base": 0.22}, 16.0)
    merged = regulated_periods(DATA, "base", 6, [after_end, before_end, equal, older])
    assert [(p.start, dict(p.prices), p.monthly_fee, p.known) for p in merged] == [
        (paris_midnight("2024-02-01"), {"base": 0.2516}, 12.6, True),
        (paris_midnight("2024-11-01"), {"base": 0.2516}, 12.68, True),
        (paris_midnight("2025-02-01"), {"base": 0.2016}, 13.72, True),
        # the user's newer grid wins from its date, with its own subscription and its feed-in price
        (paris_midnight("2025-05-10"), {"base": 0.19, FEED_IN: 0.1269}, 14.0, True),
        # a shipped grid newer than the user's wins from its own date; the user's feed-in price goes on
        (paris_midnight("2025-08-01"), {"base": 0.1952, FEED_IN: 0.1269}, 15.47, True),
        # at an equal start the user's wins; without a fee it keeps the shipped grid's (2026-02-01: 15.65)
        (paris_midnight("2026-02-01"), {"base": 0.18, FEED_IN: 0.1269}, 15.65, True),
        (paris_midnight("2026-08-01"), {"base": 0.2001, FEED_IN: 0.1269}, 15.86, True),
        # prices entered after the newest shipped grid go on past the end of the shipped data (2026-12-01): its
        # end is not a newer grid
        (paris_midnight("2026-09-15"), {"base": 0.21, FEED_IN: 0.05}, 15.86, True),
        # a user period dated after the shipped data (it says nothing of the feed-in price)
        (paris_midnight("2027-01-01"), {"base": 0.22}, 16.0, True),
    ]
    # A feed-in price alone changes the feed-in price only, not the grid.
    feed = PricePeriod(paris_midnight("2025-03-01"), {FEED_IN: 0.04})
    with_feed = regulated_periods(DATA, "base", 6, [feed])
    assert (with_feed[3].start, dict(with_feed[3].prices), with_feed[3].monthly_fee) == (
        paris_midnight("2025-03-01"),
        {"base": 0.2016, FEED_IN: 0.04},
        13.72,
    )
    assert dict(with_feed[4].prices) == {"base": 0.1952, FEED_IN: 0.04}


def test_without_user_periods_after_the_newest_grid_the_end_of_the_data_is_unknown() -> None:
    """A user period older than the newest shipped grid does not reach past the data's end."""
    older = PricePeriod(paris_midnight("2026-02-10"), {"base": 0.18}, monthly_fee=15.0)
    merged = regulated_periods(DATA, "base", 6, [older])
    assert [(p.start, p.known) for p in merged[-3:]] == [
        (paris_midnight("2026-02-10"), True),
        (paris_midnight("2026-08-01"), True),
        (paris_midnight("2026-12-02"), False),
    ]


def test_a_periods_fee_wins_over_the_argument() -> None:
    """`priced_hours`: the fee of the period in force when it has one, else the ``monthly_fee`` argument."""
    day = date(2026, 1, 10)
    hours = dict.fromkeys(hours_of(day), 1000.0)
    start = paris_midnight("2026-01-01")
    own = priced_hours({"base": hours}, [PricePeriod(start, {"base": 0.1}, monthly_fee=31.0)], monthly_fee=99.0)[0]
    assert all(cost == pytest.approx(0.1 + 31.0 / 744) for cost in own.values())
    argument = priced_hours({"base": hours}, [PricePeriod(start, {"base": 0.1})], monthly_fee=99.0)[0]
    assert all(cost == pytest.approx(0.1 + 99.0 / 744) for cost in argument.values())
    free = priced_hours({"base": hours}, [PricePeriod(start, {"base": 0.1}, monthly_fee=0.0)], monthly_fee=99.0)[0]
    assert all(cost == pytest.approx(0.1) for cost in free.values())
    assert month_hours(start) == 744


def test_month_bill_refuses_a_day_twice_and_ignores_other_months() -> None:
    day = day_bill(date(2025, 1, 5), profile(date(2025, 1, 5), date(2025, 1, 5)), BASE_6, DATA)
    with pytest.raises(ValueError, match="billed twice"):
        month_bill(date(2025, 1, 1), [day, day])
    february = month_bill(date(2025, 2, 1), [day])
    assert (february.days, february.total, february.complete) == (0, 0.0, False)
    assert replace(day, unpriced=None).total == day.total
