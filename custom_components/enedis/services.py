"""Services ``enedis.import_history``, ``enedis.refetch`` and ``enedis.compare_tariffs`` (set up in ``async_setup``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .api.calendar import local_day
from .api.prm import PRM_PATTERN
from .comparator import as_dict
from .const import CONF_PRMS, DOMAIN
from .coordinator import EnedisCoordinator

ATTR_PRM = "prm"
ATTR_START = "start"
ATTR_END = "end"
ATTR_REWRITE_STATISTICS = "rewrite_statistics"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
SERVICE_IMPORT_HISTORY = "import_history"
SERVICE_REFETCH = "refetch"
SERVICE_COMPARE_TARIFFS = "compare_tariffs"

# Typed as Any: HA >= 2026.10 validates with probatio (installed as ``voluptuous``), whose types differ from the
# voluptuous stubs mypy sees; both accept these schemas at runtime (we support HA >= 2025.11).
PRM_SCHEMA: Any = vol.All(cv.string, vol.Match(PRM_PATTERN))
IMPORT_HISTORY_SCHEMA: Any = vol.Schema({vol.Required(ATTR_PRM): PRM_SCHEMA, vol.Required(ATTR_START): cv.date})
REFETCH_SCHEMA: Any = vol.Schema(
    {
        vol.Required(ATTR_PRM): PRM_SCHEMA,
        vol.Required(ATTR_START): cv.date,
        vol.Required(ATTR_END): cv.date,
        vol.Optional(ATTR_REWRITE_STATISTICS, default=False): cv.boolean,
    }
)


COMPARE_TARIFFS_SCHEMA: Any = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_PRM): PRM_SCHEMA,
        vol.Optional(ATTR_START): cv.date,
        vol.Optional(ATTR_END): cv.date,
    }
)


def _awaits_reauth(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Whether the entry's credentials were refused, so that nothing can be fetched until it is reauthenticated.

    A reauthentication flow is open for it, or its last refresh failed on authentication (the user may have
    dismissed the flow).
    """
    if any(entry.async_get_active_flows(hass, {SOURCE_REAUTH})):
        return True
    coordinator = getattr(entry, "runtime_data", None)
    return isinstance(coordinator, EnedisCoordinator) and isinstance(coordinator.last_exception, ConfigEntryAuthFailed)


def _coordinator(hass: HomeAssistant, prm: str) -> EnedisCoordinator:
    """The coordinator importing ``prm``; a translated error when the call could only pretend to succeed."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if prm in entry.data.get(CONF_PRMS, []):
            if _awaits_reauth(hass, entry):
                raise ServiceValidationError(
                    translation_domain=DOMAIN, translation_key="reauth_required", translation_placeholders={"prm": prm}
                )
            if entry.state is not ConfigEntryState.LOADED:
                raise ServiceValidationError(
                    translation_domain=DOMAIN, translation_key="entry_not_loaded", translation_placeholders={"prm": prm}
                )
            coordinator: EnedisCoordinator = entry.runtime_data
            return coordinator
    raise ServiceValidationError(
        translation_domain=DOMAIN, translation_key="unknown_prm", translation_placeholders={"prm": prm}
    )


def _compared_prm(hass: HomeAssistant, entry_id: str | None, prm: str | None) -> str:
    """The PRM a comparison is asked for: ``prm``, or the only PRM of the entry (or of all entries) when not given."""
    entries = hass.config_entries.async_entries(DOMAIN)
    if entry_id is not None:
        entries = [entry for entry in entries if entry.entry_id == entry_id]
        if not entries:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_entry",
                translation_placeholders={"entry_id": entry_id},
            )
    prms = [str(p) for entry in entries for p in entry.data.get(CONF_PRMS, [])]
    if prm is not None:
        if prm not in prms:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="unknown_prm", translation_placeholders={"prm": prm}
            )
        return prm
    if len(prms) != 1:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="prm_required")
    return prms[0]


def _check_dates(start: date, end: date | None = None) -> None:
    today = local_day(dt_util.utcnow())
    if start >= today or (end is not None and (end < start or end >= today)):
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="invalid_dates")


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services."""

    async def import_history(call: ServiceCall) -> None:
        _check_dates(call.data[ATTR_START])
        await _coordinator(hass, call.data[ATTR_PRM]).async_import_history(call.data[ATTR_PRM], call.data[ATTR_START])

    async def refetch(call: ServiceCall) -> None:
        _check_dates(call.data[ATTR_START], call.data[ATTR_END])
        await _coordinator(hass, call.data[ATTR_PRM]).async_refetch(
            call.data[ATTR_PRM],
            call.data[ATTR_START],
            call.data[ATTR_END],
            rewrite_statistics=call.data[ATTR_REWRITE_STATISTICS],
        )

    async def compare_tariffs(call: ServiceCall) -> ServiceResponse:
        start: date | None = call.data.get(ATTR_START)
        end: date | None = call.data.get(ATTR_END)
        today = local_day(dt_util.utcnow())
        if (start is not None and start >= today) or (end is not None and (end >= today or (start and end < start))):
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="invalid_dates")
        prm = _compared_prm(hass, call.data.get(ATTR_CONFIG_ENTRY_ID), call.data.get(ATTR_PRM))
        coordinator = _coordinator(hass, prm)
        comparison, period = await coordinator.comparisons.async_compare(prm, start, end)
        return {
            "prm": prm,
            "partial": period.partial or comparison.days_without_data > 0,
            **as_dict(comparison),
        }

    hass.services.async_register(DOMAIN, SERVICE_IMPORT_HISTORY, import_history, schema=IMPORT_HISTORY_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_COMPARE_TARIFFS,
        compare_tariffs,
        schema=COMPARE_TARIFFS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(DOMAIN, SERVICE_REFETCH, refetch, schema=REFETCH_SCHEMA)
