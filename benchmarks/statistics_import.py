"""Benchmark: statistics import into a real recorder (on-disk SQLite), and the event loop's longest stall.

A pytest module (not collected in CI: ``testpaths = ["tests"]``), run by ``benchmarks/run`` as
``scripts/run python -m pytest benchmarks/statistics_import.py -p no:cacheprovider -s -q``.

Scenario: a Data Connect entry for sandbox client 6 (one self-consumption PRM: consumption AND production) with the
full history (24 months of curve, 36 of daily energy), in real time (no freezer: the loop's clock is real), the
limiters and the fake's quotas on a `ManualClock` (the 5/s waits cost no real time).

1. The whole backfill through the real coordinator (``async_refresh`` back to back): real time, rows written, and
   the longest loop stall seen while it fetched, parsed, computed and wrote.
2. A full re-import: the statistics of both series are cleared from the recorder and the coordinator computes and
   writes every hourly row again (2 years x 2 series), timed until the recorder has committed them, with the
   loop-lag probe running.

The fake gateway runs in its own thread and event loop, so that its work is not counted as the integration's.
Loop-lag probe: a task sleeping 5 ms in a loop, recording the largest overshoot of ``loop.time()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
import logging
import resource
import threading
import time as walltime

import aiohttp
from aiohttp.test_utils import TestServer
from homeassistant.components.application_credentials import ClientCredential, async_import_client_credential
from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

import custom_components  # noqa: F401  (before HA puts its testing config on sys.path)
from custom_components.enedis.api import Direction, LimiterRegistry, ManualClock
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.helpers import REGISTRY_KEY
from tests.fake_enedis.server import create_app
from tests.fake_enedis.state import FakeState
from tests.integration.gateway import FakeGateway, route_real_urls

logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)  # as tests/conftest.py: no SQL echo
logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

PRM = "12655648759651"  # sandbox client 6: self-consumption
STALL_LIMIT_MS = 50.0


@pytest.fixture
def persistent_database() -> bool:
    """An on-disk SQLite database (phcc's default is in memory)."""
    return True


@pytest.fixture(autouse=True)
def _custom_integrations(recorder_mock: object, enable_custom_integrations: None) -> None:
    """The recorder before hass, and this custom integration enabled."""


@asynccontextmanager
async def gateway_in_thread(aioclient_mock: AiohttpClientMocker, state: FakeState) -> AsyncIterator[FakeGateway]:
    """`tests.integration.gateway.fake_gateway_at_real_urls`, but the fake server runs in its own thread and loop.

    Building a year of daily values or a week of curve in the fake takes the server's loop for up to 100 ms: in
    Home Assistant's loop it would be counted as the integration's stall.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-enedis", daemon=True)
    thread.start()
    server = TestServer(create_app(state), loop=loop)
    asyncio.run_coroutine_threadsafe(server.start_server(), loop).result()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=None, sock_read=None))
    gateway = FakeGateway(state, server, session)
    route_real_urls(aioclient_mock, gateway)
    try:
        yield gateway
    finally:
        await session.close()
        asyncio.run_coroutine_threadsafe(server.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


class LoopLagProbe:
    """Sleeps 5 ms in a loop and records how late the loop woke it up."""

    def __init__(self) -> None:
        self.max_lag = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.005)
            self.max_lag = max(self.max_lag, loop.time() - before - 0.005)
            self.samples += 1

    @asynccontextmanager
    async def running(self) -> AsyncIterator[LoopLagProbe]:
        self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            yield self
        finally:
            self._task.cancel()


async def _hourly_rows(hass: HomeAssistant, statistic_id: str) -> int:
    await async_wait_recording_done(hass)
    result = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2020, 1, 1, tzinfo=UTC),
        None,
        {statistic_id},
        "hour",
        None,
        {"sum"},
    )
    return len(result.get(statistic_id, []))


async def test_statistics_import(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> None:
    clock = ManualClock(datetime.now(UTC))
    hass.data[REGISTRY_KEY] = LimiterRegistry(clock)
    state = FakeState(time_of_day=None, clock=clock.monotonic)  # today: the real Paris date
    async with gateway_in_thread(aioclient_mock, state) as gateway:
        assert await async_setup_component(hass, "application_credentials", {})
        await async_import_client_credential(
            hass, DOMAIN, ClientCredential("demo-client-id", "demo-client-secret"), "cred"
        )
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Linky bench",
            data={
                "source": "data_connect",
                "auth_implementation": "cred",
                "environment": "sandbox",
                "consent_duration": "P3Y",
                "authorization_ids": [],
                "prms": [PRM],
                "consent_expires": "2029-11-22T00:00:00+00:00",
            },
            unique_id=PRM,
            options={"curve_history_months": 24, "daily_history_months": 36},
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        coordinator = entry.runtime_data

        # 1. The whole backfill, refreshes back to back.
        probe = LoopLagProbe()
        t0 = walltime.perf_counter()
        refreshes = 0
        async with probe.running():
            while coordinator.data.prms[PRM].backfill_progress < 100:
                await coordinator.async_refresh()
                assert coordinator.last_update_success, coordinator.errors
                refreshes += 1
                assert refreshes < 200
            await async_wait_recording_done(hass)
        backfill_s = walltime.perf_counter() - t0
        backfill_lag = probe.max_lag
        rows_after_backfill = coordinator.rows_written
        ids = [f"enedis:{PRM}_consumption", f"enedis:{PRM}_production"]
        stored = {sid: await _hourly_rows(hass, sid) for sid in ids}

        # 2. Full re-import of both series into emptied statistics tables.
        get_instance(hass).async_clear_statistics(ids)
        await async_wait_recording_done(hass)
        assert [await _hourly_rows(hass, sid) for sid in ids] == [0, 0]
        touched = set()
        for direction in (Direction.CONSUMPTION, Direction.PRODUCTION):
            coordinator.store.cache.prm(PRM).series[direction].written = {}
            touched.add((PRM, direction))
        before = coordinator.rows_written
        probe = LoopLagProbe()
        async with probe.running():
            t0 = walltime.perf_counter()
            await coordinator._async_import(touched)
            queued_s = walltime.perf_counter() - t0
            await async_wait_recording_done(hass)
            import_s = walltime.perf_counter() - t0
        rows = coordinator.rows_written - before
        reimported = {sid: await _hourly_rows(hass, sid) for sid in ids}
        assert reimported == stored

        maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        requests = len(gateway.state.requests)
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()

    print()
    print(f"Statistics import, Data Connect, sandbox client 6 ({PRM}: consumption + production), on-disk SQLite")
    print(f"{'phase':<44} {'rows':>8} {'time':>9} {'rows/s':>9} {'max stall':>10} {'<= 50 ms':>8}")
    print("-" * 93)
    print(
        f"{'full backfill (' + str(requests) + ' requests, ' + str(refreshes) + ' refreshes)':<44} "
        f"{rows_after_backfill:>8} {backfill_s:>8.2f}s {rows_after_backfill / backfill_s:>9,.0f} "
        f"{backfill_lag * 1000:>8.1f}ms {'yes' if backfill_lag * 1000 <= STALL_LIMIT_MS else 'NO':>8}"
    )
    print(f"{'re-import 2 series (compute + queue)':<44} {rows:>8} {queued_s:>8.2f}s {rows / queued_s:>9,.0f} {'':>10}")
    print(
        f"{'re-import 2 series (until committed)':<44} {rows:>8} {import_s:>8.2f}s {rows / import_s:>9,.0f} "
        f"{probe.max_lag * 1000:>8.1f}ms {'yes' if probe.max_lag * 1000 <= STALL_LIMIT_MS else 'NO':>8}"
    )
    print(f"hourly rows stored: {stored}; process peak RSS {maxrss_mb:.0f} MB")
    worst = max(backfill_lag, probe.max_lag) * 1000
    verdict = "OK" if worst <= STALL_LIMIT_MS else "EXCEEDED"
    print(f"longest event-loop stall: {worst:.1f} ms (limit {STALL_LIMIT_MS:.0f} ms): {verdict}")
