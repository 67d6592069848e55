"""Benchmark: requests per day once the history is imported (the steady state), through the real coordinator.

A pytest module run by ``benchmarks/run`` (``testpaths`` keeps it out of CI). Home Assistant's clock is moved with
the freezer; the fake gateway answers at the real URLs (``tests/integration/gateway.py``). For each scenario the
entry imports two months, then lives 7 more days; one of them (day 3) is published six hours late, so the retries
show. Prints the requests of each day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

import custom_components  # noqa: F401  (before HA puts its testing config on sys.path)
from custom_components.enedis.api.calendar import PARIS
from tests.fake_enedis.state import FakeState
from tests.integration.common import (
    async_import_demo_credentials,
    async_run_until,
    conso_entry,
    data_connect_entry,
    install_registry,
)
from tests.integration.gateway import FakeGateway, fake_gateway_at_real_urls

logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)  # as tests/conftest.py: no SQL echo
logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

TODAY = date(2026, 11, 10)
DAYS = 7
LATE_DAY = 3
SCENARIOS = {
    "Conso API, client 0 (consumption)": ("conso_api", 0, ["22516914714270"]),
    "Conso API, client 6 (self-consumption)": ("conso_api", 6, ["12655648759651"]),
    "Data Connect, client 3 (2 PRMs: consumption, production)": (
        "data_connect",
        3,
        ["12345678901234", "10284856584123"],
    ),
}
RESULTS: dict[str, list[int]] = {}


def paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture(autouse=True)
def _custom_integrations(recorder_mock: object, enable_custom_integrations: None) -> None:
    """The recorder before hass, and this custom integration enabled."""


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(today=TODAY, time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


async def _go_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, coordinator, moment):
    while dt_util.utcnow() < moment:
        step = min(coordinator.update_interval or timedelta(seconds=1), moment - dt_util.utcnow())
        freezer.tick(step + timedelta(milliseconds=1))
        now = dt_util.now(PARIS)
        gateway.state.today, gateway.state.time_of_day = now.date(), now.time()
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_steady_state(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, name: str
) -> None:
    source, client, prms = SCENARIOS[name]
    freezer.move_to(paris(TODAY, 12))
    install_registry(hass, freezer)
    options = {"curve_history_months": 2, "daily_history_months": 2}
    if source == "conso_api":
        entry = conso_entry(gateway.state.conso_token_for_client(client), prms, **options)
    else:
        await async_import_demo_credentials(hass)
        entry = data_connect_entry(prms, **options)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(
        hass, freezer, coordinator, lambda: all(p.backfill_progress >= 100 for p in coordinator.data.prms.values())
    )
    await _go_to(hass, freezer, gateway, coordinator, paris(TODAY, 23))
    per_day: list[int] = []
    for offset in range(1, DAYS + 1):
        day = TODAY + timedelta(days=offset)
        if offset == LATE_DAY:
            gateway.state.late_days[day - timedelta(days=1)] = 6
        before = gateway.state.count()
        await _go_to(hass, freezer, gateway, coordinator, paris(day, 23))
        per_day.append(gateway.state.count() - before)
    assert gateway.state.count("", 429) == 0
    RESULTS[name] = per_day
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def test_print_table() -> None:
    """Print what the scenarios measured (runs last in this module)."""
    print()
    print(f"Steady state: requests per day after the history import (day {LATE_DAY} published 6 h late)")
    print(f"{'scenario':<58} " + " ".join(f"{'d' + str(i + 1):>4}" for i in range(DAYS)) + f" {'mean':>6}")
    print("-" * (58 + 5 * DAYS + 8))
    for name, per_day in RESULTS.items():
        print(f"{name:<58} " + " ".join(f"{n:>4}" for n in per_day) + f" {sum(per_day) / len(per_day):>6.1f}")
