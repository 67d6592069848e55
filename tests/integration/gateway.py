"""The fake Enedis gateway answering at the REAL URLs, through Home Assistant's shared session.

`aioclient_mock` (phcc) intercepts every request of HA's shared aiohttp session. We register catch-all mocks for
the real hosts whose side effect forwards the request (method, path, query, body and headers) to the fake gateway
running on 127.0.0.1, and hands its answer back. The integration therefore talks to
``https://conso.boris.sh/api/...`` and ``https://gw.ext.prod.api.enedis.fr/...`` exactly as in production, and
the fake gateway enforces Enedis' rules, quotas and faults. RTE's Tempo calendar
(``https://www.services-rte.com/cms/open_data/v1/tempo``) is answered the same way (``tests/fake_enedis/rte.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
import contextlib
from contextvars import ContextVar
import os
import re
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.enedis.tempo_colours import DEMO_RTE_VARIABLE
from tests.fake_enedis.server import create_app
from tests.fake_enedis.state import FakeState

REAL_HOSTS: dict[str, str] = {
    "conso.boris.sh": "/conso",  # https://conso.boris.sh/api/{type} -> /conso/api/{type}
    "gw.ext.prod.api.enedis.fr": "",
    "gw.ext.prod-sandbox.api.enedis.fr": "",
    "mon-compte-particulier.enedis.fr": "",
    "www.services-rte.com": "",  # RTE's public Tempo calendar (tests/fake_enedis/rte.py)
}
_REQUEST: ContextVar[Mapping[str, Any] | None] = ContextVar("enedis_fake_request", default=None)


class FakeGateway:
    """A running fake gateway bound to `aioclient_mock`."""

    def __init__(self, state: FakeState, server: TestServer, session: aiohttp.ClientSession) -> None:
        self.state = state
        self.server = server
        self._session = session

    async def forward(self, method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        prefix = REAL_HOSTS[url.raw_host or ""]
        target = self.server.make_url(prefix + url.raw_path).with_query(url.query)
        request = _REQUEST.get() or {}
        headers = {k: v for k, v in (request.get("headers") or {}).items() if k.lower() != "host"}
        kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False}
        if request.get("json") is not None:
            kwargs["json"] = request["json"]
        elif data is not None:
            kwargs["data"] = data
        async with self._session.request(method, target, **kwargs) as response:
            body = await response.read()
            return AiohttpClientMockResponse(
                method=method,
                url=url,
                status=response.status,
                response=body,
                headers={k: v for k, v in response.headers.items() if k.lower() != "content-length"},
            )


def route_real_urls(aioclient_mock: AiohttpClientMocker, gateway: FakeGateway) -> None:
    """Make `aioclient_mock` answer the real Enedis / Conso API URLs with ``gateway`` (before HA's session exists)."""
    original = aioclient_mock.match_request

    async def match_request(method: str, url: Any, **kwargs: Any) -> Any:
        token = _REQUEST.set(kwargs)
        try:
            return await original(method, url, **kwargs)
        finally:
            _REQUEST.reset(token)

    # The shared session binds `match_request` when it is created: patch it before HA creates one.
    aioclient_mock.match_request = match_request  # type: ignore[method-assign]
    for host in REAL_HOSTS:
        pattern = re.compile(rf"^https://{re.escape(host)}/")
        for method in ("get", "post"):
            aioclient_mock.request(method, pattern, side_effect=gateway.forward)


@contextlib.asynccontextmanager
async def fake_gateway_at_real_urls(
    aioclient_mock: AiohttpClientMocker, state: FakeState
) -> AsyncIterator[FakeGateway]:
    """Start the fake gateway and route the real Enedis / Conso API URLs to it."""
    server = TestServer(create_app(state))
    await server.start_server()
    # No client-side timeouts on the forwarding leg: the tests move Home Assistant's clock (freezer), which would
    # fire aiohttp's timers; the integration's own timeout is what is under test, not this one.
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=None, sock_read=None))
    gateway = FakeGateway(state, server, session)

    route_real_urls(aioclient_mock, gateway)
    # RTE too, at its real URL: lift the tests' unreachable RTE (tests/conftest.py) while the gateway runs.
    rte_override = os.environ.pop(DEMO_RTE_VARIABLE, None)
    try:
        yield gateway
    finally:
        if rte_override is not None:
            os.environ[DEMO_RTE_VARIABLE] = rte_override
        await session.close()
        await server.close()
