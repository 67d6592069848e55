"""The config flow, the consent callback view, application credentials and the options flow.

Enedis and Conso API are answered by ``aioclient_mock`` at their real URLs through Home Assistant's shared
session; the consent callback is hit through the real HTTP server (``hass_client_no_auth``).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, time, timedelta
from http import HTTPStatus
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import ImplementationUnavailableError
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import NumberSelector
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.enedis import application_credentials
from custom_components.enedis.api import CONSO_API_URL, PRODUCTION_URL, SANDBOX_URL, LimiterRegistry
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import (
    ALL_MEASURES,
    CONF_AUTH_IMPLEMENTATION,
    CONF_AUTHORIZATION_IDS,
    CONF_BASE_URL,
    CONF_CONSENT_DURATION,
    CONF_CONSENT_EXPIRES,
    CONF_CURVE_MONTHS,
    CONF_DAILY_MONTHS,
    CONF_ENVIRONMENT,
    CONF_MEASURES,
    CONF_POLL_END,
    CONF_POLL_START,
    CONF_PRMS,
    CONF_SOURCE,
    CONF_TOKEN,
    CONF_VERIFIED,
    CONSENT_CALLBACK_PATH,
    DEFAULT_CONSO_API_URL,
    DEMO_GATEWAY_VARIABLE,
    DOMAIN,
    ENV_DEMO,
    ENV_PRODUCTION,
    ENV_SANDBOX,
    SANDBOX_PRMS,
    SOURCE_CONSO_API,
    SOURCE_DATA_CONNECT,
)
from custom_components.enedis.helpers import REGISTRY_KEY
from custom_components.enedis.views import (
    CONSENT_STATES,
    REDIRECT_URL_PLACEHOLDER,
    async_register_view,
    consent_redirect_url,
    consent_states,
)
from tests.fake_enedis import data
from tests.fake_enedis.server import create_app
from tests.fake_enedis.state import FakeState

from .common import async_import_demo_credentials, install_registry
from .gateway import fake_gateway_at_real_urls

FIXTURES = Path(__file__).parent.parent / "fixtures"
STRINGS = Path(__file__).parents[2] / "custom_components" / "enedis" / "strings.json"
TRANSLATIONS = STRINGS.parent / "translations"
PRM1 = "11111111111111"  # the PRM of the bokub-linky captures
PRM2 = "22222222222222"
PRM3 = "33333333333333"
PRM4 = "44444444444444"
CLIENT_ID = "datahub-client-id"
CLIENT_SECRET = "datahub-client-secret"
CRED = "imported-cred"
AUTH_ID = "58249"

CONSO_DAILY = f"{CONSO_API_URL}/consommation_quotidienne"
TOKEN_URL = f"{PRODUCTION_URL}/oauth2/v3/token"
SUBSCRIBED_URL = f"{PRODUCTION_URL}/subscribed_services/v1"
DC_DAILY = f"{PRODUCTION_URL}/mesure_synchrone_auto/v2/consommation_quotidienne"
SANDBOX_TOKEN_URL = f"{SANDBOX_URL}/oauth2/v3/token"
SANDBOX_DAILY = f"{SANDBOX_URL}/mesure_synchrone_auto/v2/consommation_quotidienne"
APP_TOKEN = {"access_token": "app-token", "token_type": "Bearer", "expires_in": 12600, "scope": ""}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


DAILY = fixture("bokub-linky__consommation_quotidienne_2026-04-01_2026-04-02.json")
ERROR_401 = fixture("bokub-linky__error401_token_invalide.json")
ERROR_429 = fixture("issue-conso-api-141__error_429_fault_900807.json")
ERROR_404 = fixture("conso-api__error_404_no_data_found.json")
ERROR_0069 = fixture("issue-linky-56__error_400_ADAM-ERR0069.json")
ERROR_0008 = fixture("issue-conso-api-164__error_403_ADAM-DC-0008_inner.json")
ERROR_0007 = fixture("issue-conso-api-151__error_400_ADAM-DC-0007_fr.json")
TRANSLATIONS = Path(__file__).parent.parent.parent / "custom_components" / "enedis" / "translations"
P0, P8 = "22516914714270", "26584978546985"  # sandbox clients 0 and 8 (client 8 revoked its consent)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def make_token(*prms: str, exp: datetime | None = None) -> str:
    """A Conso API-shaped JWT (HS256 header, ``sub`` = PRMs, ``exp``); the signature is not checked."""
    expires = exp or datetime.now(UTC) + timedelta(days=365)
    payload = {"sub": list(prms), "exp": int(expires.timestamp()), "iat": 1_700_000_000}
    return f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(payload)}.c2lnbmF0dXJl"


def service(prm: str, state: str = "ACTIF") -> dict[str, Any]:
    return {
        "id": "1",
        "injection": False,
        "soutirage": True,
        "serviceCode": "ACCES",
        "dateDebut": "2026-10-05",
        "dateFin": "2029-10-05",
        "etatCode": state,
        "pointId": prm,
        "mesuresTypeCode": "ENERGIE",
        "autorisation": {"autorisationId": int(AUTH_ID), "autorisationType": "EXPLICITE"},
    }


def subscribed(*services: dict[str, Any]) -> dict[str, Any]:
    return {"nbTotalServices": len(services), "serviceSouscrit": list(services)}


def reset_limiters(hass: HomeAssistant) -> None:
    """A 429 blocks the (host, API) key for minutes: start the retry with fresh limiters."""
    hass.data[REGISTRY_KEY] = LimiterRegistry()


@pytest.fixture(autouse=True)
def mock_setup_entry() -> Iterator[AsyncMock]:
    """The flow's job ends at the entry: do not run the real setup."""
    with patch("custom_components.enedis.async_setup_entry", return_value=True) as mock:
        yield mock


@pytest.fixture
async def setup_credentials(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(hass, DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), CRED)


def conso_entry(*prms: str, token: str | None = None, base_url: str = DEFAULT_CONSO_API_URL) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky {prms[0]}",
        unique_id="_".join(sorted(prms)),
        data={
            CONF_SOURCE: SOURCE_CONSO_API,
            CONF_TOKEN: token or make_token(*prms),
            CONF_BASE_URL: base_url,
            CONF_PRMS: list(prms),
        },
    )


def data_connect_entry(*prms: str, environment: str = ENV_PRODUCTION, cred: str = CRED) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky {prms[0]}",
        unique_id="_".join(sorted(prms)),
        data={
            CONF_SOURCE: SOURCE_DATA_CONNECT,
            CONF_AUTH_IMPLEMENTATION: cred,
            CONF_ENVIRONMENT: environment,
            CONF_CONSENT_DURATION: "P1Y",
            CONF_AUTHORIZATION_IDS: ["11"],
            CONF_PRMS: list(prms),
            CONF_CONSENT_EXPIRES: "2026-01-01T00:00:00+00:00",
        },
    )


async def start_conso(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "conso_api"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "conso_api"
    return dict(result)


async def start_data_connect(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "data_connect"}))


def state_of(result: dict[str, Any]) -> str:
    return parse_qs(urlsplit(result["url"]).query)["state"][0]


async def callback(hass_client_no_auth: ClientSessionGenerator, query: str) -> tuple[int, str]:
    client = await hass_client_no_auth()
    response = await client.get(f"{CONSENT_CALLBACK_PATH}?{query}")
    return response.status, await response.text()


# --- menu and Conso API ----------------------------------------------------------------------------


async def test_menu(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert list(result["menu_options"]) == ["conso_api", "data_connect", "consometers_xmpp", "sge", "myelectricaldata"]


async def test_conso_api_one_prm(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    token = make_token(PRM1)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: f" {token} "})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Linky {PRM1}"
    assert result["data"] == {
        CONF_SOURCE: SOURCE_CONSO_API,
        CONF_TOKEN: token,
        CONF_BASE_URL: DEFAULT_CONSO_API_URL,
        CONF_PRMS: [PRM1],
    }
    assert result["result"].unique_id == PRM1
    assert aioclient_mock.call_count == 1
    _, url, _, headers = aioclient_mock.mock_calls[0]
    assert url.query["pointId"] == PRM1
    assert headers["Authorization"] == f"Bearer {token}"


async def test_conso_api_several_prms(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    url = "https://conso.example.org/api/consommation_quotidienne"
    aioclient_mock.get(url, params={"pointId": PRM3}, status=404, json=ERROR_404)
    aioclient_mock.get(url, json=DAILY)
    token = make_token(PRM1, PRM3, PRM2, PRM1)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: token, CONF_BASE_URL: "https://conso.example.org/api/"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "prm"
    schema = result["data_schema"].schema
    (key,) = schema
    assert key.default() == [PRM1, PRM3, PRM2]  # all, token order, duplicates dropped

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: []})
    assert result["errors"] == {"base": "no_prm_selected"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM3, PRM1]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Linky (2 PRMs)"
    assert result["data"][CONF_PRMS] == [PRM1, PRM3]
    assert result["data"][CONF_BASE_URL] == "https://conso.example.org/api"
    assert result["result"].unique_id == f"{PRM1}_{PRM3}"
    assert str(aioclient_mock.mock_calls[0][1]).startswith("https://conso.example.org/api/consommation_quotidienne")
    # One call for the token (on its first PRM), then one for each other chosen PRM.
    assert [call[1].query["pointId"] for call in aioclient_mock.mock_calls] == [PRM1, PRM3]


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({CONF_TOKEN: make_token(PRM1), CONF_BASE_URL: "ftp://conso.example.org"}, {CONF_BASE_URL: "invalid_url"}),
        ({CONF_TOKEN: make_token(PRM1), CONF_BASE_URL: "not a url"}, {CONF_BASE_URL: "invalid_url"}),
        ({CONF_TOKEN: "not-a-token"}, {CONF_TOKEN: "invalid_token"}),
        ({CONF_TOKEN: f"{_b64({'alg': 'HS256'})}.{_b64({'sub': ['123']})}.sig"}, {CONF_TOKEN: "invalid_token"}),
        (
            {CONF_TOKEN: make_token(PRM1, exp=datetime.now(UTC) - timedelta(days=1))},
            {CONF_TOKEN: "token_expired"},
        ),
    ],
)
async def test_conso_api_offline_errors(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, user_input: dict[str, str], errors: dict[str, str]
) -> None:
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert aioclient_mock.call_count == 0  # nothing sent for a token that cannot work

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM1)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("mock_kwargs", "error"),
    [
        ({"status": 401, "json": ERROR_401}, "invalid_auth"),
        ({"status": 429, "json": ERROR_429}, "rate_limited"),
        ({"status": 500, "text": "Internal Server Error"}, "cannot_connect"),
        ({"exc": aiohttp.ClientConnectionError()}, "cannot_connect"),
        ({"exc": TimeoutError()}, "cannot_connect"),
        ({"status": 200, "text": "<html>maintenance</html>"}, "invalid_response"),
        ({"status": 404, "text": "<html><h1>404 Not Found</h1></html>"}, "invalid_response"),
        ({"status": 400, "json": {"status": 400, "message": "Paramètres invalides"}}, "unknown"),
    ],
)
async def test_conso_api_live_errors(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, mock_kwargs: dict[str, Any], error: str
) -> None:
    aioclient_mock.get(CONSO_DAILY, **mock_kwargs)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM1)})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

    aioclient_mock.clear_requests()
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    reset_limiters(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM1)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_conso_api_unexpected_exception(hass: HomeAssistant, caplog: pytest.LogCaptureFixture) -> None:
    result = await start_conso(hass)
    with patch("custom_components.enedis.config_flow.ConsoApi.async_fetch_window", side_effect=RuntimeError("boom")):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM1)})
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error while checking the credentials" in caplog.text


@pytest.mark.parametrize("body", [ERROR_404, ERROR_0069])
async def test_conso_api_answers_that_prove_the_token(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, body: dict[str, Any]
) -> None:
    """No data yet, or a production-only PRM: the token was accepted."""
    aioclient_mock.get(CONSO_DAILY, status=body["status"], json=body)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM2)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PRMS] == [PRM2]


NGINX_404 = "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1><hr>nginx</body></html>"


async def _foreign_page(request: web.Request) -> web.Response:
    """Another web site: an HTML 404 under /html, another API's JSON 404 under /json, aiohttp's own 404 else."""
    if request.path.startswith("/html/"):
        return web.Response(status=404, text=NGINX_404, content_type="text/html")
    if request.path.startswith("/json/"):
        return web.json_response({"detail": "Not Found"}, status=404)
    raise web.HTTPNotFound


@pytest.fixture
async def local_servers(socket_enabled: None) -> AsyncIterator[tuple[str, str, FakeState]]:
    """The fake gateway and another web site, both really listening on 127.0.0.1 (HA's own session talks to them)."""
    state = FakeState()
    gateway = TestServer(create_app(state))
    foreign_app = web.Application()
    foreign_app.router.add_route("*", "/{tail:.*}", _foreign_page)
    foreign = TestServer(foreign_app)
    await gateway.start_server()
    await foreign.start_server()
    yield str(gateway.make_url("")).rstrip("/"), str(foreign.make_url("")).rstrip("/"), state
    await gateway.close()
    await foreign.close()


async def _form_error_text(hass: HomeAssistant, language: str, key: str) -> str:
    """The text the frontend shows for a form error, from the integration's translations."""
    translations = await async_get_translations(hass, language, "config", [DOMAIN])
    return translations[f"component.{DOMAIN}.config.error.{key}"]


async def test_conso_api_wrong_url_is_invalid_response(
    hass: HomeAssistant, local_servers: tuple[str, str, FakeState]
) -> None:
    """Issue 10 #4: a URL that is not Conso API is said so in the form; no entry is created until it is fixed."""
    gateway_url, foreign_url, state = local_servers
    token = state.conso_token_for_client(0)
    prm = data.prms_for_client(0)[0]
    result = await start_conso(hass)
    for wrong in (
        f"{gateway_url}/conso",  # a typo in the path: the gateway's own plain-text 404
        gateway_url,
        f"{foreign_url}/html",  # another site's HTML 404 page
        f"{foreign_url}/json",  # another API's JSON 404
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_TOKEN: token, CONF_BASE_URL: wrong}
        )
        assert result["type"] is FlowResultType.FORM, wrong
        assert result["errors"] == {"base": "invalid_response"}, wrong
    assert [r.status for r in state.requests] == [404, 404]  # the foreign site has no log; nothing else was sent
    assert not hass.config_entries.async_entries(DOMAIN)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: token, CONF_BASE_URL: f"{gateway_url}/conso/api"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PRMS] == [prm]
    assert result["data"][CONF_BASE_URL] == f"{gateway_url}/conso/api"

    english = await _form_error_text(hass, "en", "invalid_response")
    french = await _form_error_text(hass, "fr", "invalid_response")
    assert "does not answer like Conso API" in english
    assert "ne répond pas comme Conso API" in french
    assert english != french


async def test_reconfigure_conso_api_wrong_url(hass: HomeAssistant, local_servers: tuple[str, str, FakeState]) -> None:
    gateway_url, _, state = local_servers
    prm = data.prms_for_client(0)[0]
    entry = conso_entry(prm, token=state.conso_token_for_client(0), base_url=f"{gateway_url}/conso/api")
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: entry.data[CONF_TOKEN], CONF_BASE_URL: f"{gateway_url}/api"}
    )
    assert result["errors"] == {"base": "invalid_response"}
    assert entry.data[CONF_BASE_URL] == f"{gateway_url}/conso/api"


async def test_conso_api_already_configured(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    """A PRM already in another entry (even one with a different credential) aborts."""
    data_connect_entry(PRM2, PRM1).add_to_hass(hass)
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM1)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_conso_api_same_unique_id(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id=PRM1, data={}).add_to_hass(hass)
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM1)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_prm_picker_skips_configured(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    """A PRM already in an entry is not offered but named; the flow goes on with the others."""
    conso_entry(PRM1).add_to_hass(hass)
    aioclient_mock.get(CONSO_DAILY, params={"pointId": PRM3}, status=404, json=ERROR_404)  # checked: served, no data
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: make_token(PRM1, PRM2, PRM3)}
    )
    assert result["step_id"] == "prm"
    (key,) = result["data_schema"].schema
    assert key.default() == [PRM2, PRM3]
    assert [option["value"] for option in result["data_schema"].schema[key].config["options"]] == [PRM2, PRM3]
    assert result["description_placeholders"] == {"configured": PRM1}
    for language in ("strings.json", "translations/fr.json"):
        description = json.loads((STRINGS.parent / language).read_text())["config"]["step"]["prm"]["description"]
        assert "{configured}" in description
    # The configured PRM cannot be chosen (the form refuses it, the flow stays open).
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM1, PRM2]})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM3]})
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"][CONF_PRMS] == [PRM3]


async def test_prm_picker_all_configured(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    conso_entry(PRM1).add_to_hass(hass)
    conso_entry(PRM2).add_to_hass(hass)
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM1, PRM2)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# --- Data Connect: production consent ---------------------------------------------------------------


async def test_data_connect_missing_credentials(hass: HomeAssistant) -> None:
    result = await start_data_connect(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "missing_credentials"


async def _cloud_is_down(
    hass: HomeAssistant, domain: str
) -> list[config_entry_oauth2_flow.AbstractOAuth2Implementation]:
    """An implementation provider that is unavailable, as Home Assistant Cloud's is when the cloud is offline."""
    raise ImplementationUnavailableError("cloud offline")


@pytest.mark.usefixtures("current_request_with_host")
async def test_data_connect_with_a_credentials_provider_down(hass: HomeAssistant) -> None:
    """Another provider of credentials (Home Assistant Cloud) is down: without credentials of our own the flow says
    so (it does not fail); with them it goes on, the provider's failure does not matter."""
    assert await async_setup_component(hass, "application_credentials", {})
    config_entry_oauth2_flow.async_add_implementation_provider(hass, "cloud", _cloud_is_down)
    with pytest.raises(ImplementationUnavailableError):  # what Home Assistant's own lookup does then
        await config_entry_oauth2_flow.async_get_implementations(hass, DOMAIN)
    result = await start_data_connect(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "missing_credentials"

    await async_import_client_credential(hass, DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), CRED)
    result = await start_data_connect(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "data_connect"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "1_year"}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert parse_qs(urlsplit(result["url"]).query)["client_id"] == [CLIENT_ID]


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_data_connect_production_v2(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    await hass.config.async_update(external_url="https://ha.example.org")
    result = await start_data_connect(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "data_connect"
    assert result["description_placeholders"] == {"redirect_url": f"https://ha.example.org{CONSENT_CALLBACK_PATH}"}
    assert {str(key) for key in result["data_schema"].schema} == {CONF_ENVIRONMENT, CONF_CONSENT_DURATION}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "2_years"}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["step_id"] == "consent"
    url = urlsplit(result["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == application_credentials.AUTHORIZE_URL
    query = parse_qs(url.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["duration"] == ["P2Y"]
    assert query["response_type"] == ["code"]
    state = state_of(dict(result))
    assert len(state) <= 100
    assert consent_states(hass) == {state: result["flow_id"]}

    status, text = await callback(hass_client_no_auth, f"autorisation_id={AUTH_ID}&state={state}")
    assert status == HTTPStatus.OK
    assert "You can close this window" in text
    assert "Vous pouvez fermer cette fenêtre" in text
    assert consent_states(hass) == {}

    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.post(SUBSCRIBED_URL, json=subscribed(service(PRM1), service(PRM2, "TERMINE")))
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Linky {PRM1}"
    data = dict(result["data"])
    expires = datetime.fromisoformat(data.pop(CONF_CONSENT_EXPIRES))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=730))) < timedelta(minutes=1)
    assert data == {
        CONF_SOURCE: SOURCE_DATA_CONNECT,
        CONF_AUTH_IMPLEMENTATION: CRED,
        CONF_ENVIRONMENT: ENV_PRODUCTION,
        CONF_CONSENT_DURATION: "P2Y",
        CONF_AUTHORIZATION_IDS: [AUTH_ID],
        CONF_PRMS: [PRM1],
    }
    assert result["result"].unique_id == PRM1
    token_call, subscribed_call = aioclient_mock.mock_calls
    assert token_call[3]["Authorization"].startswith("Basic ")
    assert subscribed_call[2] == {"autorisationId": int(AUTH_ID), "comptage": False}


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_data_connect_v2_several_prms(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "3_years"}
    )
    status, _ = await callback(hass_client_no_auth, f"state={state_of(dict(result))}&autorisation_id={AUTH_ID}")
    assert status == HTTPStatus.OK
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.post(
        SUBSCRIBED_URL,
        json=subscribed(service(PRM2), service(PRM1, "DEMANDE"), service(PRM2), service(PRM3, "SUPPRIME")),
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["step_id"] == "prm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM1, PRM2]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PRMS] == [PRM2, PRM1]
    assert result["result"].unique_id == f"{PRM1}_{PRM2}"


@pytest.mark.parametrize(
    "body", [subscribed(service(PRM1, "TERMINE")), {"nbTotalServices": 0}, None], ids=["ended", "empty", "404"]
)
@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_data_connect_v2_no_prm(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    body: dict[str, Any] | None,
) -> None:
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "3_years"}
    )
    await callback(hass_client_no_auth, f"autorisation_id={AUTH_ID}&state={state_of(dict(result))}")
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    if body is None:
        aioclient_mock.post(SUBSCRIBED_URL, status=404, json={"error": "no_data_found", "error_description": "x"})
    else:
        aioclient_mock.post(SUBSCRIBED_URL, json=body)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_prm"


@pytest.mark.parametrize(
    ("token_kwargs", "subscribed_kwargs", "error"),
    [
        ({"status": 400, "json": {"error": "invalid_client", "error_description": "bad"}}, {}, "invalid_auth"),
        ({"status": 401, "json": {"fault": {"code": 900901, "message": "Invalid Credentials"}}}, {}, "invalid_auth"),
        ({"json": APP_TOKEN}, {"status": 429, "json": ERROR_429["error"]}, "rate_limited"),
        ({"json": APP_TOKEN}, {"status": 503, "text": "Service Unavailable"}, "cannot_connect"),
        ({"exc": aiohttp.ClientConnectionError()}, {}, "cannot_connect"),
        ({"json": APP_TOKEN}, {"json": {"serviceSouscrit": {}}}, "cannot_connect"),
    ],
)
@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_data_connect_v2_errors_then_retry(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    *,
    token_kwargs: dict[str, Any],
    subscribed_kwargs: dict[str, Any],
    error: str,
) -> None:
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "3_years"}
    )
    await callback(hass_client_no_auth, f"autorisation_id={AUTH_ID}&state={state_of(dict(result))}")
    aioclient_mock.post(TOKEN_URL, **token_kwargs)
    if subscribed_kwargs:
        aioclient_mock.post(SUBSCRIBED_URL, **subscribed_kwargs)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "consent_done"
    assert result["errors"] == {"base": error}

    aioclient_mock.clear_requests()
    reset_limiters(hass)
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.post(SUBSCRIBED_URL, json=subscribed(service(PRM1)))
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_AUTHORIZATION_IDS] == [AUTH_ID]


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_data_connect_v2_unexpected_exception(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, caplog: pytest.LogCaptureFixture
) -> None:
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "3_years"}
    )
    await callback(hass_client_no_auth, f"autorisation_id={AUTH_ID}&state={state_of(dict(result))}")
    with patch(
        "custom_components.enedis.config_flow.DataConnect.async_get_subscribed_services",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error while reading the consent" in caplog.text


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_data_connect_v1_callback(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    """Consent v1: ``code`` + ``usage_point_id`` (comma/semicolon list); the first PRM is checked live."""
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "1_year"}
    )
    status, _ = await callback(
        hass_client_no_auth,
        f"code=abc&state={state_of(dict(result))}&usage_point_id={PRM1};{PRM2},bad,{PRM1}",
    )
    assert status == HTTPStatus.OK
    aioclient_mock.post(TOKEN_URL, status=500, text="oops")
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["step_id"] == "consent_done"
    assert result["errors"] == {"base": "cannot_connect"}

    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.get(DC_DAILY, params={"pointId": PRM2}, status=404, json=ERROR_404)
    aioclient_mock.get(DC_DAILY, json=DAILY)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "prm"
    (key,) = result["data_schema"].schema
    assert key.default() == [PRM1, PRM2]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM2, PRM1]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PRMS] == [PRM1, PRM2]
    assert result["data"][CONF_AUTHORIZATION_IDS] == []
    assert [call[1].query["pointId"] for call in aioclient_mock.mock_calls if call[0] == "GET"] == [PRM1, PRM2]


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_data_connect_v1_callback_whose_only_prm_is_refused(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    """Consent v1 for one PRM whose data Enedis refuses: the form names it, no entry; once shared, it is created."""
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "1_year"}
    )
    await callback(hass_client_no_auth, f"code=abc&state={state_of(dict(result))}&usage_point_id={PRM1}")
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.get(DC_DAILY, status=403, json=ERROR_0008)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "consent_done"
    assert result["errors"] == {"base": "consent_missing"}
    assert result["description_placeholders"] == {"refused": PRM1}
    assert PRM1 in error_text("en", "consent_missing", result["description_placeholders"])
    assert PRM1 in error_text("fr", "consent_missing", result["description_placeholders"])
    assert not hass.config_entries.async_entries(DOMAIN)

    # The holder shared it again: the same form now creates the entry.
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.get(DC_DAILY, json=DAILY)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PRMS] == [PRM1]
    assert result["data"][CONF_AUTHORIZATION_IDS] == []


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_data_connect_v1_without_prm(hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator) -> None:
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "1_year"}
    )
    await callback(hass_client_no_auth, f"code=abc&state={state_of(dict(result))}&usage_point_id=123")
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_prm"


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_data_connect_consent_refused(hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator) -> None:
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "3_years"}
    )
    status, _ = await callback(
        hass_client_no_auth, f"error=access_denied&error_description=refus&state={state_of(dict(result))}"
    )
    assert status == HTTPStatus.OK
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "consent_refused"


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_callback_unknown_state(hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator) -> None:
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "3_years"}
    )
    for query in ("autorisation_id=1&state=forged-state", "autorisation_id=1"):
        status, text = await callback(hass_client_no_auth, query)
        assert status == HTTPStatus.BAD_REQUEST
        assert "invalid or has expired" in text
        assert "a expiré" in text
        assert "forged" not in text  # nothing from the query is echoed
    # The flow still waits for the real answer.
    assert hass.config_entries.flow.async_get(result["flow_id"])["step_id"] == "consent"

    # A known state whose flow is gone.
    consent_states(hass)["stale"] = "no-such-flow"
    status, _ = await callback(hass_client_no_auth, "autorisation_id=1&state=stale")
    assert status == HTTPStatus.BAD_REQUEST
    assert "stale" not in consent_states(hass)


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_consent_step_ignores_foreign_answer_and_cleans_up(hass: HomeAssistant) -> None:
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "3_years"}
    )
    state = state_of(dict(result))
    again = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"state": "someone-else", "autorisation_id": "1"}
    )
    assert again["type"] is FlowResultType.EXTERNAL_STEP
    assert again["url"] == result["url"]
    assert consent_states(hass) == {state: result["flow_id"]}

    hass.config_entries.flow.async_abort(result["flow_id"])
    assert consent_states(hass) == {}


@pytest.mark.usefixtures("current_request_with_host")
async def test_several_credentials(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(hass, DOMAIN, ClientCredential("id-a", "secret-a", "App A"), "cred-a")
    await async_import_client_credential(hass, DOMAIN, ClientCredential("id-b", "secret-b", "App B"), "cred-b")
    result = await start_data_connect(hass)
    assert "implementation" in {str(key) for key in result["data_schema"].schema}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"implementation": "cred-b", CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "3_years"},
    )
    assert parse_qs(urlsplit(result["url"]).query)["client_id"] == ["id-b"]
    await callback(hass_client_no_auth, f"autorisation_id={AUTH_ID}&state={state_of(dict(result))}")
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.post(SUBSCRIBED_URL, json=subscribed(service(PRM1)))
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["data"][CONF_AUTH_IMPLEMENTATION] == "cred-b"
    basic = base64.b64decode(aioclient_mock.mock_calls[0][3]["Authorization"].split()[1]).decode()
    assert basic == "id-b:secret-b"


# --- Data Connect: sandbox --------------------------------------------------------------------------


@pytest.mark.usefixtures("setup_credentials")
async def test_data_connect_sandbox(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    aioclient_mock.post(SANDBOX_TOKEN_URL, status=401, json={"error": "invalid_client", "error_description": "x"})
    result = await start_data_connect(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_SANDBOX, CONF_CONSENT_DURATION: "3_years"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "data_connect"
    assert result["errors"] == {"base": "invalid_auth"}

    aioclient_mock.clear_requests()
    aioclient_mock.post(SANDBOX_TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.get(SANDBOX_DAILY, status=404, json={"error": "no_data_found", "error_description": "x"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_SANDBOX, CONF_CONSENT_DURATION: "3_years"}
    )
    assert result["step_id"] == "prm"
    options = result["data_schema"].schema[CONF_PRMS].config["options"]
    assert options[0] == {"value": "22516914714270", "label": "22516914714270 (client 0)"}
    assert len(options) == len(SANDBOX_PRMS)
    assert aioclient_mock.mock_calls[1][1].query["pointId"] == "22516914714270"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PRMS: ["64975835695673", "63695879465986"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ENVIRONMENT] == ENV_SANDBOX
    assert result["data"][CONF_AUTHORIZATION_IDS] == []
    assert result["data"][CONF_PRMS] == ["64975835695673", "63695879465986"]
    assert result["result"].unique_id == "63695879465986_64975835695673"


# --- Data Connect: the demo gateway of scripts/develop -----------------------------------------------


def _environments(result: Any) -> list[str]:
    return list(result["data_schema"].schema[CONF_ENVIRONMENT].config["options"])


async def test_data_connect_demo_gateway(
    hass: HomeAssistant, local_servers: tuple[str, str, FakeState], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10 #9: with ENEDIS_DEMO_GATEWAY (set by scripts/develop) the direct path runs against the demo gateway."""
    gateway_url, _, state = local_servers
    monkeypatch.setenv(DEMO_GATEWAY_VARIABLE, f"{gateway_url}/")
    assert await async_setup_component(hass, "application_credentials", {})
    (client_id, secret), *_ = state.credentials.items()  # what scripts/develop prints
    await async_import_client_credential(hass, DOMAIN, ClientCredential(client_id, secret), "demo")
    result = await start_data_connect(hass)
    assert _environments(result) == [ENV_PRODUCTION, ENV_SANDBOX, ENV_DEMO]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_DEMO, CONF_CONSENT_DURATION: "3_years"}
    )
    assert result["step_id"] == "prm"  # the sandbox's fake customers, no consent page
    options = result["data_schema"].schema[CONF_PRMS].config["options"]
    assert options[0] == {"value": "22516914714270", "label": "22516914714270 (client 0)"}
    assert [(r.method, r.path) for r in state.requests] == [
        ("POST", "/oauth2/v3/token"),
        ("GET", "/mesure_synchrone_auto/v2/consommation_quotidienne"),
    ]
    assert state.requests[1].query["pointId"] == "22516914714270"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: ["12655648759651"]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ENVIRONMENT] == ENV_DEMO
    assert result["data"][CONF_BASE_URL] == gateway_url
    assert result["data"][CONF_AUTH_IMPLEMENTATION] == "demo"
    assert result["data"][CONF_PRMS] == ["12655648759651"]


@pytest.mark.usefixtures("setup_credentials")
async def test_reconfigure_demo_entry_to_the_sandbox(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A demo entry is offered its environment even without the variable; leaving it forgets the gateway's URL."""
    monkeypatch.delenv(DEMO_GATEWAY_VARIABLE, raising=False)
    entry = data_connect_entry("22516914714270", environment=ENV_DEMO)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_BASE_URL: "http://127.0.0.1:8788"})
    result = await entry.start_reconfigure_flow(hass)
    assert _environments(result) == [ENV_PRODUCTION, ENV_SANDBOX, ENV_DEMO]
    assert {str(key): key.default() for key in result["data_schema"].schema}[CONF_ENVIRONMENT] == ENV_DEMO
    aioclient_mock.post(SANDBOX_TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.get(SANDBOX_DAILY, status=404, json={"error": "no_data_found", "error_description": "x"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_SANDBOX, CONF_CONSENT_DURATION: "3_years"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_ENVIRONMENT] == ENV_SANDBOX
    assert entry.data[CONF_BASE_URL] is None
    assert str(aioclient_mock.mock_calls[0][1]) == SANDBOX_TOKEN_URL


@pytest.mark.parametrize("value", [None, "", "not a url", "ftp://127.0.0.1:8788"])
@pytest.mark.usefixtures("setup_credentials")
async def test_demo_environment_not_offered_without_the_variable(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(DEMO_GATEWAY_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(DEMO_GATEWAY_VARIABLE, value)
    result = await start_data_connect(hass)
    assert _environments(result) == [ENV_PRODUCTION, ENV_SANDBOX]
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ENVIRONMENT: ENV_DEMO, CONF_CONSENT_DURATION: "3_years"}
        )


# --- reauth -----------------------------------------------------------------------------------------


async def test_reauth_conso_api(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    entry = conso_entry(PRM1, PRM2, base_url="https://conso.example.org/api")
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["prms"] == f"{PRM1}, {PRM2}"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: make_token(PRM1, exp=datetime.now(UTC) - timedelta(days=1))}
    )
    assert result["errors"] == {CONF_TOKEN: "token_expired"}

    url = "https://conso.example.org/api/consommation_quotidienne"
    aioclient_mock.get(url, params={"pointId": PRM2}, status=404, json=ERROR_404)
    aioclient_mock.get(url, json=DAILY)
    new_token = make_token(PRM2, PRM1, PRM3)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: new_token})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    # Every PRM of the entry was verified with one request before "successful", and the entry records when.
    assert [call[1].query["pointId"] for call in aioclient_mock.mock_calls] == [PRM1, PRM2]
    assert set(entry.data[CONF_VERIFIED]) == {PRM1, PRM2}
    assert entry.data[CONF_TOKEN] == new_token
    assert entry.data[CONF_PRMS] == [PRM1, PRM2]
    assert entry.data[CONF_BASE_URL] == "https://conso.example.org/api"


async def test_reauth_conso_api_wrong_account(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM2)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert aioclient_mock.call_count == 0


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_reauth_data_connect(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    entry = data_connect_entry(PRM1)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert dict(result["data_schema"].schema) == {}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert parse_qs(urlsplit(result["url"]).query)["duration"] == ["P1Y"]
    await callback(hass_client_no_auth, f"autorisation_id=777&state={state_of(dict(result))}")
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.post(SUBSCRIBED_URL, json=subscribed(service(PRM1), service(PRM2)))
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_AUTHORIZATION_IDS] == ["777"]
    assert entry.data[CONF_PRMS] == [PRM1]
    assert datetime.fromisoformat(entry.data[CONF_CONSENT_EXPIRES]) > datetime.now(UTC) + timedelta(days=364)


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_reauth_data_connect_wrong_account(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    entry = data_connect_entry(PRM1)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await callback(hass_client_no_auth, f"autorisation_id=777&state={state_of(dict(result))}")
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.post(SUBSCRIBED_URL, json=subscribed(service(PRM2)))
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data[CONF_AUTHORIZATION_IDS] == ["11"]


async def test_reauth_data_connect_new_credentials(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    """The entry's credentials were deleted (bad secret): pick the new ones; sandbox needs no consent."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(hass, DOMAIN, ClientCredential("id-a", "secret-a"), "cred-a")
    await async_import_client_credential(hass, DOMAIN, ClientCredential("id-b", "secret-b"), "cred-b")
    entry = data_connect_entry("22516914714270", environment=ENV_SANDBOX, cred="deleted")
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    (key,) = result["data_schema"].schema
    assert str(key) == "implementation"
    assert key.default() == "cred-a"
    aioclient_mock.post(SANDBOX_TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.get(SANDBOX_DAILY, status=404, json={"error": "no_data_found", "error_description": "x"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"implementation": "cred-b"})
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_AUTH_IMPLEMENTATION] == "cred-b"
    assert entry.data[CONF_ENVIRONMENT] == ENV_SANDBOX


async def test_reauth_data_connect_missing_credentials(hass: HomeAssistant) -> None:
    entry = data_connect_entry(PRM1)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "missing_credentials"


# --- per-PRM consent: the setup check and reauthentication -------------------------------------------


def error_text(language: str, key: str, placeholders: dict[str, str]) -> str:
    """The form error as the user reads it (a placeholder the flow did not give raises KeyError)."""
    return json.loads((TRANSLATIONS / f"{language}.json").read_text())["config"]["error"][key].format(**placeholders)


def points(aioclient_mock: AiohttpClientMocker) -> list[str]:
    return [call[1].query["pointId"] for call in aioclient_mock.mock_calls if "pointId" in call[1].query]


@pytest.mark.parametrize(("status", "body"), [(403, ERROR_0008), (400, ERROR_0007)], ids=["DC-0008", "DC-0007"])
async def test_conso_api_only_prm_without_consent(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, status: int, body: dict[str, Any]
) -> None:
    """The token is accepted but Enedis refuses its only PRM: the form names it, no entry is created."""
    aioclient_mock.get(CONSO_DAILY, status=status, json=body)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: make_token(PRM1)})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "consent_missing"}
    assert result["description_placeholders"] == {"refused": PRM1}
    assert PRM1 in error_text("en", "consent_missing", result["description_placeholders"])
    assert PRM1 in error_text("fr", "consent_missing", result["description_placeholders"])


async def test_prm_picker_checks_every_chosen_prm(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    """One call per chosen PRM (none twice); a refused one is named and no longer suggested."""
    aioclient_mock.get(CONSO_DAILY, params={"pointId": PRM2}, status=403, json=ERROR_0008)
    aioclient_mock.get(CONSO_DAILY, params={"pointId": PRM3}, status=404, json=ERROR_404)
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    result = await start_conso(hass)
    # The token's first PRM proves the token; Enedis refusing that PRM does not make the token wrong.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: make_token(PRM2, PRM1, PRM3)}
    )
    assert result["step_id"] == "prm"
    (key,) = result["data_schema"].schema
    assert key.default() == [PRM1, PRM3]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM1, PRM2]})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "prm_consent_missing"}
    assert result["description_placeholders"]["refused"] == PRM2
    assert PRM2 in error_text("fr", "prm_consent_missing", result["description_placeholders"])
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM1, PRM3]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PRMS] == [PRM1, PRM3]
    assert points(aioclient_mock) == [PRM2, PRM1, PRM3]


def picker_default(result: Any) -> list[str]:
    """The PRMs the picker shows ticked."""
    (key,) = result["data_schema"].schema
    return list(key.default())


async def test_prm_picker_keeps_the_choice_after_an_error(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A chosen PRM cannot be checked (the service fails, or Enedis refuses it): the error is shown and the picker
    keeps what was ticked (less a refused PRM), not every PRM again."""
    aioclient_mock.get(CONSO_DAILY, params={"pointId": PRM2}, status=404, json=ERROR_404)  # served, no data
    aioclient_mock.get(CONSO_DAILY, params={"pointId": PRM3}, status=500, text="Internal Server Error")
    aioclient_mock.get(CONSO_DAILY, params={"pointId": PRM4}, status=403, json=ERROR_0008)
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    result = await start_conso(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: make_token(PRM1, PRM2, PRM3, PRM4)}
    )
    assert picker_default(result) == [PRM1, PRM2, PRM3, PRM4]

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM1, PRM3]})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "prm"
    assert result["errors"] == {"base": "cannot_connect"}
    assert picker_default(result) == [PRM1, PRM3]
    assert not hass.config_entries.async_entries(DOMAIN)

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM2, PRM4]})
    assert result["errors"] == {"base": "prm_consent_missing"}
    assert result["description_placeholders"]["refused"] == PRM4
    assert picker_default(result) == [PRM2]

    # The service is back: the first choice creates the entry (its PRM that failed is checked again).
    aioclient_mock.clear_requests()
    aioclient_mock.get(CONSO_DAILY, params={"pointId": PRM3}, status=404, json=ERROR_404)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: [PRM1, PRM3]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PRMS] == [PRM1, PRM3]


@pytest.mark.usefixtures("socket_enabled")
async def test_sandbox_setup_check_refuses_client_8(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, freezer: FrozenDateTimeFactory
) -> None:
    """The issue's repro: the default selection includes client 8, whose consent is revoked; the check finds it."""
    freezer.move_to(datetime(2026, 11, 22, 11, tzinfo=UTC))
    install_registry(hass, freezer)
    state = FakeState(time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state):
        await async_import_demo_credentials(hass)
        result = await start_data_connect(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ENVIRONMENT: ENV_SANDBOX, CONF_CONSENT_DURATION: "3_years"}
        )
        assert result["step_id"] == "prm"
        (key,) = result["data_schema"].schema
        chosen = key.default()
        assert P8 in chosen
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PRMS: chosen})
        assert result["errors"] == {"base": "prm_consent_missing"}
        assert result["description_placeholders"]["refused"] == P8
        assert P8 in error_text("en", "prm_consent_missing", result["description_placeholders"])
        checked = [r.query["pointId"] for r in state.requests if r.path.endswith("/consommation_quotidienne")]
        assert sorted(checked) == sorted(chosen)  # one call per chosen PRM, client 0's (the credentials) included
        assert state.count("/consommation_quotidienne", 403) == 1

        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PRMS: [prm for prm in chosen if prm != P8]}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert P0 in result["data"][CONF_PRMS]
        assert P8 not in result["data"][CONF_PRMS]
        assert state.count("/consommation_quotidienne") == len(chosen)  # nothing asked twice


async def test_reauth_says_success_only_once_every_prm_is_verified(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A reauthentication that cannot verify a PRM shows an error naming it, never "successful" (no loop)."""
    entry = conso_entry(PRM1, PRM2)
    entry.add_to_hass(hass)
    aioclient_mock.get(CONSO_DAILY, params={"pointId": PRM2}, status=403, json=ERROR_0008)
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    result = await entry.start_reauth_flow(hass)
    token = make_token(PRM2, PRM1)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: token})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "consent_missing"}
    assert result["description_placeholders"]["refused"] == PRM2
    assert PRM2 in error_text("en", "consent_missing", result["description_placeholders"])
    assert entry.data[CONF_TOKEN] != token
    assert CONF_VERIFIED not in entry.data

    # The holder shared PRM2 again: the same form now verifies both PRMs and succeeds.
    aioclient_mock.clear_requests()
    aioclient_mock.get(CONSO_DAILY, params={"pointId": PRM2}, status=404, json=ERROR_404)
    aioclient_mock.get(CONSO_DAILY, json=DAILY)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: token})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert points(aioclient_mock) == [PRM1, PRM2]
    assert set(entry.data[CONF_VERIFIED]) == {PRM1, PRM2}


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_reauth_data_connect_consent_without_the_prm(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    """The new consent ended for one PRM of the entry: the reauthentication form again, naming it."""
    entry = data_connect_entry(PRM1, PRM2)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await callback(hass_client_no_auth, f"autorisation_id=777&state={state_of(dict(result))}")
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.post(SUBSCRIBED_URL, json=subscribed(service(PRM1), service(PRM2, "TERMINE")))
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "consent_missing"}
    assert result["description_placeholders"]["refused"] == PRM2
    assert entry.data[CONF_AUTHORIZATION_IDS] == ["11"]
    assert not points(aioclient_mock)  # subscribed_services said it: no call per PRM


async def test_reauth_sandbox_tolerates_a_test_customer_without_consent(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Sandbox customers cannot consent again: new credentials are verified on the other PRMs, the refused one
    stays refused (not recorded as verified), with its repair issue."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(hass, DOMAIN, ClientCredential("id-a", "secret-a"), "cred-a")
    entry = data_connect_entry(P0, P8, environment=ENV_SANDBOX, cred="deleted")
    entry.add_to_hass(hass)
    aioclient_mock.post(SANDBOX_TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.get(SANDBOX_DAILY, params={"pointId": P8}, status=403, json=ERROR_0008)
    aioclient_mock.get(SANDBOX_DAILY, status=404, json={"error": "no_data_found", "error_description": "x"})
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert set(entry.data[CONF_VERIFIED]) == {P0}
    assert points(aioclient_mock) == [P0, P8]


# --- reconfigure ------------------------------------------------------------------------------------


async def test_reconfigure_conso_api(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    schema = result["data_schema"].schema
    assert {str(key) for key in schema} == {CONF_TOKEN, CONF_BASE_URL}

    new_token = make_token(PRM1)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: new_token, CONF_BASE_URL: "conso.example.org"}
    )
    assert result["errors"] == {CONF_BASE_URL: "invalid_url"}

    aioclient_mock.get("http://conso.local:8080/api/consommation_quotidienne", json=DAILY)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: new_token, CONF_BASE_URL: "http://conso.local:8080/api"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_TOKEN] == new_token
    assert entry.data[CONF_BASE_URL] == "http://conso.local:8080/api"


async def test_reconfigure_conso_api_wrong_account(hass: HomeAssistant) -> None:
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: make_token(PRM2), CONF_BASE_URL: DEFAULT_CONSO_API_URL}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


@pytest.mark.usefixtures("setup_credentials", "current_request_with_host")
async def test_reconfigure_data_connect(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    entry = data_connect_entry(PRM1)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    defaults = {str(key): key.default() for key in result["data_schema"].schema}
    assert defaults == {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "1_year"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENVIRONMENT: ENV_PRODUCTION, CONF_CONSENT_DURATION: "3_years"}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    await callback(hass_client_no_auth, f"autorisation_id=9&state={state_of(dict(result))}")
    aioclient_mock.post(TOKEN_URL, json=APP_TOKEN)
    aioclient_mock.post(SUBSCRIBED_URL, json=subscribed(service(PRM1)))
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CONSENT_DURATION] == "P3Y"
    assert entry.data[CONF_AUTHORIZATION_IDS] == ["9"]


# --- options ----------------------------------------------------------------------------------------


async def test_options_flow(hass: HomeAssistant) -> None:
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["history", "tariff"]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "history"})
    assert result["type"] is FlowResultType.FORM
    defaults = {str(key): key.default() for key in result["data_schema"].schema}
    assert defaults == {
        CONF_CURVE_MONTHS: 24,
        CONF_DAILY_MONTHS: 36,
        CONF_POLL_START: 8,
        CONF_POLL_END: 11,
        CONF_MEASURES: list(ALL_MEASURES),
    }
    user_input = {
        CONF_CURVE_MONTHS: 6,
        CONF_DAILY_MONTHS: 12,
        CONF_POLL_START: 12,
        CONF_POLL_END: 12,
        CONF_MEASURES: ["max_power", "daily_energy"],
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_window"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {**user_input, CONF_POLL_END: 14})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_CURVE_MONTHS: 6,
        CONF_DAILY_MONTHS: 12,
        CONF_POLL_START: 12,
        CONF_POLL_END: 14,
        CONF_MEASURES: ["daily_energy", "max_power"],
    }
    # The stored options are the next form's defaults.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "history"})
    assert {str(key): key.default() for key in result["data_schema"].schema}[CONF_POLL_END] == 14


async def test_options_flow_bounds(hass: HomeAssistant) -> None:
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "history"})
    with pytest.raises(InvalidData, match=CONF_CURVE_MONTHS):
        await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                CONF_CURVE_MONTHS: 25,
                CONF_DAILY_MONTHS: 36,
                CONF_POLL_START: 8,
                CONF_POLL_END: 11,
                CONF_MEASURES: list(ALL_MEASURES),
            },
        )


# --- application credentials and the view ------------------------------------------------------


async def test_application_credentials(hass: HomeAssistant) -> None:
    server = await application_credentials.async_get_authorization_server(hass)
    assert server.authorize_url == "https://mon-compte-particulier.enedis.fr/dataconnect/v2/oauth2/authorize"
    assert server.token_url == "https://gw.ext.prod.api.enedis.fr/oauth2/v3/token"

    await hass.config.async_update(external_url="https://ha.example.org/")
    placeholders = await application_credentials.async_get_description_placeholders(hass)
    assert placeholders == {
        "redirect_url": "https://ha.example.org/api/enedis/consent",
        "datahub_url": "https://datahub-enedis.fr",
    }
    with patch("custom_components.enedis.views.get_url", side_effect=NoURLAvailableError):
        assert consent_redirect_url(hass) == REDIRECT_URL_PLACEHOLDER


async def test_register_view_once(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "http", {})
    with patch.object(hass.http, "register_view") as register:
        async_register_view(hass)
        async_register_view(hass)
    assert register.call_count == 1
    assert CONSENT_STATES not in hass.data or hass.data[CONSENT_STATES] == {}


HPHC = {"tariff_option": "hphc", "offpeak_hours": "HC (22H00-6H00)"}


async def test_options_tariff_and_repricing(hass: HomeAssistant) -> None:
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)

    async def tariff_form(user_input: dict[str, Any]) -> Any:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tariff"})
        assert result["type"] is FlowResultType.FORM
        return await hass.config_entries.options.async_configure(result["flow_id"], user_input)

    result = await tariff_form({"tariff_option": "hphc", "offpeak_hours": "HC (25H00-6H00)"})
    assert result["errors"] == {"offpeak_hours": "invalid_offpeak"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "tariff_option": "hphc",
            "offpeak_hours": "hc (22h00-6h00)",
            "monthly_fee": 15.5,
            "price_offpeak": 0.2,
            "price_peak": 0.27,
            "apply_from": "2026-01-01",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["offpeak_hours"] == "HC (22H00-6H00)"
    assert entry.options["monthly_fee"] == 15.5
    assert entry.options["price_periods"] == [
        {"start": "2025-12-31T23:00:00+00:00", "prices": {"offpeak": 0.2, "peak": 0.27}}
    ]
    # A new price from a later date adds a period; history before it keeps the old prices.
    await tariff_form({**HPHC, "price_offpeak": 0.21, "price_peak": 0.27, "apply_from": "2026-08-01"})
    assert [p["start"] for p in entry.options["price_periods"]] == [
        "2025-12-31T23:00:00+00:00",
        "2026-07-31T22:00:00+00:00",
    ]
    # A date in the past before that period replaces it (repricing history from that day).
    await tariff_form({**HPHC, "price_offpeak": 0.19, "price_peak": 0.25, "apply_from": "2026-06-01"})
    assert entry.options["price_periods"][-1] == {
        "start": "2026-05-31T22:00:00+00:00",
        "prices": {"offpeak": 0.19, "peak": 0.25},
    }
    assert len(entry.options["price_periods"]) == 2
    # Same prices again: nothing added.
    await tariff_form({**HPHC, "price_offpeak": 0.19, "price_peak": 0.25, "apply_from": "2026-09-01"})
    assert len(entry.options["price_periods"]) == 2


async def test_options_tarif_bleu_needs_a_power_with_a_grid(hass: HomeAssistant) -> None:
    """The regulated tariff: a Conso API entry has no contract, so the form asks for the power; a power the option
    has no grid at is refused; a valid one is stored with the price source (errors translated: test_translations)."""
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)

    async def tariff_form(user_input: dict[str, Any]) -> Any:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tariff"})
        return await hass.config_entries.options.async_configure(result["flow_id"], user_input)

    result = await tariff_form({"tariff_option": "base", "price_source": "tarif_bleu"})
    assert result["errors"] == {"subscribed_kva": "subscribed_kva_required"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff_option": "tempo", "price_source": "tarif_bleu", "subscribed_kva": 3}
    )
    assert result["errors"] == {"subscribed_kva": "tarif_bleu_no_grid"}
    # What was typed stays in the form.
    assert suggested_input(result)["subscribed_kva"] == 3
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff_option": "tempo", "price_source": "tarif_bleu", "subscribed_kva": 9.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (entry.options["price_source"], entry.options["subscribed_kva"], entry.options["tariff_option"]) == (
        "tarif_bleu",
        9,
        "tempo",
    )
    # Manual prices need no power.
    result = await tariff_form({"tariff_option": "base", "price_source": "manual"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["price_source"] == "manual"


def suggested_input(result: Any) -> dict[str, Any]:
    """What the frontend submits for a form left as shown: every suggested value, or default, that is set."""
    values: dict[str, Any] = {}
    for key in result["data_schema"].schema:
        suggested = (key.description or {}).get("suggested_value")
        if suggested is None and not callable(key.default):
            continue
        values[str(key)] = suggested if suggested is not None else key.default()
    return values


async def test_options_tariff_edits_one_option_only(hass: HomeAssistant) -> None:
    """Reopening the tariff page shows the newest period with ITS date; saving one change touches nothing else."""
    today = dt_util.now().date()
    scheduled = today + timedelta(days=90)
    periods = [
        {"start": "2025-12-31T23:00:00+00:00", "prices": {"offpeak": 0.2, "peak": 0.27}},
        {
            "start": dt_util.as_utc(datetime.combine(scheduled, time(0), tzinfo=PARIS)).isoformat(),
            "prices": {"offpeak": 0.22, "peak": 0.29},
        },
    ]
    options = {
        CONF_CURVE_MONTHS: 6,
        "tariff_option": "hphc",
        "offpeak_hours": "HC (22H00-6H00)",
        "monthly_fee": 12.0,
        "tempo_entity": None,
        "price_entity": None,
        "price_periods": periods,
        "price_source": "manual",
        "subscribed_kva": None,
    }
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)

    async def tariff_form() -> Any:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        return await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tariff"})

    result = await tariff_form()
    shown = suggested_input(result)
    assert shown["apply_from"] == scheduled.isoformat()  # the shown prices' own date, not today
    assert (shown["price_offpeak"], shown["price_peak"]) == (0.22, 0.29)

    edits = (("monthly_fee", 20.0), ("offpeak_hours", "HC (23H00-7H00)"), ("price_entity", "sensor.spot_price"))
    for field, value in edits:
        before = dict(entry.options)
        result = await tariff_form()
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**suggested_input(result), field: value}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        changed = {key for key in {*before, *entry.options} if before.get(key) != entry.options.get(key)}
        assert changed <= {field}, changed
        assert entry.options["price_periods"] == periods  # the scheduled change stays scheduled
    # Unchanged prices with the date cleared: the periods are not touched either.
    result = await tariff_form()
    user_input = {**suggested_input(result), "monthly_fee": 21.0}
    del user_input["apply_from"]
    await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert entry.options["price_periods"] == periods

    # Correcting the scheduled prices keeps their date; earlier history keeps its prices.
    result = await tariff_form()
    await hass.config_entries.options.async_configure(result["flow_id"], {**suggested_input(result), "price_peak": 0.3})
    assert entry.options["price_periods"] == [periods[0], {**periods[1], "prices": {"offpeak": 0.22, "peak": 0.3}}]
    # New prices without a date apply from today (the period before today is kept, the later one replaced).
    result = await tariff_form()
    user_input = {**suggested_input(result), "price_peak": 0.31}
    del user_input["apply_from"]
    await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    today_start = dt_util.as_utc(datetime.combine(today, time(0), tzinfo=PARIS)).isoformat()
    assert entry.options["price_periods"] == [
        periods[0],
        {"start": today_start, "prices": {"offpeak": 0.22, "peak": 0.31}},
    ]


def assert_translated(section: str, key: str) -> None:
    """The form error ``key`` reads in English (strings.json = en.json) and in French, in different words."""
    english = json.loads(STRINGS.read_text())[section]["error"][key]
    assert json.loads((TRANSLATIONS / "en.json").read_text())[section]["error"][key] == english
    french = json.loads((TRANSLATIONS / "fr.json").read_text())[section]["error"][key]
    assert english
    assert french
    assert french != english


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        # Conso API serves no contract: HP/HC without off-peak hours could never be split.
        ({"tariff_option": "hphc", "price_offpeak": 0.2, "price_peak": 0.27}, {"offpeak_hours": "offpeak_required"}),
        # A class of the option without a price: its hours could not be priced.
        ({**HPHC, "price_peak": 0.27}, {"base": "prices_incomplete"}),
        ({"tariff_option": "base", "price_offpeak": 0.2, "price_peak": 0.27}, {"base": "prices_incomplete"}),
        (
            {"tariff_option": "tempo", "tempo_entity": "sensor.tempo", "price_blue_peak": 0.16},
            {"base": "prices_incomplete"},
        ),
    ],
)
async def test_options_tariff_refuses_an_incomplete_tariff(
    hass: HomeAssistant, user_input: dict[str, Any], errors: dict[str, str]
) -> None:
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tariff"})
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert entry.options == {}
    for key in errors.values():
        assert_translated("options", key)
    # What the user typed stays in the form.
    shown = suggested_input(result)
    assert {key: shown.get(key) for key in user_input} == user_input

    # Completed, the same tariff is accepted; without any consumption price (no cost statistic) too.
    complete = {
        "hphc": {**HPHC, "price_offpeak": 0.2, "price_peak": 0.27},
        "tempo": {"tariff_option": "tempo", "tempo_entity": "sensor.tempo"},
        "base": {"tariff_option": "base", "price_base": 0.19},
    }[user_input["tariff_option"]]
    result = await hass.config_entries.options.async_configure(result["flow_id"], complete)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tariff_option"] == user_input["tariff_option"]


async def test_options_tempo_needs_no_colour_entity(hass: HomeAssistant) -> None:
    """Tempo without a colour entity is accepted: colours also come from the shipped calendar and RTE."""
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tariff"})
    prices = {f"price_{colour}_{part}": 0.1 for colour in ("blue", "white", "red") for part in ("offpeak", "peak")}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"tariff_option": "tempo", **prices})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tariff_option"] == "tempo"
    assert entry.options["tempo_entity"] is None
    for path in (STRINGS, TRANSLATIONS / "en.json", TRANSLATIONS / "fr.json"):
        assert "tempo_entity_required" not in json.loads(path.read_text())["options"]["error"]


async def test_forms_keep_what_was_typed(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    """After a form error the token (and URL) need not be pasted again."""
    token = make_token(PRM1)
    result = await start_conso(hass)
    typed = {CONF_TOKEN: token, CONF_BASE_URL: "conso.example.org"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["errors"] == {CONF_BASE_URL: "invalid_url"}
    assert suggested_input(result) == typed
    # A live error too (the gateway is down).
    aioclient_mock.get(CONSO_DAILY, status=500, text="Internal Server Error")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: token})
    assert result["errors"] == {"base": "cannot_connect"}
    assert suggested_input(result) == {CONF_TOKEN: token, CONF_BASE_URL: DEFAULT_CONSO_API_URL}

    # Reauthentication and reconfiguration keep it as well.
    entry = conso_entry(PRM2)
    entry.add_to_hass(hass)
    expired = make_token(PRM2, exp=datetime.now(UTC) - timedelta(days=1))
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: expired})
    assert result["errors"] == {CONF_TOKEN: "token_expired"}
    assert suggested_input(result) == {CONF_TOKEN: expired}
    hass.config_entries.flow.async_abort(result["flow_id"])
    result = await entry.start_reconfigure_flow(hass)
    assert suggested_input(result) == {CONF_BASE_URL: DEFAULT_CONSO_API_URL}
    typed = {CONF_TOKEN: make_token(PRM2), CONF_BASE_URL: "ftp://conso.example.org"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["errors"] == {CONF_BASE_URL: "invalid_url"}
    assert suggested_input(result) == typed


async def test_data_connect_form_keeps_the_chosen_credentials(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(hass, DOMAIN, ClientCredential("id-a", "secret-a", "App A"), "cred-a")
    await async_import_client_credential(hass, DOMAIN, ClientCredential("id-b", "secret-b", "App B"), "cred-b")
    aioclient_mock.post(SANDBOX_TOKEN_URL, status=401, json={"error": "invalid_client", "error_description": "x"})
    result = await start_data_connect(hass)
    typed = {"implementation": "cred-b", CONF_ENVIRONMENT: ENV_SANDBOX, CONF_CONSENT_DURATION: "1_year"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["errors"] == {"base": "invalid_auth"}
    assert suggested_input(result) == typed


async def test_number_fields_have_limits_and_translated_units(hass: HomeAssistant) -> None:
    """Every number field is a selector with min/max (the frontend states the limits in the user's language),
    and a unit that is a word is translated."""
    entry = conso_entry(PRM1)
    entry.add_to_hass(hass)
    english = json.loads(STRINGS.read_text())["selector"]
    french = json.loads((TRANSLATIONS / "fr.json").read_text())["selector"]
    seen = 0
    for step in ("history", "tariff"):
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": step})
        for key, field in result["data_schema"].schema.items():
            if not isinstance(field, NumberSelector):
                continue
            seen += 1
            config = field.config
            assert {"min", "max"} <= set(config), key
            unit = config.get("unit_of_measurement", "")
            if unit.isalpha() and len(unit) > 1 and unit != "kVA":  # kVA: a symbol, the same in French
                translation = config["translation_key"]
                assert english[translation]["unit_of_measurement"][unit] == unit
                assert french[translation]["unit_of_measurement"][unit] not in {"", unit}
    assert seen == 16  # 4 history numbers, the subscribed power, the monthly fee and 10 prices
