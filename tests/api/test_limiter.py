"""The shared rate limiter, on an injected clock (tests never sleep)."""

from __future__ import annotations

import pytest

from custom_components.enedis.api.clock import ManualClock
from custom_components.enedis.api.errors import RateLimitError
from custom_components.enedis.api.limiter import (
    CONSO_API_QUOTAS,
    DEFAULT_429_BACKOFF,
    ENEDIS_QUOTAS,
    SHORT_QUOTA_MARGIN,
    LimiterRegistry,
    Quota,
)


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
