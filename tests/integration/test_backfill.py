"""Scenario: a Conso API entry served at the real URLs by the fake gateway, into a real recorder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.coordinator import EnedisCoordinator
from tests.fake_enedis import data
from tests.fake_enedis.state import FakeState

from .common import (
    assert_continuous,
    async_run_until,
    async_statistics,
    async_step,
    conso_entry,
    install_registry,
    truth_hours,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
P4 = "42900589957123"
TWO_MONTHS = {"curve_history_months": 2, "daily_history_months": 2}


def paris_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


async def _setup(hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, token: str, prm: str):
    install_registry(hass, freezer)
    entry = conso_entry(token, [prm], **TWO_MONTHS)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


def _sync_gateway_day(gateway: FakeGateway) -> None:
    gateway.state.today = dt_util.now(PARIS).date()
    gateway.state.time_of_day = dt_util.now(PARIS).time()


@pytest.mark.parametrize("today", [date(2026, 4, 20), date(2026, 11, 22)], ids=["spring", "autumn"])
async def test_two_months_with_dst_match_ground_truth(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, today: date
) -> None:
    freezer.move_to(paris_noon(today))
    _sync_gateway_day(gateway)
    entry = await _setup(hass, freezer, gateway, gateway.state.conso_token_for_client(0), P0)
    coordinator: EnedisCoordinator = entry.runtime_data
    assert gateway.state.count() == 0  # nothing is sent while Home Assistant starts

    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)

    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    start = date(today.year, today.month - 2, today.day)
    truth = truth_hours(P0, data.CONS, _days(start, today))
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    assert set(got) == set(truth)
    for hour, wh in truth.items():
        assert got[hour] == pytest.approx(wh, abs=1)
    assert_continuous(rows)
    dst_day = date(2026, 3, 29) if today.month == 4 else date(2026, 10, 25)
    day_rows = [h for h in got if h.astimezone(PARIS).date() == dst_day]
    assert len(day_rows) == (23 if dst_day.month == 3 else 25)
    # Minimum requests: ceil(59/7) = 9 curve windows, 1 daily window, 1 max-power window, and one production curve
    # call that answers ADAM-ERR0069 (Conso API has no contract data to tell whether the PRM produces).
    assert gateway.state.count("/conso/api/courbe_de_charge_consommation") == 9
    assert gateway.state.count("/conso/api/consommation_quotidienne") == 1
    assert gateway.state.count("/conso/api/puissance_conso_max_quotidienne") == 1
    assert gateway.state.count("/conso/api/courbe_de_charge_production", 400) == 1
    assert gateway.state.count("/conso/api/") == 12
    assert gateway.state.count("", 429) == 0


async def test_restart_mid_backfill_no_duplicate_no_spike(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    today = date(2026, 11, 22)
    freezer.move_to(paris_noon(today))
    _sync_gateway_day(gateway)
    entry = await _setup(hass, freezer, gateway, gateway.state.conso_token_for_client(0), P0)
    coordinator: EnedisCoordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: gateway.state.count("/courbe_de_charge") >= 4)
    assert 0 < coordinator.data.prms[P0].backfill_progress < 100

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)

    # No window was asked twice: the cache survived the restart.
    curve_queries = [
        (r.query["dateDebut"], r.query["dateFin"])
        for r in gateway.state.requests
        if r.path.endswith("courbe_de_charge_consommation")
    ]
    assert len(curve_queries) == len(set(curve_queries)) == 9
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    starts = [row["start"] for row in rows]
    assert len(starts) == len(set(starts))
    assert_continuous(rows)
    truth = truth_hours(P0, data.CONS, _days(date(2026, 9, 22), today))
    assert sum(row["state"] for row in rows) * 1000 == pytest.approx(sum(truth.values()), abs=1)


async def test_holes_stay_holes_until_the_data_appears(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    today = date(2026, 11, 22)  # a Sunday: Tue 17 and Wed 18 are holes within the retry window
    freezer.move_to(paris_noon(today))
    _sync_gateway_day(gateway)
    entry = await _setup(hass, freezer, gateway, gateway.state.conso_token_for_client(4), P4)
    coordinator: EnedisCoordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P4].backfill_progress >= 100)

    rows = await async_statistics(hass, f"enedis:{P4}_consumption")
    energy_days = {datetime.fromtimestamp(r["start"], UTC).astimezone(PARIS).date() for r in rows if r["state"]}
    holes = {d for d in _days(date(2026, 9, 22), today) if d.weekday() in (1, 2)}
    assert not holes & energy_days  # a hole is no energy (rows of 0 kWh, so every hour has a row), never a guess
    hours = [r["start"] for r in rows]
    assert hours == [hours[0] + 3600 * i for i in range(len(hours))]
    assert_continuous(rows)

    # The data appears: the daily poll's retries (up to 14 days back) fill the recent holes, without a spike.
    gateway.state.holes_filled = True
    recent = {d for d in holes if d >= today - timedelta(days=14)}
    for _ in range(3):  # three more days of daily polls
        freezer.move_to(paris_noon(dt_util.now(PARIS).date() + timedelta(days=1)))
        _sync_gateway_day(gateway)
        for _ in range(6):
            await async_step(hass, freezer, coordinator)
    rows = await async_statistics(hass, f"enedis:{P4}_consumption")
    assert_continuous(rows)
    got: dict[date, float] = {}
    for row in rows:
        day = datetime.fromtimestamp(row["start"], UTC).astimezone(PARIS).date()
        got[day] = got.get(day, 0) + row["state"] * 1000
    for day in recent:
        assert got.get(day) == pytest.approx(data.daily_wh(P4, data.CONS, day, ignore_holes=True), abs=1), day
    for day in holes - recent:
        assert not got.get(day)  # older holes were given up on: they stay holes (0 kWh, or before the first row)
