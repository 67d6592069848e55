"""Tariff statistics end to end: HP/HC from the contract, a price change, repricing, Tempo colours."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import Direction
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import DOMAIN
from tests.fake_enedis.state import FakeState

from .common import (
    assert_continuous,
    async_change,
    async_import_demo_credentials,
    async_run_until,
    async_statistics,
    data_connect_entry,
    install_registry,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
TODAY = date(2026, 11, 22)


def paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS).astimezone(UTC)


def period(day: date, prices: dict[str, float]) -> dict[str, object]:
    return {"start": paris(day, 0).isoformat(), "prices": prices}


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(today=TODAY, time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


async def setup_entry(hass: HomeAssistant, freezer: FrozenDateTimeFactory, options: dict[str, object]):
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry = data_connect_entry([P0], curve_history_months=1, daily_history_months=1, **options)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    return entry


def by_hour(rows: list[dict[str, float]], key: str = "state") -> dict[datetime, float]:
    return {datetime.fromtimestamp(row["start"], UTC): row[key] for row in rows}


async def test_hphc_costs_and_repricing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    freezer.move_to(paris(TODAY, 12))
    prices_1 = {"offpeak": 0.2068, "peak": 0.27}
    prices_2 = {"offpeak": 0.2100, "peak": 0.2800}
    entry = await setup_entry(
        hass,
        freezer,
        {
            "tariff_option": "hphc",
            "price_periods": [period(date(2026, 10, 1), prices_1), period(date(2026, 11, 8), prices_2)],
        },
    )
    # The meter's own HP/HC registers were read once for the month (index_consommation) and used.
    assert gateway.state.count("/mesure_synchrone_auto/v2/index_consommation") == 1
    assert len(entry.runtime_data.store.cache.prm(P0).series[Direction.CONSUMPTION].registers) >= 29
    consumption = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption"))
    offpeak = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_offpeak"))
    peak = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_peak"))
    cost_rows = await async_statistics(hass, f"enedis:{P0}_consumption_cost")
    cost = by_hour(cost_rows)
    assert len(consumption) > 29 * 24
    assert set(offpeak) == set(peak) == set(consumption) == set(cost)
    for hour, kwh in consumption.items():
        assert offpeak[hour] + peak[hour] == pytest.approx(kwh, abs=1e-9)
        local = hour.astimezone(PARIS)
        if local.hour in (6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21):
            assert offpeak[hour] == 0  # the contract's off-peak is 22:00-06:00
        prices = prices_2 if hour >= paris(date(2026, 11, 8), 0) else prices_1
        assert cost[hour] == pytest.approx(offpeak[hour] * prices["offpeak"] + peak[hour] * prices["peak"], abs=0.001)
    assert_continuous(cost_rows)

    # Reprice from 2026-11-15: the cost statistic is rewritten from that day, without a spike.
    prices_3 = {"offpeak": 0.1, "peak": 0.1}
    periods = [*entry.options["price_periods"], period(date(2026, 11, 15), prices_3)]
    hass.config_entries.async_update_entry(entry, options={**entry.options, "price_periods": periods})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator._rebuilt, max_steps=5)
    cost_rows = await async_statistics(hass, f"enedis:{P0}_consumption_cost")
    assert_continuous(cost_rows)
    repriced = by_hour(cost_rows)
    for hour, value in repriced.items():
        if hour >= paris(date(2026, 11, 15), 0):
            assert value == pytest.approx((offpeak[hour] + peak[hour]) * 0.1, abs=0.001)
        else:
            assert value == pytest.approx(cost[hour], abs=1e-9)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_tempo_colours_from_an_entity(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    colours = ["Bleu", "Blanc", "Rouge", "BLUE", "white"]
    # RTE unreachable: the entity is the only source of these days (RTE's colours: test_tempo_colours.py).
    gateway.state.add_fault("technical_error", count=None, path="/cms/open_data/")
    first = TODAY - timedelta(days=32)
    unknown_day = TODAY - timedelta(days=10)
    for offset in range(33):
        day = first + timedelta(days=offset)
        freezer.move_to(paris(day, 6) + timedelta(minutes=1))
        value = "unavailable" if day == unknown_day else colours[offset % len(colours)]
        hass.states.async_set("sensor.rte_tempo_couleur_actuelle", value)
        await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    freezer.move_to(paris(TODAY, 12))
    entry = await setup_entry(
        hass,
        freezer,
        {"tariff_option": "tempo", "tempo_entity": "sensor.rte_tempo_couleur_actuelle", "monthly_fee": 30.0},
    )
    consumption = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption"))
    series = {
        f"{c}_{p}": by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_{c}_{p}"))
        for c in ("blue", "white", "red")
        for p in ("offpeak", "peak")
    }
    unknown_start, unknown_end = paris(unknown_day, 6), paris(unknown_day + timedelta(days=1), 6)
    for hour, kwh in consumption.items():
        parts = [values[hour] for values in series.values() if hour in values]
        if unknown_start <= hour < unknown_end:
            # A day with no known colour is reported, not guessed: no energy in any colour (rows of 0 kWh keep
            # one row per hour, which Home Assistant's period totals need).
            assert parts == [0.0] * 6
        else:
            assert parts, hour
            assert sum(parts) == pytest.approx(kwh, abs=1e-9)
    # Red day: 06:00-22:00 peak, 22:00-06:00 off-peak, all in the red series.
    red_day = first + timedelta(days=2)
    assert paris(red_day, 12) in series["red_peak"]
    assert paris(red_day, 23) in series["red_offpeak"]
    report = entry.runtime_data.tariff_reports[P0]
    assert unknown_day.isoformat() in report["unknown_colour_days"]
    # What the Energy dashboard shows for the whole history and for a week: each Tempo series' total is its hours,
    # and the six colours add up to the consumption less the day whose colour is unknown.
    for start, end in ((paris(first, 0), paris(TODAY, 0)), (paris(TODAY - timedelta(days=12), 0), paris(TODAY, 0))):
        total = await async_change(hass, f"enedis:{P0}_consumption", start, end)
        assert total == pytest.approx(sum(v for h, v in consumption.items() if start <= h < end), abs=1e-6)
        unknown = sum(v for h, v in consumption.items() if start <= h < end and unknown_start <= h < unknown_end)
        parts = {key: await async_change(hass, f"enedis:{P0}_consumption_{key}", start, end) for key in series}
        for key, part in parts.items():
            assert part == pytest.approx(sum(v for h, v in series[key].items() if start <= h < end), abs=1e-6)
        assert sum(parts.values()) == pytest.approx(total - unknown, abs=1e-6)
        assert unknown > 0
    await hass.config_entries.async_unload(entry.entry_id)


async def test_prices_from_a_price_entity(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """A price entity's recorded history prices each hour: its unit converts the value (€/kWh, c€/kWh, €/MWh, none
    = €/kWh), a state that is not a price (unknown, an unknown unit) leaves the previous price in force, a change
    inside an hour applies from the next hour, and the entity's first price also covers the imported hours before
    its history begins."""
    entity = "sensor.electricity_price"
    history = [  # (when, state, unit, the price in force from the next whole hour in EUR/kWh: by hand)
        (paris(date(2026, 10, 25), 12), "0.2", "€/kWh", 0.2),
        (paris(date(2026, 11, 1), 0), "25", "c€/kWh", 0.25),
        (paris(date(2026, 11, 5), 0), "unknown", None, 0.25),
        (paris(date(2026, 11, 8), 14) + timedelta(minutes=30), "300", "€/MWh", 0.3),
        (paris(date(2026, 11, 12), 0), "0.5", "$/kWh", 0.3),
        (paris(date(2026, 11, 15), 0), "0.1", None, 0.1),
    ]
    for when, value, unit, _ in history:
        freezer.move_to(when)
        hass.states.async_set(entity, value, {"unit_of_measurement": unit} if unit else {})
        await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    def price(hour: datetime) -> float:
        """The last price set at or before the start of ``hour`` (the first one before the entity's history)."""
        return [p for when, *_, p in history if when <= hour or when == history[0][0]][-1]

    freezer.move_to(paris(TODAY, 12))
    entry = await setup_entry(hass, freezer, {"price_entity": entity})
    consumption = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption"))
    cost_rows = await async_statistics(hass, f"enedis:{P0}_consumption_cost")
    cost = by_hour(cost_rows)
    assert set(cost) == set(consumption)
    assert min(consumption) == paris(date(2026, 10, 22), 0)  # one month: 3.5 days before the entity's history
    for hour, kwh in consumption.items():
        assert cost[hour] == pytest.approx(kwh * price(hour), abs=1e-9), hour
    assert cost[paris(date(2026, 11, 8), 14)] == pytest.approx(consumption[paris(date(2026, 11, 8), 14)] * 0.25)
    assert cost[paris(date(2026, 11, 8), 15)] == pytest.approx(consumption[paris(date(2026, 11, 8), 15)] * 0.3)
    assert_continuous(cost_rows)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unknown_offpeak_format_opens_a_repair_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, issue_registry: ir.IssueRegistry
) -> None:
    freezer.move_to(paris(TODAY, 12))
    entry = await setup_entry(hass, freezer, {"tariff_option": "hphc"})
    coordinator = entry.runtime_data
    coordinator.contracts[P0] = replace(coordinator.contracts[P0], offpeak_hours="HC (la nuit)")
    assert coordinator.tariff_config(P0).windows == ()
    issue = issue_registry.async_get_issue(DOMAIN, f"offpeak_unknown_{P0}")
    assert issue is not None
    assert issue.translation_placeholders["offpeak"] == "HC (la nuit)"
    # The user enters the windows in the options: the override is used and the issue goes away.
    hass.config_entries.async_update_entry(entry, options={**entry.options, "offpeak_hours": "HC (23H00-7H00)"})
    assert [str(w) for w in coordinator.tariff_config(P0).windows] == ["23H00-7H00"]
    assert issue_registry.async_get_issue(DOMAIN, f"offpeak_unknown_{P0}") is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_hphc_options_use_the_contract_offpeak_hours(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """Data Connect reads the off-peak hours from the contract: the HP/HC option needs no override there."""
    freezer.move_to(paris(TODAY, 12))
    entry = await setup_entry(hass, freezer, {})
    assert entry.runtime_data.contracts[P0].offpeak_hours
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tariff"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff_option": "hphc", "price_offpeak": 0.2, "price_peak": 0.27}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tariff_option"] == "hphc"
    assert entry.options["offpeak_hours"] is None
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


# --- the options' tariff page reads the entry's contracts --------------------------------------------

P_PROD = "10284856584123"  # client 3's production-only PRM: its contract gives no subscribed power


async def load_entry(hass: HomeAssistant, freezer: FrozenDateTimeFactory, prms: list[str]) -> MockConfigEntry:
    """A Data Connect entry set up, run until it has read the contract of each PRM (not its whole history)."""
    freezer.move_to(paris(TODAY, 12))
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry = data_connect_entry(prms, curve_history_months=1, daily_history_months=1)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: set(prms) <= set(coordinator.contracts))
    return entry


async def tariff_page(hass: HomeAssistant, entry: MockConfigEntry, user_input: dict[str, object]) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tariff"})
    return await hass.config_entries.options.async_configure(result["flow_id"], user_input)


@pytest.mark.parametrize("contract", ["unreadable", "absent"])
async def test_hphc_needs_offpeak_hours_the_contract_does_not_give(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, contract: str
) -> None:
    """The contract's off-peak hours cannot be read (a form the integration does not know), or there are none (the
    DataHub application is not subscribed to comptage_auto): HP/HC asks for them, then takes what is typed."""
    if contract == "unreadable":
        gateway.state.contract_offpeak[P0] = "HC (la nuit)"
    else:
        gateway.state.unsubscribed_apis.add("comptage_auto")
    entry = await load_entry(hass, freezer, [P0])
    typed = {"tariff_option": "hphc", "price_offpeak": 0.2, "price_peak": 0.27}
    result = await tariff_page(hass, entry, typed)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"offpeak_hours": "offpeak_required"}
    shown = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if (key.description or {}).get("suggested_value") is not None
    }
    assert {key: shown.get(key) for key in typed} == typed
    english = await async_get_translations(hass, "en", "options", [DOMAIN])
    french = await async_get_translations(hass, "fr", "options", [DOMAIN])
    key = f"component.{DOMAIN}.options.error.offpeak_required"
    assert "this entry's contract does not give them" in english[key]
    assert "le contrat de cette entrée ne les donne pas" in french[key]

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**typed, "offpeak_hours": "HC (23H00-7H00)"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["offpeak_hours"] == "HC (23H00-7H00)"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_tarif_bleu_takes_the_subscribed_power_from_the_contract(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """Data Connect reads the subscribed power from the contract: the Tarif Bleu needs none typed."""
    entry = await load_entry(hass, freezer, [P0])
    result = await tariff_page(hass, entry, {"tariff_option": "base", "price_source": "tarif_bleu"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (entry.options["price_source"], entry.options["subscribed_kva"]) == ("tarif_bleu", None)
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_tarif_bleu_asks_for_the_power_a_contract_does_not_give(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """One PRM of the entry has no subscribed power in its contract (it only produces): the power is asked for."""
    entry = await load_entry(hass, freezer, [P0, P_PROD])
    result = await tariff_page(hass, entry, {"tariff_option": "base", "price_source": "tarif_bleu"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"subscribed_kva": "subscribed_kva_required"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff_option": "base", "price_source": "tarif_bleu", "subscribed_kva": 9}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["subscribed_kva"] == 9
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)
