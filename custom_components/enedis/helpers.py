"""Small Home Assistant-side helpers shared by the flow, the coordinator and the services."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .api import LimiterRegistry

REGISTRY_KEY: HassKey[LimiterRegistry] = HassKey("enedis_rate_limiters")


def get_registry(hass: HomeAssistant) -> LimiterRegistry:
    """The process-wide rate limiters (one per host and API), shared by every entry and the config flow."""
    registry = hass.data.get(REGISTRY_KEY)
    if registry is None:
        registry = hass.data[REGISTRY_KEY] = LimiterRegistry()
    return registry
