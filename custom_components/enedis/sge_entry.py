"""The Enedis SGE source of a config entry (or of the config flow's form): built from the entry's data.

Shared by the integration's source factory (`__init__._async_source`) and the config flow's SGE steps. The
certificate's `ssl.SSLContext` is built in Home Assistant's executor (file writes, trust store), once per setup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api import SgeSource, SgeTls
from .const import (
    CONF_PRMS,
    CONF_SGE_CA,
    CONF_SGE_CERTIFICATE,
    CONF_SGE_CONTRACT_ID,
    CONF_SGE_ENVIRONMENT,
    CONF_SGE_GATEWAY_HEADER,
    CONF_SGE_GATEWAY_KEY,
    CONF_SGE_KEY,
    CONF_SGE_LOGIN,
    CONF_SGE_URL,
    DEFAULT_SGE_GATEWAY_HEADER,
    SGE_CUSTOM,
    SGE_PRODUCTION,
)
from .helpers import get_registry


async def async_sge_source(hass: HomeAssistant, data: Mapping[str, Any]) -> SgeSource:
    """The SGE source of ``data`` (an entry's data): gateway key, or certificate and key (mutual TLS).

    Raises `api.InvalidCertificateError` when the certificate and key do not load.
    """
    environment = data.get(CONF_SGE_ENVIRONMENT, SGE_PRODUCTION)
    custom = environment == SGE_CUSTOM
    base_url = data.get(CONF_SGE_URL) if custom else None
    common: dict[str, Any] = {
        "base_url": base_url,
        "contract_id": data.get(CONF_SGE_CONTRACT_ID) or None,
        "registry": get_registry(hass),
    }
    if not custom:
        common["environment"] = environment
    session = async_get_clientsession(hass)
    prms = tuple(data.get(CONF_PRMS, ()))
    if custom and data.get(CONF_SGE_GATEWAY_KEY):
        return SgeSource(
            session,
            data[CONF_SGE_LOGIN],
            prms,
            gateway_key=data[CONF_SGE_GATEWAY_KEY],
            gateway_header=data.get(CONF_SGE_GATEWAY_HEADER) or DEFAULT_SGE_GATEWAY_HEADER,
            **common,
        )
    tls = await SgeTls.async_load(
        data.get(CONF_SGE_CERTIFICATE) or "",
        data.get(CONF_SGE_KEY) or "",
        ca_pem=(data.get(CONF_SGE_CA) or None) if custom else None,
        executor=hass.async_add_executor_job,
    )
    return SgeSource(session, data[CONF_SGE_LOGIN], prms, tls=tls, **common)
