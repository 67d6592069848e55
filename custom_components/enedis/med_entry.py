"""The MyElectricalData source of a config entry (or of the config flow's form): built from the entry's data.

Shared by the integration's source factory (`__init__._async_source`) and the config flow's MyElectricalData steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api import MedApi, MyElectricalData
from .const import (
    CONF_MED_API,
    CONF_MED_CLIENT_ID,
    CONF_MED_CLIENT_SECRET,
    CONF_MED_TOKEN,
    CONF_MED_URL,
    CONF_PRMS,
    MED_API_LEGACY,
)
from .helpers import get_registry


def med_source(hass: HomeAssistant, data: Mapping[str, Any]) -> MyElectricalData:
    """The MyElectricalData source of ``data`` (an entry's data), on Home Assistant's session and limiters."""
    api = MedApi.LEGACY if data.get(CONF_MED_API) == MED_API_LEGACY else MedApi.CURRENT
    return MyElectricalData(
        async_get_clientsession(hass),
        list(data.get(CONF_PRMS, [])),
        api=api,
        client_id=data.get(CONF_MED_CLIENT_ID),
        client_secret=data.get(CONF_MED_CLIENT_SECRET),
        token=data.get(CONF_MED_TOKEN),
        base_url=data.get(CONF_MED_URL) or None,
        registry=get_registry(hass),
    )
