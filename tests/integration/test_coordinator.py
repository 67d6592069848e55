"""The schedule and the error handling of the coordinator, against the fake gateway at the real URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api import Direction
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.limiter import CONSO_API_QUOTAS
from custom_components.enedis.const import DOMAIN
from tests.fake_enedis import data
from tests.fake_enedis.state import DEMO_CONSO_EXP, FakeState

from .common import (
    assert_continuous,
    async_import_demo_credentials,
    async_run_until,
    async_statistics,
    async_step,
    conso_entry,
    data_connect_entry,
    install_registry,
    truth_hours,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

STRINGS = Path(__file__).parents[2] / "custom_components" / "enedis" / "strings.json"
P0 = "22516914714270"
P8 = "26584978546985"
TWO_MONTHS = {"curve_history_months": 2, "daily_history_months": 2}


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(time_of_day=time(12), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


def sync(gateway: FakeGateway) -> None:
    now = dt_util.now(PARIS)
    gateway.state.today = now.date()
    gateway.state.time_of_day = now.time()


async def go_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, coordinator, moment):
    """Move to ``moment`` and run every refresh due until then."""
    while dt_util.utcnow() < moment:
        step = min(coordinator.update_interval or timedelta(seconds=1), moment - dt_util.utcnow())
        freezer.tick(step + timedelta(milliseconds=1))
        sync(gateway)
        from pytest_homeassistant_custom_component.common import async_fire_time_changed

        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def setup_conso(hass, freezer, gateway, prm=P0, client=0, **options):
    install_registry(hass, freezer)
    entry = conso_entry(gateway.state.conso_token_for_client(client), [prm], **(options or TWO_MONTHS))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry, entry.runtime_data


async def setup_data_connect(hass, freezer, gateway, prms, **options):
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    entry = data_connect_entry(prms, **(options or TWO_MONTHS))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry, entry.runtime_data


async def test_steady_state_costs_one_call_per_measure_once_published(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    today = date(2026, 11, 22)
    freezer.move_to(paris(today, 12))
    sync(gateway)
    entry, coordinator = await setup_conso(hass, freezer, gateway)
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    await go_to(hass, freezer, gateway, coordinator, paris(today, 23))
    before = gateway.state.count()

    # Next day: one poll at this installation's time (after 08:00 publication) = 1 call per measure.
    tomorrow = today + timedelta(days=1)
    await go_to(hass, freezer, gateway, coordinator, paris(tomorrow, 23))
    calls = gateway.state.requests[before:]
    assert sorted(r.path.rsplit("/", 1)[1] for r in calls) == [
        "consommation_quotidienne",
        "courbe_de_charge_consommation",
        "puissance_conso_max_quotidienne",
    ]
    # The late-correction refetch of the day before yesterday rides in the same windows.
    curve = next(r for r in calls if r.path.endswith("courbe_de_charge_consommation"))
    assert (curve.query["dateDebut"], curve.query["dateFin"]) == ("2026-11-21", "2026-11-23")
    assert coordinator.data.prms[P0].consumption_yesterday_wh == data.daily_wh(P0, data.CONS, today)
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    assert_continuous(rows)

    # A day published late: retried every 1-2 hours until it appears, then nothing more that day.
    day_after = tomorrow + timedelta(days=1)
    gateway.state.late_days[tomorrow] = 6  # published at 14:00 instead of 08:00
    before = gateway.state.count()
    await go_to(hass, freezer, gateway, coordinator, paris(day_after, 23, 30))
    calls = gateway.state.requests[before:]
    curve_calls = [r for r in calls if r.path.endswith("courbe_de_charge_consommation")]
    assert 2 <= len(curve_calls) <= 6
    assert curve_calls[-1].status == 200
    assert coordinator.data.prms[P0].newest_complete_day == tomorrow
    # After the data came, no further call that day.
    assert all(r.time <= curve_calls[-1].time + 1 for r in calls)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_no_request_while_the_quota_is_exhausted(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    freezer.move_to(paris(date(2026, 11, 22), 12))
    sync(gateway)
    registry = install_registry(hass, freezer)
    limiter = registry.get("conso.boris.sh", "conso_api", CONSO_API_QUOTAS)
    for _ in range(90):
        await limiter.acquire()
    entry, coordinator = await setup_conso(hass, freezer, gateway)
    await async_step(hass, freezer, coordinator)
    assert gateway.state.count() == 0
    assert coordinator.last_update_success  # pacing is not a failure
    # It sleeps until the rolling 12-hour window frees the budget, then goes on.
    assert timedelta(hours=11) < coordinator.update_interval <= timedelta(hours=12)
    await async_step(hass, freezer, coordinator)
    assert gateway.state.count() > 0
    assert gateway.state.count("", 429) == 0
    await hass.config_entries.async_unload(entry.entry_id)


async def test_server_429_backs_off_and_recovers(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    freezer.move_to(paris(date(2026, 11, 22), 12))
    sync(gateway)
    entry, coordinator = await setup_conso(hass, freezer, gateway)
    gateway.state.add_fault("throttle")
    await async_step(hass, freezer, coordinator)
    assert not coordinator.last_update_success
    assert coordinator.update_interval >= timedelta(minutes=1)
    sent = gateway.state.count()
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    assert coordinator.last_update_success
    assert gateway.state.count("", 429) == 1
    assert gateway.state.count() > sent
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("kind", ["technical_error", "plain_500", "malformed_json", "html_error"])
async def test_server_errors_retry_with_backoff(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, kind: str
) -> None:
    freezer.move_to(paris(date(2026, 11, 22), 12))
    sync(gateway)
    entry, coordinator = await setup_conso(hass, freezer, gateway)
    gateway.state.add_fault(kind, count=2)  # type: ignore[arg-type]
    await async_step(hass, freezer, coordinator)
    assert not coordinator.last_update_success
    first = coordinator.update_interval
    await async_step(hass, freezer, coordinator)
    assert coordinator.update_interval == first * 2
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    assert_continuous(rows)
    # Nothing lost to the failed requests: every hour of the two months (2026-09-22 .. 2026-11-21, 61 days, one of
    # them the 25-hour 2026-10-25) equals the gateway's ground truth.
    truth = truth_hours(P0, data.CONS, [date(2026, 9, 22) + timedelta(days=i) for i in range(61)])
    assert len(truth) == 24 * 61 + 1
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    assert got == pytest.approx(truth, abs=1e-6)
    await hass.config_entries.async_unload(entry.entry_id)


def requests_about(gateway: FakeGateway, prm: str) -> list[int]:
    """Statuses of the requests about ``prm`` (PRM in the path, or as ``pointId``)."""
    return [r.status for r in gateway.state.requests if prm in r.path or r.query.get("pointId") == prm]


def sensor(hass: HomeAssistant, prm: str, key: str) -> State:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{prm}_{key}")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return state


def reauth_flows(hass: HomeAssistant) -> list[dict[str, Any]]:
    return [f for f in hass.config_entries.flow.async_progress() if f["context"]["source"] == SOURCE_REAUTH]


async def test_sandbox_refused_prm_stops_alone_with_a_repair_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, issue_registry: ir.IssueRegistry
) -> None:
    """The issue's repro (sandbox, clients 0 and 8): client 8 is refused once, then never asked again, even after
    a restart; client 0 is imported and stays available; a repair issue names client 8's PRM."""
    freezer.move_to(paris(date(2026, 11, 22), 12))
    sync(gateway)
    entry, coordinator = await setup_data_connect(hass, freezer, gateway, [P0, P8])
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    assert coordinator.last_update_success
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    assert len(rows) > 24 * 55
    assert_continuous(rows)
    assert not await async_statistics(hass, f"enedis:{P8}_consumption")
    assert sensor(hass, P0, "consumption_yesterday").state != STATE_UNAVAILABLE
    assert sensor(hass, P0, "access").state == "ok"
    # Client 8's device: its entities unavailable, but the one that says why.
    assert sensor(hass, P8, "consumption_yesterday").state == STATE_UNAVAILABLE
    assert sensor(hass, P8, "backfill_progress").state == STATE_UNAVAILABLE
    access = sensor(hass, P8, "access")
    assert access.state == "consent_missing"
    assert access.attributes["code"] == "ADAM-DC-0008"
    assert requests_about(gateway, P8) == [403]
    issue = issue_registry.async_get_issue(DOMAIN, f"access_refused_{P8}")
    assert issue is not None
    assert issue.translation_key == "access_refused_sandbox"
    assert issue.translation_placeholders["prm"] == P8
    assert not reauth_flows(hass)  # new credentials cannot bring a sandbox customer's consent back

    # Restart: the refusal is remembered; client 8 is not asked again and its issue is raised again.
    ir.async_delete_issue(hass, DOMAIN, f"access_refused_{P8}")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    for _ in range(5):
        await async_step(hass, freezer, coordinator)
    assert requests_about(gateway, P8) == [403]
    assert sensor(hass, P8, "access").state == "consent_missing"
    assert sensor(hass, P8, "consumption_yesterday").state == STATE_UNAVAILABLE
    assert sensor(hass, P0, "consumption_yesterday").state != STATE_UNAVAILABLE
    assert issue_registry.async_get_issue(DOMAIN, f"access_refused_{P8}") is not None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_refused_prm_asks_a_reauthentication_that_verifies_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """Conso API, one token for clients 0 and 8: the reauthentication names client 8's PRM, refuses to say success
    while Enedis still refuses it, and once it can verify it, the reload polls client 8 again (no loop)."""
    freezer.move_to(paris(date(2026, 11, 22), 12))
    sync(gateway)
    install_registry(hass, freezer)
    token = gateway.state.make_conso_token([P0, P8], DEMO_CONSO_EXP)
    entry = conso_entry(token, [P0, P8], **TWO_MONTHS)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    assert coordinator.last_update_success
    assert sensor(hass, P0, "consumption_yesterday").state != STATE_UNAVAILABLE
    assert sensor(hass, P8, "consumption_yesterday").state == STATE_UNAVAILABLE
    assert requests_about(gateway, P8) == [403]
    (flow,) = reauth_flows(hass)
    form = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert form["step_id"] == "reauth_confirm"
    assert form["description_placeholders"]["prms"] == P8

    # The same token: Enedis still refuses client 8, so the form says so instead of "successful".
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"token": token})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "consent_missing"}
    assert result["description_placeholders"]["refused"] == P8
    assert entry.runtime_data is coordinator  # not reloaded
    assert P8 in coordinator.refused

    # The holder shares client 8 again and pastes the new token: verified, reloaded, client 8 imported.
    gateway.state.grant_consent(P8)
    new_token = gateway.state.make_conso_token([P8, P0], DEMO_CONSO_EXP)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"token": new_token})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    assert not coordinator.refused
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P8].backfill_progress >= 100)
    assert sensor(hass, P8, "access").state == "ok"
    assert sensor(hass, P8, "consumption_yesterday").state != STATE_UNAVAILABLE
    assert_continuous(await async_statistics(hass, f"enedis:{P8}_consumption"))
    assert not reauth_flows(hass)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unsubscribed_api_opens_a_repair_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, issue_registry: ir.IssueRegistry
) -> None:
    freezer.move_to(paris(date(2026, 11, 22), 12))
    sync(gateway)
    gateway.state.unsubscribed_apis.update({"comptage_auto", "mesure_synchrone_auto"})
    entry, coordinator = await setup_data_connect(hass, freezer, gateway, [P0])
    for _ in range(5):
        await async_step(hass, freezer, coordinator)
    issues = {
        issue.translation_placeholders["api"] for issue in issue_registry.issues.values() if issue.domain == DOMAIN
    }
    assert issues == {"comptage_auto/v1", "mesure_synchrone_auto/v2"}
    # One refused call per API: no hammering of an API the application cannot use.
    assert gateway.state.count("/mesure_synchrone_auto/v2/", 403) == 1
    # Diagnostics list both, the one the contract refresh found included (the day's reset comes before it).
    assert coordinator.diagnostics()["unsubscribed_apis"] == ["comptage_auto/v1", "mesure_synchrone_auto/v2"]
    assert coordinator.contracts[P0].offpeak_hours is None
    assert coordinator.contracts[P0].subscribed_power_kva is not None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_full_backfill_writes_each_row_about_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """2 years of curve and 3 of daily energy through Data Connect: rows written <= 3 x rows stored, sums from 0."""
    today = date(2026, 11, 22)
    freezer.move_to(paris(today, 12))
    sync(gateway)
    entry, coordinator = await setup_data_connect(
        hass, freezer, gateway, [P0], curve_history_months=24, daily_history_months=36
    )
    await async_run_until(
        hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100, max_steps=200
    )
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    assert len(rows) > 24 * 365 * 2
    assert coordinator.rows_written <= 3 * len(rows)
    assert rows[0]["sum"] == pytest.approx(rows[0]["state"], abs=1e-9)
    assert_continuous(rows)
    curve_calls = gateway.state.count("/courbe_de_charge_consommation")
    assert curve_calls == gateway.state.count("/courbe_de_charge_consommation", 200) <= 106
    assert gateway.state.count("/consommation_quotidienne") <= 4
    assert gateway.state.count("/courbe_de_charge_production") == 0  # the contract says: no production
    await hass.config_entries.async_unload(entry.entry_id)


async def test_services_refuse_while_awaiting_reauth(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """A refused token: refetch / import_history raise a translated error instead of reporting success."""
    freezer.move_to(paris(date(2026, 11, 22), 12))
    sync(gateway)
    entry, coordinator = await setup_conso(hass, freezer, gateway)
    gateway.state.conso_secret = "rotated"  # every token issued so far is now refused (401)
    await async_run_until(hass, freezer, coordinator, lambda: any(entry.async_get_active_flows(hass, {"reauth"})))
    assert entry.state is ConfigEntryState.LOADED
    english = json.loads((STRINGS.parent / "translations" / "en.json").read_text())["exceptions"]["reauth_required"]
    french = json.loads((STRINGS.parent / "translations" / "fr.json").read_text())["exceptions"]["reauth_required"]
    assert french["message"] != english["message"]
    calls = (
        ("refetch", {"prm": P0, "start": "2026-11-01", "end": "2026-11-03"}),
        ("import_history", {"prm": P0, "start": "2026-08-01"}),
    )
    for service, service_data in calls:
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(DOMAIN, service, service_data, blocking=True)
        assert raised.value.translation_key == "reauth_required"
        # Home Assistant shows the English text (without its final full stop) when no language is asked for.
        assert str(raised.value) == english["message"].format(prm=P0).rstrip(".")
    # The reauthentication flow dismissed: the refused credentials still block the calls.
    for flow in entry.async_get_active_flows(hass, {"reauth"}):
        hass.config_entries.flow.async_abort(flow["flow_id"])
    with pytest.raises(ServiceValidationError, match="reauthentic"):
        await hass.services.async_call(DOMAIN, "refetch", calls[0][1], blocking=True)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_services_name_what_is_missing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """A call that cannot do what it says raises a translated error naming why: the entry importing the PRM is not
    loaded, no entry has the given id, several meters and no PRM chosen for a comparison."""
    freezer.move_to(paris(date(2026, 11, 22), 12))
    sync(gateway)
    entry, _ = await setup_conso(hass, freezer, gateway)
    other = conso_entry(gateway.state.demo_conso_token(), ["12345678901234"])
    other.add_to_hass(hass)  # a second meter, in an entry not set up
    english = json.loads((STRINGS.parent / "translations" / "en.json").read_text())["exceptions"]
    french = json.loads((STRINGS.parent / "translations" / "fr.json").read_text())["exceptions"]
    calls = (
        ("compare_tariffs", {"config_entry_id": "no-such-entry"}, "unknown_entry", {"entry_id": "no-such-entry"}),
        ("compare_tariffs", {}, "prm_required", {}),
        ("refetch", {"prm": "12345678901234", "start": "2026-11-01", "end": "2026-11-03"}, "entry_not_loaded", {}),
    )
    for service, service_data, key, placeholders in calls:
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(
                DOMAIN, service, service_data, blocking=True, return_response=service == "compare_tariffs"
            )
        assert raised.value.translation_key == key
        values = placeholders or {"prm": "12345678901234"}
        assert str(raised.value) == english[key]["message"].format(**values).rstrip(".")
        assert french[key]["message"] != english[key]["message"]
    # The loaded meter's PRM, named, gets past them (to what its Conso API entry lacks for a comparison).
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(DOMAIN, "compare_tariffs", {"prm": P0}, blocking=True, return_response=True)
    assert raised.value.translation_key == "subscribed_power_unknown"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_services(hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway) -> None:
    today = date(2026, 11, 22)
    freezer.move_to(paris(today, 12))
    sync(gateway)
    entry, coordinator = await setup_conso(hass, freezer, gateway)
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "refetch", {"prm": "12345678901234", "start": "2026-11-01", "end": "2026-11-02"}, blocking=True
        )
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "refetch", {"prm": P0, "start": "2026-11-05", "end": "2026-11-02"}, blocking=True
        )
    before = gateway.state.count()
    await hass.services.async_call(
        DOMAIN, "refetch", {"prm": P0, "start": "2026-11-01", "end": "2026-11-03"}, blocking=True
    )
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    refetched = [r for r in gateway.state.requests[before:] if r.path.endswith("courbe_de_charge_consommation")]
    # One window covers the 3 days; the older weeks, already known, are passed without a request.
    assert [(r.query["dateDebut"], r.query["dateFin"]) for r in refetched] == [("2026-10-28", "2026-11-04")]

    before = gateway.state.count()
    await hass.services.async_call(DOMAIN, "import_history", {"prm": P0, "start": "2026-08-01"}, blocking=True)
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    older = [r for r in gateway.state.requests[before:] if r.path.endswith("courbe_de_charge_consommation")]
    assert min(r.query["dateDebut"] for r in older) == "2026-08-01"
    rows = await async_statistics(hass, f"enedis:{P0}_consumption")
    assert_continuous(rows)
    assert datetime.fromtimestamp(rows[0]["start"], UTC).astimezone(PARIS).date() == date(2026, 8, 1)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_refetch_asks_again_for_every_measure_of_older_days(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """`refetch` of days older than the daily poll's 14 days: load curve, daily energy, maximum power and the index
    registers are all asked again and come back. It used to forget a day's maximum power but keep it as fetched, so
    the backfill never asked again and the day lost its maximum power for good (issue 11); the registers were
    neither forgotten nor asked again."""
    today = date(2026, 11, 22)
    freezer.move_to(paris(today, 12))
    sync(gateway)
    entry, coordinator = await setup_data_connect(hass, freezer, gateway, [P0], tariff_option="hphc", **TWO_MONTHS)
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    days = [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)]
    series = coordinator.store.cache.prm(P0).series[Direction.CONSUMPTION]
    assert all(day in series.max_power and day in series.registers for day in days)

    before = gateway.state.count()
    await hass.services.async_call(
        DOMAIN, "refetch", {"prm": P0, "start": "2026-10-01", "end": "2026-10-03"}, blocking=True
    )
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    calls = gateway.state.requests[before:]
    for resource in (
        "courbe_de_charge_consommation",
        "consommation_quotidienne",
        "puissance_conso_max_quotidienne",
        "index_consommation",
    ):
        windows = [(r.query["dateDebut"], r.query["dateFin"]) for r in calls if r.path.endswith(f"/{resource}")]
        assert any(start <= "2026-10-01" and end >= "2026-10-04" for start, end in windows), (resource, windows)
    series = coordinator.store.cache.prm(P0).series[Direction.CONSUMPTION]
    for day in days:
        truth = data.max_power(P0, day)
        assert truth is not None
        assert series.max_power[day].value == truth[0]
        assert series.max_power[day].at is not None
        assert series.max_power[day].at.astimezone(PARIS).replace(tzinfo=None) == truth[1]
        assert series.daily[day] == data.daily_wh(P0, data.CONS, day)
        offpeak, peak = data.daily_split_wh(P0, data.CONS, day)
        assert series.registers[day] == {"HC": offpeak, "HP": peak}
    await hass.config_entries.async_unload(entry.entry_id)
