"""The tariff comparator end to end: ``enedis.compare_tariffs`` and the comparison sensors on the fake gateway.

Today is 2025-02-10: the last 12 complete months are 2024-02-01..2025-01-31, and the entry imports one month of load
curve and two months of daily energy, so the comparison is partial (it starts with the data, in December 2024), its
first days known only by their totals, January's hourly. Every shipped table covers the period.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import Direction
from custom_components.enedis.api.calendar import day_bounds, local_day
from custom_components.enedis.comparator import OPTION_KEYS
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.ledger import CurveState
from custom_components.enedis.tariff_data import load_price_data
from custom_components.enedis.tariffs import month_hours
from tests.fake_enedis import data as fake_data
from tests.fake_enedis.state import FakeState

from .common import (
    async_import_demo_credentials,
    async_run_until,
    async_statistics,
    async_step,
    conso_entry,
    data_connect_entry,
    install_registry,
    paris_utc as paris,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
TODAY = date(2025, 2, 10)


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(today=TODAY, time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


async def compare(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(DOMAIN, "compare_tariffs", data, blocking=True, return_response=True)
    assert isinstance(response, dict)
    return response


def entity_id(hass: HomeAssistant, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{P0}_{key}")
    assert found is not None, key
    return found


async def test_compare_tariffs_service_and_sensors(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    freezer.move_to(paris(TODAY, 12))
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry = data_connect_entry([P0], curve_history_months=1, daily_history_months=2, tariff_option="hphc")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    coordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    await async_step(hass, freezer, coordinator)
    contract = fake_data.contract(P0)
    assert contract is not None
    kva = contract.subscribed_power_kva

    response = await compare(hass)  # the only PRM: no field needed
    assert response["prm"] == P0
    assert response["kva"] == kva
    assert response["current"] == "hphc"
    assert response["partial"] is True
    first, last = date.fromisoformat(response["first"]), date.fromisoformat(response["last"])
    assert first.month == 12  # the two months of daily energy start in December
    assert last == date(2025, 1, 31)
    assert response["data_first_day"] == first.isoformat()
    days = (last - first).days + 1
    assert response["days"]["with_data"] == response["days"]["in_period"] == days
    assert set(response["options"]) == set(OPTION_KEYS)
    assert response["options"]["ejp"]["available"] is (kva >= 9)  # EJP grids from 9 kVA

    # Base: every day priced (one price all day, the daily totals too), to the cent against the imported statistics.
    consumption = await async_statistics(hass, f"enedis:{P0}_consumption")
    per_day: dict[date, float] = {}
    for row in consumption:
        day = local_day(datetime.fromtimestamp(row["start"], UTC))
        if first <= day <= last:
            per_day[day] = per_day.get(day, 0.0) + row["state"]
    assert len(per_day) == days
    prices = load_price_data()
    expected = 0.0
    for day, kwh in per_day.items():
        grid = prices.grid("BASE", kva, day)
        assert grid is not None
        lower, upper = day_bounds(day)
        expected += kwh * grid.prices["base"] + grid.subscription * ((upper - lower) / timedelta(hours=1)) / (
            month_hours(lower)
        )
    base = response["options"]["base"]
    assert base["days_priced"] == days
    assert base["total_eur"] == round(expected, 2)
    assert base["kwh"] == pytest.approx(sum(per_day.values()), abs=1e-3)
    # HP/HC and Tempo cannot split the days known only by their totals: counted, not priced.
    series = coordinator.store.cache.prm(P0).series[Direction.CONSUMPTION]
    curve_days = {day for day, state in series.curve_state.items() if state is CurveState.COMPLETE}
    hourly = len([d for d in curve_days if first <= d <= last])
    assert 0 < hourly < days
    for key in ("hphc", "hphc_standard", "tempo", "zen_flex"):
        option = response["options"][key]
        assert option["days_priced"] == hourly, key
        assert option["days_not_priced"] == {"daily_only": days - hourly, "unknown_calendar": 0, "no_price": 0}
    assert response["days"]["common_basis"] == hourly
    common = {key: value["common_basis_eur"] for key, value in response["options"].items() if value["available"]}
    assert response["cheapest"] == min(common, key=lambda key: common[key])
    assert response["saving_eur"] == pytest.approx(common["hphc"] - common[response["cheapest"]], abs=0.011)
    assert [month["month"] for month in base["months"]] == ["2024-12", "2025-01"]

    # The sensors: the cheapest option and the current option's cost are enabled, the other costs are not.
    cheapest = hass.states.get(entity_id(hass, "cheapest_option"))
    assert cheapest is not None
    assert cheapest.state == response["cheapest"]
    assert cheapest.attributes["current"] == "hphc"
    assert cheapest.attributes["saving_eur"] == response["saving_eur"]
    assert cheapest.attributes["first"] == response["first"]
    assert cheapest.attributes["partial"] is True
    hphc = hass.states.get(entity_id(hass, "cost_hphc"))
    assert hphc is not None
    assert float(hphc.state) == response["options"]["hphc"]["total_eur"]
    assert hphc.attributes["unit_of_measurement"] == "€"
    assert hphc.attributes["days_not_priced"]["daily_only"] == days - hourly
    registry = er.async_get(hass)
    for key in OPTION_KEYS:
        registered = registry.async_get(entity_id(hass, f"cost_{key}"))
        assert registered is not None
        assert (registered.disabled_by is None) is (key == "hphc"), key

    # Never during the history import (the sensors wait for the whole history), even without a result yet.
    result = coordinator.comparisons.results.pop(P0)
    assert not coordinator.comparisons.due(P0, history_complete=False)
    assert coordinator.comparisons.due(P0, history_complete=True)
    coordinator.comparisons.results[P0] = result
    # Once a day at most: more refreshes the same day do not compute again; the next day does, and the sensors
    # show it as soon as it is done.
    computed_at = result.computed_at
    for _ in range(3):
        await coordinator.async_refresh()
        await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.comparisons.results[P0] is result
    freezer.move_to(paris(local_day(dt_util.utcnow()) + timedelta(days=1), 0) + timedelta(minutes=5))
    await coordinator.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    recomputed = coordinator.comparisons.results[P0].computed_at
    assert local_day(recomputed) == local_day(computed_at) + timedelta(days=1)
    cheapest = hass.states.get(entity_id(hass, "cheapest_option"))
    assert cheapest is not None
    assert cheapest.attributes["computed_at"] == recomputed.isoformat()

    # Without the importer's last computation (after a start, during an import) the cache gives the same answer.
    coordinator._importer._memos.clear()
    assert coordinator._importer.consumption_days(P0) is None
    again = await compare(hass)
    assert again["options"] == (await compare(hass))["options"]
    assert again["options"]["base"]["total_eur"] == round(expected, 2)
    assert again["options"]["hphc"]["days_not_priced"]["daily_only"] == days - hourly

    # An explicit period; errors are translated.
    january = await compare(hass, prm=P0, start="2025-01-01", end="2025-01-31")
    assert (january["first"], january["last"]) == ("2025-01-01", "2025-01-31")
    assert january["options"]["base"]["months"][0]["month"] == "2025-01"
    with pytest.raises(ServiceValidationError) as err:
        await compare(hass, prm="12345678901234")
    assert err.value.translation_key == "unknown_prm"
    with pytest.raises(ServiceValidationError) as err:
        await compare(hass, start="2025-01-31", end="2025-01-01")
    assert err.value.translation_key == "invalid_dates"
    with pytest.raises(ServiceValidationError) as err:
        await compare(hass, start="2025-02-05")  # after the default end (the last day of the previous month)
    assert err.value.translation_key == "invalid_dates"
    saved = coordinator.contracts.pop(P0)
    with pytest.raises(ServiceValidationError) as err:
        await compare(hass)
    assert err.value.translation_key == "subscribed_power_unknown"
    coordinator.contracts[P0] = saved
    await hass.config_entries.async_unload(entry.entry_id)


async def test_conso_api_entries_compare_with_the_typed_subscribed_power(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """Conso API serves no contract: the options' *Subscribed power* selects the grids (and the sensors exist)."""
    freezer.move_to(paris(TODAY, 12))
    install_registry(hass, freezer)
    token = gateway.state.conso_token_for_client(0)
    entry = conso_entry(token, [P0], curve_history_months=1, daily_history_months=1, subscribed_kva=9)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    await async_step(hass, freezer, coordinator)
    assert P0 not in coordinator.contracts
    response = await compare(hass)
    assert response["kva"] == 9
    assert response["options"]["ejp"]["available"] is True  # EJP has a 9 kVA grid
    cheapest = hass.states.get(entity_id(hass, "cheapest_option"))
    assert cheapest is not None
    assert cheapest.state == response["cheapest"]

    # Without it, no comparison: a translated error, and no sensors for a comparison that could never be made.
    hass.config_entries.async_update_entry(entry, options={**entry.options, "subscribed_kva": None})
    with pytest.raises(ServiceValidationError) as err:
        await compare(hass)
    assert err.value.translation_key == "subscribed_power_unknown"
    await hass.config_entries.async_unload(entry.entry_id)
