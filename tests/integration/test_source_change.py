"""Issue 10 #4 at runtime: a Conso API URL that is not the API.

The fake gateway answers at the real URLs (``https://conso.boris.sh/...``); a wrong base URL such as
``https://conso.boris.sh/oops`` reaches routes it does not have, which answer aiohttp's plain-text ``404: Not Found``
(what Home Assistant's own port answers too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import Direction
from custom_components.enedis.api.models import PARIS
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.coordinator import EnedisCoordinator
from tests.fake_enedis.state import FakeState

from .common import async_step, install_registry
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
TODAY = date(2026, 11, 22)
WRONG_URL = "https://conso.boris.sh/oops"
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
    assert series.daily_fetched == set()
    assert not series.daily_history_done
    await hass.config_entries.async_unload(entry.entry_id)
