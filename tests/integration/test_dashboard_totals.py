"""What the Energy dashboard shows: period totals from the recorder, state that survives the recorder losing rows.

The dashboard asks the recorder for a period's energy as ``statistic_during_period(..., {"change"})``: the sum at
the period's end minus the sum just before it, and 0 before the statistic's first row. So these tests look there,
over a day, a week, a month and the year that holds the oldest row, for every series the integration writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.models import StatisticData
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import Direction
from custom_components.enedis.api.calendar import PARIS, day_bounds
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.coordinator import EnedisCoordinator
from custom_components.enedis.ledger import build_rows
from custom_components.enedis.statistics import energy_metadata
from tests.fake_enedis import data
from tests.fake_enedis.state import FakeState

from .common import (
    async_change,
    async_import_demo_credentials,
    async_run_until,
    async_statistics,
    async_step,
    data_connect_entry,
    install_registry,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

P6 = "12655648759651"  # sandbox client 6: consumption and production (self-consumption)
TODAY = date(2026, 2, 10)
OLDEST = date(2025, 11, 10)  # 3 months of daily energy; the load curve covers the last month
PRICES = {"offpeak": 0.2068, "peak": 0.27, "feed_in": 0.1276}
OPTIONS: dict[str, Any] = {
    "curve_history_months": 1,
    "daily_history_months": 3,
    "tariff_option": "hphc",
    "offpeak_hours": "HC (22H00-6H00)",
    "price_periods": [{"start": "2025-01-01T00:00:00+01:00", "prices": PRICES}],
}
SERIES = (
    "consumption",
    "consumption_offpeak",
    "consumption_peak",
    "consumption_cost",
    "production",
    "production_compensation",
)


def paris(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS).astimezone(UTC)


PERIODS = {
    "day": (date(2026, 1, 20), date(2026, 1, 21)),
    "week": (date(2026, 1, 12), date(2026, 1, 19)),
    "month": (date(2026, 1, 1), date(2026, 2, 1)),
    "year with the oldest row": (date(2025, 1, 1), date(2026, 1, 1)),
    "everything": (date(2020, 1, 1), TODAY),
}


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(today=TODAY, time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


async def _setup(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> tuple[Any, EnedisCoordinator]:
    freezer.move_to(paris(TODAY, 12))
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry = data_connect_entry([P6], **OPTIONS)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P6].backfill_progress >= 100)
    await async_wait_recording_done(hass)
    return entry, coordinator


async def _change(hass: HomeAssistant, statistic_id: str, start: date, end: date) -> float:
    """The dashboard's figure for ``[start, end)`` (local days)."""
    return await async_change(hass, statistic_id, paris(start), paris(end))


def _truth_kwh(direction: Direction, start: date, end: date) -> float:
    """Ground truth from the fake gateway's own data over the imported history."""
    first, last = max(start, OLDEST), min(end, TODAY)
    days = [first + timedelta(days=i) for i in range((last - first).days)]
    fake_direction = data.CONS if direction is Direction.CONSUMPTION else data.PROD
    return sum(data.daily_wh(P6, fake_direction, day) for day in days) / 1000


def _states_kwh(rows: list[dict[str, Any]], start: date, end: date) -> float:
    low, high = paris(start).timestamp(), paris(end).timestamp()
    return sum(row["state"] for row in rows if low <= row["start"] < high)


def _assert_from_zero(rows: list[dict[str, Any]]) -> None:
    assert rows
    assert rows[0]["sum"] == pytest.approx(rows[0]["state"], abs=1e-9)
    for before, after in itertools.pairwise(rows):
        assert after["sum"] - before["sum"] == pytest.approx(after["state"], abs=1e-6)
    assert all(row["sum"] >= 0 and row["state"] >= 0 for row in rows)


async def test_dashboard_period_totals_equal_ground_truth_for_every_series(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    _, coordinator = await _setup(hass, freezer)
    rows = {key: await async_statistics(hass, f"{DOMAIN}:{P6}_{key}") for key in SERIES}
    for key, series_rows in rows.items():
        _assert_from_zero(series_rows)
        if key in ("consumption", "production"):
            assert series_rows[0]["start"] == paris(OLDEST).timestamp(), key
    for name, (start, end) in PERIODS.items():
        days = (min(end, TODAY) - max(start, OLDEST)).days
        for key in SERIES:
            change = await _change(hass, f"{DOMAIN}:{P6}_{key}", start, end)
            # What the dashboard shows is what the hours add up to (no offset from older rows)...
            assert change == pytest.approx(_states_kwh(rows[key], start, end), abs=1e-6), (name, key)
        # ... and that is the ground truth, to 0.5 Wh a day (whole Wh per hour, rounded cumulatively per day).
        consumption = await _change(hass, f"{DOMAIN}:{P6}_consumption", start, end)
        production = await _change(hass, f"{DOMAIN}:{P6}_production", start, end)
        assert consumption == pytest.approx(_truth_kwh(Direction.CONSUMPTION, start, end), abs=5e-4 * days), name
        assert production == pytest.approx(_truth_kwh(Direction.PRODUCTION, start, end), abs=5e-4 * days), name
        assert consumption > 0
        compensation = await _change(hass, f"{DOMAIN}:{P6}_production_compensation", start, end)
        assert compensation == pytest.approx(production * PRICES["feed_in"], abs=1e-3 + 1e-4 * days), name
    # Off-peak and peak split the load-curve days exactly; their cost is their energy at their prices.
    curve_start = date(2026, 1, 10)
    for start, end in (PERIODS["day"], PERIODS["week"], (curve_start, TODAY)):
        offpeak = await _change(hass, f"{DOMAIN}:{P6}_consumption_offpeak", start, end)
        peak = await _change(hass, f"{DOMAIN}:{P6}_consumption_peak", start, end)
        cost = await _change(hass, f"{DOMAIN}:{P6}_consumption_cost", start, end)
        split = [data.daily_split_wh(P6, data.CONS, start + timedelta(days=i)) for i in range((end - start).days)]
        assert offpeak == pytest.approx(sum(hc for hc, _ in split) / 1000, abs=1e-3 * len(split))
        assert peak == pytest.approx(sum(hp for _, hp in split) / 1000, abs=1e-3 * len(split))
        assert cost == pytest.approx(offpeak * PRICES["offpeak"] + peak * PRICES["peak"], abs=1e-3)
    assert coordinator.rows_written <= 3 * sum(len(r) for r in rows.values())


async def test_existing_install_with_negative_sums_is_rewritten_from_the_cache(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """An install from before this version: sums anchored 15 days before its first import, negative before."""
    entry, coordinator = await _setup(hass, freezer)
    cache = coordinator.store.cache.prm(P6)
    legacy_anchor = day_bounds(TODAY - timedelta(days=15))[0]
    for direction, series in cache.series.items():
        metadata = energy_metadata(hass, P6, direction)
        legacy = build_rows(series.written, legacy_anchor)
        assert legacy[0].sum < 0
        async_add_external_statistics(
            hass, metadata, [StatisticData(start=r.start, state=r.state, sum=r.sum) for r in legacy]
        )
        series.anchor = legacy_anchor
    await coordinator.store.async_save()
    await async_wait_recording_done(hass)
    legacy_rows = await async_statistics(hass, f"{DOMAIN}:{P6}_consumption")
    assert legacy_rows[0]["sum"] < 0  # what the dashboard showed as negative consumption

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    sent = gateway.state.count()
    await async_run_until(hass, freezer, coordinator, lambda: coordinator._rebuilt, max_steps=5)
    await async_wait_recording_done(hass)
    assert gateway.state.count() == sent  # rewritten from the cache, nothing fetched again
    for key in ("consumption", "production"):
        rows = await async_statistics(hass, f"{DOMAIN}:{P6}_{key}")
        _assert_from_zero(rows)
        assert rows[0]["start"] == paris(OLDEST).timestamp()
        direction = Direction(key)
        year = PERIODS["year with the oldest row"]
        assert await _change(hass, f"{DOMAIN}:{P6}_{key}", *year) == pytest.approx(
            _truth_kwh(direction, *year), abs=0.1
        )


def assert_same_rows(after: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]]) -> None:
    """The same rows, to a float's rounding: rows whose sums the recorder moved when the origin moved back
    (`ledger.SumShift`: old sum + shift, added in SQL) are written whole when rewritten (sum counted from the
    origin): they differ in the last bits."""
    assert after.keys() == before.keys()
    for key, rows in before.items():
        assert [(r["start"], r["end"]) for r in after[key]] == [(r["start"], r["end"]) for r in rows], key
        assert [r["state"] for r in after[key]] == pytest.approx([r["state"] for r in rows], abs=1e-9), key
        assert [r["sum"] for r in after[key]] == pytest.approx([r["sum"] for r in rows], abs=1e-9), key


async def test_statistics_the_recorder_lost_come_back_without_a_request(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    entry, coordinator = await _setup(hass, freezer)
    consumption_id = f"{DOMAIN}:{P6}_consumption"
    cost_id = f"{DOMAIN}:{P6}_consumption_cost"
    before = {key: await async_statistics(hass, f"{DOMAIN}:{P6}_{key}") for key in SERIES}
    # Developer tools -> Statistics -> clear: every row of the consumption statistic is gone.
    get_instance(hass).async_clear_statistics([consumption_id])
    # An older backup of the database: the cost's newest rows have other sums.
    newest = before["consumption_cost"][-48:]
    async_add_external_statistics(
        hass,
        energy_metadata(hass, P6, Direction.CONSUMPTION)
        | {"statistic_id": cost_id, "unit_of_measurement": "EUR", "unit_class": None, "name": "cost"},
        [
            StatisticData(start=dt_util.utc_from_timestamp(r["start"]), state=r["state"], sum=r["sum"] - 3)
            for r in newest
        ],
    )
    await async_wait_recording_done(hass)
    assert await async_statistics(hass, consumption_id) == []

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    sent = gateway.state.count()
    await async_run_until(hass, freezer, coordinator, lambda: coordinator._rebuilt, max_steps=5)
    await async_wait_recording_done(hass)
    assert gateway.state.count() == sent
    after = {key: await async_statistics(hass, f"{DOMAIN}:{P6}_{key}") for key in SERIES}
    assert_same_rows(after, before)

    # A row the integration never wrote (older than its oldest, with a negative sum): the statistic is rewritten.
    oldest = before["consumption"][0]["start"]
    async_add_external_statistics(
        hass,
        energy_metadata(hass, P6, Direction.CONSUMPTION),
        [StatisticData(start=dt_util.utc_from_timestamp(oldest - 3600), state=1.0, sum=-5.0)],
    )
    await async_wait_recording_done(hass)
    await hass.services.async_call(
        DOMAIN, "refetch", {"prm": P6, "start": date(2026, 2, 1), "end": date(2026, 2, 1)}, blocking=True
    )
    await async_run_until(
        hass, freezer, coordinator, lambda: not coordinator._reconcile and gateway.state.count() > sent, max_steps=20
    )
    await async_step(hass, freezer, coordinator)
    await async_wait_recording_done(hass)
    assert_same_rows(
        {"consumption": await async_statistics(hass, consumption_id)}, {"consumption": before["consumption"]}
    )


async def test_refetch_can_rewrite_statistics_that_did_not_change(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    _, coordinator = await _setup(hass, freezer)
    before = {key: await async_statistics(hass, f"{DOMAIN}:{P6}_{key}") for key in SERIES}
    written = coordinator.rows_written
    await hass.services.async_call(
        DOMAIN,
        "refetch",
        {"prm": P6, "start": date(2026, 2, 8), "end": date(2026, 2, 8), "rewrite_statistics": True},
        blocking=True,
    )
    await async_run_until(hass, freezer, coordinator, lambda: not coordinator._pending_import, max_steps=5)
    await async_step(hass, freezer, coordinator)
    await async_wait_recording_done(hass)
    after = {key: await async_statistics(hass, f"{DOMAIN}:{P6}_{key}") for key in SERIES}
    assert_same_rows(after, before)
    # Every row of every series was written again (not only the refetched day's).
    assert coordinator.rows_written - written >= sum(len(rows) for rows in before.values())
