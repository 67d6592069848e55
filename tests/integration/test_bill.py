"""The bill end to end: the Tarif Bleu option prices each hour from the shipped grids; the bill statistic, the
bill sensors (this month, forecast, last month, same month last year) and the repair issues a user sees.

Expected figures are computed here from the consumption statistic and the grid's literal prices (copied from
``prices/grids.csv``, grid of 2026-08-01), never by the integration's code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import DOMAIN
from tests.fake_enedis.state import FakeState

from .common import (
    assert_continuous,
    async_run_until,
    async_setup_imported,
    async_statistics,
    by_hour,
    data_connect_entry,
    paris_utc as paris,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
TODAY = date(2026, 11, 22)
BASE_2026_08: dict[int, tuple[float, float]] = {6: (15.86, 0.2001), 9: (19.88, 0.1985), 12: (23.76, 0.1985)}
"""Tarif Bleu Base from 2026-08-01 (prices/grids.csv): kVA -> (subscription EUR TTC per month, EUR TTC per kWh)."""


def cents(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(today=TODAY, time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


async def setup_entry(hass: HomeAssistant, freezer: FrozenDateTimeFactory, **options: object) -> MockConfigEntry:
    entry = data_connect_entry([P0], curve_history_months=2, daily_history_months=2, **options)
    return await async_setup_imported(hass, freezer, entry)


def month_hours(first: date) -> int:
    following = (first + timedelta(days=32)).replace(day=1)
    return round((paris(following) - paris(first)) / timedelta(hours=1))


def sensor_state(hass: HomeAssistant, key: str) -> tuple[str, dict[str, object]]:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{P0}_{key}")
    assert entity_id is not None, key
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state, dict(state.attributes)


async def test_tarif_bleu_bill_statistic_and_sensors(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    freezer.move_to(paris(TODAY, 12))
    entry = await setup_entry(hass, freezer, tariff_option="base", price_source="tarif_bleu")
    kva = round(entry.runtime_data.contracts[P0].subscribed_power_kva or 0)
    subscription, price = BASE_2026_08[kva]
    consumption = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption"))
    bill_rows = await async_statistics(hass, f"enedis:{P0}_bill")
    bill = by_hour(bill_rows)
    assert_continuous(bill_rows)
    october, november = date(2026, 10, 1), date(2026, 11, 1)
    # Every hour from October on: its energy at the Base price plus the month's subscription spread per hour.
    for hour in (h for h in consumption if h >= paris(october)):
        first = hour.astimezone(PARIS).date().replace(day=1)
        assert bill[hour] == pytest.approx(consumption[hour] * price + subscription / month_hours(first), abs=1e-9)
    assert month_hours(october) == 745  # the autumn DST month: still exactly one subscription

    # Last month (October 2026, complete): the energy at the Base price plus exactly one subscription.
    oct_kwh = sum(kwh for hour, kwh in consumption.items() if paris(october) <= hour < paris(november))
    value, attributes = sensor_state(hass, "bill_last_month")
    assert float(value) == cents(oct_kwh * price + subscription)
    assert attributes["month"] == "2026-10"
    assert attributes["subscription"] == cents(subscription)
    assert attributes["complete"] is True
    assert attributes["priced_hours"] == 745
    assert attributes["energy_kwh"] == pytest.approx(oct_kwh, abs=1e-3)
    # The accise from 2026-08-01 is not in the shipped taxes: the split is unknown, never guessed (the unit tests
    # check the split where the taxes are known); the subscription's TVA rate is known.
    assert (attributes["energy_ht"], attributes["accise"], attributes["energy_tva"]) == (None, None, None)
    assert attributes["subscription_tva"] == cents(subscription - subscription / 1.2)

    # This month so far: November 1-21 (yesterday), its hours' share of the subscription.
    nov_hours = [hour for hour in consumption if hour >= paris(november)]
    nov_kwh = sum(consumption[hour] for hour in nov_hours)
    value, attributes = sensor_state(hass, "bill_this_month")
    assert float(value) == cents(nov_kwh * price + subscription * len(nov_hours) / 720)
    assert attributes["complete"] is False

    # The forecast: this month so far plus an estimate of the 9 days not yet published (22 to 30 November).
    value, attributes = sensor_state(hass, "bill_forecast")
    assert attributes["estimated_days"] == 9
    assert attributes["so_far"] == cents(nov_kwh * price + subscription * len(nov_hours) / 720)
    assert float(value) > cents(nov_kwh * price + subscription)

    # No data a year ago: no figure, never 0 EUR.
    value, _ = sensor_state(hass, "bill_same_month_last_year")
    assert value == "unknown"
    # The Tarif Bleu writes the bill, not the manual prices' cost statistic.
    assert await async_statistics(hass, f"enedis:{P0}_consumption_cost") == []
    await hass.config_entries.async_unload(entry.entry_id)


async def test_tarif_bleu_without_a_grid_at_that_power_says_so(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, issue_registry: ir.IssueRegistry
) -> None:
    """Tempo does not exist at 3 kVA: no bill at all (never a guessed price) and a repair issue that says why."""
    freezer.move_to(paris(TODAY, 12))
    entry = await setup_entry(hass, freezer, tariff_option="tempo", price_source="tarif_bleu", subscribed_kva=3)
    issue = issue_registry.async_get_issue(DOMAIN, f"tarif_bleu_{P0}")
    assert issue is not None
    assert issue.translation_key == "tarif_bleu_no_grid"
    assert issue.translation_placeholders == {"prm": P0, "kva": "3", "option": "TEMPO", "entry": "Linky sandbox"}
    assert await async_statistics(hass, f"enedis:{P0}_bill") == []
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{P0}_bill_this_month") is None

    # The power corrected in the options: the issue goes, the bill comes.
    hass.config_entries.async_update_entry(entry, options={**entry.options, "subscribed_kva": 6})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator._rebuilt, max_steps=5)
    assert issue_registry.async_get_issue(DOMAIN, f"tarif_bleu_{P0}") is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_past_the_shipped_prices_a_repair_issue_says_what_to_do(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    socket_enabled: None,
    issue_registry: ir.IssueRegistry,
) -> None:
    """On 2026-12-05 the shipped Tarif Bleu (to 2026-12-01) no longer prices the days: no bill row for them (never a
    guessed price) and a repair issue; prices typed from 2026-12-02 go on and the issue goes."""
    today = date(2026, 12, 5)
    freezer.move_to(paris(today, 12))
    state = FakeState(today=today, time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state):
        entry = await setup_entry(hass, freezer, tariff_option="base", price_source="tarif_bleu")
        issue = issue_registry.async_get_issue(DOMAIN, f"tarif_bleu_ended_{P0}")
        assert issue is not None
        assert issue.translation_key == "tarif_bleu_prices_ended"
        assert issue.translation_placeholders == {"prm": P0, "end": "2026-12-01", "entry": "Linky sandbox"}
        bill = by_hour(await async_statistics(hass, f"enedis:{P0}_bill"))
        consumption = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption"))
        december = [hour for hour in consumption if hour >= paris(date(2026, 12, 2))]
        assert december  # the days after the shipped prices were imported...
        assert all(bill.get(hour, 0.0) == 0.0 for hour in december)  # ...and not priced
        assert bill[paris(date(2026, 12, 1), 12)] > 0  # the last shipped day is

        typed = {"start": paris(date(2026, 12, 2)).isoformat(), "prices": {"base": 0.2}}
        hass.config_entries.async_update_entry(entry, options={**entry.options, "price_periods": [typed]})
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        coordinator = entry.runtime_data
        await async_run_until(hass, freezer, coordinator, lambda: coordinator._rebuilt, max_steps=5)
        assert issue_registry.async_get_issue(DOMAIN, f"tarif_bleu_ended_{P0}") is None
        bill = by_hour(await async_statistics(hass, f"enedis:{P0}_bill"))
        hour = december[0]
        kva = round(coordinator.contracts[P0].subscribed_power_kva or 0)
        # The typed price, and the subscription of the newest shipped grid (none typed: the shipped one goes on).
        assert bill[hour] == pytest.approx(consumption[hour] * 0.2 + BASE_2026_08[kva][0] / 744, abs=1e-9)
        await hass.config_entries.async_unload(entry.entry_id)
