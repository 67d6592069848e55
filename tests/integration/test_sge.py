"""Enedis SGE inside Home Assistant, over real mutual TLS: the config flow's checks and errors, reauthentication,
reconfiguration, diagnostics, and a backfill whose statistics equal the ground truth.

The fake gateway listens on 127.0.0.1 over HTTPS and requires a client certificate of a CA generated for the test;
Home Assistant's own shared session talks to it (entries use the "another address" environment with that CA).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
import itertools
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import (
    CONF_PRMS,
    CONF_SGE_AGREED,
    CONF_SGE_CA,
    CONF_SGE_CERTIFICATE,
    CONF_SGE_ENVIRONMENT,
    CONF_SGE_GATEWAY_HEADER,
    CONF_SGE_GATEWAY_KEY,
    CONF_SGE_KEY,
    CONF_SGE_LOGIN,
    CONF_SGE_PRMS,
    CONF_SGE_URL,
    CONF_SOURCE,
    CONF_VERIFIED,
    DEFAULT_SGE_GATEWAY_HEADER,
    DOMAIN,
    SGE_CUSTOM,
    SGE_HOMOLOGATION,
    SGE_PRODUCTION,
    SOURCE_SGE,
)
from custom_components.enedis.coordinator import EnedisCoordinator
from custom_components.enedis.diagnostics import async_get_config_entry_diagnostics
from custom_components.enedis.sge_entry import async_sge_source
from tests.fake_enedis import data
from tests.fake_enedis.server import create_app
from tests.fake_enedis.sge import DEMO_LOGIN, SGE_KEY, SgeConfig, request_times
from tests.fake_enedis.state import FakeState
from tests.fake_enedis.tls import Pki, make_pki, serve_in_thread, server_context

from .common import assert_continuous, async_run_until, async_statistics, install_registry, truth_hours

P0 = "22516914714270"
P1 = "11453290002823"
TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)  # 12:00 in Paris


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@dataclass
class SgeServer:
    state: FakeState
    config: SgeConfig
    url: str
    pki: Pki


@pytest.fixture
def sge_server(pki: Pki, tmp_path: Path, socket_enabled: None) -> Iterator[SgeServer]:
    """The fake gateway over HTTPS on 127.0.0.1 (its own thread), a client certificate of the test CA required."""
    state = FakeState(today=TODAY, time_of_day=time(12, 0), clock=lambda: dt_util.utcnow().timestamp())
    app = create_app(state)
    with serve_in_thread(app, server_context(pki, tmp_path)) as url:
        yield SgeServer(state, app[SGE_KEY], url, pki)


def form(server: SgeServer, prms: str = P0, **changes: Any) -> dict[str, Any]:
    values = {
        CONF_SGE_ENVIRONMENT: SGE_CUSTOM,
        CONF_SGE_URL: server.url,
        CONF_SGE_LOGIN: DEMO_LOGIN,
        CONF_SGE_PRMS: prms,
        CONF_SGE_CERTIFICATE: server.pki.client.cert_pem,
        CONF_SGE_KEY: server.pki.client.key_pem,
        CONF_SGE_CA: server.pki.ca_pem,
        CONF_SGE_AGREED: True,
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def sge_entry(server: SgeServer, prms: list[str], **changes: Any) -> MockConfigEntry:
    values = form(server, **changes)
    values.pop(CONF_SGE_PRMS)
    values.pop(CONF_SGE_AGREED)
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky SGE {prms[0]}",
        unique_id="_".join(sorted(prms)),
        data={CONF_SOURCE: SOURCE_SGE, **values, CONF_PRMS: prms},
        options={"curve_history_months": 2, "daily_history_months": 2},
    )


@pytest.fixture
def no_setup() -> Iterator[AsyncMock]:
    """The flow's job ends at the entry: do not run the real setup."""
    with patch("custom_components.enedis.async_setup_entry", return_value=True) as mock:
        yield mock


async def start(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "sge" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "sge"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "sge"
    return dict(result)


# --------------------------------------------------------------------------------------------- config flow


@pytest.mark.usefixtures("no_setup")
async def test_flow_checks_each_prm_over_mutual_tls(hass: HomeAssistant, sge_server: SgeServer) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form(sge_server, prms=f"{P0}, {P1}\n{P0}")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Linky SGE (2 PRMs)"
    assert result["data"][CONF_PRMS] == [P0, P1]
    assert result["data"][CONF_SGE_URL] == sge_server.url
    assert result["data"]["sge_agreed_at"]
    calls = [r.path for r in sge_server.state.requests]
    assert calls == ["/ConsultationDonneesTechniquesContractuelles/v1.0"] * 2  # one contract call per PRM


@pytest.mark.usefixtures("no_setup")
async def test_flow_errors(hass: HomeAssistant, sge_server: SgeServer) -> None:
    sge_server.config.out_of_perimeter.add(P1)
    pki = sge_server.pki
    result = await start(hass)
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        (form(sge_server, **{CONF_SGE_AGREED: False}), {CONF_SGE_AGREED: "agreement_required"}),
        (form(sge_server, prms="1234, 5678"), {CONF_SGE_PRMS: "invalid_prms"}),
        (form(sge_server, **{CONF_SGE_URL: "not a url"}), {CONF_SGE_URL: "invalid_url"}),
        (form(sge_server, **{CONF_SGE_KEY: None}), {"base": "sge_credentials_missing"}),
        (form(sge_server, **{CONF_SGE_KEY: pki.stranger.key_pem}), {"base": "invalid_certificate"}),
        (
            form(sge_server, **{CONF_SGE_CERTIFICATE: pki.stranger.cert_pem, CONF_SGE_KEY: pki.stranger.key_pem}),
            {"base": "certificate_refused"},
        ),
        (form(sge_server, **{CONF_SGE_LOGIN: "intrus@example.org"}), {"base": "login_refused"}),
        (form(sge_server, prms="99999999999999"), {"base": "unknown_prm"}),
        (form(sge_server, prms=f"{P0} {P1}"), {"base": "out_of_perimeter"}),
    ]
    for user_input, errors in cases:
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
        assert result["type"] is FlowResultType.FORM, errors
        assert result["errors"] == errors
    assert result["description_placeholders"]["prm"] == P1
    assert not hass.config_entries.async_entries(DOMAIN)
    # Nothing was sent for the offline errors; the certificate refusal never reached the application.
    assert len(sge_server.state.requests) == 4  # login refused, unknown PRM, P0 then P1 out of perimeter

    for key, english, french in (
        ("certificate_refused", "does not accept this certificate", "n'accepte pas ce certificat"),
        ("out_of_perimeter", "outside the perimeter", "hors du périmètre"),
    ):
        en = await async_get_translations(hass, "en", "config", [DOMAIN])
        fr = await async_get_translations(hass, "fr", "config", [DOMAIN])
        assert english in en[f"component.{DOMAIN}.config.error.{key}"]
        assert french in fr[f"component.{DOMAIN}.config.error.{key}"]

    result = await hass.config_entries.flow.async_configure(result["flow_id"], form(sge_server))
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("no_setup")
async def test_flow_unexpected_refusal(
    hass: HomeAssistant, sge_server: SgeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A refusal the flow has no message for (SGT4B8, requests already in progress on the point): "unexpected
    error", with SGE's answer in the log to tell what happened; nothing is created."""
    sge_server.config.contract_refusals[P1] = ("SGT4B8", "Il existe déjà plusieurs demandes en cours sur le point.")
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form(sge_server, prms=f"{P0} {P1}"))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert result["description_placeholders"]["prm"] == P1
    assert "Unexpected answer from SGE while checking the credentials" in caplog.text
    assert "SGT4B8" in caplog.text
    assert not hass.config_entries.async_entries(DOMAIN)

    del sge_server.config.contract_refusals[P1]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form(sge_server, prms=f"{P0} {P1}"))
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.fixture
async def gateway_url(socket_enabled: None) -> AsyncIterator[tuple[str, SgeConfig]]:
    """The fake SGE behind an API gateway: plain HTTP on 127.0.0.1, a key header instead of a client certificate."""
    app = create_app(FakeState(today=TODAY, time_of_day=time(12, 0)))
    app[SGE_KEY].gateway_key = "gateway-key-123"
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/"), app[SGE_KEY]
    await server.close()


@pytest.mark.usefixtures("no_setup")
async def test_flow_through_an_api_gateway(hass: HomeAssistant, gateway_url: tuple[str, SgeConfig]) -> None:
    """Another address with a gateway key: no certificate needed; a wrong key is refused; the entry keeps the key as
    its only secret, with the usual header."""
    url, _ = gateway_url
    typed = {
        CONF_SGE_ENVIRONMENT: SGE_CUSTOM,
        CONF_SGE_URL: f"{url}/",
        CONF_SGE_LOGIN: DEMO_LOGIN,
        CONF_SGE_PRMS: P0,
        CONF_SGE_GATEWAY_KEY: "wrong-key",
        CONF_SGE_AGREED: True,
    }
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**typed, CONF_SGE_GATEWAY_KEY: "gateway-key-123"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert (data[CONF_SGE_URL], data[CONF_SGE_GATEWAY_KEY], data[CONF_SGE_GATEWAY_HEADER]) == (
        url,
        "gateway-key-123",
        DEFAULT_SGE_GATEWAY_HEADER,
    )
    assert data[CONF_SGE_CERTIFICATE] is None
    assert data[CONF_SGE_KEY] is None
    assert data[CONF_SGE_CA] is None


@pytest.mark.usefixtures("no_setup")
async def test_flow_refuses_a_configured_prm(hass: HomeAssistant, sge_server: SgeServer) -> None:
    sge_entry(sge_server, [P0]).add_to_hass(hass)
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form(sge_server, prms=f"{P0},{P1}"))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("no_setup")
async def test_reauth_with_a_new_certificate(hass: HomeAssistant, sge_server: SgeServer) -> None:
    pki = sge_server.pki
    entry = sge_entry(
        sge_server, [P0], **{CONF_SGE_CERTIFICATE: pki.stranger.cert_pem, CONF_SGE_KEY: pki.stranger.key_pem}
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "sge_reauth"
    renewed = form(sge_server)
    renewed.pop(CONF_SGE_PRMS)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**renewed, CONF_SGE_CERTIFICATE: pki.stranger.cert_pem, CONF_SGE_KEY: ""}
    )
    assert result["errors"] == {"base": "certificate_refused"}  # an empty key keeps the stored (refused) one
    result = await hass.config_entries.flow.async_configure(result["flow_id"], renewed)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_SGE_KEY] == pki.client.key_pem.strip()
    assert set(entry.data[CONF_VERIFIED]) == {P0}


@pytest.mark.usefixtures("no_setup")
async def test_reconfigure_keeps_the_stored_key(hass: HomeAssistant, sge_server: SgeServer) -> None:
    entry = sge_entry(sge_server, [P0], **{CONF_SGE_LOGIN: "old@example.org"})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "sge_reconfigure"
    changed = form(sge_server, **{CONF_SGE_KEY: ""})
    changed.pop(CONF_SGE_PRMS)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**changed, CONF_SGE_LOGIN: "old@example.org"}
    )
    assert result["errors"] == {"base": "login_refused"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], changed)
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_SGE_LOGIN] == DEMO_LOGIN
    assert entry.data[CONF_SGE_KEY] == sge_server.pki.client.key_pem  # kept as stored


# --------------------------------------------------------------------------------------------- scenario


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


async def test_backfill_statistics_equal_the_ground_truth(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sge_server: SgeServer,
) -> None:
    """Two months through SGE over mutual TLS: hourly statistics = ground truth (1 Wh), calls >= 1 s apart."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Paris")
    install_registry(hass, freezer)
    entry = sge_entry(sge_server, [P0])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    coordinator: EnedisCoordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)

    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    start = date(2026, 9, 22)
    truth = truth_hours(P0, data.CONS, _days(start, TODAY))
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    assert set(got) == set(truth)
    for hour, wh in truth.items():
        assert got[hour] == pytest.approx(wh, abs=1)
    assert_continuous(rows)
    autumn = [h for h in got if h.astimezone(PARIS).date() == date(2026, 10, 25)]
    assert len(autumn) == 25

    times = request_times(sge_server.state)
    assert len(times) > 10
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0
    # One production probe, answered SGT404 (wrong direction): production is then known absent and never asked again.
    assert sge_server.state.count("", 500) == 1

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diagnostics)
    assert diagnostics["source"] == "Sge"
    assert "PRIVATE KEY" not in text
    assert "BEGIN CERTIFICATE" not in text
    assert DEMO_LOGIN not in text
    assert P0 not in text
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_refused_certificate_asks_for_new_credentials(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, sge_server: SgeServer
) -> None:
    """The TLS layer refuses the entry's certificate: the integration starts a reauthentication (step sge_reauth)."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Paris")
    install_registry(hass, freezer)
    pki = sge_server.pki
    entry = sge_entry(
        sge_server, [P0], **{CONF_SGE_CERTIFICATE: pki.stranger.cert_pem, CONF_SGE_KEY: pki.stranger.key_pem}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: any(entry.async_get_active_flows(hass, {"reauth"})))
    (flow,) = entry.async_get_active_flows(hass, {"reauth"})
    assert flow["step_id"] == "sge_reauth"
    assert not sge_server.state.requests  # refused by TLS: the application never saw a request
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_key_that_does_not_load_fails_the_setup_with_reauth(hass: HomeAssistant, sge_server: SgeServer) -> None:
    entry = sge_entry(
        sge_server, [P0], **{CONF_SGE_KEY: "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"}
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert any(entry.async_get_active_flows(hass, {"reauth"}))


async def test_hphc_options_use_the_contract_offpeak_hours(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, sge_server: SgeServer
) -> None:
    """SGE's contract gives the off-peak hours (the statistics use them): the HP/HC option needs no override."""
    freezer.move_to(NOW)
    install_registry(hass, freezer)
    entry = sge_entry(sge_server, [P0])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: P0 in coordinator.contracts)
    assert coordinator.contracts[P0].offpeak_hours == data.OFFPEAK_HOURS
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tariff"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff_option": "hphc", "price_offpeak": 0.2, "price_peak": 0.27}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tariff_option"] == "hphc"
    assert entry.options["offpeak_hours"] is None
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("environment", [SGE_PRODUCTION, SGE_HOMOLOGATION])
async def test_an_enedis_environment_is_reached_with_the_certificate(
    hass: HomeAssistant, pki: Pki, environment: str
) -> None:
    """Production or homologation: Enedis' own host for that environment, mutual TLS with the entry's certificate."""
    source = await async_sge_source(
        hass,
        {
            CONF_SGE_ENVIRONMENT: environment,
            CONF_SGE_URL: "https://ignored.example",  # only a custom environment takes a URL
            CONF_SGE_LOGIN: DEMO_LOGIN,
            CONF_SGE_CERTIFICATE: pki.client.cert_pem,
            CONF_SGE_KEY: pki.client.key_pem,
            CONF_PRMS: [P0],
        },
    )
    assert source.location == f"sge {environment}"
    assert source.secrets() == (pki.client.key_pem,)
    assert await source.async_get_prms() == [P0]


async def test_a_gateway_key_takes_the_place_of_the_certificate(hass: HomeAssistant) -> None:
    """A custom host with a gateway key (a supplier's proxy): no certificate is loaded, the key is the secret, and
    the header defaults to the usual one."""
    source = await async_sge_source(
        hass,
        {
            CONF_SGE_ENVIRONMENT: SGE_CUSTOM,
            CONF_SGE_URL: "https://gateway.example/sge",
            CONF_SGE_LOGIN: DEMO_LOGIN,
            CONF_SGE_GATEWAY_KEY: "gateway-key-123",
            CONF_PRMS: [P0],
        },
    )
    assert source.location == "sge https://gateway.example/sge"
    assert source.secrets() == ("gateway-key-123",)
    assert "gateway-key-123" not in repr(source)
