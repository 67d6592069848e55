"""A real Prosody server on 127.0.0.1, the fake consometers proxy logged in on it, and sources logged in as a user.

Prosody is installed by ``scripts/setup``; a missing server fails these tests (they must run in CI), it does not
skip them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from custom_components.enedis.api.clock import ManualClock
from custom_components.enedis.api.limiter import LimiterRegistry
from custom_components.enedis.api.xmpp import ConsometersProxy
from tests.fake_consometers.bot import FakeProxy, Generation
from tests.fake_enedis.state import FakeState
from tests.xmpp.prosody import Prosody

TODAY = date(2026, 11, 22)
PROXY_USER, PROXY_PASSWORD = "dataconnect-proxy", "proxy-secret-pw"
USER, PASSWORD = "home", "correct horse battery staple"
PROXY_JID = f"{PROXY_USER}@localhost/proxy"
USER_JID = f"{USER}@localhost"

type ProxyFactory = Callable[..., Awaitable[FakeProxy]]
type SourceFactory = Callable[..., ConsometersProxy]


@pytest.fixture
def prosody(tmp_path: Path, socket_enabled: None) -> Iterator[Prosody]:
    """Prosody with the proxy's and the user's accounts, stopped after the test."""
    if not Prosody.available():
        pytest.fail("prosody is not installed: run scripts/setup")
    server = Prosody(tmp_path / "prosody")
    server.add_account(PROXY_USER, PROXY_PASSWORD)
    server.add_account(USER, PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_state() -> FakeState:
    """The fake gateway's ground truth, on the tests' fixed day."""
    return FakeState(today=TODAY, time_of_day=time(12, 0))


@pytest.fixture
async def make_proxy(prosody: Prosody, fake_state: FakeState) -> AsyncIterator[ProxyFactory]:
    """Start the fake proxy bot (``generation``: ``head`` or ``seed``); stopped after the test."""
    bots: list[FakeProxy] = []

    async def _make(generation: Generation = "head", *, start: bool = True) -> FakeProxy:
        bot = FakeProxy(
            PROXY_JID, PROXY_PASSWORD, fake_state, generation=generation, address=("127.0.0.1", prosody.port)
        )
        bots.append(bot)
        if start:
            await bot.start()
        return bot

    yield _make
    for bot in bots:
        await bot.stop()


@pytest.fixture
def clock() -> ManualClock:
    """The sources' limiter clock: the 1 request/s quota is waited instantly."""
    return ManualClock(datetime(2026, 11, 22, 11, 0, tzinfo=UTC))


@pytest.fixture
async def make_source(prosody: Prosody, clock: ManualClock) -> AsyncIterator[SourceFactory]:
    """A `ConsometersProxy` logged in as the user (plain, no TLS: a local test server); closed after the test."""
    sources: list[ConsometersProxy] = []

    def _make(**kwargs: Any) -> ConsometersProxy:
        options: dict[str, Any] = {
            "proxy_jid": PROXY_JID,
            "host": "127.0.0.1",
            "port": prosody.port,
            "plain": True,
            "registry": LimiterRegistry(clock),
            "request_timeout": 10.0,
            "reconnect_delays": (0.2, 0.5, 1.0),
        }
        options.update(kwargs)
        jid = options.pop("jid", USER_JID)
        password = options.pop("password", PASSWORD)
        source = ConsometersProxy(jid, password, **options)
        sources.append(source)
        return source

    yield _make
    for source in sources:
        await source.async_close()
