"""The sensors, set up for real against the fake Enedis gateway answering at the real Conso API URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import date, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import ClientCredential, async_import_client_credential
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from syrupy.assertion import SnapshotAssertion

from custom_components.enedis.api import CONSO_API_URL, Contract
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.entity import device_model
from custom_components.enedis.sensor import SENSORS
from tests.fake_enedis import data
from tests.fake_enedis.state import FakeState
from tests.integration.common import install_registry
from tests.integration.gateway import FakeGateway, fake_gateway_at_real_urls

TODAY = date(2026, 11, 22)
YESTERDAY = TODAY - timedelta(days=1)
NOW = "2026-11-22 11:00:00+00:00"  # 12:00 in Paris
PRM_CLIENT_0 = "22516914714270"
PRM_CLIENT_2 = "32320647321714"  # no load curve
PRM_CLIENT_3_CONSUMPTION = "12345678901234"
PRM_CLIENT_3_PRODUCTION = "10284856584123"
PRM_CLIENT_6 = "12655648759651"
CONSENT_EXPIRES = "2029-11-22T00:00:00+00:00"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's syrupy extension (registry entries and states)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def enable_all_entities() -> Iterator[None]:
    """Create every sensor enabled, including those disabled by default (as core's fixture does)."""
    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(
            "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
            property(lambda _self: True),
        )
        yield


@pytest.fixture
async def gateway(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
) -> AsyncIterator[FakeGateway]:
    """The fake gateway at the real URLs, with the clock frozen at 2026-11-22 12:00 Paris."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Paris")
    # The rate limiters, the coordinator and the fake's quotas share the freezer's clock: the limiter's short
    # waits (5 requests per second) tick it instead of sleeping, which a frozen event loop would never end.
    clock = install_registry(hass, freezer).clock
    state = FakeState(today=TODAY, time_of_day=time(12, 0), clock=clock.monotonic)
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway
        # Unload before the fake server closes, so that no refresh talks to a closing server.
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.state is ConfigEntryState.LOADED:
                assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def conso_entry(token: str, prms: list[str], **options: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky {prms[0]}",
        data={"source": "conso_api", "token": token, "base_url": CONSO_API_URL, "prms": prms},
        unique_id=prms[0],
        options=options,
    )


async def data_connect_entry(hass: HomeAssistant, prms: list[str]) -> MockConfigEntry:
    """A Data Connect entry on the sandbox, with the demo application's credentials."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(hass, DOMAIN, ClientCredential("demo-client-id", "demo-client-secret"), "cred")
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Linky {prms[0]}",
        data={
            "source": "data_connect",
            "auth_implementation": "cred",
            "environment": "sandbox",
            "consent_duration": "P3Y",
            "authorization_ids": ["consent-id-1"],
            "prms": prms,
            "consent_expires": CONSENT_EXPIRES,
        },
        unique_id=prms[0],
    )


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta, times: int = 1) -> None:
    """Move the clock and let the coordinator's scheduled refreshes run."""
    for _ in range(times):
        freezer.tick(delta)
        async_fire_time_changed(hass)
        # The coordinator refreshes in a background task.
        await hass.async_block_till_done(wait_background_tasks=True)


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up: its first refresh loads the cache and sends nothing."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def fetch(hass: HomeAssistant, freezer: FrozenDateTimeFactory, refreshes: int = 2) -> None:
    """Let the backfill's first burst (newest curve week, daily energy, max power) and a paced request run."""
    await advance(hass, freezer, timedelta(minutes=9), refreshes)


def entity_id(entity_registry: er.EntityRegistry, prm: str, key: str) -> str | None:
    return entity_registry.async_get_entity_id("sensor", DOMAIN, f"{prm}_{key}")


def state_of(hass: HomeAssistant, entity_registry: er.EntityRegistry, prm: str, key: str) -> State:
    entity = entity_id(entity_registry, prm, key)
    assert entity is not None, f"no {key} sensor for {prm}"
    state = hass.states.get(entity)
    assert state is not None
    return state


def assert_last_power(hass: HomeAssistant, entity_registry: er.EntityRegistry, prm: str) -> None:
    """Last power is the gateway's last load-curve point of yesterday: 23:30-24:00 in Paris, with its average W."""
    end, watts = data.curve_points(prm, data.CONS, YESTERDAY)[-1]
    last_power = state_of(hass, entity_registry, prm, "last_power")
    assert float(last_power.state) == watts
    assert last_power.attributes["interval_end"] == "2026-11-22T00:00:00+01:00" == end.astimezone(PARIS).isoformat()
    assert last_power.attributes["interval_start"] == "2026-11-21T23:30:00+01:00"


@pytest.mark.usefixtures("enable_all_entities")
async def test_sensors_snapshot(
    hass: HomeAssistant,
    gateway: FakeGateway,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    entry = conso_entry(gateway.state.demo_conso_token(), [PRM_CLIENT_0])
    await setup_entry(hass, entry)
    await fetch(hass, freezer)

    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
    assert dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id) == snapshot(name="devices")


async def test_values_unknown_until_fetched(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, entity_registry: er.EntityRegistry
) -> None:
    entry = conso_entry(gateway.state.conso_token_for_client(0), [PRM_CLIENT_0])
    await setup_entry(hass, entry)

    # The first refresh sends nothing: every measured value is unknown, never 0.
    assert gateway.state.requests == []
    for key in ("consumption_yesterday", "max_power_yesterday", "newest_day"):
        assert state_of(hass, entity_registry, PRM_CLIENT_0, key).state == STATE_UNKNOWN
    # Conso API serves no contract: no contract sensor. Last power waits for the first load-curve reading.
    for key in ("subscribed_power", "tariff", "last_power"):
        assert entity_id(entity_registry, PRM_CLIENT_0, key) is None, key
    progress = state_of(hass, entity_registry, PRM_CLIENT_0, "backfill_progress")
    assert float(progress.state) == 0
    assert progress.attributes["days_covered"] == 0
    assert state_of(hass, entity_registry, PRM_CLIENT_0, "expiry").state == "2100-01-01T00:00:00+00:00"

    # The request counter is noisy: disabled by default.
    requests = entity_registry.async_get(entity_id(entity_registry, PRM_CLIENT_0, "requests_today") or "")
    assert requests is not None
    assert requests.disabled_by is er.RegistryEntryDisabler.INTEGRATION

    await fetch(hass, freezer)
    consumption = state_of(hass, entity_registry, PRM_CLIENT_0, "consumption_yesterday")
    assert float(consumption.state) == pytest.approx(data.daily_wh(PRM_CLIENT_0, data.CONS, YESTERDAY) / 1000)
    assert consumption.attributes["date"] == "2026-11-21"
    assert consumption.attributes.get("state_class") is None  # the energy goes to external statistics
    assert state_of(hass, entity_registry, PRM_CLIENT_0, "newest_day").state == "2026-11-21"
    peak = state_of(hass, entity_registry, PRM_CLIENT_0, "max_power_yesterday")
    truth = data.max_power(PRM_CLIENT_0, YESTERDAY)
    assert truth is not None
    assert float(peak.state) == truth[0]
    assert peak.attributes["peak_time"] == truth[1].replace(tzinfo=PARIS).isoformat()
    assert_last_power(hass, entity_registry, PRM_CLIENT_0)


async def test_production_sensor_follows_the_directions(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, entity_registry: er.EntityRegistry
) -> None:
    consumer, producer = PRM_CLIENT_3_CONSUMPTION, PRM_CLIENT_3_PRODUCTION
    entry = conso_entry(gateway.state.conso_token_for_client(3), [consumer, producer])
    await setup_entry(hass, entry)
    # Conso API tells nothing of the meters: until the first requests, both directions are possible.
    assert entity_id(entity_registry, consumer, "production_yesterday") is not None
    assert entity_id(entity_registry, producer, "consumption_yesterday") is not None

    await fetch(hass, freezer)

    # The consumption meter refused production requests (and the reverse): their sensors are gone.
    for prm, key in (
        (consumer, "production_yesterday"),
        (producer, "consumption_yesterday"),
        (producer, "last_power"),
        (producer, "max_power_yesterday"),
    ):
        assert entity_id(entity_registry, prm, key) is None, (prm, key)
    production = state_of(hass, entity_registry, producer, "production_yesterday")
    assert float(production.state) == pytest.approx(data.daily_wh(producer, data.PROD, YESTERDAY) / 1000)
    assert production.attributes["date"] == "2026-11-21"
    consumption = state_of(hass, entity_registry, consumer, "consumption_yesterday")
    assert float(consumption.state) == pytest.approx(data.daily_wh(consumer, data.CONS, YESTERDAY) / 1000)
    # Entry-wide facts (token expiry, request count) live on the entry's first PRM only.
    assert entity_id(entity_registry, consumer, "expiry") is not None
    assert entity_id(entity_registry, producer, "expiry") is None
    assert entity_id(entity_registry, producer, "backfill_progress") is not None


async def test_self_consumption_meter_has_both_directions(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, entity_registry: er.EntityRegistry
) -> None:
    entry = conso_entry(gateway.state.conso_token_for_client(6), [PRM_CLIENT_6])
    await setup_entry(hass, entry)
    await fetch(hass, freezer)

    # Self-consumption: each direction is the meter's own netted series, not the household's raw figures.
    consumption = state_of(hass, entity_registry, PRM_CLIENT_6, "consumption_yesterday")
    production = state_of(hass, entity_registry, PRM_CLIENT_6, "production_yesterday")
    assert float(consumption.state) == pytest.approx(data.daily_wh(PRM_CLIENT_6, data.CONS, YESTERDAY) / 1000)
    assert float(production.state) == pytest.approx(data.daily_wh(PRM_CLIENT_6, data.PROD, YESTERDAY) / 1000)


async def test_production_not_imported_when_the_option_is_off(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, entity_registry: er.EntityRegistry
) -> None:
    entry = conso_entry(
        gateway.state.conso_token_for_client(6),
        [PRM_CLIENT_6],
        measures=["load_curve", "daily_energy", "max_power"],
    )
    await setup_entry(hass, entry)
    assert entity_id(entity_registry, PRM_CLIENT_6, "production_yesterday") is None
    assert entity_id(entity_registry, PRM_CLIENT_6, "consumption_yesterday") is not None


async def test_data_connect_contract_sensors_and_device(
    hass: HomeAssistant,
    gateway: FakeGateway,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = await data_connect_entry(hass, [PRM_CLIENT_0])
    await setup_entry(hass, entry)
    (device,) = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert device.model == "Linky"  # no contract before the first request
    assert device.manufacturer == "Enedis"
    assert device.serial_number == PRM_CLIENT_0
    assert device.name == f"Linky {PRM_CLIENT_0}"

    await advance(hass, freezer, timedelta(seconds=3))

    coordinator = entry.runtime_data
    contract = coordinator.contracts[PRM_CLIENT_0]
    assert contract.meter_type == "LINKY"  # Data Connect 2026's word for it: the model stays "Linky"
    updated = device_registry.async_get(device.id)
    assert updated is not None
    assert updated.model == "Linky"
    subscribed = state_of(hass, entity_registry, PRM_CLIENT_0, "subscribed_power")
    assert float(subscribed.state) == contract.subscribed_power_kva
    assert subscribed.attributes["unit_of_measurement"] == "kVA"
    tariff = state_of(hass, entity_registry, PRM_CLIENT_0, "tariff")
    assert tariff.state == contract.distribution_tariff
    assert tariff.attributes["offpeak_hours"] == contract.offpeak_hours
    assert state_of(hass, entity_registry, PRM_CLIENT_0, "expiry").state == CONSENT_EXPIRES
    assert_last_power(hass, entity_registry, PRM_CLIENT_0)

    # An older contract answer names the meter technology: the device model follows it.
    data = coordinator.data
    amm = replace(data.prms[PRM_CLIENT_0], contract=replace(contract, meter_type="AMM"))
    coordinator.async_set_updated_data(replace(data, prms={PRM_CLIENT_0: amm}))
    await hass.async_block_till_done()
    updated = device_registry.async_get(device.id)
    assert updated is not None
    assert updated.model == "Linky (AMM)"


@pytest.mark.parametrize(
    ("meter_type", "model"),
    [(None, "Linky"), ("", "Linky"), ("LINKY", "Linky"), ("AMM", "Linky (AMM)"), ("PMEI", "Linky (PMEI)")],
)
def test_device_model(meter_type: str | None, model: str) -> None:
    assert device_model(Contract(PRM_CLIENT_0, meter_type=meter_type)) == model
    assert device_model(None) == "Linky"


async def test_unavailable_while_the_coordinator_fails(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, entity_registry: er.EntityRegistry
) -> None:
    entry = conso_entry(gateway.state.conso_token_for_client(0), [PRM_CLIENT_0])
    await setup_entry(hass, entry)
    await fetch(hass, freezer, refreshes=1)
    consumption = entity_id(entity_registry, PRM_CLIENT_0, "consumption_yesterday")
    assert consumption is not None
    value = hass.states.get(consumption)
    assert value is not None
    assert value.state != STATE_UNAVAILABLE

    gateway.state.add_fault("technical_error", count=None)
    await advance(hass, freezer, timedelta(minutes=9))
    assert not entry.runtime_data.last_update_success
    for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        if not entity.disabled:
            state = hass.states.get(entity.entity_id)
            assert state is not None
            assert state.state == STATE_UNAVAILABLE, entity.entity_id

    gateway.state.clear_faults()
    await advance(hass, freezer, timedelta(minutes=9))
    assert entry.runtime_data.last_update_success
    recovered = hass.states.get(consumption)
    assert recovered is not None
    assert recovered.state == value.state

    # A snapshot without the PRM (never published by the coordinator today) makes its entities unavailable.
    coordinator = entry.runtime_data
    coordinator.async_set_updated_data(replace(coordinator.data, prms={}))
    await hass.async_block_till_done()
    missing = hass.states.get(consumption)
    assert missing is not None
    assert missing.state == STATE_UNAVAILABLE
    assert entity_id(entity_registry, PRM_CLIENT_0, "consumption_yesterday") == consumption  # not removed


async def test_unload_removes_the_entities(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, entity_registry: er.EntityRegistry
) -> None:
    entry = conso_entry(gateway.state.conso_token_for_client(0), [PRM_CLIENT_0])
    await setup_entry(hass, entry)
    await fetch(hass, freezer, refreshes=1)
    entities = [
        e.entity_id for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id) if not e.disabled
    ]
    # Conso API, consumption only: no production sensor and no contract sensor.
    absent = {"production_yesterday", "subscribed_power", "tariff"}
    assert len(entities) == len([d for d in SENSORS if d.entity_registry_enabled_default and d.key not in absent])

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    for entity in entities:
        state = hass.states.get(entity)
        assert state is None or state.state == STATE_UNAVAILABLE, entity
    sent = len(gateway.state.requests)
    # No refresh runs once unloaded.
    await advance(hass, freezer, timedelta(minutes=30))
    assert len(gateway.state.requests) == sent

    # The registry keeps the entities (with their ids) for the next setup.
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    for entity in entities:
        state = hass.states.get(entity)
        assert state is not None
        assert state.state != STATE_UNAVAILABLE, entity


async def test_sensors_that_could_never_get_a_value_are_not_created(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, entity_registry: er.EntityRegistry
) -> None:
    """Data Connect: no contract sensors on a production-only PRM, no Last power on a PRM without load curve.

    Registry entries an older version created for them are removed.
    """
    consumer, producer, no_curve = PRM_CLIENT_3_CONSUMPTION, PRM_CLIENT_3_PRODUCTION, PRM_CLIENT_2
    entry = await data_connect_entry(hass, [consumer, producer, no_curve])
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={"curve_history_months": 1, "daily_history_months": 1})
    stale = [(producer, "subscribed_power"), (producer, "tariff"), (no_curve, "last_power")]
    for prm, key in stale:
        entity_registry.async_get_or_create("sensor", DOMAIN, f"{prm}_{key}", config_entry=entry)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    for _ in range(40):
        if all(coordinator.data.prms[prm].backfill_progress >= 100 for prm in (consumer, no_curve)):
            break
        await advance(hass, freezer, timedelta(minutes=1))
    assert coordinator.data.prms[no_curve].backfill_progress >= 100
    assert gateway.state.count("/courbe_de_charge_consommation", 404) > 0  # client 2 has no load curve

    assert not coordinator.contracts[producer].has_consumption
    for prm, key in [*stale, (producer, "last_power")]:
        assert entity_id(entity_registry, prm, key) is None, (prm, key)
    for prm, key in ((consumer, "subscribed_power"), (consumer, "tariff"), (no_curve, "subscribed_power")):
        assert state_of(hass, entity_registry, prm, key).state != STATE_UNKNOWN, (prm, key)
    assert_last_power(hass, entity_registry, consumer)
    consumption = state_of(hass, entity_registry, no_curve, "consumption_yesterday")
    assert float(consumption.state) == pytest.approx(data.daily_wh(no_curve, data.CONS, YESTERDAY) / 1000)


async def test_last_power_appears_with_the_load_curve(
    hass: HomeAssistant, gateway: FakeGateway, freezer: FrozenDateTimeFactory, entity_registry: er.EntityRegistry
) -> None:
    """Without the load-curve measure there is no Last power; choosing it creates the sensor when data arrives."""
    entry = conso_entry(gateway.state.conso_token_for_client(0), [PRM_CLIENT_0], measures=["daily_energy", "max_power"])
    await setup_entry(hass, entry)
    await fetch(hass, freezer)
    assert entry.runtime_data.data.prms[PRM_CLIENT_0].load_curve is False
    assert entity_id(entity_registry, PRM_CLIENT_0, "last_power") is None

    hass.config_entries.async_update_entry(entry, options={"measures": ["load_curve", "daily_energy", "max_power"]})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entity_id(entity_registry, PRM_CLIENT_0, "last_power") is None  # nothing fetched yet: not known
    await fetch(hass, freezer)
    assert_last_power(hass, entity_registry, PRM_CLIENT_0)
