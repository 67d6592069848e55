"""The end-to-end gateway's ground-truth route (``GET /_e2e/truth``), which the browser walk-through trusts."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
import pytest

from tests.e2e.gateway import create_e2e_app
from tests.fake_enedis import data
from tests.fake_enedis.state import FakeState

TODAY = date(2026, 11, 5)
PRM = "64975835695673"  # sandbox client 7
OTHER = "22516914714270"  # sandbox client 0
MESURE = "/mesure_synchrone_auto/v2"
D0 = date(2026, 9, 1)


@pytest.fixture
async def client(socket_enabled: None) -> AsyncIterator[TestClient[Any, Any]]:
    # pytest-socket (via pytest-homeassistant-custom-component) blocks sockets; the server only listens on 127.0.0.1.
    state = FakeState(today=TODAY, quotas_enabled=False)
    async with TestClient(TestServer(create_e2e_app(state))) as cli:
        yield cli


async def _get(client: TestClient[Any, Any], path: str, token: str | None, **query: str) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with client.get(path, params=query, headers=headers) as response:
        await response.read()
        return response.status


def _window(start: date, days: int) -> dict[str, str]:
    return {"dateDebut": start.isoformat(), "dateFin": (start + timedelta(days=days)).isoformat()}


def _wh(prm: str, days: list[date]) -> int:
    return sum(data.daily_wh(prm, data.CONS, d) for d in days)


async def test_truth_counts_the_energy_days_answered_200(client: TestClient[Any, Any]) -> None:
    basic = base64.b64encode(b"demo-client-id:demo-client-secret").decode()
    async with client.post(
        "/oauth2/v3/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    ) as response:
        token = (await response.json())["access_token"]
    served = [D0 + timedelta(days=i) for i in range(10)] + [D0 + timedelta(days=20 + i) for i in range(7)]
    # Served: 10 days of daily energy, then 7 days of load curve only (Data Connect).
    assert await _get(client, f"{MESURE}/consommation_quotidienne", token, pointId=PRM, **_window(D0, 10)) == 200
    curve = _window(D0 + timedelta(days=20), 7)
    assert await _get(client, f"{MESURE}/courbe_de_charge_consommation", token, pointId=PRM, **curve) == 200
    # Not served, or not this PRM's energy: refused (no token), max power, another PRM, a refused Conso API call.
    refused = _window(D0 + timedelta(days=40), 5)
    assert await _get(client, f"{MESURE}/consommation_quotidienne", None, pointId=PRM, **refused) == 401
    pmax = {"mesuresPas": "P1D", "grandeurPhysique": "PMA", **_window(D0 + timedelta(days=50), 5)}
    assert await _get(client, f"{MESURE}/puissance_conso_max_quotidienne", token, pointId=PRM, **pmax) == 200
    other = _window(D0 + timedelta(days=55), 3)
    assert await _get(client, f"{MESURE}/consommation_quotidienne", token, pointId=OTHER, **other) == 200
    conso = FakeState().conso_token_for_client(0)
    assert await _get(client, "/conso/api/consommation_quotidienne", conso, prm=PRM, **refused) == 401
    # Through Conso API (legacy type, start/end), for the other PRM.
    legacy = {"start": (D0 - timedelta(days=3)).isoformat(), "end": D0.isoformat()}
    assert await _get(client, "/conso/api/daily_consumption", conso, prm=OTHER, **legacy) == 200

    async with client.get("/_e2e/truth", params={"prm": PRM}) as response:
        whole = await response.json()
    assert whole == {
        "prm": PRM,
        "direction": "CONS",
        "first": D0.isoformat(),
        "last": served[-1].isoformat(),
        "start": None,
        "end": None,
        "days": 17,
        "wh": _wh(PRM, served),
    }
    assert whole["wh"] > 0
    period = {"prm": PRM, "direction": "CONS", "start": "2026-09-05", "end": "2026-09-24"}
    async with client.get("/_e2e/truth", params=period) as response:
        part = await response.json()
    expected = [d for d in served if date(2026, 9, 5) <= d < date(2026, 9, 24)]
    assert (part["days"], part["wh"], part["first"]) == (len(expected), _wh(PRM, expected), D0.isoformat())
    async with client.get("/_e2e/truth", params={"prm": OTHER}) as response:
        other_truth = await response.json()
    other_days = [D0 - timedelta(days=3 - i) for i in range(3)] + [D0 + timedelta(days=55 + i) for i in range(3)]
    assert (other_truth["days"], other_truth["wh"]) == (6, _wh(OTHER, other_days))


@pytest.mark.parametrize(
    "query",
    [{}, {"prm": PRM, "direction": "BOTH"}, {"prm": PRM, "start": "2026-13-01"}],
)
async def test_truth_refuses_malformed_queries(client: TestClient[Any, Any], query: dict[str, str]) -> None:
    async with client.get("/_e2e/truth", params=query) as response:
        assert response.status == 400
