"""Tests of the options model (`options.EntryOptions`): pure, no Home Assistant instance, real stored shapes."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta, timezone
import json
from pathlib import Path
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import ALL_MEASURES, PRICE_SOURCES, TARIFFS
from custom_components.enedis.options import (
    HISTORY_KEYS,
    TARIFF_KEYS,
    EntryOptions,
    parse_price_periods,
    price_periods_to_options,
    with_prices_from,
)
from custom_components.enedis.tariffs import PricePeriod

OPTIONS_PY = Path(__file__).parents[2] / "custom_components" / "enedis" / "options.py"

HPHC_1 = {"offpeak": 0.2, "peak": 0.27}
HPHC_2 = {"offpeak": 0.21, "peak": 0.27}


def paris_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=PARIS)


def stored_period(day: date, prices: dict[str, float]) -> dict[str, Any]:
    """A period as the options flow has always stored it (Paris midnight, written in UTC)."""
    return {"start": paris_midnight(day).astimezone(UTC).isoformat(), "prices": prices}


# --- defaults --------------------------------------------------------------------------------------------


def test_an_entry_without_options_gets_every_default() -> None:
    options = EntryOptions.from_entry({})
    assert options == EntryOptions()
    assert options.to_options() == {
        "curve_history_months": 24,
        "daily_history_months": 36,
        "poll_window_start": 8,
        "poll_window_end": 11,
        "measures": ["load_curve", "daily_energy", "max_power", "production"],
        "tariff_option": "base",
        "offpeak_hours": None,
        "tempo_entity": None,
        "price_entity": None,
        "monthly_fee": 0.0,
        "price_periods": [],
        "price_source": "manual",
        "subscribed_kva": None,
    }
    assert options.current_prices == {}
    assert options.current_prices_from is None
    assert options.poll_window_valid


def test_the_pages_keys_cover_every_stored_key_once() -> None:
    """Each page saves its own keys; the price periods are saved apart (only when they change)."""
    keys = [*HISTORY_KEYS, *TARIFF_KEYS, "price_periods"]
    assert sorted(keys) == sorted(EntryOptions().to_options())
    assert len(set(keys)) == len(keys)
    assert list(EntryOptions().to_options(HISTORY_KEYS)) == list(HISTORY_KEYS)


# --- round trip ------------------------------------------------------------------------------------------


def test_what_the_options_flow_stored_reads_back_unchanged() -> None:
    stored = {
        "curve_history_months": 6,
        "daily_history_months": 12,
        "poll_window_start": 12,
        "poll_window_end": 14,
        "measures": ["daily_energy", "max_power"],
        "tariff_option": "hphc",
        "offpeak_hours": "HC (22H00-6H00)",
        "tempo_entity": None,
        "price_entity": "sensor.spot_price",
        "monthly_fee": 15.5,
        "price_periods": [
            {"start": "2025-12-31T23:00:00+00:00", "prices": HPHC_1},
            {"start": "2026-07-31T22:00:00+00:00", "prices": HPHC_2},
        ],
        "price_source": "tarif_bleu",
        "subscribed_kva": 9,
    }
    options = EntryOptions.from_entry(stored)
    assert (options.price_source, options.subscribed_kva) == ("tarif_bleu", 9)
    assert options.curve_months == 6
    assert options.measures == ("daily_energy", "max_power")
    assert options.price_periods == (
        PricePeriod(start=datetime(2025, 12, 31, 23, tzinfo=UTC), prices=HPHC_1),
        PricePeriod(start=datetime(2026, 7, 31, 22, tzinfo=UTC), prices=HPHC_2),
    )
    assert options.to_options() == stored
    assert json.loads(json.dumps(options.to_options())) == stored  # JSON-ready, as the entry stores it


prices = st.dictionaries(
    st.sampled_from(["base", "offpeak", "peak", "blue_peak", "red_offpeak", "feed_in"]),
    st.floats(min_value=0, max_value=10, allow_nan=False),
    max_size=4,
)
periods = st.lists(
    st.builds(
        PricePeriod,
        start=st.datetimes(
            min_value=datetime(2020, 1, 1),
            max_value=datetime(2030, 1, 1),
            timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=2))]),
        ),
        prices=prices,
    ),
    max_size=4,
).map(lambda items: tuple(sorted(items, key=lambda period: period.start)))
models = st.builds(
    EntryOptions,
    curve_months=st.integers(1, 24),
    daily_months=st.integers(1, 36),
    poll_start=st.integers(6, 22),
    poll_end=st.integers(6, 22),
    measures=st.sets(st.sampled_from(ALL_MEASURES)).map(lambda chosen: tuple(m for m in ALL_MEASURES if m in chosen)),
    tariff=st.sampled_from(TARIFFS),
    offpeak_override=st.none() | st.just("HC (22H00-6H00)"),
    tempo_entity=st.none() | st.just("sensor.tempo"),
    price_entity=st.none() | st.just("sensor.price"),
    monthly_fee=st.floats(min_value=0, max_value=1000, allow_nan=False),
    price_periods=periods,
    price_source=st.sampled_from(PRICE_SOURCES),
    subscribed_kva=st.none() | st.sampled_from([3, 6, 9, 12, 36]),
)


@given(models)
def test_round_trip(options: EntryOptions) -> None:
    stored = json.loads(json.dumps(options.to_options()))
    assert EntryOptions.from_entry(stored) == options
    assert EntryOptions.from_entry(stored).to_options() == stored


# --- older and unexpected stored shapes --------------------------------------------------------------------


def test_an_entry_from_before_the_tariff_page_keeps_its_history_options() -> None:
    options = EntryOptions.from_entry({"curve_history_months": 1, "daily_history_months": 2, "measures": []})
    assert (options.curve_months, options.daily_months, options.measures) == (1, 2, ())
    assert (options.tariff, options.monthly_fee, options.price_periods) == ("base", 0.0, ())


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        # Fields the form leaves empty are stored as None (or were never stored): the defaults.
        ({"tariff_option": None, "monthly_fee": None, "offpeak_hours": None, "price_periods": None}, EntryOptions()),
        ({"offpeak_hours": "", "tempo_entity": "  ", "price_entity": ""}, EntryOptions()),
        ({"measures": None, "curve_history_months": None}, EntryOptions()),
        # Number selectors may give floats; numbers written as text still read.
        ({"curve_history_months": 6.0, "poll_window_start": "9", "monthly_fee": "12.5"}, None),
        # What cannot be read gives the default: the entry still sets up, the form still opens.
        ({"curve_history_months": "soon", "poll_window_end": [], "monthly_fee": "free"}, EntryOptions()),
        (
            {"daily_history_months": float("nan"), "monthly_fee": float("inf"), "poll_window_start": True},
            EntryOptions(),
        ),
        ({"tariff_option": "ejp"}, EntryOptions()),
        # Measures keep their canonical order; a name this version does not know is dropped.
        (
            {"measures": ["production", "old_measure", "load_curve"]},
            EntryOptions(measures=("load_curve", "production")),
        ),
        ({"measures": "load_curve"}, EntryOptions()),
        # An unknown price source or a power that is not a whole positive number: manual prices, the contract's.
        ({"price_source": "spot", "subscribed_kva": "six"}, EntryOptions()),
        ({"subscribed_kva": 0}, EntryOptions()),
        ({"subscribed_kva": -6}, EntryOptions()),
        ({"subscribed_kva": 6.5}, EntryOptions()),
        (
            {"subscribed_kva": "9", "price_source": "tarif_bleu"},
            EntryOptions(price_source="tarif_bleu", subscribed_kva=9),
        ),
        ({"subscribed_kva": 12.0}, EntryOptions(subscribed_kva=12)),
    ],
)
def test_tolerant_reading(stored: dict[str, Any], expected: EntryOptions | None) -> None:
    options = EntryOptions.from_entry(stored)
    if expected is None:
        assert (options.curve_months, options.poll_start, options.monthly_fee) == (6, 9, 12.5)
    else:
        assert options == expected


def test_numbers_are_not_clamped_to_the_forms_limits() -> None:
    """The engine bounds the history by what Enedis keeps; the model keeps what was stored (as before it)."""
    assert EntryOptions.from_entry({"curve_history_months": 30}).curve_months == 30
    assert not EntryOptions.from_entry({"poll_window_start": 12, "poll_window_end": 12}).poll_window_valid


# --- price periods -----------------------------------------------------------------------------------------


def test_price_periods_are_sorted_and_parsed_whatever_offset_they_were_written_with() -> None:
    raw = [
        {"start": "2026-08-01T00:00:00+02:00", "prices": HPHC_2},
        {"start": "2025-12-31T23:00:00Z", "prices": HPHC_1},
        {"start": "2026-03-01T00:00:00+01:00", "prices": {"offpeak": "0.19", "peak": 1}},
    ]
    periods = parse_price_periods(raw)
    assert [p.start for p in periods] == [
        datetime(2025, 12, 31, 23, tzinfo=UTC),
        datetime(2026, 2, 28, 23, tzinfo=UTC),
        datetime(2026, 7, 31, 22, tzinfo=UTC),
    ]
    assert periods[1].prices == {"offpeak": 0.19, "peak": 1.0}
    assert [p["start"] for p in price_periods_to_options(periods)] == [
        "2025-12-31T23:00:00+00:00",
        "2026-02-28T23:00:00+00:00",
        "2026-07-31T22:00:00+00:00",
    ]


def test_unreadable_price_periods_are_left_out() -> None:
    good = stored_period(date(2026, 1, 1), HPHC_1)
    raw = [
        "2026-01-01",
        {"prices": HPHC_1},
        {"start": "tomorrow", "prices": HPHC_1},
        {"start": "2026-02-01T00:00:00", "prices": HPHC_1},  # naive: no instant
        {"start": 1767222000, "prices": HPHC_1},
        {"start": "2026-03-01T00:00:00+01:00", "prices": [0.2, 0.27]},
        good,
    ]
    assert price_periods_to_options(parse_price_periods(raw)) == [good]
    assert parse_price_periods({"start": good["start"], "prices": HPHC_1}) == ()


def test_a_price_that_is_not_a_number_leaves_its_class_unpriced_not_the_period() -> None:
    """The period still ends the previous one: its hours of that class get no cost rather than an older price."""
    raw = [
        stored_period(date(2026, 1, 1), HPHC_1),
        {**stored_period(date(2026, 2, 1), {}), "prices": {"offpeak": "n/a", "peak": 0.3, "base": float("nan")}},
    ]
    periods = parse_price_periods(raw)
    assert [dict(p.prices) for p in periods] == [HPHC_1, {"peak": 0.3}]


def test_current_prices_are_the_newest_periods_with_its_paris_day() -> None:
    options = EntryOptions.from_entry(
        {"price_periods": [stored_period(date(2026, 8, 1), HPHC_2), stored_period(date(2026, 1, 1), HPHC_1)]}
    )
    assert options.current_prices == HPHC_2
    assert options.current_prices_from == date(2026, 8, 1)  # 2026-07-31T22:00Z is the 1st in Paris


# --- the options form's "apply from" rules ------------------------------------------------------------------


def two_periods() -> tuple[PricePeriod, ...]:
    return parse_price_periods([stored_period(date(2026, 1, 1), HPHC_1), stored_period(date(2026, 8, 1), HPHC_2)])


def test_new_prices_from_a_later_date_add_a_period() -> None:
    periods = with_prices_from(two_periods(), date(2026, 10, 1), {"offpeak": 0.3, "peak": 0.4})
    assert periods[:2] == two_periods()
    assert periods[2] == PricePeriod(start=paris_midnight(date(2026, 10, 1)), prices={"offpeak": 0.3, "peak": 0.4})
    assert price_periods_to_options(periods)[2]["start"] == "2026-09-30T22:00:00+00:00"


def test_an_earlier_date_replaces_the_periods_from_that_day() -> None:
    periods = with_prices_from(two_periods(), date(2026, 6, 1), {"offpeak": 0.19, "peak": 0.25})
    assert price_periods_to_options(periods) == [
        stored_period(date(2026, 1, 1), HPHC_1),
        {"start": "2026-05-31T22:00:00+00:00", "prices": {"offpeak": 0.19, "peak": 0.25}},
    ]


def test_the_same_prices_again_add_nothing_and_no_prices_remove_the_later_periods() -> None:
    assert with_prices_from(two_periods(), date(2026, 9, 1), HPHC_2) == two_periods()
    assert with_prices_from(two_periods(), date(2026, 8, 1), {}) == two_periods()[:1]


def test_saving_the_form_as_shown_leaves_the_periods_untouched() -> None:
    today = date(2026, 5, 10)
    options = EntryOptions(price_periods=two_periods())
    # Shown: the newest prices with their own date (a scheduled change); saved as shown, or with the date cleared.
    assert options.edited_price_periods(HPHC_2, date(2026, 8, 1), today) is options.price_periods
    assert options.edited_price_periods(HPHC_2, None, today) is options.price_periods
    # Correcting the scheduled prices keeps their date.
    corrected = options.edited_price_periods({"offpeak": 0.21, "peak": 0.3}, date(2026, 8, 1), today)
    assert corrected == (two_periods()[0], replace_prices(two_periods()[1], {"offpeak": 0.21, "peak": 0.3}))
    # New prices without a date apply from today: the later (scheduled) period is replaced.
    from_today = options.edited_price_periods({"offpeak": 0.21, "peak": 0.31}, None, today)
    assert from_today == (two_periods()[0], PricePeriod(paris_midnight(today), {"offpeak": 0.21, "peak": 0.31}))
    # The same prices from an earlier date move them; from a later one they are already in force: nothing changes.
    moved = options.edited_price_periods(HPHC_2, date(2026, 6, 1), today)
    assert moved == (two_periods()[0], PricePeriod(paris_midnight(date(2026, 6, 1)), HPHC_2))
    assert options.edited_price_periods(HPHC_2, date(2026, 9, 1), today) == options.price_periods


def replace_prices(period: PricePeriod, prices: dict[str, float]) -> PricePeriod:
    return PricePeriod(start=period.start, prices=prices)


def test_apply_from_is_paris_midnight_across_daylight_saving_changes() -> None:
    for day, offset in ((date(2026, 3, 29), 1), (date(2026, 3, 30), 2), (date(2026, 10, 25), 2)):
        (period,) = with_prices_from((), day, {"base": 0.2})
        assert period.start == datetime(day.year, day.month, day.day, tzinfo=timezone(timedelta(hours=offset)))


# --- purity ---------------------------------------------------------------------------------------------------


def test_the_model_imports_nothing_from_home_assistant() -> None:
    tree = ast.parse(OPTIONS_PY.read_text())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)] + [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    ]
    assert imported
    assert not [name for name in imported if name.startswith("homeassistant")]
