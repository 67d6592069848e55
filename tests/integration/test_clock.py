"""One clock: the sources and the coordinator read the time from the same object (the limiters' registry's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import LimiterRegistry, ManualClock
from custom_components.enedis.api.calendar import local_day
from custom_components.enedis.helpers import REGISTRY_KEY, get_registry
from tests.fake_enedis.state import FakeState
from tests.integration.common import conso_entry
from tests.integration.gateway import FakeGateway, fake_gateway_at_real_urls

HA_NOW = datetime.fromisoformat("2026-11-22 11:00:00+00:00")  # 12:00 in Paris
SOURCE_NOW = datetime.fromisoformat("2026-11-19 23:30:00+00:00")  # 2026-11-20 00:30 in Paris
PRM = "22516914714270"  # sandbox client 0


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> AsyncIterator[tuple[FakeGateway, ManualClock]]:
    """Home Assistant's time and the sources' clock three days apart, the fake gateway on the sources' day."""
    freezer.move_to(HA_NOW)
    clock = ManualClock(SOURCE_NOW)
    hass.data[REGISTRY_KEY] = LimiterRegistry(clock)
    state = FakeState(today=local_day(SOURCE_NOW), time_of_day=time(0, 30), clock=clock.monotonic)
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway, clock
        for entry in hass.config_entries.async_entries("enedis"):
            if entry.state is ConfigEntryState.LOADED:
                assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def test_the_default_clock_is_home_assistants_time(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Without a registry installed, the integration's clock reads ``dt_util.utcnow`` (frozen and moved here)."""
    freezer.move_to(HA_NOW)
    clock = get_registry(hass).clock
    assert clock.now() == HA_NOW
    freezer.tick(timedelta(days=3, minutes=7))
    assert clock.now() == HA_NOW + timedelta(days=3, minutes=7) == dt_util.utcnow()
    assert get_registry(hass).clock is clock


async def test_the_coordinator_reads_the_sources_clock(
    hass: HomeAssistant, gateway: tuple[FakeGateway, ManualClock]
) -> None:
    """The coordinator's "now" is the sources' clock, not a second one: a failed refresh is dated by it."""
    fake, clock = gateway
    entry = conso_entry(fake.state.conso_token_for_client(0), [PRM])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    assert coordinator.source.clock is clock
    fake.state.add_fault("technical_error", count=None)

    await coordinator.async_refresh()

    assert not coordinator.last_update_success
    assert len(fake.state.requests) >= 1
    assert [when for when, _ in coordinator.errors] == [clock.now().isoformat()]
    assert clock.now().date() == SOURCE_NOW.date() != dt_util.utcnow().date()
