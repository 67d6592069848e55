"""The consometers proxy through Home Assistant: a real ``hass``, Prosody and the fake proxy bot.

The entry is created directly (the config flow is not built yet): the source's session opens at setup and closes at
unload, and the engine imports the history through the proxy under its frugal policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
import time as _time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.xmpp import ConsometersProxy
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.coordinator import EnedisCoordinator
from custom_components.enedis.diagnostics import async_get_config_entry_diagnostics
from tests.fake_enedis import data
from tests.integration.common import assert_continuous, async_run_until, async_statistics, install_registry, truth_hours
from tests.xmpp.conftest import PASSWORD, PROXY_JID, TODAY, USER_JID, ProxyFactory
from tests.xmpp.prosody import Prosody

PRM = "22516914714270"
NOON = datetime.combine(TODAY, time(12), tzinfo=PARIS).astimezone(UTC)


def xmpp_entry(prosody: Prosody) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Linky XMPP",
        data={
            "source": "consometers_xmpp",
            "jid": USER_JID,
            "password": PASSWORD,
            "proxy_jid": PROXY_JID,
            "xmpp_host": "127.0.0.1",
            "xmpp_port": prosody.port,
            "xmpp_plain": True,
            "xmpp_generation": "quoalise",
            "prms": [PRM],
        },
        unique_id=PRM,
        options={"curve_history_months": 1, "daily_history_months": 1},
    )


@pytest.mark.usefixtures("recorder_mock", "enable_custom_integrations")
async def test_backfill_through_the_proxy_equals_the_truth_across_dst(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, prosody: Prosody, make_proxy: ProxyFactory
) -> None:
    freezer.move_to(NOON)
    install_registry(hass, freezer)
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    entry = xmpp_entry(prosody)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data
    source = coordinator.source
    assert isinstance(source, ConsometersProxy)
    assert source.session.opened  # opened at setup, before any request
    await source.session.async_wait_ready(10)

    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[PRM].backfill_progress >= 100)

    rows = await async_statistics(hass, f"enedis:{PRM}_consumption")
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    first = min(got).astimezone(PARIS).date()
    days = [first + timedelta(days=i) for i in range((TODAY - first).days)]
    assert date(2026, 10, 25) in days
    truth = truth_hours(PRM, data.CONS, days)
    assert set(got) == set(truth)
    for hour, wh in truth.items():
        assert got[hour] == pytest.approx(wh, abs=1)
    assert_continuous(rows)
    assert len([h for h in got if h.astimezone(PARIS).date() == date(2026, 10, 25)]) == 25
    # One request at a time through the proxy: nothing but its commands, never an unserved measure.
    assert {call.node for call in bot.behaviour.calls} <= {"get_load_curve", "get_daily"}

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = str(diagnostics)
    assert PASSWORD not in text
    assert "home@" not in text
    assert "dataconnect-proxy@" not in text
    assert diagnostics["entry"]["data"]["jid"] == "**REDACTED**@localhost"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not source.session.ready  # closed at unload
    assert not source.session.opened


async def _until(freezer: FrozenDateTimeFactory, condition: Callable[[], bool], what: str) -> None:
    """Let time pass: the test's clock is frozen, so it moves 50 ms per turn of the loop (timers fire)."""
    for _ in range(1000):
        if condition():
            return
        freezer.tick(timedelta(milliseconds=50))
        # Not asyncio.sleep (its timer would never come due): a real pause in a thread, the sockets read meanwhile.
        await asyncio.to_thread(_time.sleep, 0.005)
    raise AssertionError(what)


@pytest.mark.usefixtures("recorder_mock", "enable_custom_integrations")
async def test_server_restarted_mid_backfill_nothing_lost_nothing_duplicated(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, prosody: Prosody, make_proxy: ProxyFactory
) -> None:
    freezer.move_to(NOON)
    install_registry(hass, freezer)
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    entry = xmpp_entry(prosody)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: EnedisCoordinator = entry.runtime_data
    source = coordinator.source
    assert isinstance(source, ConsometersProxy)
    await source.session.async_wait_ready(10)
    await async_run_until(hass, freezer, coordinator, lambda: len(bot.behaviour.calls) >= 3)
    assert 0 < coordinator.data.prms[PRM].backfill_progress < 100

    prosody.stop()  # the XMPP server restarts between two requests of the history import
    await _until(freezer, lambda: not source.session.ready, "the disconnection was not noticed")
    prosody.start()
    await _until(
        freezer,
        lambda: source.session.ready and bot.is_connected() and bool(bot.plugin["xep_0050"].commands),
        "no reconnection",
    )
    assert source.session.connections == 2

    await async_run_until(hass, freezer, coordinator, lambda: coordinator.data.prms[PRM].backfill_progress >= 100)
    rows = await async_statistics(hass, f"enedis:{PRM}_consumption")
    got = {datetime.fromtimestamp(row["start"], UTC): row["state"] * 1000 for row in rows}
    assert len(got) == len(rows)  # one row per hour
    first = min(got).astimezone(PARIS).date()
    truth = truth_hours(PRM, data.CONS, [first + timedelta(days=i) for i in range((TODAY - first).days)])
    assert set(got) == set(truth)
    for hour, wh in truth.items():
        assert got[hour] == pytest.approx(wh, abs=1)
    assert_continuous(rows)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
