"""Secrets never leak: DEBUG logs and diagnostics of a full setup + backfill, with errors on the way.

Scanned for: the Conso API token (and its signature part alone), the DataHub client secret, every access token the
fake gateway issued, and the Basic header built from the client id and secret.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import DOMAIN
from tests.fake_enedis.state import FakeState

from .common import (
    DEMO_CLIENT_ID as CLIENT_ID,
    DEMO_CLIENT_SECRET as CLIENT_SECRET,
    async_import_demo_credentials,
    async_run_until,
    async_step,
    conso_entry,
    data_connect_entry,
    install_registry,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
TODAY = date(2026, 11, 22)


START = datetime.combine(TODAY, time(12), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    """Requested before ``hass_client``: its access token is issued at the frozen start."""
    freezer.move_to(START)
    state = FakeState(today=TODAY, time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


def leaks(text: str, secrets: set[str]) -> list[str]:
    return sorted(secret[:8] + "..." for secret in secrets if secret and secret in text)


def issued_tokens(gateway: FakeGateway) -> set[str]:
    tokens = set(gateway.state.tokens)
    tokens |= {token.rsplit(".", 1)[-1] for token in tokens}  # the signature part alone
    return tokens


async def _run(hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, entry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    # Errors on the way (their texts are logged at DEBUG and kept for diagnostics).
    gateway.state.add_fault("technical_error")
    await async_step(hass, freezer, coordinator)
    gateway.state.add_fault("plain_500")
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    assert gateway.state.count("", 500) == 2
    assert gateway.state.count("", 200) > 5


@pytest.mark.parametrize("source", ["conso_api", "data_connect"])
async def test_no_secret_in_logs_or_diagnostics(  # noqa: PLR0917 - pytest fixtures
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    gateway: FakeGateway,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    hass_storage: dict[str, Any],
    source: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.enedis")
    install_registry(hass, freezer)
    options = {"curve_history_months": 1, "daily_history_months": 1}
    conso_token = gateway.state.conso_token_for_client(0)
    if source == "conso_api":
        entry = conso_entry(conso_token, [P0], **options)
        secrets = {conso_token, conso_token.rsplit(".", 1)[-1]}
    else:
        await async_import_demo_credentials(hass)
        entry = data_connect_entry([P0], **options)
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        secrets = {CLIENT_SECRET, basic}
    await _run(hass, freezer, gateway, entry)
    if source == "data_connect":
        secrets |= issued_tokens(gateway)
        assert gateway.state.tokens, "an access token was issued"
    coordinator = entry.runtime_data

    assert "GET /" in caplog.text  # DEBUG logging of the integration was captured
    assert not leaks(caplog.text, secrets)
    # Back to the start: the test HTTP client's access token lives 30 minutes (no refresh runs from here on).
    freezer.move_to(START)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    dumped = json.dumps(diagnostics)
    assert not leaks(dumped, secrets)
    assert P0 not in dumped  # PRMs are masked
    assert coordinator.errors  # the errors are there, scrubbed
    assert not leaks(repr(coordinator.source) + " ".join(m for _, m in coordinator.errors), secrets)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    # The entry's own cache file holds readings, never credentials.
    stored = {key: value for key, value in hass_storage.items() if key.startswith(DOMAIN)}
    assert stored
    assert not leaks(json.dumps(stored, default=str), secrets)
