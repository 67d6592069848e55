"""The client library through Home Assistant's shared aiohttp session, answered at the real Enedis URLs."""

from __future__ import annotations

from datetime import date
import json
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import (
    CONSO_API_URL,
    PRODUCTION_URL,
    ConsentError,
    ConsoApi,
    DataConnect,
    Direction,
    LimiterRegistry,
    ManualClock,
    Measure,
    NoDataError,
    RateLimitError,
    UnrecognizedResponseError,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
PRM = "99999999999991"  # the PRM of the anonymised Data Connect 2026 production captures
SECRET = "s3cr3t-client-secret"


def fixture(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


CONSO_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOlsiOTk5OTk5OTk5OTk5OTEiXX0.sig"
NGINX_404 = "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1><hr>nginx</body></html>"


async def test_data_connect_production_urls(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    aioclient_mock.post(
        f"{PRODUCTION_URL}/oauth2/v3/token",
        json={"access_token": "app-token-123", "token_type": "Bearer", "expires_in": "12600", "scope": ""},
    )
    aioclient_mock.get(
        f"{PRODUCTION_URL}/mesure_synchrone_auto/v2/courbe_de_charge_consommation",
        json=fixture("med-new__dc2026_courbe_de_charge_consommation_prod_capture.json"),
    )
    source = DataConnect(async_get_clientsession(hass), "client-id", SECRET, registry=LimiterRegistry(ManualClock()))
    series = await source.async_get_series(
        PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, date(2026, 9, 29), date(2026, 10, 1)
    )
    assert len(series.readings) == 96
    token_call, measure_call = aioclient_mock.mock_calls
    assert token_call[0] == "POST"
    assert token_call[2] == {"grant_type": "client_credentials"}
    assert token_call[3]["Authorization"].startswith("Basic ")
    assert measure_call[1].query == {"pointId": PRM, "dateDebut": "2026-09-29", "dateFin": "2026-10-01"}
    assert measure_call[3]["Authorization"] == "Bearer app-token-123"
    assert "enedis-linky-ha" in measure_call[3]["User-Agent"]


async def test_conso_api_real_url_and_wrapped_errors(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOlsiOTk5OTk5OTk5OTk5OTEiXX0.sig"
    url = f"{CONSO_API_URL}/consommation_quotidienne"
    aioclient_mock.get(url, status=403, json=fixture("issue-conso-api-164__error_403_ADAM-DC-0008_inner.json"))
    source = ConsoApi(async_get_clientsession(hass), token, registry=LimiterRegistry(ManualClock()))
    with pytest.raises(ConsentError) as info:
        await source.async_fetch_window(
            PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, date(2026, 9, 29), date(2026, 10, 1)
        )
    assert info.value.code == "ADAM-DC-0008"
    assert aioclient_mock.mock_calls[0][3]["Authorization"] == f"Bearer {token}"

    aioclient_mock.clear_requests()
    echo = {"status": 429, "message": "The Enedis API returned an error", "error": f"quota for {token}"}
    aioclient_mock.get(url, status=429, json=echo, headers={"Retry-After": "120"})
    with pytest.raises(RateLimitError) as limited:
        await source.async_fetch_window(
            PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, date(2026, 9, 29), date(2026, 10, 1)
        )
    assert limited.value.retry_after == 120
    assert token not in str(limited.value)
    assert token not in limited.value.description


@pytest.mark.parametrize(
    "answer",
    [
        {"text": "404: Not Found", "headers": {"Content-Type": "text/plain"}},
        {"text": NGINX_404, "headers": {"Content-Type": "text/html"}},
        {"json": {"detail": "Not Found"}},
        {"json": {"timestamp": "2026-11-22T10:00:00.000+00:00", "status": 404, "error": "Not Found", "path": "/"}},
    ],
)
async def test_a_404_page_is_not_no_data(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, answer: dict[str, object]
) -> None:
    """Issue 10 #4: any 404 used to be "no data", so a wrong Conso API URL made an entry that stayed empty."""
    aioclient_mock.get(f"{CONSO_API_URL}/consommation_quotidienne", status=404, **answer)  # type: ignore[arg-type]
    aioclient_mock.get(f"{PRODUCTION_URL}/mesure_synchrone_auto/v2/consommation_quotidienne", status=404, **answer)  # type: ignore[arg-type]
    aioclient_mock.post(
        f"{PRODUCTION_URL}/oauth2/v3/token",
        json={"access_token": "app-token", "token_type": "Bearer", "expires_in": 3600},
    )
    session = async_get_clientsession(hass)
    registry = LimiterRegistry(ManualClock())
    for source in (
        ConsoApi(session, CONSO_TOKEN, registry=registry),
        DataConnect(session, "client-id", SECRET, registry=registry),
    ):
        with pytest.raises(UnrecognizedResponseError) as info:
            await source.async_get_series(
                PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, date(2026, 9, 29), date(2026, 10, 1)
            )
        assert info.value.status == 404
        assert SECRET not in str(info.value)
        assert CONSO_TOKEN not in str(info.value)


@pytest.mark.parametrize(
    "name",
    ["conso-api__error_404_no_data_found.json", "issue-linky-45__error_404_no_data_found_with_error_uri.json"],
)
async def test_real_no_data_bodies_are_no_data(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, name: str
) -> None:
    aioclient_mock.get(f"{CONSO_API_URL}/courbe_de_charge_consommation", status=404, json=fixture(name))
    source = ConsoApi(async_get_clientsession(hass), CONSO_TOKEN, registry=LimiterRegistry(ManualClock()))
    with pytest.raises(NoDataError):
        await source.async_fetch_window(
            PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, date(2026, 9, 29), date(2026, 10, 1)
        )
    series = await source.async_get_series(
        PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, date(2026, 9, 29), date(2026, 10, 1)
    )
    assert series.readings == ()
