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
from custom_components.enedis.ledger import StatRow, build_rows
from custom_components.enedis.statistics import WRITE_CHUNK, async_write_rows, statistic_id

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


@pytest.fixture(autouse=True)
async def _recorder_ready(hass: HomeAssistant) -> None:
    """The recorder (set up by the `recorder_mock` fixture) has finished starting."""
    await hass.async_block_till_done()
