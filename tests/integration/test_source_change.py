"""Issue 10 #4 at runtime: a Conso API URL that is not the API, and the reconfigure that fixes it.

The fake gateway answers at the real URLs (``https://conso.boris.sh/...``); a wrong base URL such as
``https://conso.boris.sh/oops`` reaches routes it does not have, which answer aiohttp's plain-text ``404: Not Found``
(what Home Assistant's own port answers too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import CONSO_API_URL, Direction, Measure
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.coordinator import EnedisCoordinator
from custom_components.enedis.ledger import CurveState
from custom_components.enedis.state import EntryCache, MeasureProgress, SeriesCache
from custom_components.enedis.store import STORAGE_VERSION
from tests.fake_enedis.state import FakeState

from .common import async_run_until, async_statistics, async_step, install_registry
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
TODAY = date(2026, 11, 22)
WRONG_URL = "https://conso.boris.sh/oops"
RIGHT_URL = CONSO_API_URL
TWO_MONTHS = {"curve_history_months": 2, "daily_history_months": 2}


def paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    freezer.move_to(paris(TODAY, 12))
    state = FakeState(today=TODAY, time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


def entry_at(url: str, token: str) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky {P0}",
        data={"source": "conso_api", "token": token, "base_url": url, "prms": [P0]},
        unique_id=P0,
        options=TWO_MONTHS,
    )


async def test_wrong_url_fails_visibly_once_and_marks_nothing_done(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    gateway: FakeGateway,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_registry(hass, freezer)
    token = gateway.state.conso_token_for_client(0)
    entry = entry_at(WRONG_URL, token)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator: EnedisCoordinator = entry.runtime_data
    for _ in range(3):
        await async_step(hass, freezer, coordinator)

    assert gateway.state.count() == 3
    assert gateway.state.count("", 404) == 3
    assert not coordinator.last_update_success
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key == "invalid_response"
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "does not answer like Enedis" in r.getMessage()
    ]
    assert len(warnings) == 1  # once, not at every retry
    assert WRONG_URL in warnings[0].getMessage()
    assert token not in caplog.text
    sensor = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{P0}_consumption_yesterday")
    assert sensor is not None
    assert hass.states.get(sensor).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert "UnrecognizedResponseError" in coordinator.errors[-1][1]  # diagnostics' last errors
    # The root of the dead entry: nothing is recorded as asked, so nothing is marked done.
    series = coordinator.store.cache.prm(P0).series[Direction.CONSUMPTION]
    assert series.progress[Measure.DAILY_ENERGY].fetched == set()
    assert not series.progress[Measure.DAILY_ENERGY].history_done
    await hass.config_entries.async_unload(entry.entry_id)


def _dead_cache() -> dict[str, Any]:
    """The cache an earlier version left for the wrong URL: its 404 page read as "no data" for every day."""
    start = TODAY - timedelta(days=61)
    days = [start + timedelta(days=i) for i in range((TODAY - start).days)]
    cache = EntryCache(backfill_requests=30, last_backfill_request=paris(TODAY, 9).timestamp())
    for direction in Direction:
        cache.prm(P0).series[direction] = SeriesCache(
            curve_state=dict.fromkeys(days, CurveState.MISSING),
            progress={
                Measure.DAILY_ENERGY: MeasureProgress(fetched=set(days), history_done=True),
                Measure.MAX_POWER: MeasureProgress(
                    fetched=set(days) if direction is Direction.CONSUMPTION else set(), history_done=True
                ),
                Measure.LOAD_CURVE: MeasureProgress(history_done=True),
            },
            curve_frontier=start,
            last_poll_day=TODAY,
            given_up=set(days[:-14]),
        )
    return cache.to_json()


async def test_reconfigure_to_another_url_imports_the_history_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    gateway: FakeGateway,
    hass_storage: dict[str, Any],
) -> None:
    install_registry(hass, freezer)
    token = gateway.state.conso_token_for_client(0)
    entry = entry_at(WRONG_URL, token)
    entry.add_to_hass(hass)
    key = f"enedis.{entry.entry_id}"
    hass_storage[key] = {"version": STORAGE_VERSION, "minor_version": 1, "key": key, "data": _dead_cache()}
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator: EnedisCoordinator = entry.runtime_data
    assert coordinator.data.prms[P0].backfill_progress == 100  # the dead entry: "done", and empty
    assert coordinator.data.prms[P0].days_covered == 0

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"token": token, "base_url": RIGHT_URL})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    cache = coordinator.store.cache
    assert cache.source == f"conso_api {RIGHT_URL}"
    series = cache.prm(P0).series[Direction.CONSUMPTION]
    progress = series.progress
    assert (
        progress[Measure.DAILY_ENERGY].history_done,
        progress[Measure.MAX_POWER].history_done,
        series.curve_done,
    ) == (False, False, False)
    assert progress[Measure.DAILY_ENERGY].fetched == set()
    assert series.curve_frontier is None
    assert series.given_up == set()
    check = gateway.state.count()  # the reconfigure's own check

    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    asked = gateway.state.requests[check:]
    daily = [r for r in asked if r.path.endswith("/consommation_quotidienne")]
    curve = [r for r in asked if r.path.endswith("/courbe_de_charge_consommation")]
    oldest = (TODAY - timedelta(days=61)).isoformat()
    assert min(r.query["dateDebut"] for r in daily) <= oldest  # the daily history, back to the options' start
    assert min(r.query["dateDebut"] for r in curve) <= oldest  # the curve, week by week, back to it too
    assert len(curve) >= 61 // 7
    assert all(r.status == 200 for r in daily + curve)
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    assert datetime.fromtimestamp(rows[0]["start"], UTC) <= paris(TODAY - timedelta(days=55), 0)
    await hass.config_entries.async_unload(entry.entry_id)
