"""Small Home Assistant-side helpers shared by the flow, the coordinator and the services."""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .api import LimiterRegistry
from .tariff_data import PriceData, load_price_data

REGISTRY_KEY: HassKey[LimiterRegistry] = HassKey("enedis_rate_limiters")


def get_registry(hass: HomeAssistant) -> LimiterRegistry:
    """The process-wide rate limiters (one per host and API), shared by every entry and the config flow."""
    registry = hass.data.get(REGISTRY_KEY)
    if registry is None:
        registry = hass.data[REGISTRY_KEY] = LimiterRegistry()
    return registry


PRICE_DATA_KEY: HassKey[asyncio.Future[PriceData]] = HassKey("enedis_price_data")
PRICE_DATA_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, KeyError)
"""What `async_price_data` raises on a broken install (`tariff_data.PriceDataError` is a ValueError)."""


async def async_price_data(hass: HomeAssistant) -> PriceData:
    """The shipped price data (`tariff_data.load_price_data`), read once per Home Assistant run in the executor.

    Every entry, the comparator and the Tempo colours share it; concurrent first callers wait for the same read.
    A broken install (`tariff_data.PriceDataError`) is raised to every caller and read again by the next one.
    """
    future = hass.data.get(PRICE_DATA_KEY)
    if future is None:
        future = hass.data[PRICE_DATA_KEY] = hass.loop.create_future()
        try:
            future.set_result(await hass.async_add_executor_job(load_price_data))
        except Exception as err:
            hass.data.pop(PRICE_DATA_KEY, None)
            future.set_exception(err)
            future.exception()  # retrieved: the waiting callers get it, no "never retrieved" warning
            raise
    return await asyncio.shield(future)
