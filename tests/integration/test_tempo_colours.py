"""Tempo colours after the shipped calendar: RTE's season endpoint (through the fake gateway at its real URL), at most
once a day, cached in the Store; the colour entity wins; unknown days are never guessed."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.rte_tempo import RTE_TEMPO_URL, async_get_tempo_season
from custom_components.enedis.tariff_data import load_price_data
from custom_components.enedis.tariffs import tempo_day
from custom_components.enedis.tempo_colours import DATA_KEY, STORAGE_KEY, async_colours
from tests.fake_enedis.rte import RTE_TEMPO_PATH, season_colours
from tests.fake_enedis.state import FakeState

from .common import (
    async_import_demo_credentials,
    async_run_until,
    async_statistics,
    by_hour,
    data_connect_entry,
    install_registry,
    paris_utc as paris,
)
from .gateway import FakeGateway, fake_gateway_at_real_urls

P0 = "22516914714270"
LOGGER = "custom_components.enedis.tempo_colours"
TODAY = date(2026, 12, 1)
RTE_2026 = season_colours(2026)
"""The fake RTE's colours of season 2026-2027 (its ground truth)."""
PRICES = {
    "blue_offpeak": 0.1,
    "blue_peak": 0.2,
    "white_offpeak": 0.3,
    "white_peak": 0.4,
    "red_offpeak": 0.5,
    "red_peak": 0.9,
}


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.fixture
async def gateway(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, socket_enabled: None
) -> AsyncIterator[FakeGateway]:
    state = FakeState(today=TODAY, time_of_day=time(9), clock=lambda: dt_util.utcnow().timestamp())
    async with fake_gateway_at_real_urls(aioclient_mock, state) as gateway:
        yield gateway


def move(freezer: FrozenDateTimeFactory, gateway: FakeGateway, moment: datetime) -> None:
    """Home Assistant's clock and the fake gateway's (RTE's 'today') to ``moment``."""
    freezer.move_to(moment)
    local = moment.astimezone(PARIS)
    gateway.state.today = local.date()
    gateway.state.time_of_day = local.time()


def requests(gateway: FakeGateway) -> int:
    return gateway.state.count(RTE_TEMPO_PATH)


def warned(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The warnings of the colour source (not asyncio's about the time jumps)."""
    return [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


def restart(hass: HomeAssistant) -> None:
    """What a restart leaves of the shared colour source: its Store file only."""
    hass.data.pop(DATA_KEY, None)


async def test_the_fake_rte_endpoint(hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway) -> None:
    """The fake's season, read by the library at RTE's real URL: RTE's rules, days to today (tomorrow from 11:00)."""
    session = async_get_clientsession(hass)
    assert Counter(RTE_2026.values()) == {"blue": 300, "white": 43, "red": 22}
    assert all(day.weekday() < 5 and day.month in (11, 12, 1, 2, 3) for day, c in RTE_2026.items() if c == "red")
    assert all(day.weekday() != 6 for day, colour in RTE_2026.items() if colour == "white")
    move(freezer, gateway, paris(TODAY, 10, 59))
    assert await async_get_tempo_season(session, "2026-2027") == {
        day: RTE_2026[day] for day in days(date(2026, 9, 1), TODAY)
    }
    move(freezer, gateway, paris(TODAY, 11))
    assert max(await async_get_tempo_season(session, "2026-2027")) == TODAY + timedelta(days=1)
    assert await async_get_tempo_season(session, "2027-2028") == {}
    async with session.get(RTE_TEMPO_URL, params={"season": "2026"}) as response:
        assert response.status == 400
    assert requests(gateway) == 4


async def test_rte_is_asked_at_most_once_a_day(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, hass_storage: dict[str, Any]
) -> None:
    move(freezer, gateway, paris(TODAY, 9))
    # Shipped seasons never ask RTE: the calendar shipped with the integration answers them.
    shipped = load_price_data().tempo
    colours = await async_colours(hass, date(2025, 9, 1), date(2026, 8, 31))
    assert colours == {day: shipped[day] for day in days(date(2025, 9, 1), date(2026, 8, 31))}
    assert requests(gateway) == 0

    # Season 2026-2027 is not shipped: RTE's colours, to today (tomorrow's is announced at 11:00), none guessed.
    colours = await async_colours(hass, date(2026, 8, 30), TODAY + timedelta(days=10))
    assert requests(gateway) == 1
    assert colours == {
        date(2026, 8, 30): shipped[date(2026, 8, 30)],
        date(2026, 8, 31): shipped[date(2026, 8, 31)],
        **{day: RTE_2026[day] for day in days(date(2026, 9, 1), TODAY)},
    }
    assert {"red", "white", "blue"} <= set(colours.values())
    saved = hass_storage[STORAGE_KEY]["data"]["seasons"]["2026-2027"]
    assert saved["asked"] == [paris(TODAY, 9).isoformat()]
    assert len(saved["colours"]) == (TODAY - date(2026, 9, 1)).days + 1

    # A second refresh the same day, and days after tomorrow: no request.
    assert await async_colours(hass, date(2026, 10, 1), TODAY) == {
        day: RTE_2026[day] for day in days(date(2026, 10, 1), TODAY)
    }
    assert await async_colours(hass, TODAY + timedelta(days=2), TODAY + timedelta(days=9)) == {}
    move(freezer, gateway, paris(TODAY, 10, 59))
    await async_colours(hass, TODAY - timedelta(days=1), TODAY + timedelta(days=1))
    assert requests(gateway) == 1

    # A restart the same day: the cache and the attempt's time come back from the Store, no request.
    restart(hass)
    assert await async_colours(hass, date(2026, 11, 1), TODAY) == {
        day: RTE_2026[day] for day in days(date(2026, 11, 1), TODAY)
    }
    assert requests(gateway) == 0 + 1

    # From 11:00, one more attempt for tomorrow's colour (announced by then), and no more that day.
    move(freezer, gateway, paris(TODAY, 11, 5))
    tomorrow = TODAY + timedelta(days=1)
    assert await async_colours(hass, TODAY, tomorrow) == {TODAY: RTE_2026[TODAY], tomorrow: RTE_2026[tomorrow]}
    assert requests(gateway) == 2
    move(freezer, gateway, paris(TODAY, 23, 59))
    await async_colours(hass, TODAY, tomorrow + timedelta(days=1))
    assert requests(gateway) == 2

    # The next day: one request (the importer asks up to yesterday), whatever the number of refreshes or restarts.
    move(freezer, gateway, paris(tomorrow, 0, 30))
    await async_colours(hass, TODAY - timedelta(days=7), TODAY)
    assert requests(gateway) == 3
    await async_colours(hass, TODAY - timedelta(days=7), TODAY)
    restart(hass)
    move(freezer, gateway, paris(tomorrow, 10))
    await async_colours(hass, TODAY - timedelta(days=7), TODAY + timedelta(days=2))
    assert requests(gateway) == 3
    assert [r.query for r in gateway.state.requests if r.path == RTE_TEMPO_PATH] == [{"season": "2026-2027"}] * 3


async def test_a_past_season_not_shipped_is_kept_once_complete(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """Season 2026-2027 seen from 2027-10: complete after one request, never asked again."""
    later = date(2027, 10, 5)
    move(freezer, gateway, paris(later, 9))
    colours = await async_colours(hass, date(2027, 8, 1), later)
    assert requests(gateway) == 2  # one request per season: 2026-2027 and 2027-2028
    assert colours == {day: season_colours(day.year if day.month >= 9 else day.year - 1)[day] for day in colours}
    assert set(colours) == set(days(date(2027, 8, 1), later))
    move(freezer, gateway, paris(later + timedelta(days=1), 9))
    assert await async_colours(hass, date(2027, 8, 1), date(2027, 8, 31)) == {
        day: RTE_2026[day] for day in days(date(2027, 8, 1), date(2027, 8, 31))
    }
    assert requests(gateway) == 2
    await async_colours(hass, date(2027, 8, 1), later + timedelta(days=1))
    assert [r.query["season"] for r in gateway.state.requests] == ["2026-2027", "2027-2028", "2027-2028"]


async def test_the_colour_entity_wins(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    entity = "sensor.rte_tempo_couleur_actuelle"
    first = TODAY - timedelta(days=5)
    # Contradicting RTE on purpose: the entity's "Rouge" every day, except one day it is unavailable.
    unknown = TODAY - timedelta(days=3)
    for day in days(first, TODAY):
        move(freezer, gateway, paris(day, 6, 1))
        hass.states.async_set(entity, "unavailable" if day == unknown else "Rouge")
        await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    move(freezer, gateway, paris(TODAY, 12))

    # Days the entity knows need no request.
    known = [day for day in days(first, TODAY) if day != unknown]
    assert await async_colours(hass, TODAY - timedelta(days=2), TODAY, entity_id=entity) == dict.fromkeys(
        days(TODAY - timedelta(days=2), TODAY), "red"
    )
    assert requests(gateway) == 0
    # The others come from RTE (before the entity's history, and the day it said nothing).
    colours = await async_colours(hass, first - timedelta(days=3), TODAY, entity_id=entity)
    assert requests(gateway) == 1
    assert colours == {
        **{day: RTE_2026[day] for day in days(first - timedelta(days=3), TODAY)},
        **dict.fromkeys(known, "red"),
    }
    assert colours[unknown] == RTE_2026[unknown] != "red"


async def test_a_failing_rte_keeps_the_cache_and_guesses_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    move(freezer, gateway, paris(TODAY, 9))
    # The first attempt fails: nothing is known, nothing guessed, and no retry that day.
    gateway.state.add_fault("plain_500", path=RTE_TEMPO_PATH)
    assert await async_colours(hass, date(2026, 11, 1), TODAY) == {}
    assert await async_colours(hass, date(2026, 11, 1), TODAY) == {}
    assert requests(gateway) == 1
    warnings = warned(caplog)
    assert len(warnings) == 1
    assert "2026-2027" in warnings[0].getMessage()

    # Next day it answers: the season to that day is cached.
    day_2 = TODAY + timedelta(days=1)
    move(freezer, gateway, paris(day_2, 9))
    assert await async_colours(hass, date(2026, 11, 1), day_2) == {
        day: RTE_2026[day] for day in days(date(2026, 11, 1), day_2)
    }
    assert requests(gateway) == 2

    # Then a 500 and a malformed body on the following days: the cache still answers, the new day stays unknown,
    # and the failure is not logged as a warning again.
    for offset, fault in ((2, "technical_error"), (3, "malformed_json")):
        day = TODAY + timedelta(days=offset)
        move(freezer, gateway, paris(day, 9))
        gateway.state.add_fault(fault, path=RTE_TEMPO_PATH)  # type: ignore[arg-type]
        assert await async_colours(hass, date(2026, 11, 1), day) == {
            known: RTE_2026[known] for known in days(date(2026, 11, 1), day_2)
        }
        assert requests(gateway) == offset + 1
    assert len(warned(caplog)) == 2  # day 1, and day 3 after a success
    assert gateway.state.faults == []
    # The cache and the day's failed attempt survive a restart: no new request, the same answer.
    restart(hass)
    assert await async_colours(hass, date(2026, 11, 1), TODAY + timedelta(days=3)) == {
        known: RTE_2026[known] for known in days(date(2026, 11, 1), day_2)
    }
    assert requests(gateway) == 4


# ----------------------------------------------------------------------------------------------- end to end


async def setup_tempo_entry(hass: HomeAssistant, freezer: FrozenDateTimeFactory, **options: Any):
    install_registry(hass, freezer)
    await async_import_demo_credentials(hass)
    start = paris(date(2026, 10, 1), 0).isoformat()
    entry = data_connect_entry(
        [P0],
        curve_history_months=1,
        daily_history_months=1,
        tariff_option="tempo",
        price_periods=[{"start": start, "prices": PRICES}],
        **options,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[P0].backfill_progress >= 100)
    return entry


async def tempo_statistics(hass: HomeAssistant) -> tuple[dict[datetime, float], dict[str, dict[datetime, float]]]:
    consumption = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption"))
    series = {key: by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_{key}")) for key in PRICES}
    return consumption, series


async def go_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway, coordinator, moment):
    """Move to ``moment`` and run every refresh due until then."""
    while dt_util.utcnow() < moment:
        step = min(coordinator.update_interval or timedelta(seconds=1), moment - dt_util.utcnow())
        move(freezer, gateway, dt_util.utcnow() + step + timedelta(milliseconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def test_tempo_series_and_costs_from_rte_colours(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """No colour entity: the Tempo split and the cost of season 2026-2027 follow RTE's colours, one request a day."""
    move(freezer, gateway, paris(TODAY, 12))
    entry = await setup_tempo_entry(hass, freezer)
    assert requests(gateway) == 1  # the whole backfill: one request
    consumption, series = await tempo_statistics(hass)
    cost = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_cost"))
    assert len(consumption) > 29 * 24
    colours_seen = set()
    for hour, kwh in consumption.items():
        colour = RTE_2026[tempo_day(hour)]
        colours_seen.add(colour)
        part = "offpeak" if hour.astimezone(PARIS).hour in (22, 23, 0, 1, 2, 3, 4, 5) else "peak"
        key = f"{colour}_{part}"
        assert series[key][hour] == pytest.approx(kwh, abs=1e-9), hour
        assert all(values.get(hour, 0) == 0 for other, values in series.items() if other != key)
        assert cost[hour] == pytest.approx(kwh * PRICES[key], abs=1e-9), hour
    assert colours_seen == {"blue", "white", "red"}
    report = entry.runtime_data.tariff_reports[P0]
    assert report["unknown_colour_days"] == []
    assert report["unpriced_hours"] == 0

    # The rest of the day and the next one: one more request, on the next day.
    coordinator = entry.runtime_data
    await go_to(hass, freezer, gateway, coordinator, paris(TODAY, 23))
    assert requests(gateway) == 1
    await go_to(hass, freezer, gateway, coordinator, paris(TODAY + timedelta(days=1), 23))
    assert requests(gateway) == 2
    consumption, series = await tempo_statistics(hass)
    assert max(consumption) >= paris(TODAY, 23)
    assert series[f"{RTE_2026[TODAY]}_peak"][paris(TODAY, 12)] == consumption[paris(TODAY, 12)]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_tempo_hours_stay_unpriced_while_rte_fails(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, gateway: FakeGateway
) -> None:
    """RTE down on the first day: no Tempo hour is split or priced by a guess; the next day's answer prices them."""
    move(freezer, gateway, paris(TODAY, 12))
    gateway.state.add_fault("technical_error", path=RTE_TEMPO_PATH)
    entry = await setup_tempo_entry(hass, freezer)
    assert requests(gateway) == 1
    consumption, series = await tempo_statistics(hass)
    assert consumption
    assert all(value == 0 for values in series.values() for value in values.values())
    assert await async_statistics(hass, f"enedis:{P0}_consumption_cost") == []
    report = entry.runtime_data.tariff_reports[P0]
    assert report["unknown_colour_days"][-1] == (TODAY - timedelta(days=1)).isoformat()
    assert report["unpriced_hours"] >= len(consumption)

    coordinator = entry.runtime_data
    await go_to(hass, freezer, gateway, coordinator, paris(TODAY + timedelta(days=1), 12))
    assert requests(gateway) == 2
    consumption, series = await tempo_statistics(hass)
    cost = by_hour(await async_statistics(hass, f"enedis:{P0}_consumption_cost"))
    assert set(cost) == set(consumption)
    for hour, kwh in consumption.items():
        part = "offpeak" if hour.astimezone(PARIS).hour in (22, 23, 0, 1, 2, 3, 4, 5) else "peak"
        key = f"{RTE_2026[tempo_day(hour)]}_{part}"
        assert series[key][hour] == pytest.approx(kwh, abs=1e-9)
        assert cost[hour] == pytest.approx(kwh * PRICES[key], abs=1e-9)
    assert entry.runtime_data.tariff_reports[P0]["unknown_colour_days"] == []
    await hass.config_entries.async_unload(entry.entry_id)
