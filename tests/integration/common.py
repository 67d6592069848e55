"""Helpers for scenario tests: a clock that follows the freezer, the entry, time travel, ground truth."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import ClientCredential, async_import_client_credential
from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.statistics import statistic_during_period, statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.enedis.api import CONSO_API_URL, LimiterRegistry
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.coordinator import EnedisCoordinator
from custom_components.enedis.helpers import REGISTRY_KEY
from custom_components.enedis.state import SeriesCache
from tests.fake_enedis import data


class FreezerClock:
    """The library's clock, driven by the test's freezer (the limiter's short waits advance it)."""

    def __init__(self, freezer: FrozenDateTimeFactory) -> None:
        self._freezer = freezer

    def monotonic(self) -> float:
        return dt_util.utcnow().timestamp()

    def now(self) -> datetime:
        return dt_util.utcnow()

    async def sleep(self, seconds: float) -> None:
        self._freezer.tick(timedelta(seconds=max(0.0, seconds)))
        await asyncio.sleep(0)


def install_registry(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> LimiterRegistry:
    """The process-wide limiters of the integration, on the freezer's clock (installed once per test)."""
    existing = hass.data.get(REGISTRY_KEY)
    if existing is not None and isinstance(existing.clock, FreezerClock):
        return existing
    registry = LimiterRegistry(FreezerClock(freezer))
    hass.data[REGISTRY_KEY] = registry
    return registry


def conso_entry(token: str, prms: list[str], **options: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky {prms[0]}",
        data={"source": "conso_api", "token": token, "base_url": CONSO_API_URL, "prms": prms},
        unique_id="_".join(sorted(prms)),
        options=options,
    )


async def async_step(hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: EnedisCoordinator) -> None:
    """Jump to the coordinator's next refresh and let it run."""
    interval = coordinator.update_interval or timedelta(seconds=1)
    freezer.tick(interval + timedelta(milliseconds=10))
    async_fire_time_changed(hass)
    # Interval refreshes run as background tasks of the entry.
    await hass.async_block_till_done(wait_background_tasks=True)


async def async_run_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    coordinator: EnedisCoordinator,
    done: Callable[[], bool],
    max_steps: int = 400,
) -> int:
    for step in range(max_steps):
        if done():
            return step
        await async_step(hass, freezer, coordinator)
    raise AssertionError("the coordinator did not get there")


def truth_hours(prm: str, direction: str, days: list[date], *, ignore_holes: bool = False) -> dict[datetime, float]:
    """Ground truth per UTC hour (Wh) from the fake gateway's own data."""
    hours: dict[datetime, float] = {}
    for day in days:
        for end, watts in data.curve_points(prm, direction, day, ignore_holes=ignore_holes):  # type: ignore[arg-type]
            start = end - timedelta(minutes=30)
            hour = start.replace(minute=0, second=0, microsecond=0)
            hours[hour] = hours.get(hour, 0) + watts / 2
    return hours


async def async_statistics(
    hass: HomeAssistant, statistic_id: str, since: datetime = datetime(2020, 1, 1, tzinfo=UTC)
) -> list[dict[str, Any]]:
    await async_wait_recording_done(hass)
    result = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        since,
        None,
        {statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return list(result.get(statistic_id, []))


async def async_change(hass: HomeAssistant, statistic_id: str, start: datetime, end: datetime) -> float:
    """What the Energy dashboard shows for ``[start, end)``: the recorder's ``change`` of the statistic."""
    await async_wait_recording_done(hass)
    result = await get_instance(hass).async_add_executor_job(
        statistic_during_period, hass, start, end, statistic_id, {"change"}, None
    )
    return float(result["change"] or 0.0)


def assert_continuous(rows: list[dict[str, Any]]) -> None:
    """Sums move exactly by each hour's state: no spike, no negative bar."""
    for previous, row in itertools.pairwise(rows):
        assert row["sum"] - previous["sum"] == pytest.approx(row["state"], abs=1e-6), row
        assert row["state"] >= 0


DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_SECRET = "demo-client-secret"


async def async_import_demo_credentials(hass: HomeAssistant) -> None:
    """The fake gateway's DataHub application, as Application Credentials ``cred``."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(hass, DOMAIN, ClientCredential(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), "cred")


def data_connect_entry(prms: list[str], **options: Any) -> MockConfigEntry:
    """A Data Connect entry on the Enedis sandbox (served by the fake gateway) using credentials ``cred``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Linky sandbox",
        data={
            "source": "data_connect",
            "auth_implementation": "cred",
            "environment": "sandbox",
            "consent_duration": "P3Y",
            "authorization_ids": [],
            "prms": prms,
            "consent_expires": "2029-11-22T00:00:00+00:00",
        },
        unique_id="_".join(sorted(prms)),
        options=options,
    )


def floors(series: SeriesCache) -> dict[str, date]:
    """The oldest day served per measure (by measure name), as far as the series learnt them."""
    return {m.value: p.floor for m, p in series.progress.items() if p.floor is not None}


def probes(series: SeriesCache) -> dict[str, tuple[date, date]]:
    """The bisections in progress per measure (by measure name)."""
    return {m.value: p.probe for m, p in series.progress.items() if p.probe is not None}


def paris_utc(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """Paris wall-clock ``day`` ``hour``:``minute`` as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def by_hour(rows: list[dict[str, Any]], key: str = "state") -> dict[datetime, float]:
    """Statistics rows as {UTC hour: ``key``}."""
    return {datetime.fromtimestamp(row["start"], UTC): row[key] for row in rows}


async def async_setup_imported(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> MockConfigEntry:
    """Set ``entry`` up (demo credentials, the freezer's rate limiters) and run it until its history is imported."""
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(
        hass, freezer, coordinator, lambda: all(p.backfill_progress >= 100 for p in coordinator.data.prms.values())
    )
    return entry
