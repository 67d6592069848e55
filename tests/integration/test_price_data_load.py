"""The shipped price data is read once per Home Assistant run (`helpers.async_price_data`), also when it is broken.

A broken install (a damaged CSV file) must not be cached: every caller waiting for the read gets the error, and the
next caller reads the files again (a repaired install works without restarting Home Assistant).
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
import shutil
import threading

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis import helpers
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.tariff_data import DATA_DIR, load_price_data
from custom_components.enedis.tariffs import tempo_day
from tests.fake_enedis import data
from tests.fake_enedis.state import FakeState

from .common import (
    assert_continuous,
    async_setup_imported,
    async_statistics,
    by_hour,
    conso_entry,
    data_connect_entry,
    paris_utc as paris,
    truth_hours,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls


async def test_a_broken_install_is_raised_to_every_waiting_caller_and_read_again(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "prices"
    shutil.copytree(DATA_DIR, shipped)
    coverage = shipped / "coverage.csv"
    good = coverage.read_text(encoding="utf-8")
    coverage.write_text(good.replace("tempo,", "tempo,not-a-date-", 1), encoding="utf-8")
    reads: list[Path] = []
    release = threading.Event()

    def load(directory: Path) -> object:
        reads.append(directory)
        release.wait(5)  # the read lasts until both callers wait for it
        return load_price_data(directory)

    monkeypatch.setattr(helpers, "load_price_data", partial(load, shipped))

    callers = [hass.async_create_task(helpers.async_price_data(hass)) for _ in range(2)]
    await asyncio.sleep(0)
    release.set()
    first, second = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(first, ValueError)
    assert "not-a-date-2014-09-01" in str(first)
    assert type(second) is type(first)
    assert str(second) == str(first)
    assert len(reads) == 1  # one read for both callers

    coverage.write_text(good, encoding="utf-8")  # the install repaired: read again, then kept
    data = await helpers.async_price_data(hass)
    assert data == load_price_data()
    assert await helpers.async_price_data(hass) is data
    assert len(reads) == 2


# --------------------------------------------------------------------------- what a user sees with a broken install

P0 = "22516914714270"
TODAY = date(2026, 11, 22)
BASE_2026_08: dict[int, tuple[float, float]] = {6: (15.86, 0.2001), 9: (19.88, 0.1985), 12: (23.76, 0.1985)}
"""Tarif Bleu Base from 2026-08-01 (prices/grids.csv, as in test_bill.py): kVA -> (EUR per month, EUR per kWh)."""
HPHC = {"offpeak": 0.2068, "peak": 0.27}
TEMPO = {
    "blue_offpeak": 0.1,
    "blue_peak": 0.2,
    "white_offpeak": 0.3,
    "white_peak": 0.4,
    "red_offpeak": 0.5,
    "red_peak": 0.9,
}


class BrokenInstall:
    """The integration's copy of the price data with a damaged ``coverage.csv``, until `repair`."""

    def __init__(self, directory: Path) -> None:
        self.coverage = directory / "coverage.csv"
        self.good = self.coverage.read_text(encoding="utf-8")
        self.coverage.write_text(self.good.replace("tempo,", "tempo,not-a-date-", 1), encoding="utf-8")

    def repair(self) -> None:
        """The user reinstalled the integration."""
        self.coverage.write_text(self.good, encoding="utf-8")


@pytest.fixture
def broken_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BrokenInstall:
    shipped = tmp_path / "prices"
    shutil.copytree(DATA_DIR, shipped)
    broken = BrokenInstall(shipped)
    monkeypatch.setattr(helpers, "load_price_data", partial(load_price_data, shipped))
    with pytest.raises(ValueError, match="not-a-date"):
        load_price_data(shipped)
    return broken


def start_gateway(aioclient_mock: AiohttpClientMocker, today: date) -> AbstractAsyncContextManager[FakeGateway]:
    state = FakeState(today=today, time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    return fake_gateway_at_real_urls(aioclient_mock, state)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def assert_energy_is_the_truth(hass: HomeAssistant, first: date, last: date) -> dict[datetime, float]:
    """The consumption statistic holds every hour of ``first``..``last`` exactly as the fake gateway measured it."""
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    assert_continuous(rows)
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    truth = truth_hours(P0, data.CONS, days_between(first, last))
    assert len(truth) >= 24 * ((last - first).days + 1)
    assert got == pytest.approx(truth, abs=1e-6)
    return by_hour(rows)


def sensor_state(hass: HomeAssistant, key: str) -> State | None:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{P0}_{key}")
    return None if entity_id is None else hass.states.get(entity_id)


def month_hours(first: date) -> int:
    following = (first + timedelta(days=32)).replace(day=1)
    return round((paris(following) - paris(first)) / timedelta(hours=1))


def assert_issue(issue_registry: ir.IssueRegistry) -> None:
    issue = issue_registry.async_get_issue(DOMAIN, "price_data_invalid")
    assert issue is not None
    assert issue.translation_key == "price_data_invalid"
    assert not issue.is_fixable


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="no_prices"),
        pytest.param(
            {
                "tariff_option": "hphc",
                "monthly_fee": 15.0,
                "price_periods": [{"start": paris(date(2026, 10, 1)).isoformat(), "prices": HPHC}],
            },
            id="manual_hphc_prices",
        ),
    ],
)
async def test_a_broken_install_still_imports_the_energy_and_typed_prices(  # noqa: PLR0917 - pytest fixtures
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    socket_enabled: None,
    broken_install: BrokenInstall,
    issue_registry: ir.IssueRegistry,
    options: dict[str, object],
) -> None:
    """The price data cannot be read: every hour of consumption is still imported exactly (and, with typed prices,
    split and priced); a repair issue says to reinstall, and the next refresh after the repair clears it."""
    freezer.move_to(paris(TODAY, 12))
    async with start_gateway(aioclient_mock, TODAY):
        entry = data_connect_entry([P0], curve_history_months=1, daily_history_months=1, **options)
        entry = await async_setup_imported(hass, freezer, entry)
        coordinator = entry.runtime_data
        assert coordinator.last_update_success
        consumption = await assert_energy_is_the_truth(hass, date(2026, 10, 22), TODAY - timedelta(days=1))
        assert_issue(issue_registry)
        if options:
            offpeak = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_offpeak"))
            peak = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_peak"))
            cost_rows = await async_statistics(hass, f"enedis:{P0}_consumption_cost")
            cost = by_hour(cost_rows)
            assert set(offpeak) == set(peak) == set(cost) == set(consumption)
            for hour, kwh in consumption.items():
                assert offpeak[hour] + peak[hour] == pytest.approx(kwh, abs=1e-9)
                fee = 15.0 / month_hours(hour.astimezone(PARIS).date().replace(day=1))
                expected = offpeak[hour] * HPHC["offpeak"] + peak[hour] * HPHC["peak"] + fee
                assert cost[hour] == pytest.approx(expected, abs=1e-9), hour
            assert_continuous(cost_rows)
            # The bill of the typed prices, without the shipped taxes: no split of the subscription (never guessed).
            last_month = sensor_state(hass, "bill_last_month")
            assert last_month is not None
            assert last_month.attributes["month"] == "2026-10"
            assert last_month.attributes["subscription_tva"] is None
        else:
            assert await async_statistics(hass, f"enedis:{P0}_consumption_cost") == []

        # Reinstalled: the next refresh (nothing new to fetch) reads the data, the issue goes.
        broken_install.repair()
        await coordinator.async_refresh()
        await hass.async_block_till_done(wait_background_tasks=True)
        assert coordinator.last_update_success
        assert issue_registry.async_get_issue(DOMAIN, "price_data_invalid") is None
        if options:
            last_month = sensor_state(hass, "bill_last_month")
            assert last_month is not None
            # The subscription of October's priced hours (from 2026-10-22), its TVA now known.
            october = 15.0 * sum(1 for hour in consumption if hour.astimezone(PARIS).month == 10) / 745
            assert last_month.attributes["subscription_tva"] == pytest.approx(october - october / 1.2, abs=0.006)
        assert await assert_energy_is_the_truth(hass, date(2026, 10, 22), TODAY - timedelta(days=1)) == consumption
        await hass.config_entries.async_unload(entry.entry_id)


async def test_a_broken_install_leaves_the_tarif_bleu_bill_unpriced_until_repaired(  # noqa: PLR0917 - pytest fixtures
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    socket_enabled: None,
    broken_install: BrokenInstall,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Tarif Bleu with unreadable price data: the energy is imported, the bill is not priced at all (no row, no
    figure, never 0 EUR), the comparator says why; once reinstalled, the next refresh prices every hour."""
    freezer.move_to(paris(TODAY, 12))
    async with start_gateway(aioclient_mock, TODAY):
        entry = data_connect_entry(
            [P0], curve_history_months=2, daily_history_months=2, tariff_option="base", price_source="tarif_bleu"
        )
        entry = await async_setup_imported(hass, freezer, entry)
        coordinator = entry.runtime_data
        assert coordinator.last_update_success
        consumption = await assert_energy_is_the_truth(hass, date(2026, 9, 22), TODAY - timedelta(days=1))
        assert await async_statistics(hass, f"enedis:{P0}_bill") == []
        assert await async_statistics(hass, f"enedis:{P0}_consumption_cost") == []
        assert sensor_state(hass, "bill_last_month") is None
        assert_issue(issue_registry)
        assert coordinator.comparisons.results == {}
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN, "compare_tariffs", {"config_entry_id": entry.entry_id}, blocking=True, return_response=True
            )
        assert err.value.translation_key == "price_data_invalid"

        # Reinstalled: the next refresh (nothing new to fetch) prices every hour, and the issue goes.
        broken_install.repair()
        await coordinator.async_refresh()
        await hass.async_block_till_done(wait_background_tasks=True)
        assert issue_registry.async_get_issue(DOMAIN, "price_data_invalid") is None
        subscription, price = BASE_2026_08[round(coordinator.contracts[P0].subscribed_power_kva or 0)]
        bill_rows = await async_statistics(hass, f"enedis:{P0}_bill")
        assert_continuous(bill_rows)
        bill = by_hour(bill_rows)
        assert set(bill) == set(consumption)
        for hour, kwh in consumption.items():
            first = hour.astimezone(PARIS).date().replace(day=1)
            assert bill[hour] == pytest.approx(kwh * price + subscription / month_hours(first), abs=1e-9), hour
        last_month = sensor_state(hass, "bill_last_month")
        assert last_month is not None
        october = sum(kwh for hour, kwh in consumption.items() if hour.astimezone(PARIS).month == 10)
        assert float(last_month.state) == pytest.approx(october * price + subscription, abs=0.006)
        await hass.config_entries.async_unload(entry.entry_id)


async def test_a_broken_install_gives_no_tempo_colour_until_repaired(  # noqa: PLR0917 - pytest fixtures
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    socket_enabled: None,
    broken_install: BrokenInstall,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Tempo in a shipped season, RTE unreachable, the shipped calendar unreadable: no colour is guessed (no Tempo
    energy, no cost); once reinstalled, the next refresh takes the shipped colours and prices every hour."""
    today = date(2026, 3, 10)
    freezer.move_to(paris(today, 12))
    async with start_gateway(aioclient_mock, today) as gateway:
        gateway.state.add_fault("technical_error", count=None, path="/cms/open_data/")
        entry = data_connect_entry(
            [P0],
            curve_history_months=1,
            daily_history_months=1,
            tariff_option="tempo",
            price_periods=[{"start": paris(date(2026, 1, 1)).isoformat(), "prices": TEMPO}],
        )
        entry = await async_setup_imported(hass, freezer, entry)
        coordinator = entry.runtime_data
        consumption = await assert_energy_is_the_truth(hass, date(2026, 2, 10), today - timedelta(days=1))
        series = {key: by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_{key}")) for key in TEMPO}
        assert all(value == 0 for values in series.values() for value in values.values())
        assert await async_statistics(hass, f"enedis:{P0}_consumption_cost") == []
        assert_issue(issue_registry)

        broken_install.repair()
        await coordinator.async_refresh()
        await hass.async_block_till_done(wait_background_tasks=True)
        assert issue_registry.async_get_issue(DOMAIN, "price_data_invalid") is None
        shipped = load_price_data().tempo
        series = {key: by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_{key}")) for key in TEMPO}
        cost = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_cost"))
        assert set(cost) == set(consumption)
        colours = set()
        for hour, kwh in consumption.items():
            colour = shipped[tempo_day(hour)]
            colours.add(colour)
            key = f"{colour}_{'offpeak' if hour.astimezone(PARIS).hour in (22, 23, 0, 1, 2, 3, 4, 5) else 'peak'}"
            assert series[key][hour] == pytest.approx(kwh, abs=1e-9), hour
            assert cost[hour] == pytest.approx(kwh * TEMPO[key], abs=1e-9), hour
        assert colours == {"blue", "white", "red"}
        await hass.config_entries.async_unload(entry.entry_id)


async def test_a_broken_install_does_not_block_the_tariff_options(
    hass: HomeAssistant, broken_install: BrokenInstall
) -> None:
    """The grids cannot be checked: the Tarif Bleu is saved (the import's repair issue says to reinstall)."""
    entry = conso_entry("token", [P0])
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tariff"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff_option": "base", "price_source": "tarif_bleu", "subscribed_kva": 9}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (entry.options["price_source"], entry.options["subscribed_kva"]) == ("tarif_bleu", 9)
