"""The statistics writer: large writes are queued chunk by chunk, each once the recorder has committed the last."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest

from custom_components.enedis import statistics
from custom_components.enedis.api import Direction
from custom_components.enedis.ledger import StatRow, build_rows, publish, publish_update, published
from custom_components.enedis.statistics import (
    WRITE_CHUNK,
    async_shift_sums,
    async_write,
    async_write_rows,
    energy_metadata,
    series_metadata,
    statistic_id,
)

from .common import assert_continuous, async_statistics

PRM = "12345678901234"


def _rows(count: int) -> list[StatRow]:
    first = datetime(2025, 1, 1, tzinfo=UTC)
    hours = {first + timedelta(hours=i): float(100 + i % 7) for i in range(count)}
    return build_rows(hours, first)


async def test_large_write_is_paced_by_the_recorder(hass: HomeAssistant) -> None:
    recorder = get_instance(hass)
    real_wait = recorder.async_block_till_done
    backlogs: list[int] = []

    async def wait_and_watch() -> None:
        backlogs.append(recorder.backlog)  # the previous chunk (at most) is waiting when we are asked to wait
        await real_wait()

    rows = _rows(2 * WRITE_CHUNK + 500)
    with patch.object(recorder, "async_block_till_done", side_effect=wait_and_watch) as waited:
        assert await async_write_rows(hass, PRM, Direction.CONSUMPTION, rows) == len(rows)
    assert waited.call_count == 2  # between the 3 chunks, not after the last one
    assert all(backlog <= 1 for backlog in backlogs)
    stored = await async_statistics(hass, statistic_id(PRM, Direction.CONSUMPTION))
    assert len(stored) == len(rows)
    assert_continuous(stored)

    # A write of one chunk or less does not wait at all.
    with patch.object(recorder, "async_block_till_done", side_effect=wait_and_watch) as waited:
        await async_write_rows(hass, PRM, Direction.PRODUCTION, rows[:WRITE_CHUNK])
    assert waited.call_count == 0


async def test_a_stuck_recorder_delays_but_does_not_block_the_write(hass: HomeAssistant) -> None:
    recorder = get_instance(hass)
    never: asyncio.Future[None] = hass.loop.create_future()

    async def stuck() -> None:
        await never

    rows = _rows(WRITE_CHUNK + 1)
    with (
        patch.object(recorder, "async_block_till_done", side_effect=stuck) as waited,
        patch.object(statistics, "RECORDER_WAIT", 0.01),
    ):
        assert await async_write_rows(hass, PRM, Direction.CONSUMPTION, rows) == len(rows)
    assert waited.call_count == 1
    assert len(await async_statistics(hass, statistic_id(PRM, Direction.CONSUMPTION))) == len(rows)


@pytest.mark.parametrize("money", [False, True])
async def test_origin_moving_back_shifts_the_sums_in_the_recorder(hass: HomeAssistant, money: bool) -> None:
    """The origin moves back over older hours (`ledger.publish_update`): the recorder adds their total to every row
    already written (`async_shift_sums`, one update, kWh or EUR) before the older rows arrive, and then holds every
    hour with its sum from the new origin, as if each row had been rewritten."""
    origin = datetime(2025, 1, 10, tzinfo=UTC)
    hours = {origin + timedelta(hours=i): float(100 + i % 7) for i in range(3 * WRITE_CHUNK // 2)}
    key = "consumption_cost" if money else ""
    metadata = series_metadata(hass, PRM, key) if money else energy_metadata(hass, PRM, Direction.CONSUMPTION)
    first = publish({}, hours, origin, None)
    await async_write(hass, metadata, first.rows, newest_first=first.newest_first)
    before = published(first.written, origin)
    assert before is not None
    new_origin = origin - timedelta(hours=50)
    older = {new_origin + timedelta(hours=i): 40.0 + i for i in range(50)}
    # Two hours already written exchange their energy: their own rows move (the later one's sum does not).
    seven, eight = origin + timedelta(hours=7), origin + timedelta(hours=8)
    older |= {seven: hours[eight], eight: hours[seven]}
    publication, _ = publish_update(before, older, max(hours), new_origin)
    assert publication.shift is not None
    assert publication.shift.kwh == pytest.approx(sum(40.0 + i for i in range(50)) / 1000)
    assert len(publication.rows) == 52  # the older hours and the two that changed, not the 1,500 rows written
    async_shift_sums(hass, metadata, publication.shift)
    await async_write(hass, metadata, publication.rows, newest_first=publication.newest_first)
    stored = await async_statistics(hass, metadata["statistic_id"])
    expected = build_rows(publication.written, new_origin)
    assert [row["start"] for row in stored] == [row.start.timestamp() for row in expected]
    for row, want in zip(stored, expected, strict=True):
        assert row["state"] == pytest.approx(want.state, abs=1e-9)
        assert row["sum"] == pytest.approx(want.sum, abs=1e-9)


@pytest.fixture(autouse=True)
async def _recorder_ready(hass: HomeAssistant) -> None:
    """The recorder (set up by the `recorder_mock` fixture) has finished starting."""
    await hass.async_block_till_done()
