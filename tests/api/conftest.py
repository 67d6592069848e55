"""A running fake Enedis gateway and a client session, sharing one manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import aiohttp
from aiohttp.test_utils import TestServer
import pytest

from custom_components.enedis.api.clock import ManualClock
from custom_components.enedis.api.limiter import LimiterRegistry
from tests.fake_enedis.server import create_app
from tests.fake_enedis.state import FakeState

TODAY = date(2026, 11, 22)


@dataclass
class Gateway:
    """What a test needs: the fake's state, its base URL, a session and a registry on the same clock."""

    state: FakeState
    url: str
    session: aiohttp.ClientSession
    clock: ManualClock
    registry: LimiterRegistry

    @property
    def conso_url(self) -> str:
        return f"{self.url}/conso/api"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 22, 11, 0, tzinfo=UTC))  # 12:00 in Paris


@pytest.fixture
async def gateway(clock: ManualClock, socket_enabled: None) -> AsyncIterator[Gateway]:
    # pytest-socket (through pytest-homeassistant-custom-component) blocks sockets; this only listens on
    # 127.0.0.1 and the session only talks to it.
    state = FakeState(today=TODAY, time_of_day=time(12, 0), clock=clock.monotonic)
    server = TestServer(create_app(state))
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield Gateway(state, str(server.make_url("")).rstrip("/"), session, clock, LimiterRegistry(clock))
    await server.close()
