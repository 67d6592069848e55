"""The Enedis Linky integration: Linky consumption and production as sensors and long-term statistics.

Wiring only: the client library is in ``api/``, the schedule in ``coordinator.py``, the statistics computations in
``ledger.py``. ``async_setup_entry``/``async_unload_entry`` return ``bool``: Home Assistant up to 2026.10 fails
setup on ``None``.
"""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import config_entry_oauth2_flow, config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .api import ConsoApi, DataConnect, EnedisError, InvalidCertificateError, MeteringSource
from .api.xmpp import ConsometersProxy, Generation
from .const import (
    CONF_AUTH_IMPLEMENTATION,
    CONF_AUTHORIZATION_IDS,
    CONF_BASE_URL,
    CONF_ENVIRONMENT,
    CONF_JID,
    CONF_PASSWORD,
    CONF_PRMS,
    CONF_PROXY_JID,
    CONF_SOURCE,
    CONF_TOKEN,
    CONF_XMPP_GENERATION,
    CONF_XMPP_HOST,
    CONF_XMPP_PLAIN,
    CONF_XMPP_PORT,
    DEFAULT_CONSO_API_URL,
    DEFAULT_PROXY_JID,
    DOMAIN,
    ENV_PRODUCTION,
    SOURCE_CONSO_API,
    SOURCE_CONSOMETERS,
    SOURCE_MED,
    SOURCE_SGE,
)
from .coordinator import EnedisConfigEntry, EnedisCoordinator
from .helpers import get_registry
from .med_entry import med_source
from .services import async_setup_services
from .sge_entry import async_sge_source
from .store import EnedisStore
from .views import async_register_view

PLATFORMS: list[Platform] = [Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services and the consent callback view (once, not per entry)."""
    async_setup_services(hass)
    async_register_view(hass)
    return True


def _consometers_source(hass: HomeAssistant, entry: EnedisConfigEntry) -> ConsometersProxy:
    data = entry.data
    generation = data.get(CONF_XMPP_GENERATION)
    return ConsometersProxy(
        data[CONF_JID],
        data[CONF_PASSWORD],
        proxy_jid=data.get(CONF_PROXY_JID) or DEFAULT_PROXY_JID,
        host=data.get(CONF_XMPP_HOST) or None,
        port=data.get(CONF_XMPP_PORT) or None,
        plain=bool(data.get(CONF_XMPP_PLAIN, False)),
        prms=tuple(data[CONF_PRMS]),
        generation=Generation(generation) if generation in set(Generation) else None,
        registry=get_registry(hass),
    )


async def _async_source(hass: HomeAssistant, entry: EnedisConfigEntry) -> MeteringSource:
    if entry.data[CONF_SOURCE] == SOURCE_CONSOMETERS:
        return _consometers_source(hass, entry)
    session = async_get_clientsession(hass)
    registry = get_registry(hass)
    if entry.data[CONF_SOURCE] == SOURCE_CONSO_API:
        source = ConsoApi(
            session,
            entry.data[CONF_TOKEN],
            base_url=entry.data.get(CONF_BASE_URL, DEFAULT_CONSO_API_URL),
            registry=registry,
        )
        try:
            source.token_info()  # offline: malformed or expired token -> reauth, without a request
        except EnedisError as err:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="token_invalid") from err
        return source
    if entry.data[CONF_SOURCE] == SOURCE_MED:
        return med_source(hass, entry.data)
    if entry.data[CONF_SOURCE] == SOURCE_SGE:
        try:
            return await async_sge_source(hass, entry.data)
        except InvalidCertificateError as err:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="certificate_invalid") from err
    implementations = await config_entry_oauth2_flow.async_get_implementations(hass, DOMAIN)
    implementation = implementations.get(entry.data[CONF_AUTH_IMPLEMENTATION])
    if not isinstance(implementation, config_entry_oauth2_flow.LocalOAuth2Implementation):
        raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="credentials_missing")
    return DataConnect(
        session,
        implementation.client_id,
        implementation.client_secret,
        environment=entry.data.get(CONF_ENVIRONMENT, ENV_PRODUCTION),
        base_url=entry.data.get(CONF_BASE_URL),  # the demo gateway's; Enedis' hosts come from the environment
        prms=tuple(entry.data[CONF_PRMS]),
        authorization_ids=tuple(str(a) for a in entry.data.get(CONF_AUTHORIZATION_IDS, [])),
        registry=registry,
    )


async def async_setup_entry(hass: HomeAssistant, entry: EnedisConfigEntry) -> bool:
    """Set up an entry: the coordinator loads its cache (no request) and the backfill starts right after.

    The source's session (the XMPP proxy's) opens here and closes when the entry unloads, or when its setup fails.
    """
    source = await _async_source(hass, entry)
    await source.async_open()
    entry.async_on_unload(source.async_close)
    coordinator = EnedisCoordinator(hass, entry, source)
    # Set before the first refresh: a reauthentication it starts (a PRM refused before the restart) reads the
    # coordinator's refused PRMs to name them.
    entry.runtime_data = coordinator
    await coordinator.async_config_entry_first_refresh()
    # Keep the schedule running even when every entity is disabled (the statistics depend on it).
    entry.async_on_unload(coordinator.async_add_listener(lambda: None))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EnedisConfigEntry) -> bool:
    """Unload an entry (the coordinator saves its cache on shutdown)."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: EnedisConfigEntry) -> None:
    """Delete the entry's cache file. Its long-term statistics stay, as for every integration."""
    await EnedisStore(hass, entry.entry_id).async_remove()
