"""MyElectricalData inside Home Assistant: the config flow's checks and errors, reauthentication, diagnostics, and a
backfill whose statistics equal the ground truth.

The fake gateway's MyElectricalData routes listen on 127.0.0.1; Home Assistant's own shared session talks to them
(entries name that address as another instance's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
import json
from typing import Any
from unittest.mock import AsyncMock, patch

from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.enedis.const import (
    ACCESS_CONSENT_MISSING,
    ACCESS_OK,
    CONF_MED_API,
    CONF_MED_CLIENT_ID,
    CONF_MED_CLIENT_SECRET,
    CONF_MED_PRMS,
    CONF_MED_TOKEN,
    CONF_MED_URL,
    CONF_PRMS,
    CONF_SOURCE,
    CONF_VERIFIED,
    DOMAIN,
    MED_API_CURRENT,
    MED_API_LEGACY,
    SOURCE_MED,
)
from custom_components.enedis.coordinator import EnedisCoordinator
from custom_components.enedis.diagnostics import async_get_config_entry_diagnostics
from tests.fake_enedis import data
from tests.fake_enedis.med import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TOKEN,
    MedConfig,
    MedFailure,
    med_config,
)
from tests.fake_enedis.server import create_app
from tests.fake_enedis.state import FakeState, RequestRecord

from .common import (
    assert_continuous,
    async_change,
    async_run_until,
    async_statistics,
    install_registry,
    paris_utc,
    truth_hours,
)

P0 = "22516914714270"
P1 = "11453290002823"
P_PROD = "10284856584123"  # client 3's production-only PRM
TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)  # 12:00 in Paris


@dataclass
class MedServer:
    state: FakeState
    config: MedConfig
    url: str

    def calls(self) -> list[str]:
        return [r.path for r in self.state.requests if r.path.startswith("/med/")]


async def _serve(state: FakeState) -> AsyncIterator[MedServer]:
    server = TestServer(create_app(state))
    await server.start_server()
    yield MedServer(state, med_config(state), str(server.make_url("/med/api")).rstrip("/"))
    await server.close()


@pytest.fixture
async def med_server(socket_enabled: None) -> AsyncIterator[MedServer]:
    """The fake gateway on today's date (the config flow's checks run on the real clock)."""
    async for server in _serve(FakeState()):
        yield server


@pytest.fixture
async def med_frozen(socket_enabled: None, freezer: FrozenDateTimeFactory) -> AsyncIterator[MedServer]:
    """The fake gateway on `TODAY`, its clock the freezer's (scenario tests)."""
    freezer.move_to(NOW)
    state = FakeState(today=TODAY, time_of_day=time(12, 0), clock=lambda: dt_util.utcnow().timestamp())
    async for server in _serve(state):
        yield server


def form(server: MedServer, prms: str = P0, **changes: Any) -> dict[str, Any]:
    values = {
        CONF_MED_API: MED_API_CURRENT,
        CONF_MED_PRMS: prms,
        CONF_MED_CLIENT_ID: DEMO_CLIENT_ID,
        CONF_MED_CLIENT_SECRET: DEMO_CLIENT_SECRET,
        CONF_MED_URL: server.url,
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def med_entry(server: MedServer, prms: list[str], **changes: Any) -> MockConfigEntry:
    values: dict[str, Any] = {
        CONF_SOURCE: SOURCE_MED,
        CONF_MED_API: MED_API_CURRENT,
        CONF_MED_CLIENT_ID: DEMO_CLIENT_ID,
        CONF_MED_CLIENT_SECRET: DEMO_CLIENT_SECRET,
        CONF_MED_TOKEN: None,
        CONF_MED_URL: server.url,
        CONF_PRMS: prms,
    }
    values.update(changes)
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky MyElectricalData {prms[0]}",
        unique_id="_".join(sorted(prms)),
        data=values,
        options={"curve_history_months": 2, "daily_history_months": 2},
    )


@pytest.fixture
def no_setup() -> Iterator[AsyncMock]:
    """The flow's job ends at the entry: do not run the real setup."""
    with patch("custom_components.enedis.async_setup_entry", return_value=True) as mock:
        yield mock


async def start(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "myelectricaldata" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "myelectricaldata"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "myelectricaldata"
    return dict(result)


# --------------------------------------------------------------------------------------------- config flow


@pytest.mark.usefixtures("no_setup")
async def test_flow_checks_each_prm(hass: HomeAssistant, med_server: MedServer) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form(med_server, prms=f"{P0}, {P1}"))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Linky MyElectricalData (2 PRMs)"
    assert result["data"][CONF_PRMS] == [P0, P1]
    assert result["data"][CONF_MED_TOKEN] is None
    assert med_server.calls() == [
        "/med/api/accounts/token",
        f"/med/api/enedis/consumption/daily/{P0}",
        f"/med/api/enedis/consumption/daily/{P1}",
    ]


@pytest.mark.usefixtures("no_setup")
async def test_flow_legacy_token(hass: HomeAssistant, med_server: MedServer) -> None:
    result = await start(hass)
    legacy = form(
        med_server,
        **{CONF_MED_API: MED_API_LEGACY, CONF_MED_CLIENT_ID: None, CONF_MED_CLIENT_SECRET: None},
        **{CONF_MED_URL: med_server.url.removesuffix("/api"), CONF_MED_TOKEN: DEMO_TOKEN},
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], legacy)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MED_TOKEN] == DEMO_TOKEN
    assert result["data"][CONF_MED_CLIENT_SECRET] is None
    assert med_server.calls()[-1].startswith(f"/med/daily_consumption/{P0}/start/")


@pytest.mark.usefixtures("no_setup")
async def test_flow_errors(hass: HomeAssistant, med_server: MedServer) -> None:
    med_server.config.clients["other-client"] = ("other-secret", (P0,))
    result = await start(hass)
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        (form(med_server, prms="1234"), {CONF_MED_PRMS: "invalid_prms"}),
        (form(med_server, **{CONF_MED_URL: "not a url"}), {CONF_MED_URL: "invalid_url"}),
        (form(med_server, **{CONF_MED_CLIENT_SECRET: None}), {"base": "med_credentials_missing"}),
        (form(med_server, **{CONF_MED_API: MED_API_LEGACY}), {"base": "med_credentials_missing"}),
        (form(med_server, **{CONF_MED_CLIENT_SECRET: "wrong"}), {"base": "invalid_auth"}),
        (
            form(med_server, prms=P1, **{CONF_MED_CLIENT_ID: "other-client", CONF_MED_CLIENT_SECRET: "other-secret"}),
            {"base": "med_prm_refused"},
        ),
    ]
    for user_input, errors in cases:
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
        assert result["type"] is FlowResultType.FORM, errors
        assert result["errors"] == errors
    assert result["description_placeholders"]["prm"] == P1
    med_server.config.daily_limit = 0
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form(med_server))
    assert result["errors"] == {"base": "med_quota_reached"}
    assert not hass.config_entries.async_entries(DOMAIN)

    en = await async_get_translations(hass, "en", "config", [DOMAIN])
    fr = await async_get_translations(hass, "fr", "config", [DOMAIN])
    assert "50 calls of the day" in en[f"component.{DOMAIN}.config.error.med_quota_reached"]
    assert "50 appels du jour" in fr[f"component.{DOMAIN}.config.error.med_quota_reached"]

    # A URL that answers something else than MyElectricalData (a web page, a 404), and one nobody answers.
    med_server.config.daily_limit = 50
    site = med_server.url.rsplit("/med/api", 1)[0]
    for url, error in (
        (f"{site}/", "med_invalid_response"),
        (f"{site}/nothing-here/api", "med_invalid_response"),
        ("http://127.0.0.1:1/api", "cannot_connect"),
    ):
        user_input = form(med_server, **{CONF_MED_URL: url})
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
        assert result["errors"] == {"base": error}, url
    assert not hass.config_entries.async_entries(DOMAIN)
    english = en[f"component.{DOMAIN}.config.error.med_invalid_response"]
    french = fr[f"component.{DOMAIN}.config.error.med_invalid_response"]
    assert "does not answer like MyElectricalData" in english
    assert "ne répond pas comme MyElectricalData" in french
    assert "Conso API" not in english + french  # the Conso API form's text named the wrong service
    assert "Try again later" in en[f"component.{DOMAIN}.config.error.cannot_connect"]
    assert "Réessayez plus tard" in fr[f"component.{DOMAIN}.config.error.cannot_connect"]


@pytest.mark.usefixtures("no_setup")
async def test_reauth_with_new_credentials(hass: HomeAssistant, med_server: MedServer) -> None:
    entry = med_entry(med_server, [P0], **{CONF_MED_CLIENT_SECRET: "revoked-secret"})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "med_reauth"
    renewed = form(med_server, **{CONF_MED_CLIENT_SECRET: ""})
    renewed.pop(CONF_MED_PRMS)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], renewed)
    assert result["errors"] == {"base": "invalid_auth"}  # an empty secret keeps the stored (refused) one
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**renewed, CONF_MED_CLIENT_SECRET: DEMO_CLIENT_SECRET}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_MED_CLIENT_SECRET] == DEMO_CLIENT_SECRET
    assert set(entry.data[CONF_VERIFIED]) == {P0}


def suggested(result: Any) -> dict[str, Any]:
    """The values the form shows filled in (its suggested values)."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if (key.description or {}).get("suggested_value") is not None
    }


@pytest.mark.usefixtures("no_setup")
async def test_flow_accepts_a_prm_that_only_produces(hass: HomeAssistant, med_server: MedServer) -> None:
    """A production-only PRM refuses the consumption check (ADAM-ERR0069): the gateway answered for it, it is kept."""
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form(med_server, prms=f"{P0} {P_PROD}"))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PRMS] == [P0, P_PROD]
    assert med_server.calls()[-1] == f"/med/api/enedis/consumption/daily/{P_PROD}"


@pytest.mark.usefixtures("no_setup")
async def test_flow_unexpected_refusal(
    hass: HomeAssistant, med_server: MedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """An answer the flow has no message for (here Enedis refuses MyElectricalData's own DataHub subscription):
    "unexpected error", logged; what was typed stays in the form, the secret too; nothing is created."""
    med_server.state.unsubscribed_apis.add("mesure_synchrone_auto")
    result = await start(hass)
    typed = form(med_server)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert suggested(result) == typed
    assert "Unexpected answer from MyElectricalData" in caplog.text
    assert not hass.config_entries.async_entries(DOMAIN)

    med_server.state.unsubscribed_apis.clear()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("no_setup")
async def test_reconfigure_to_the_legacy_api(hass: HomeAssistant, med_server: MedServer) -> None:
    """Reconfiguration shows the entry's API, client id and address (never its secret); another API needs its own
    credential (the stored secret is not carried over); success saves the new API and verifies every PRM."""
    entry = med_entry(med_server, [P0, P1])
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "med_reconfigure"
    assert result["description_placeholders"]["prms"] == f"{P0}, {P1}"
    assert suggested(result) == {
        CONF_MED_API: MED_API_CURRENT,
        CONF_MED_CLIENT_ID: DEMO_CLIENT_ID,
        CONF_MED_URL: med_server.url,
    }
    legacy = {CONF_MED_API: MED_API_LEGACY, CONF_MED_URL: med_server.url.removesuffix("/api")}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], legacy)
    assert result["errors"] == {"base": "med_credentials_missing"}
    assert suggested(result) == legacy
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**legacy, CONF_MED_TOKEN: DEMO_TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_MED_API] == MED_API_LEGACY
    assert entry.data[CONF_MED_TOKEN] == DEMO_TOKEN
    assert entry.data[CONF_MED_CLIENT_ID] is None
    assert entry.data[CONF_MED_CLIENT_SECRET] is None
    assert entry.data[CONF_MED_URL] == med_server.url.removesuffix("/api")
    assert entry.data[CONF_PRMS] == [P0, P1]
    assert set(entry.data[CONF_VERIFIED]) == {P0, P1}
    assert [call.split("/start/")[0] for call in med_server.calls()] == [
        f"/med/daily_consumption/{P0}",
        f"/med/daily_consumption/{P1}",
    ]


# --------------------------------------------------------------------------------------------- scenario


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


async def test_backfill_statistics_equal_the_ground_truth(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, med_frozen: MedServer
) -> None:
    """Two months through MyElectricalData's current API: hourly statistics = ground truth (1 Wh), under its quota."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Paris")
    install_registry(hass, freezer)
    entry = med_entry(med_frozen, [P0])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    coordinator: EnedisCoordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)

    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    truth = truth_hours(P0, data.CONS, _days(date(2026, 9, 22), TODAY))
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    assert set(got) == set(truth)
    for hour, wh in truth.items():
        assert got[hour] == pytest.approx(wh, abs=1)
    assert_continuous(rows)

    counted = [p for p in med_frozen.calls() if p.startswith("/med/api/enedis/")]
    assert 10 <= len(counted) <= 50  # under the day's quota
    assert not [r for r in med_frozen.state.requests if r.status == 429]

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diagnostics)
    assert diagnostics["source"] == "MyElectricalData"
    assert DEMO_CLIENT_SECRET not in text
    assert DEMO_CLIENT_ID not in text
    assert P0 not in text
    assert await hass.config_entries.async_unload(entry.entry_id)


def _sync(server: MedServer) -> None:
    """The fake gateway's wall clock follows the freezer (its quota day and its publications)."""
    now = dt_util.now(data.PARIS)
    server.state.today, server.state.time_of_day = now.date(), now.time()


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, server: MedServer, step: timedelta) -> None:
    freezer.tick(step)
    _sync(server)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _step(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, server: MedServer, coordinator: EnedisCoordinator
) -> None:
    """Jump to the coordinator's next refresh, the fake's clock with it."""
    interval = coordinator.update_interval or timedelta(seconds=1)
    await _tick(hass, freezer, server, interval + timedelta(milliseconds=10))


def _counted(server: MedServer) -> list[RequestRecord]:
    return [r for r in server.state.requests if r.path.startswith("/med/api/enedis/")]


async def test_quota_spent_mid_backfill_waits_for_midnight_utc_and_resumes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, med_frozen: MedServer
) -> None:
    """The real gateway's spent quota (HTTP 200, ``RATE_LIMIT_EXCEEDED``) in the middle of the history import.

    The entry stays loaded, nothing reaches the gateway before its counters reset at midnight UTC (not even a
    refresh asked for meanwhile), the statistics imported before stay as they were, and the import then resumes
    and ends equal to the ground truth: no window was recorded as empty because of the refusal.
    """
    freezer.move_to(NOW)
    _sync(med_frozen)
    await hass.config.async_set_time_zone("Europe/Paris")
    install_registry(hass, freezer)
    limit = med_frozen.config.daily_limit = 8
    entry = med_entry(med_frozen, [P0])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data
    statistic = f"enedis:{P0}_consumption"

    # Import until the gateway refuses a call: the quota is spent (its answers say so only in their body).
    for _ in range(100):
        if len(_counted(med_frozen)) > limit:
            break
        await _step(hass, freezer, med_frozen, coordinator)
    refused_at = dt_util.utcnow()
    reset = datetime(2026, 11, 23, tzinfo=UTC)
    assert refused_at < datetime(2026, 11, 22, 23, tzinfo=UTC)  # before Paris midnight (the old fake's reset)
    assert len(_counted(med_frozen)) == limit + 1
    refused = _counted(med_frozen)[-1]
    assert med_frozen.config.calls[DEMO_CLIENT_ID] == (TODAY, limit)
    assert entry.state is ConfigEntryState.LOADED
    assert not coordinator.last_update_success
    assert "RateLimitError HTTP 200 RATE_LIMIT_EXCEEDED" in coordinator.errors[-1][1]
    # The next refresh is due at the reset, not before.
    assert coordinator.update_interval is not None
    assert abs((refused_at + coordinator.update_interval - reset).total_seconds()) < 1
    progress = coordinator.data.prms[P0].backfill_progress
    assert 0 < progress < 100
    before = await async_statistics(hass, statistic)
    assert before
    truth = truth_hours(P0, data.CONS, _days(date(2026, 9, 22), TODAY))
    assert {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in before} == pytest.approx(
        {datetime.fromtimestamp(row["start"], UTC): truth[datetime.fromtimestamp(row["start"], UTC)] for row in before},
        abs=1,
    )
    assert_continuous(before)

    # Until midnight UTC nothing is sent, Paris midnight included, even when a refresh is asked for.
    sent = len(med_frozen.state.requests)
    while dt_util.utcnow() < reset - timedelta(minutes=20):
        await _tick(hass, freezer, med_frozen, timedelta(minutes=20))
        await coordinator.async_refresh()
        await hass.async_block_till_done(wait_background_tasks=True)
        assert entry.state is ConfigEntryState.LOADED
    assert dt_util.utcnow() > datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert len(med_frozen.state.requests) == sent
    assert coordinator.data.prms[P0].backfill_progress < 100  # (its ratio moved with the Paris date)
    assert await async_statistics(hass, statistic) == before

    # From the reset on, the import goes on (a day's calls at a time) and ends equal to the ground truth.
    for _ in range(400):
        if coordinator.data.prms[P0].backfill_progress >= 100:
            break
        await _step(hass, freezer, med_frozen, coordinator)
    assert coordinator.data.prms[P0].backfill_progress >= 100
    assert coordinator.last_update_success
    after_reset = med_frozen.state.requests[sent:]
    assert after_reset
    assert min(r.time for r in after_reset) >= reset.timestamp()
    # The refused window was not taken for an empty one: it is the first asked again.
    assert (_counted(med_frozen)[limit + 1].path, _counted(med_frozen)[limit + 1].query) == (
        refused.path,
        refused.query,
    )
    # The Paris date moved on meanwhile: the curve's two months now start on 2026-09-23, and 2026-09-22 keeps only its
    # daily energy (at the start of the day, as for any day before the curve's history).
    rows = await async_statistics(hass, statistic)
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    curve_truth = truth_hours(P0, data.CONS, _days(date(2026, 9, 23), TODAY))
    assert set(curve_truth) <= set(got)
    for hour, wh in curve_truth.items():
        assert got[hour] == pytest.approx(wh, abs=1)
    first_day = await async_change(hass, statistic, paris_utc(date(2026, 9, 22)), paris_utc(date(2026, 9, 23)))
    assert first_day * 1000 == pytest.approx(data.daily_wh(P0, data.CONS, date(2026, 9, 22)), abs=1)
    assert min(got) == paris_utc(date(2026, 9, 22))
    assert_continuous(rows)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_enedis_error_mid_backfill_is_asked_again_and_nothing_is_lost(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, med_frozen: MedServer
) -> None:
    """Enedis fails behind the gateway for one window in the middle of the history import (the production curve
    route answers HTTP 200 ``ENEDIS_ERROR``, routers/enedis.py:1542): the entry stays loaded, the window is not
    recorded as empty but asked again later, and the statistics end equal to the ground truth."""
    freezer.move_to(NOW)
    _sync(med_frozen)
    await hass.config.async_set_time_zone("Europe/Paris")
    install_registry(hass, freezer)
    failing = "2026-10-18"
    med_frozen.config.failures.append(MedFailure(route="production/detail", prm=P_PROD, start=failing))
    entry = med_entry(med_frozen, [P_PROD])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data

    for _ in range(100):
        if med_frozen.config.failed:
            break
        await _step(hass, freezer, med_frozen, coordinator)
    assert med_frozen.config.failed == [("production/detail", P_PROD, failing, "2026-10-25")]
    assert entry.state is ConfigEntryState.LOADED
    assert not coordinator.last_update_success
    assert "ServerError HTTP 200 ENEDIS_ERROR" in coordinator.errors[-1][1]
    assert 0 < coordinator.data.prms[P_PROD].backfill_progress < 100

    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P_PROD].backfill_progress >= 100)
    assert coordinator.last_update_success
    asked = [r for r in _counted(med_frozen) if r.path.endswith(f"/production/detail/{P_PROD}")]
    assert [r.query["start"] for r in asked].count(failing) == 2  # refused once, then served
    rows = await async_statistics(hass, f"enedis:{P_PROD}_production")
    truth = truth_hours(P_PROD, data.PROD, _days(date(2026, 9, 22), TODAY))
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    assert set(got) == set(truth)
    for hour, wh in truth.items():
        assert got[hour] == pytest.approx(wh, abs=1)
    assert_continuous(rows)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_access_denied_refuses_that_prm_only(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, med_frozen: MedServer
) -> None:
    """A PRM the account does not cover is answered HTTP 200 ``ACCESS_DENIED`` (routers/enedis.py:300): that PRM is
    refused as a 403 refuses it (its data access says why, the user is asked through reauthentication, it is not
    asked again), while the entry stays loaded and the other PRM's import ends equal to the ground truth."""
    freezer.move_to(NOW)
    _sync(med_frozen)
    await hass.config.async_set_time_zone("Europe/Paris")
    install_registry(hass, freezer)
    med_frozen.config.clients[DEMO_CLIENT_ID] = (DEMO_CLIENT_SECRET, (P0,))
    entry = med_entry(med_frozen, [P0, P1])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data

    await async_run_until(hass, freezer, coordinator, lambda: P1 in coordinator.refused, max_steps=20)
    assert entry.state is ConfigEntryState.LOADED
    assert coordinator.refused[P1].code == "ACCESS_DENIED"
    assert coordinator.data.prms[P1].access == ACCESS_CONSENT_MISSING
    assert coordinator.data.prms[P0].access == ACCESS_OK
    flows = [f for f in hass.config_entries.flow.async_progress() if f["context"]["source"] == SOURCE_REAUTH]
    assert [f["context"]["entry_id"] for f in flows] == [entry.entry_id]
    refused = [r for r in _counted(med_frozen) if r.path.endswith(P1)]
    assert len(refused) == 1
    assert refused[0].status == 200

    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    assert coordinator.last_update_success
    assert [r for r in _counted(med_frozen) if r.path.endswith(P1)] == refused  # never asked again
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    truth = truth_hours(P0, data.CONS, _days(date(2026, 9, 22), TODAY))
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    assert set(got) == set(truth)
    for hour, wh in truth.items():
        assert got[hour] == pytest.approx(wh, abs=1)
    assert not await async_statistics(hass, f"enedis:{P1}_consumption")
    assert await hass.config_entries.async_unload(entry.entry_id)
