"""The shared rate limiter: its rules on an injected clock, and the 5/s quota against the fake gateway's own counter
with requests delayed in flight (real time, a few seconds)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import time, timedelta
import itertools
import time as real_time

import aiohttp
from aiohttp.test_utils import TestServer
import pytest

from custom_components.enedis.api import DataConnect, Direction, Measure
from custom_components.enedis.api.clock import ManualClock, SystemClock
from custom_components.enedis.api.errors import CommunicationError, RateLimitError
from custom_components.enedis.api.limiter import (
    CONSO_API_QUOTAS,
    DEFAULT_429_BACKOFF,
    ENEDIS_QUOTAS,
    SHORT_QUOTA_MARGIN,
    LimiterRegistry,
    Quota,
)
from tests.fake_enedis.server import create_app
from tests.fake_enedis.state import FakeState

from .conftest import TODAY


async def test_five_per_second_waits_instead_of_failing() -> None:
    clock = ManualClock()
    limiter = LimiterRegistry(clock).get("gw", "mesure", ENEDIS_QUOTAS)
    for _ in range(5):
        await limiter.acquire()
    assert clock.slept == 0
    await limiter.acquire()  # the 6th waits for the window to roll, plus the jitter margin
    assert clock.slept == pytest.approx(1.0 + SHORT_QUOTA_MARGIN)
    # 20 more requests: never more than 5 in any rolling 1.1 seconds.
    for _ in range(20):
        await limiter.acquire()
    assert clock.slept == pytest.approx(5 * (1.0 + SHORT_QUOTA_MARGIN))


async def test_hourly_quota_refuses_without_sending() -> None:
    clock = ManualClock()
    limiter = LimiterRegistry(clock).get("gw", "mesure", (Quota(5, 1.0), Quota(10, 3600.0)))
    for _ in range(10):
        await limiter.acquire()
    with pytest.raises(RateLimitError) as info:
        await limiter.acquire()
    assert info.value.local
    assert info.value.retryable
    assert 3590 < (info.value.retry_after or 0) <= 3600
    assert limiter.remaining()["10/3600s"] == 0
    clock.advance(3600)
    await limiter.acquire()
    assert limiter.remaining()["10/3600s"] == 9


async def test_conso_api_budget_is_90_per_12_hours() -> None:
    clock = ManualClock()
    limiter = LimiterRegistry(clock).get("conso.boris.sh", "conso_api", CONSO_API_QUOTAS)
    for _ in range(90):
        await limiter.acquire()
    with pytest.raises(RateLimitError):
        await limiter.acquire()
    clock.advance(12 * 3600)
    await limiter.acquire()


async def test_429_blocks_the_key_until_the_hint() -> None:
    clock = ManualClock()
    registry = LimiterRegistry(clock)
    limiter = registry.get("gw", "mesure", ENEDIS_QUOTAS)
    limiter.block_for(120)
    with pytest.raises(RateLimitError) as info:
        await limiter.acquire()
    assert info.value.retry_after == pytest.approx(120)
    assert limiter.remaining() == {"5/1s": 0, "1000/3600s": 0}
    assert registry.snapshot()["gw mesure"]["blocked_for_s"] == 120
    clock.advance(121)
    await limiter.acquire()
    limiter.block_for(None)
    assert limiter.blocked_for() == pytest.approx(DEFAULT_429_BACKOFF)


def test_registry_shares_one_limiter_per_host_and_api() -> None:
    registry = LimiterRegistry(ManualClock())
    first = registry.get("gw", "mesure", ENEDIS_QUOTAS)
    assert registry.get("gw", "mesure", ENEDIS_QUOTAS) is first
    assert registry.get("gw", "oauth2", ENEDIS_QUOTAS) is not first
    assert registry.get("other", "mesure", ENEDIS_QUOTAS) is not first


async def test_short_quota_counts_from_the_answer() -> None:
    """Five calls in flight hold the five slots however long they take; the sixth leaves 1.1 s after an answer."""
    clock = ManualClock()
    limiter = LimiterRegistry(clock).get("gw", "mesure", ENEDIS_QUOTAS)
    answers = [asyncio.Event() for _ in range(5)]

    async def call(index: int) -> None:
        async with limiter.slot():
            await answers[index].wait()

    calls = [asyncio.create_task(call(i)) for i in range(5)]
    await asyncio.sleep(0)
    assert limiter.remaining() == {"5/1s": 0, "1000/3600s": 995}
    sixth = asyncio.create_task(limiter.acquire())
    clock.advance(10)  # long after the sends: still no slot while the five are in flight
    for _ in range(5):
        await asyncio.sleep(0)
    assert not sixth.done()
    answered_at = clock.monotonic()
    answers[0].set()
    await sixth
    assert clock.monotonic() == pytest.approx(answered_at + 1.0 + SHORT_QUOTA_MARGIN)
    for answer in answers[1:]:
        answer.set()
    await asyncio.gather(*calls)
    # A call that fails releases its slot too (from the moment it failed).
    clock.advance(5)
    with pytest.raises(CommunicationError):
        async with limiter.slot():
            raise CommunicationError("timeout")
    assert limiter.remaining()["5/1s"] == 4


async def test_wait_for_more_than_a_short_quota_allows() -> None:
    """Two Conso API PRMs ask for 9 free requests: the 5/s quota cannot give 9 at once, so it waits for all 5."""
    clock = ManualClock()
    limiter = LimiterRegistry(clock).get("conso.boris.sh", "conso_api", CONSO_API_QUOTAS)
    assert limiter.wait_for(9) == 0
    await limiter.acquire()
    await limiter.acquire()
    assert limiter.wait_for(9) == pytest.approx(1.0 + SHORT_QUOTA_MARGIN)
    clock.advance(2)
    assert limiter.wait_for(9) == 0
    assert limiter.wait_for(89) == pytest.approx(12 * 3600 - 2)


IN_FLIGHT_DELAY = 0.3
"""Seconds some requests spend in flight before the gateway sees them (more than the old 0.1 s send-time margin)."""
BURST = 20


@pytest.mark.parametrize(
    ("workers", "delayed"),
    [
        # One at a time (a backfill): the first request of every ten arrives late, so the four sent right after
        # its answer and the sixth, sent 1.1 s after the first was SENT, all land in one second of the server.
        pytest.param(1, lambda arrival: arrival % 10 == 0, id="one-at-a-time"),
        # Five at once: a whole group arrives late and the next group, sent 1.1 s after the first was SENT,
        # arrives less than a second after it.
        pytest.param(5, lambda arrival: (arrival // 5) % 2 == 0, id="five-at-once"),
    ],
)
async def test_no_429_when_requests_are_delayed_in_flight(
    socket_enabled: None, workers: int, delayed: Callable[[int], bool]
) -> None:
    arrivals = itertools.count()

    def arrival_delay(path: str) -> float:
        if not path.startswith("/mesure_synchrone_auto/"):
            return 0.0
        return IN_FLIGHT_DELAY if delayed(next(arrivals)) else 0.0

    state = FakeState(today=TODAY, time_of_day=time(12, 0), arrival_delay=arrival_delay)  # the real clock
    server = TestServer(create_app(state))
    await server.start_server()
    refused = 0
    try:
        async with aiohttp.ClientSession() as session:
            source = DataConnect(
                session,
                "demo-client-id",
                "demo-client-secret",
                base_url=str(server.make_url("")).rstrip("/"),
                registry=LimiterRegistry(SystemClock()),
            )
            window = (TODAY - timedelta(days=3), TODAY - timedelta(days=2))
            todo = iter(range(BURST))

            async def worker() -> None:
                nonlocal refused
                for _ in todo:
                    try:
                        await source.async_fetch_window(
                            "22516914714270", Direction.CONSUMPTION, Measure.DAILY_ENERGY, *window
                        )
                    except RateLimitError:
                        refused += 1

            started = real_time.monotonic()
            await asyncio.gather(*(worker() for _ in range(workers)))
            elapsed = real_time.monotonic() - started
    finally:
        await server.close()
    # The gateway's own 5/s counter (it counts on arrival) refused nothing, and every request was sent.
    assert state.count("/mesure_synchrone_auto", status=429) == 0
    assert state.count("/mesure_synchrone_auto", status=200) == BURST
    assert refused == 0
    # Pacing stays close to 5/s (5 requests per 1.1 s + one round trip), not silently 1/s.
    assert BURST / elapsed >= 4.0, f"{BURST} requests in {elapsed:.2f} s"
