"""The Enedis consent callback: where Enedis sends the PRM holder back after giving (or refusing) consent.

Home Assistant's stock OAuth2 callback (``/auth/external/callback``) forwards only ``code``/``error`` and a
signed JWT ``state`` longer than the 100 characters Enedis accepts. Enedis Data Connect v2 answers
``?autorisation_id=…&state=…`` (v1: ``?code=…&state=…&usage_point_id=…``), so the integration has its own
view at `CONSENT_CALLBACK_PATH`:

* the config flow draws a short random ``state`` (`make_state`) and remembers ``state -> flow_id`` in
  `consent_states` (in ``hass.data``; like HA's own OAuth2 state, it does not survive a restart);
* the view looks the ``state`` up, hands ALL the query parameters to that flow
  (``flow.async_configure(flow_id, user_input=dict(request.query))``) and answers a small bilingual page.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from aiohttp import web
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowError
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util.hass_dict import HassKey

from .const import CONSENT_CALLBACK_PATH, DOMAIN

CONSENT_STATES: HassKey[dict[str, str]] = HassKey(f"{DOMAIN}_consent_states")
"""Pending consents: ``state`` -> config flow id."""
VIEW_REGISTERED: HassKey[bool] = HassKey(f"{DOMAIN}_consent_view")

REDIRECT_URL_PLACEHOLDER: Final = f"https://YOUR-HOME-ASSISTANT-URL{CONSENT_CALLBACK_PATH}"
"""Shown instead of the redirect URL when Home Assistant knows none of its own URLs."""

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Enedis Linky</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; padding: 0 1em">
<p>{en}</p>
<p lang="fr">{fr}</p>
{script}</body></html>
"""
_DONE_EN = "Thank you. You can close this window and go back to Home Assistant."
_DONE_FR = "Merci. Vous pouvez fermer cette fenêtre et revenir à Home Assistant."
_INVALID_EN = "This link is invalid or has expired. Start the Enedis Linky setup again from Home Assistant."
_INVALID_FR = "Ce lien est invalide ou a expiré. Relancez la configuration d'Enedis Linky depuis Home Assistant."


@callback
def consent_states(hass: HomeAssistant) -> dict[str, str]:
    """The process-wide map of pending consent ``state`` values to config flow ids."""
    return hass.data.setdefault(CONSENT_STATES, {})


@callback
def consent_redirect_url(hass: HomeAssistant) -> str:
    """The redirect URL to register in the DataHub application (external URL preferred)."""
    try:
        base = get_url(hass, prefer_external=True)
    except NoURLAvailableError:
        return REDIRECT_URL_PLACEHOLDER
    return f"{base.rstrip('/')}{CONSENT_CALLBACK_PATH}"


@callback
def async_register_view(hass: HomeAssistant) -> None:
    """Register the consent callback view once per process (idempotent).

    The integration's ``async_setup`` calls it, and so does the config flow before sending the user to
    Enedis (the component is not set up yet while its first entry is being created).
    """
    if hass.data.get(VIEW_REGISTERED):
        return
    hass.http.register_view(EnedisConsentView())
    hass.data[VIEW_REGISTERED] = True


def _page(status: HTTPStatus, english: str, french: str, *, close: bool = False) -> web.Response:
    script = "<script>window.close()</script>\n" if close else ""
    return web.Response(
        status=status,
        content_type="text/html",
        charset="utf-8",
        text=_PAGE.format(en=english, fr=french, script=script),
    )


class EnedisConsentView(HomeAssistantView):
    """Receive the holder's browser back from the Enedis consent page and resume the config flow."""

    url = CONSENT_CALLBACK_PATH
    name = "api:enedis:consent"
    requires_auth = False

    async def get(self, request: web.Request) -> web.Response:
        """Resume the flow that drew this ``state`` with every query parameter; never echo them."""
        hass = request.app[KEY_HASS]
        query = dict(request.query)
        flow_id = consent_states(hass).get(query.get("state", ""))
        if flow_id is None:
            return _page(HTTPStatus.BAD_REQUEST, _INVALID_EN, _INVALID_FR)
        try:
            await hass.config_entries.flow.async_configure(flow_id=flow_id, user_input=query)
        except FlowError:
            # The flow was closed or has moved on since (UnknownFlow / UnknownStep).
            consent_states(hass).pop(query["state"], None)
            return _page(HTTPStatus.BAD_REQUEST, _INVALID_EN, _INVALID_FR)
        return _page(HTTPStatus.OK, _DONE_EN, _DONE_FR, close=True)
