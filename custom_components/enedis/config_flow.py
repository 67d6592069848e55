"""Config flow for Enedis Linky.

Foundation stage: the UI setup (Conso API token, Enedis consent) is built on top of the client library in the
integration issue. Until then the flow aborts with a translated message instead of creating a half-working
entry.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN


class EnedisConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for Enedis Linky."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Abort: the setup paths are not available yet."""
        return self.async_abort(reason="not_implemented")
