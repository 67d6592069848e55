"""The Enedis Linky integration.

Setup is deliberately minimal at this stage (foundation): the entry loads and unloads cleanly so that the
test harness runs a real Home Assistant from day one. Both hooks return ``True`` because Home Assistant up to
2026.10 fails setup on ``None`` (2026.11 accepts either).
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set up Enedis Linky from a config entry."""
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Unload a config entry."""
    return True
