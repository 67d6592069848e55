"""The "consometers XMPP proxy" config flow through a real ``hass``, Prosody and the fake proxy bot."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.enedis import config_flow
from custom_components.enedis.const import DOMAIN
from tests.xmpp.conftest import PASSWORD, PROXY_JID, USER_JID, ProxyFactory
from tests.xmpp.prosody import Prosody

PRM = "22516914714270"
OTHER_PRM = "12345678901234"

pytestmark = pytest.mark.usefixtures("recorder_mock", "enable_custom_integrations")


def login(prosody: Prosody, **changes: Any) -> dict[str, Any]:
    data = {
        "jid": USER_JID,
        "password": PASSWORD,
        "proxy_jid": PROXY_JID,
        "xmpp_host": "127.0.0.1",
        "xmpp_port": prosody.port,
        "xmpp_plain": True,
    }
    data.update(changes)
    return data


async def start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "consometers_xmpp" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "consometers_xmpp"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "consometers_xmpp"
    return str(result["flow_id"])


async def test_login_errors_then_consent_creates_the_entry(
    hass: HomeAssistant, prosody: Prosody, make_proxy: ProxyFactory
) -> None:
    bot = await make_proxy("head", start=False)
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody, password="wrong"))
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
    assert result["errors"] == {"base": "proxy_unreachable"}  # logged in, but the proxy is offline
    port = prosody.port + 1 if prosody.port < 65535 else 1
    config_flow.XMPP_LOGIN_TIMEOUT, saved = 2.0, config_flow.XMPP_LOGIN_TIMEOUT
    try:
        result = await hass.config_entries.flow.async_configure(flow_id, login(prosody, xmpp_port=port))
    finally:
        config_flow.XMPP_LOGIN_TIMEOUT = saved
    assert result["errors"] == {"base": "cannot_connect"}

    await bot.start()
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["step_id"] == "xmpp_consent"
    assert result["url"].startswith("https://fake-proxy.invalid/dataconnect-proxy/authorize?id=")
    assert bot.behaviour.calls[-1].fields["name"]

    bot.complete_authorization([PRM, OTHER_PRM])
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "prm"  # two PRMs in the authorize message: pick
    result = await hass.config_entries.flow.async_configure(flow_id, {"prms": [PRM]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data["source"] == "consometers_xmpp"
    assert data["prms"] == [PRM]
    assert data["jid"] == USER_JID
    assert data["password"] == PASSWORD
    assert data["xmpp_generation"] == "quoalise"
    entry = result["result"]
    await hass.async_block_till_done()
    await entry.runtime_data.source.session.async_wait_ready(10)  # the entry logged in with what the flow checked
    # End to end: the entry's engine starts the history import through the proxy, as the JID that consented.
    calls = len(bot.behaviour.calls)
    async with asyncio.timeout(30):
        while not any(call.node in {"get_load_curve", "get_daily"} for call in bot.behaviour.calls[calls:]):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    served = [call for call in bot.behaviour.calls[calls:] if call.node in {"get_load_curve", "get_daily"}]
    assert {(call.jid, call.fields["usage_point_id"]) for call in served} == {(USER_JID, PRM)}
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_consent_timeout_then_retry(
    hass: HomeAssistant, prosody: Prosody, make_proxy: ProxyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await make_proxy("seed")
    monkeypatch.setattr(config_flow, "XMPP_CONSENT_TIMEOUT", 0.5)
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    await hass.async_block_till_done(wait_background_tasks=True)  # no consent within 0.5 s
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "xmpp_consent_timeout"
    monkeypatch.setattr(config_flow, "XMPP_CONSENT_TIMEOUT", 10.0)
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.EXTERNAL_STEP  # a new page
    assert len(bot.authorizations) == 2
    bot.complete_authorization([PRM])  # the seed proxy echoes the state of the newest page
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["prms"] == [PRM]
    assert result["data"]["xmpp_generation"] == "legacy"
    await hass.async_block_till_done()
    await result["result"].runtime_data.source.session.async_wait_ready(10)
    assert await hass.config_entries.async_unload(result["result"].entry_id)
    await hass.async_block_till_done()


async def test_reauth_checks_the_new_password_and_each_prm(
    hass: HomeAssistant, prosody: Prosody, make_proxy: ProxyFactory
) -> None:
    bot = await make_proxy("head")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Linky XMPP",
        data={"source": "consometers_xmpp", **login(prosody, password="old"), "prms": [PRM], "xmpp_generation": None},
        unique_id=PRM,
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "consometers_xmpp"
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody, password="still wrong"))
    assert result["errors"] == {"base": "invalid_auth"}
    # Logged in, but the proxy holds no consent of this JID for the PRM (its one check request is refused):
    # the consent page follows.
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert [call.node for call in bot.behaviour.calls] == ["get_load_curve", "get_authorize_uri"]
    bot.complete_authorization([PRM])
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data["password"] == PASSWORD
    assert entry.data["prms"] == [PRM]
    assert set(entry.data["verified"]) == {PRM}
    await hass.async_block_till_done()  # reloaded with the new password
    await entry.runtime_data.source.session.async_wait_ready(10)

    # A second reauthentication while the consent holds: one check request, no consent page.
    calls = len(bot.behaviour.calls)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], login(prosody))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert [call.node for call in bot.behaviour.calls[calls:]] == ["get_load_curve"]
    await hass.async_block_till_done()
    await entry.runtime_data.source.session.async_wait_ready(10)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_reconfigure_to_another_account_needs_its_consent(
    hass: HomeAssistant, prosody: Prosody, make_proxy: ProxyFactory
) -> None:
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Linky XMPP",
        data={"source": "consometers_xmpp", **login(prosody), "prms": [PRM], "xmpp_generation": "quoalise"},
        unique_id=PRM,
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "consometers_xmpp"
    flow_id = result["flow_id"]
    suggested = {
        str(key): key.description["suggested_value"] for key in result["data_schema"].schema if key.description
    }
    assert suggested["jid"] == USER_JID
    assert "password" not in suggested  # never sent back to the browser
    other = prosody.add_account("other", "other-password")
    result = await hass.config_entries.flow.async_configure(
        flow_id, login(prosody, jid=other, password="other-password")
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP  # the proxy keys consent on the JID: the new one has none
    bot.complete_authorization([PRM])
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["jid"] == other
    assert (other, PRM) in bot.allowed
    await hass.async_block_till_done()
    await entry.runtime_data.source.session.async_wait_ready(10)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def shown(result: Any) -> dict[str, Any]:
    """The values the form shows filled in (its suggested values)."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if (key.description or {}).get("suggested_value") is not None
    }


async def test_malformed_jids_are_named_in_the_form(
    hass: HomeAssistant, prosody: Prosody, make_proxy: ProxyFactory
) -> None:
    """A JID that cannot be one (or the user's without its user part) is named on its field before any login; the
    form keeps what was typed. A malformed proxy JID failed the flow, a malformed own JID said "unexpected error"."""
    bot = await make_proxy("head")
    flow_id = await start(hass)
    for changes, errors in (
        ({"jid": "home@"}, {"jid": "invalid_jid"}),
        ({"jid": "home@local@host"}, {"jid": "invalid_jid"}),
        ({"jid": "localhost"}, {"jid": "invalid_jid"}),  # a server, not an account
        ({"proxy_jid": "dataconnect-proxy@"}, {"proxy_jid": "invalid_jid"}),
        ({"jid": "@localhost", "proxy_jid": "a b@localhost"}, {"jid": "invalid_jid", "proxy_jid": "invalid_jid"}),
    ):
        typed = login(prosody, **changes)
        result = await hass.config_entries.flow.async_configure(flow_id, typed)
        assert result["type"] is FlowResultType.FORM, changes
        assert result["errors"] == errors
        assert shown(result) == typed
    assert not bot.behaviour.calls
    en = await async_get_translations(hass, "en", "config", [DOMAIN])
    fr = await async_get_translations(hass, "fr", "config", [DOMAIN])
    assert "user@example.org" in en[f"component.{DOMAIN}.config.error.invalid_jid"]
    assert "utilisateur@example.org" in fr[f"component.{DOMAIN}.config.error.invalid_jid"]

    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody, jid=f" {USER_JID} "))
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    hass.config_entries.flow.async_abort(flow_id)


@pytest.mark.parametrize(
    ("condition", "error"),
    [("internal-server-error", "cannot_connect"), ("resource-constraint", "rate_limited"), ("bad-request", "unknown")],
)
async def test_the_proxy_fails_to_list_its_commands(
    hass: HomeAssistant,
    prosody: Prosody,
    make_proxy: ProxyFactory,
    caplog: pytest.LogCaptureFixture,
    *,
    condition: str,
    error: str,
) -> None:
    """Logged in, but the proxy answers its command list with an error: said as for the other services (try again
    later, quota, or unexpected with the answer logged), no longer "unexpected" for all."""
    bot = await make_proxy("head")
    bot.behaviour.commands_error = condition
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert shown(result) == login(prosody)
    assert (f"Unexpected answer while checking the credentials: RequestError: {condition}" in caplog.text) == (
        error == "unknown"
    )
    bot.behaviour.commands_error = None
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    hass.config_entries.flow.async_abort(flow_id)


def xmpp_entry(prosody: Prosody, **changes: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Linky XMPP",
        data={"source": "consometers_xmpp", **login(prosody, **changes), "prms": [PRM], "xmpp_generation": None},
        unique_id=PRM,
    )


async def test_reauth_check_answers(hass: HomeAssistant, prosody: Prosody, make_proxy: ProxyFactory) -> None:
    """The reauthentication's one check request per PRM: a failure is shown with what was typed (the password too);
    the PRM's data, or no data for that day, proves the consent (no consent page): the entry is updated."""
    bot = await make_proxy("head")
    bot.state.today = None  # the flow checks the day before yesterday of the real clock: the fake serves it
    bot.allowed.add((USER_JID, PRM))
    entry = xmpp_entry(prosody, password="old")
    entry.add_to_hass(hass)
    with patch("custom_components.enedis.async_setup_entry", return_value=True):  # the reload: no entry polling
        result = await entry.start_reauth_flow(hass)
        flow_id = result["flow_id"]
        bot.behaviour.fail_next = (None, "<html>Bad gateway</html>")  # Enedis' answer could not be read
        result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "consometers_xmpp"
        assert result["errors"] == {"base": "cannot_connect"}
        assert shown(result) == login(prosody)
        assert entry.data["password"] == "old"

        result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_successful"
        assert entry.data["password"] == PASSWORD
        assert set(entry.data["verified"]) == {PRM}
        await hass.async_block_till_done()

        bot.behaviour.fail_next = ("no_data_found", "Pas de mesure trouvée")
        result = await entry.start_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], login(prosody))
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_successful"
        await hass.async_block_till_done()
    assert [call.node for call in bot.behaviour.calls] == ["get_load_curve"] * 3  # no consent page


async def test_closing_the_flow_stops_waiting_for_the_consent(
    hass: HomeAssistant, prosody: Prosody, make_proxy: ProxyFactory
) -> None:
    """The user closes the dialog on the consent page: the wait ends with the flow (not 15 minutes later)."""
    await make_proxy("head")
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    hass.config_entries.flow.async_abort(flow_id)
    async with asyncio.timeout(10):
        await hass.async_block_till_done(wait_background_tasks=True)
    assert not hass.config_entries.flow.async_progress()


async def test_reopening_the_consent_step_keeps_its_page(
    hass: HomeAssistant, prosody: Prosody, make_proxy: ProxyFactory
) -> None:
    """The frontend fetches the flow again on the consent step (the dialog was reopened): the same page, one wait;
    the consent then ends it, and no wait is left behind to answer a finished flow."""
    bot = await make_proxy("head")
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
    again = await hass.config_entries.flow.async_configure(flow_id)  # what GET /config_entries/flow/<id> does
    assert again["type"] is FlowResultType.EXTERNAL_STEP
    assert again["url"] == result["url"]
    assert [call.node for call in bot.behaviour.calls] == ["get_authorize_uri"]
    bot.complete_authorization([PRM])
    async with asyncio.timeout(10):
        await hass.async_block_till_done(wait_background_tasks=True)
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["prms"] == [PRM]
    await hass.async_block_till_done()
    await result["result"].runtime_data.source.session.async_wait_ready(10)
    assert await hass.config_entries.async_unload(result["result"].entry_id)
    await hass.async_block_till_done()


async def test_no_new_consent_page_when_the_proxy_is_gone(
    hass: HomeAssistant, prosody: Prosody, make_proxy: ProxyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consent timed out and the proxy went offline meanwhile: asking for a new page aborts (cannot connect)."""
    bot = await make_proxy("head")
    monkeypatch.setattr(config_flow, "XMPP_CONSENT_TIMEOUT", 0.5)
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, login(prosody))
    await hass.async_block_till_done(wait_background_tasks=True)  # no consent within 0.5 s
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "xmpp_consent_timeout"
    await bot.stop()
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"
