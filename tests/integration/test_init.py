"""Setup, unload and setup errors of an entry, against the fake gateway at the real URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time

from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.const import DOMAIN
from tests.fake_enedis.server import create_app
from tests.fake_enedis.state import FakeState

from .common import async_import_demo_credentials, async_step, conso_entry, data_connect_entry, install_registry
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


async def test_setup_sends_nothing_and_unload_cleans_up(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    freezer.move_to(datetime(2026, 11, 22, 11, tzinfo=UTC))
    install_registry(hass, freezer)
    entry = conso_entry(gateway.state.conso_token_for_client(0), [P0])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert gateway.state.count() == 0
    assert hass.services.has_service(DOMAIN, "import_history")

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    for state in hass.states.async_all("sensor"):
        assert state.state == "unavailable"


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        # sub lists a PRM, but exp is 2020-01-01: expired
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOlsiMjI1MTY5MTQ3MTQyNzAiXSwiZXhwIjoxNTc3ODM2ODAwfQ.c2ln",
    ],
)
async def test_bad_token_starts_reauth_without_request(hass: HomeAssistant, gateway: FakeGateway, token: str) -> None:
    entry = conso_entry(token, [P0])
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert any(flow["context"]["source"] == "reauth" for flow in hass.config_entries.flow.async_progress())
    assert gateway.state.count() == 0


async def test_data_connect_without_credentials_asks_to_reauthenticate(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            "source": "data_connect",
            "auth_implementation": "gone",
            "environment": "production",
            "prms": [P0],
            "authorization_ids": ["58240"],
        },
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR


async def test_demo_gateway_entry_reads_the_demo_gateway(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """A Data Connect entry on scripts/develop's demo gateway talks to the URL it keeps, not to Enedis."""
    freezer.move_to(datetime(2026, 11, 22, 11, tzinfo=UTC))
    state = FakeState(today=date(2026, 11, 22), time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    server = TestServer(create_app(state))
    await server.start_server()
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry = data_connect_entry([P0])
    entry.add_to_hass(hass)
    url = str(server.make_url("")).rstrip("/")
    hass.config_entries.async_update_entry(entry, data={**entry.data, "environment": "demo", "base_url": url})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_step(hass, freezer, entry.runtime_data)
    assert state.count("/oauth2/v3/token") == 1
    assert state.count("/mesure_synchrone_auto/v2/courbe_de_charge_consommation", 200) > 0
    assert state.count("", 200) == state.count()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await server.close()
