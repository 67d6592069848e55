"""The coordinator paces the history import by the source's contract (`QuotaPolicy`), nothing else (issue 11 §1),
and each import's compute by the recorder's commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, time, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.models import StatisticData, StatisticMetaData
from homeassistant.components.recorder.statistics import list_statistic_ids, statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import BlockRecorderTask
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis import importer, planner, statistics
from custom_components.enedis.api import CONSO_API_CONTRACT, DATA_CONNECT_CONTRACT, Direction
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.coordinator import EnedisCoordinator
from tests.fake_enedis.state import FakeState

from .common import async_import_demo_credentials, async_step, conso_entry, data_connect_entry, install_registry
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
P6 = "12655648759651"  # sandbox client 6: self-consumption, a consumption and a production series
HISTORY = {"curve_history_months": 6, "daily_history_months": 2}  # more than two refreshes of work
NOON = datetime.combine(date(2026, 11, 22), time(12), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None, freezer: FrozenDateTimeFactory
) -> AsyncIterator[FakeGateway]:
    freezer.move_to(NOON)
    state = FakeState(
        today=NOON.astimezone(PARIS).date(), time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp()
    )
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


async def _setup(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, *, conso: bool, token: str, prm: str = P0
) -> EnedisCoordinator:
    install_registry(hass, freezer)
    if conso:
        entry = conso_entry(token, [prm], **HISTORY)
    else:
        await async_import_demo_credentials(hass)
        entry = data_connect_entry([prm], **HISTORY)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data
    assert coordinator.store.cache.backfill_requests == 0  # no request during setup
    return coordinator


async def test_conso_api_burst_then_pace(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    policy = CONSO_API_CONTRACT.policy
    assert policy.pace is not None
    coordinator = await _setup(hass, freezer, conso=True, token=gateway.state.conso_token_for_client(0))
    await async_step(hass, freezer, coordinator)
    # The first refresh sends the burst, then waits one pace after the last backfill request.
    assert coordinator.store.cache.backfill_requests == policy.burst
    assert policy.pace - timedelta(seconds=1) <= coordinator.update_interval <= policy.pace  # type: ignore[operator]
    await async_step(hass, freezer, coordinator)
    assert coordinator.store.cache.backfill_requests == policy.burst + 1  # one per pace from now on
    assert policy.pace - timedelta(seconds=1) <= coordinator.update_interval <= policy.pace  # type: ignore[operator]


async def test_data_connect_batches_unpaced(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    policy = DATA_CONNECT_CONTRACT.policy
    coordinator = await _setup(hass, freezer, conso=False, token="")
    await async_step(hass, freezer, coordinator)
    assert coordinator.store.cache.backfill_requests == policy.batch
    assert coordinator.update_interval == policy.interval
    await async_step(hass, freezer, coordinator)
    assert coordinator.store.cache.backfill_requests == 2 * policy.batch


async def test_the_refresh_that_completes_a_history_ends_with_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresh whose import publishes a completed history (the days beyond the curve's horizon, every
    statistic's oldest rows: the backfill's largest import) carries no other request's work: it ends with the
    request that completed it, the other series' requests going to the next refresh."""
    coordinator = await _setup(hass, freezer, conso=False, token="", prm=P6)
    sent: list[Direction] = []
    run_job = coordinator._async_run_job

    async def logged(job: planner.Job, touched: set[tuple[str, Direction]]) -> None:
        if job.backfill:
            sent.append(job.direction)
        await run_job(job, touched)

    monkeypatch.setattr(coordinator, "_async_run_job", logged)

    def pending() -> set[Direction]:
        ctx, cache = coordinator._context(), coordinator.store.cache
        return {direction for direction in Direction if planner.backfill_jobs(ctx, cache, P6, direction)[0]}

    completed: list[tuple[Direction, int]] = []
    for _ in range(60):
        waiting = pending()
        if not waiting:
            break
        sent.clear()
        await async_step(hass, freezer, coordinator)
        done = waiting - pending()
        if done:
            assert len(done) == 1, done  # one history completes per refresh
            (direction,) = done
            assert sent[-1] is direction  # the last request of the refresh is the one that completed it
            completed.append((direction, len(sent)))
    assert not pending()
    # Both directions' histories completed, the first one while the other still had requests to send, and that
    # refresh stopped short of its batch.
    assert [direction for direction, _ in completed] == [Direction.CONSUMPTION, Direction.PRODUCTION]
    assert completed[0][1] < DATA_CONNECT_CONTRACT.policy.batch


async def test_each_import_is_computed_once_the_rows_queued_before_are_committed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A series' import is computed (in the executor) only once the recorder has committed every row queued
    before it, the previous series' included: computed while the recorder commits, the two threads and the event
    loop compete for the interpreter lock, and the loop waits longer (`benchmarks/statistics_import.py`)."""
    coordinator = await _setup(hass, freezer, conso=False, token="", prm=P6)
    queued: list[int] = []
    add = statistics.async_add_external_statistics

    def counted(hass: HomeAssistant, metadata: StatisticMetaData, rows: Iterable[StatisticData]) -> None:
        rows = list(rows)
        queued.append(len(rows))
        # A slower recorder (a Raspberry Pi's card): the rows wait 0.2 s behind a task that blocks its thread.
        get_instance(hass).queue_task(BlockRecorderTask(asyncio.Event(), 0.2))
        add(hass, metadata, rows)

    def committed() -> int:
        ids = [meta["statistic_id"] for meta in list_statistic_ids(hass) if meta["source"] == DOMAIN]
        held = statistics_during_period(hass, datetime(2000, 1, 1, tzinfo=UTC), None, set(ids), "hour", None, {"sum"})
        return sum(len(rows) for rows in held.values())

    seen: list[tuple[int, int]] = []
    compute = importer.compute_import

    def watched(job: importer.ImportJob) -> importer.ComputedImport:
        seen.append((sum(queued), committed()))  # the executor's thread: the recorder's database may be read
        return compute(job)

    monkeypatch.setattr(statistics, "async_add_external_statistics", counted)
    monkeypatch.setattr(importer, "compute_import", watched)
    for _ in range(4):
        await async_step(hass, freezer, coordinator)
    assert len(seen) >= 3
    assert any(rows for rows, _ in seen[1:])  # rows were queued before some import
    assert seen == [(rows, rows) for rows, _ in seen]
