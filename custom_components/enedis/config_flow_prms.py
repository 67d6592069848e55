"""What the config-flow steps of the sources typed by hand (SGE, MyElectricalData) share.

Those sources list no PRMs: the user types them. Their steps read the list the same way, create an entry only for
PRMs in no other entry (a PRM belongs to one entry), and after a reauthentication or reconfiguration record that
every PRM of the entry was verified (`CONF_VERIFIED`: a refusal older than that is over, see the coordinator).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
import re
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.util import dt as dt_util

from .api import is_prm
from .const import CONF_PRMS, CONF_VERIFIED

_PRM_SPLIT = re.compile(r"[\s,;]+")


def typed_prms(text: object) -> list[str] | None:
    """The PRMs of a text field (separated by commas, semicolons, spaces or new lines), each once, in order.

    None when there is none or one is not a 14-digit PRM.
    """
    prms = [p for p in _PRM_SPLIT.split(str(text or "").strip()) if p]
    if not prms or not all(is_prm(p) for p in prms):
        return None
    return list(dict.fromkeys(prms))


class DataCheck(Protocol):
    """A source's check of its form: the entry data, or the form's errors (``stored``: the entry's data, if any)."""

    def __call__(
        self, user_input: Mapping[str, Any], prms: list[str], *, stored: Mapping[str, Any]
    ) -> Awaitable[tuple[dict[str, Any], dict[str, str]]]:
        """Check ``user_input`` for ``prms``."""


class TypedPrmSteps(ConfigFlow):
    """Creating and updating an entry whose PRMs were typed (inherited by the SGE and MyElectricalData steps)."""

    async def _async_typed_new_step(
        self,
        user_input: Mapping[str, Any] | None,
        *,
        prms_field: str,
        check: DataCheck,
        title: Callable[[list[str]], str],
        form: Callable[[dict[str, str]], ConfigFlowResult],
    ) -> ConfigFlowResult:
        """A new entry: the typed PRMs (``prms_field``), the source's check, the entry; else the form again."""
        errors: dict[str, str] = {}
        if user_input is not None:
            prms = typed_prms(user_input.get(prms_field))
            if prms is None:
                errors[prms_field] = "invalid_prms"
            else:
                data, errors = await check(user_input, prms, stored={})
                if not errors:
                    return await self._async_create_typed_entry(prms, title(prms), data)
        return form(errors)

    async def _async_typed_update_step(
        self,
        entry: ConfigEntry,
        user_input: Mapping[str, Any] | None,
        *,
        check: DataCheck,
        form: Callable[[dict[str, str], list[str]], ConfigFlowResult],
    ) -> ConfigFlowResult:
        """A reauthentication or reconfiguration of ``entry``'s PRMs: the source's check, the update; else the form."""
        errors: dict[str, str] = {}
        prms = list(entry.data.get(CONF_PRMS, []))
        if user_input is not None:
            data, errors = await check(user_input, prms, stored=entry.data)
            if not errors:
                return self._async_update_verified(entry, prms, data)
        return form(errors, prms)

    async def _async_create_typed_entry(self, prms: list[str], title: str, data: Mapping[str, Any]) -> ConfigFlowResult:
        """Create the entry, unless one of its PRMs already belongs to an entry (``already_configured``)."""
        configured = {
            prm for entry in self._async_current_entries(include_ignore=False) for prm in entry.data.get(CONF_PRMS, [])
        }
        if configured & set(prms):
            return self.async_abort(reason="already_configured")
        await self.async_set_unique_id("_".join(sorted(prms)))
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=title, data=dict(data))

    def _async_update_verified(self, entry: ConfigEntry, prms: list[str], data: Mapping[str, Any]) -> ConfigFlowResult:
        """Save the checked data and that every PRM of the entry was verified now; reload the entry."""
        now = dt_util.utcnow().isoformat()
        return self.async_update_reload_and_abort(entry, data_updates={**data, CONF_VERIFIED: dict.fromkeys(prms, now)})
