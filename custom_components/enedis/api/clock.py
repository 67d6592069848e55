"""Injectable time source, so that tests and benchmarks never sleep.

One clock serves a whole process: the `LimiterRegistry` holds it, every source reads it (``source.clock``: quotas,
token expiry, date limits) and the integration's coordinator reads "now" and "today" from the same object, so
the sources and the engine can never disagree on the time. Paris days are derived from ``now()`` with
`calendar.local_day`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import time
from typing import Protocol


class Clock(Protocol):
    """What the library needs to know about time."""

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (quotas, token expiry)."""

    def now(self) -> datetime:
        """Current aware UTC time (date limits, ``nextAccessTime``, the engine's schedule)."""

    async def sleep(self, seconds: float) -> None:
        """Wait (the rate limiter's short waits)."""


class SystemClock:
    """The real clock.

    ``now()`` is ``datetime.now(UTC)``, what Home Assistant's ``dt_util.utcnow`` returns (a test's freezer freezes
    and moves both), so the integration's default registry (`helpers.get_registry`) needs no other clock.
    """

    def monotonic(self) -> float:
        """Return `time.monotonic`."""
        return time.monotonic()

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Sleep with asyncio."""
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to (``sleep`` advances it instantly)."""

    def __init__(self, start: datetime | None = None) -> None:
        """Start at ``start`` (aware), default 2026-11-22 12:00 UTC."""
        self._now = start or datetime(2026, 11, 22, 12, tzinfo=UTC)
        self._mono = 1000.0
        self.slept: float = 0.0

    def monotonic(self) -> float:
        """Return the manual monotonic time."""
        return self._mono

    def now(self) -> datetime:
        """Return the manual UTC time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._mono += seconds
        self._now = datetime.fromtimestamp(self._now.timestamp() + seconds, UTC)

    async def sleep(self, seconds: float) -> None:
        """Advance instead of waiting."""
        self.slept += max(0.0, seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
