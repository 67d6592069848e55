"""The tariff comparator on the shipped price data, against hand-computed costs (to the cent).

The week of Monday 2025-01-13 to Sunday 2025-01-19 at 6 kVA, 1 kWh every hour (168 kWh). Its Tempo colours (shipped,
RTE): 12 blue, 13-17 red, 18 white, 19 blue; sobriété days (Zen Flex) 13-17; EJP days 13-17. The grids in force:
Tarif Bleu of 2024-11-01, Zen of 2024-12-01. January has 744 hours, so a week carries 168/744 of a month's
subscription.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from custom_components.enedis.api.calendar import day_bounds
from custom_components.enedis.comparator import (
    DAILY_ONLY,
    NO_GRID_AT_KVA,
    NO_OFFPEAK_WINDOWS,
    NO_PRICE,
    OPTION_KEYS,
    UNKNOWN_CALENDAR,
    Comparison,
    Period,
    as_dict,
    compare,
    default_period,
)
from custom_components.enedis.tariff_data import PriceData, load_price_data
from custom_components.enedis.tariffs import HOUR, parse_offpeak

MONDAY = date(2025, 1, 13)
SUNDAY = date(2025, 1, 19)
OWN = parse_offpeak("HC (2H00-8H00)")  # 6 off-peak hours a day, not the standard 22:00-06:00


@pytest.fixture(scope="module")
def data() -> PriceData:
    return load_price_data()


def flat(first: date, last: date, wh: float = 1000.0) -> dict[datetime, float]:
    """``wh`` every UTC hour of the local days ``first``..``last``."""
    hours: dict[datetime, float] = {}
    day = first
    while day <= last:
        lower, upper = day_bounds(day)
        while lower < upper:
            hours[lower] = wh
            lower += HOUR
        day += timedelta(days=1)
    return hours


def week(data: PriceData, **kwargs: object) -> Comparison:
    arguments: dict[str, object] = {
        "kva": 6,
        "hours": flat(MONDAY, SUNDAY),
        "daily_only": {},
        "first": MONDAY,
        "last": SUNDAY,
        "offpeak": OWN,
        "colours": {},
        "current": "tempo",
    }
    arguments.update(kwargs)
    return compare(data, **arguments)  # type: ignore[arg-type]


def totals(comparison: Comparison) -> dict[str, float | None]:
    return {key: value.get("total_eur") for key, value in as_dict(comparison)["options"].items()}


# Hand-computed, EUR TTC:
BASE = 168 * 0.2516 + 12.68 * 168 / 744  # 42.2688 + 2.8632 = 45.1320
HPHC_OWN = 7 * (6 * 0.2068 + 18 * 0.27) + 13.09 * 168 / 744  # 7 x 6.1008 + 2.9558 = 45.6614
HPHC_STANDARD = 7 * (8 * 0.2068 + 16 * 0.27) + 13.09 * 168 / 744  # 7 x 5.9744 + 2.9558 = 44.7766
# Tempo: a local day D is 00-06 off-peak of Tempo day D-1, 06-22 peak of D, 22-24 off-peak of D.
TEMPO = (
    (6 * 0.1296 + 16 * 0.7562 + 2 * 0.1568)  # 13th: night of the blue 12th, red day
    + 4 * (6 * 0.1568 + 16 * 0.7562 + 2 * 0.1568)  # 14th-17th: red
    + (6 * 0.1568 + 16 * 0.1894 + 2 * 0.1486)  # 18th: night of the red 17th, white day
    + (6 * 0.1486 + 16 * 0.1609 + 2 * 0.1296)  # 19th: night of the white 18th, blue day
    + 13.03 * 168 / 744
)  # 74.5984 + 2.9423 = 77.5407
ZEN_WEEKEND = 5 * 24 * 0.2652 + 2 * 24 * 0.1932 + 12.68 * 168 / 744  # 31.824 + 9.2736 + 2.8632 = 43.9608
ZEN_WEEKEND_HC = 5 * (6 * 0.2041 + 18 * 0.2808) + 48 * 0.2041 + 13.09 * 168 / 744  # 31.395 + 9.7968 + 2.9558
# Zen Flex off-peak 00-08, 13-18, 20-24 (17 h), peak 7 h; sobriété 13th-17th, eco 18th-19th.
ZEN_FLEX = 5 * (17 * 0.27 + 7 * 0.7562) + 2 * (17 * 0.1795 + 7 * 0.27) + 13.09 * 168 / 744  # 49.417 + 9.883 + 2.9558


def test_a_january_week_at_6_kva_to_the_cent(data: PriceData) -> None:
    result = week(data)
    assert totals(result) == {
        "base": round(BASE, 2),
        "hphc": round(HPHC_OWN, 2),
        "hphc_standard": round(HPHC_STANDARD, 2),
        "tempo": round(TEMPO, 2),
        "ejp": None,
        "zen_weekend": round(ZEN_WEEKEND, 2),
        "zen_weekend_hc": round(ZEN_WEEKEND_HC, 2),
        "zen_flex": round(ZEN_FLEX, 2),
    }
    assert (round(BASE, 2), round(TEMPO, 2), round(ZEN_WEEKEND, 2), round(ZEN_FLEX, 2)) == (45.13, 77.54, 43.96, 62.26)
    response = as_dict(result)
    assert response["cheapest"] == "zen_weekend"
    assert response["current"] == "tempo"
    assert response["saving_eur"] == round(TEMPO - ZEN_WEEKEND, 2) == 33.58
    tempo = response["options"]["tempo"]
    assert tempo["difference_to_current_eur"] == 0
    assert response["options"]["base"]["difference_to_current_eur"] == round(BASE - TEMPO, 2) == -32.41
    assert tempo["subscription_eur"] == round(13.03 * 168 / 744, 2)
    assert tempo["kwh"] == 168
    assert tempo["days_priced"] == 7
    assert tempo["months"] == [
        {
            "month": "2025-01",
            "total_eur": round(TEMPO, 2),
            "energy_eur": 74.6,
            "subscription_eur": 2.94,
            "kwh": 168,
            "days_priced": 7,
            "days_not_priced": {DAILY_ONLY: 0, UNKNOWN_CALENDAR: 0, NO_PRICE: 0},
            "common_basis_eur": round(TEMPO, 2),
        }
    ]
    assert response["days"] == {"in_period": 7, "with_data": 7, "without_data": 0, "common_basis": 7}


def test_ejp_only_at_a_kva_with_an_ejp_grid(data: PriceData) -> None:
    assert as_dict(week(data))["options"]["ejp"] == {"available": False, "reason": NO_GRID_AT_KVA}
    # 9 kVA has one. EJP peak runs 07:00 to 01:00 next day on EJP days (13th-17th): 17 h on the 13th, 18 h on
    # the 14th-17th (their 00-01 belongs to the EJP day before), 1 h on the 18th: 90 peak hours, 78 normal.
    nine = as_dict(week(data, kva=9))["options"]["ejp"]
    assert nine["total_eur"] == round(90 * 1.5197 + 78 * 0.1758 + 15.9 * 168 / 744, 2) == 154.08


def test_daily_only_days_are_counted_not_priced_unless_the_price_is_flat_all_day(data: PriceData) -> None:
    # Sunday 12th and Monday 20th known only by their total (24 kWh each).
    daily = {date(2025, 1, 12): 24000.0, date(2025, 1, 20): 24000.0}
    result = as_dict(week(data, daily_only=daily, first=date(2025, 1, 12), last=date(2025, 1, 20)))
    options = result["options"]
    # Base and Zen Week-End: one price all day, the total is exact.
    assert options["base"]["total_eur"] == round(BASE + 48 * 0.2516 + 12.68 * 48 / 744, 2) == 58.03
    assert options["base"]["days_priced"] == 9
    assert options["zen_weekend"]["total_eur"] == round(ZEN_WEEKEND + 24 * 0.1932 + 24 * 0.2652 + 12.68 * 48 / 744, 2)
    # Zen Week-End HC: a weekend day is off-peak all day (priced), a weekday is not.
    assert options["zen_weekend_hc"]["total_eur"] == round(ZEN_WEEKEND_HC + 24 * 0.2041 + 13.09 * 24 / 744, 2)
    assert options["zen_weekend_hc"]["days_not_priced"] == {DAILY_ONLY: 1, UNKNOWN_CALENDAR: 0, NO_PRICE: 0}
    for key in ("hphc", "hphc_standard", "tempo", "zen_flex"):
        assert options[key]["days_priced"] == 7, key
        assert options[key]["days_not_priced"][DAILY_ONLY] == 2, key
    # The fair basis is the 7 days every option priced; the cheapest is chosen there.
    assert result["days"]["common_basis"] == 7
    assert {key: options[key]["common_basis_eur"] for key in OPTION_KEYS if key != "ejp"} == {
        "base": round(BASE, 2),
        "hphc": round(HPHC_OWN, 2),
        "hphc_standard": round(HPHC_STANDARD, 2),
        "tempo": round(TEMPO, 2),
        "zen_weekend": round(ZEN_WEEKEND, 2),
        "zen_weekend_hc": round(ZEN_WEEKEND_HC, 2),
        "zen_flex": round(ZEN_FLEX, 2),
    }
    # On their own days HP/HC (22-06) looks cheapest (it priced fewer days): not on the common basis.
    own_totals = {key: options[key]["total_eur"] for key in OPTION_KEYS if key != "ejp"}
    assert min(own_totals, key=lambda key: own_totals[key]) == "hphc_standard"
    assert result["cheapest"] == "zen_weekend"
    assert result["saving_eur"] == round(TEMPO - ZEN_WEEKEND, 2)


def test_options_needing_own_windows_are_not_compared_without_them(data: PriceData) -> None:
    options = as_dict(week(data, offpeak=()))["options"]
    assert options["hphc"] == {"available": False, "reason": NO_OFFPEAK_WINDOWS}
    assert options["zen_weekend_hc"] == {"available": False, "reason": NO_OFFPEAK_WINDOWS}
    assert options["hphc_standard"]["total_eur"] == round(HPHC_STANDARD, 2)


def test_unknown_colours_and_prices_past_the_data_are_not_priced(data: PriceData) -> None:
    # 2026-09-01 (Tuesday) and 2026-09-02: past the shipped Tempo calendar (to 2026-08-31) and the Zen grids (to
    # 2026-08-16); the Tarif Bleu grid holds to 2026-12-01.
    first, last = date(2026, 9, 1), date(2026, 9, 2)
    hours = flat(first, last)
    unknown = as_dict(
        compare(
            data, kva=6, hours=hours, daily_only={}, first=first, last=last, offpeak=OWN, colours={}, current="hphc"
        )
    )
    options = unknown["options"]
    assert options["tempo"]["days_not_priced"] == {DAILY_ONLY: 0, UNKNOWN_CALENDAR: 2, NO_PRICE: 0}
    assert options["tempo"]["total_eur"] == 0
    for key in ("zen_weekend", "zen_weekend_hc", "zen_flex"):
        assert options[key]["days_not_priced"] == {DAILY_ONLY: 0, UNKNOWN_CALENDAR: 0, NO_PRICE: 2}, key
    # Options that priced no day are left out of the common basis (not comparable) rather than emptying it.
    assert unknown["days"]["common_basis"] == 2
    assert options["tempo"]["common_basis_eur"] is None
    assert options["zen_flex"]["common_basis_eur"] is None
    assert options["base"]["common_basis_eur"] == options["base"]["total_eur"]
    assert unknown["cheapest"] in {"base", "hphc", "hphc_standard"}
    assert options["base"]["total_eur"] == round(48 * 0.2001 + 48 * 15.86 / 720, 2) == 10.66  # Base 6 kVA of 2026-08-01
    # Colours from elsewhere (the colour entity, RTE) price the days beyond the shipped calendar: 2026-09-01's
    # night belongs to the shipped 2026-08-31 (blue).
    colours = {date(2026, 9, 1): "BLEU", date(2026, 9, 2): "white"}
    known = as_dict(
        compare(
            data,
            kva=6,
            hours=hours,
            daily_only={},
            first=first,
            last=last,
            offpeak=OWN,
            colours=colours,
            current="hphc",
        )
    )
    grid = data.grid("TEMPO", 6, first)
    assert grid is not None
    p = grid.prices
    energy = (6 * p["blue_offpeak"] + 16 * p["blue_peak"] + 2 * p["blue_offpeak"]) + (
        6 * p["blue_offpeak"] + 16 * p["white_peak"] + 2 * p["white_offpeak"]
    )
    assert known["options"]["tempo"]["total_eur"] == round(energy + grid.subscription * 48 / 720, 2)


def test_no_common_basis_when_no_option_prices_a_day(data: PriceData) -> None:
    # 2023: before every shipped grid (Tarif Bleu from 2024-02-01, Zen from 2024-03-19).
    first, last = date(2023, 6, 1), date(2023, 6, 2)
    result = as_dict(
        compare(
            data,
            kva=6,
            hours=flat(first, last),
            daily_only={},
            first=first,
            last=last,
            offpeak=OWN,
            colours={},
            current="base",
        )
    )
    assert result["days"]["common_basis"] == 0
    assert result["cheapest"] is None
    assert result["options"]["base"]["days_not_priced"] == {DAILY_ONLY: 0, UNKNOWN_CALENDAR: 0, NO_PRICE: 2}


def test_a_month_priced_whole_carries_one_subscription_across_dst(data: PriceData) -> None:
    # March 2025 has 743 hours and October 2025 745: each carries exactly one month of subscription.
    for first, last in ((date(2025, 3, 1), date(2025, 3, 31)), (date(2025, 10, 1), date(2025, 10, 31))):
        result = compare(
            data,
            kva=6,
            hours=flat(first, last, 0.0),
            daily_only={},
            first=first,
            last=last,
            offpeak=OWN,
            colours={},
            current=None,
        )
        base = result.option("base")
        assert base is not None
        grid = data.grid("BASE", 6, first)
        assert grid is not None
        assert base.subscription_eur == pytest.approx(grid.subscription, abs=1e-9)
        assert base.days_priced == (last - first).days + 1


def test_days_without_data_and_the_current_option(data: PriceData) -> None:
    result = week(data, first=date(2025, 1, 1), last=date(2025, 1, 31), current="HPHC")
    response = as_dict(result)
    assert response["days"] == {"in_period": 31, "with_data": 7, "without_data": 24, "common_basis": 7}
    assert response["current"] == "hphc"
    assert response["options"]["hphc"]["difference_to_current_eur"] == 0
    assert response["options"]["tempo"]["difference_to_current_eur"] == round(TEMPO - HPHC_OWN, 2)
    # An option the PRM is on that cannot be compared leaves no difference.
    response = as_dict(week(data, offpeak=(), current="hphc"))
    assert response["current_available"] is False
    assert response["saving_eur"] is None
    assert response["options"]["base"]["difference_to_current_eur"] is None


def test_default_period_is_the_last_12_complete_months() -> None:
    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(1000)]
    assert default_period(date(2026, 3, 15), days) == Period(date(2025, 3, 1), date(2026, 2, 28), partial=False)
    assert default_period(date(2026, 1, 1), days) == Period(date(2025, 1, 1), date(2025, 12, 31), partial=False)
    recent = [date(2025, 6, 10) + timedelta(days=n) for n in range(400)]
    assert default_period(date(2026, 3, 15), recent) == Period(date(2025, 6, 10), date(2026, 2, 28), partial=True)
    assert default_period(date(2026, 3, 15), []) == Period(date(2025, 3, 1), date(2026, 2, 28), partial=True)


def test_a_year_prices_every_option_on_every_day(data: PriceData) -> None:
    """A whole year (2025) at 9 kVA: every option has a grid and every day is priced by all of them (its CPU time is
    measured by `benchmarks/comparator.py`, not here)."""
    first, last = date(2025, 1, 1), date(2025, 12, 31)
    hours = flat(first, last, 500.0)
    result = compare(
        data, kva=9, hours=hours, daily_only={}, first=first, last=last, offpeak=OWN, colours={}, current="base"
    )
    assert result.common_days == 365
    assert len([option for option in result.options if option.available]) == 8
