"""Config flow steps of MyElectricalData (myelectricaldata.fr): a gateway account instead of a DataHub application.

Kept apart from ``config_flow.py`` (whose `EnedisConfigFlow` inherits these steps) so that each source's steps
stay in their own place.

One form: which API (the current one, with the account's client id and secret; or the legacy one, with the
personal token that older clients use), another instance's address if any, and the PRMs. Nothing is saved before
a live check: one daily-energy call per PRM (each costs one of the account's 50 calls of the day). Reauthentication
and reconfiguration show the same form for the entry's PRMs; a secret left empty keeps the stored one. Success
means every PRM of the entry was verified (`CONF_VERIFIED`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

if TYPE_CHECKING:
    import probatio as vol
else:
    import voluptuous as vol

from .api import (
    AuthError,
    CommunicationError,
    ConsentError,
    Direction,
    EnedisError,
    InvalidResponseError,
    Measure,
    NoDataError,
    RateLimitError,
    ServerError,
)
from .api.errors import InvalidDatesError, OutOfRangeError, WrongDirectionError
from .config_flow_prms import TypedPrmSteps
from .const import (
    CONF_MED_API,
    CONF_MED_CLIENT_ID,
    CONF_MED_CLIENT_SECRET,
    CONF_MED_PRMS,
    CONF_MED_TOKEN,
    CONF_MED_URL,
    CONF_PRMS,
    CONF_SOURCE,
    MED_API_CURRENT,
    MED_API_LEGACY,
    MED_APIS,
    MED_SECRETS,
    SOURCE_MED,
)
from .med_entry import med_source

_LOGGER = logging.getLogger(__name__)


def med_error_key(err: EnedisError) -> str:
    """The form error for a MyElectricalData refusal."""
    if isinstance(err, RateLimitError):
        return "med_quota_reached"
    if isinstance(err, AuthError):
        return "invalid_auth"
    if isinstance(err, InvalidResponseError):
        return "med_invalid_response"
    if isinstance(err, CommunicationError | ServerError):
        return "cannot_connect"
    _LOGGER.warning("Unexpected answer from MyElectricalData while checking the credentials: %s", err)
    return "unknown"


def _med_title(prms: list[str]) -> str:
    return f"Linky MyElectricalData {prms[0]}" if len(prms) == 1 else f"Linky MyElectricalData ({len(prms)} PRMs)"


class MedConfigFlowSteps(TypedPrmSteps):
    """The MyElectricalData steps of the integration's config flow (`EnedisConfigFlow` inherits them)."""

    _med_prm: str = ""
    """The PRM an error is about (the ``prm`` placeholder)."""

    async def async_step_myelectricaldata(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A new MyElectricalData entry: the whole form, then one daily call per PRM."""
        return await self._async_typed_new_step(
            user_input,
            prms_field=CONF_MED_PRMS,
            check=self._async_med_check,
            title=_med_title,
            form=lambda errors: self._med_form("myelectricaldata", user_input, errors, suggested={}, with_prms=True),
        )

    async def async_step_med_reauth(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The credentials were refused: new ones for the entry's PRMs."""
        return await self._async_med_update("med_reauth", self._get_reauth_entry(), user_input)

    async def async_step_med_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the API, address or credentials of the entry's PRMs."""
        return await self._async_med_update("med_reconfigure", self._get_reconfigure_entry(), user_input)

    async def _async_med_update(
        self, step_id: str, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        suggested = {
            key: entry.data.get(key)
            for key in (CONF_MED_API, CONF_MED_CLIENT_ID, CONF_MED_URL)
            if entry.data.get(key) is not None
        }
        return await self._async_typed_update_step(
            entry,
            user_input,
            check=self._async_med_check,
            form=lambda errors, prms: self._med_form(
                step_id, user_input, errors, suggested=suggested, with_prms=False, prms=prms
            ),
        )

    async def _async_med_check(
        self, user_input: Mapping[str, Any], prms: list[str], *, stored: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The entry data of the form, or its errors (offline checks, then one daily call per PRM)."""
        values = {
            key: str(user_input.get(key) or "").strip()
            for key in (CONF_MED_API, CONF_MED_CLIENT_ID, CONF_MED_CLIENT_SECRET, CONF_MED_TOKEN, CONF_MED_URL)
        }
        api = values[CONF_MED_API] if values[CONF_MED_API] in MED_APIS else MED_API_CURRENT
        if stored.get(CONF_MED_API) == api:  # a secret left empty keeps the stored one (same API only)
            for secret in MED_SECRETS:
                values[secret] = values[secret] or str(stored.get(secret) or "")
        url = values[CONF_MED_URL].rstrip("/")
        if url and (urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).hostname):
            return {}, {CONF_MED_URL: "invalid_url"}
        if api == MED_API_CURRENT and not (values[CONF_MED_CLIENT_ID] and values[CONF_MED_CLIENT_SECRET]):
            return {}, {"base": "med_credentials_missing"}
        if api == MED_API_LEGACY and not values[CONF_MED_TOKEN]:
            return {}, {"base": "med_credentials_missing"}
        current = api == MED_API_CURRENT
        data: dict[str, Any] = {
            CONF_SOURCE: SOURCE_MED,
            CONF_MED_API: api,
            CONF_MED_CLIENT_ID: values[CONF_MED_CLIENT_ID] if current else None,
            CONF_MED_CLIENT_SECRET: values[CONF_MED_CLIENT_SECRET] if current else None,
            CONF_MED_TOKEN: None if current else values[CONF_MED_TOKEN],
            CONF_MED_URL: url or None,
            CONF_PRMS: prms,
        }
        source = med_source(self.hass, data)
        day = source.today() - timedelta(days=2)
        for prm in prms:
            self._med_prm = prm
            try:
                await source.async_fetch_window(
                    prm, Direction.CONSUMPTION, Measure.DAILY_ENERGY, day, day + timedelta(1)
                )
            except (NoDataError, OutOfRangeError, InvalidDatesError, WrongDirectionError):
                # Accepted: the gateway answered for this PRM (a production-only PRM refuses consumption; a day
                # not published yet is refused as a date).
                continue
            except ConsentError:
                return {}, {"base": "med_prm_refused"}
            except EnedisError as err:
                return {}, {"base": med_error_key(err)}
        return data, {}

    def _med_form(
        self,
        step_id: str,
        user_input: Mapping[str, Any] | None,
        errors: dict[str, str],
        *,
        suggested: Mapping[str, Any],
        with_prms: bool,
        prms: list[str] | None = None,
    ) -> ConfigFlowResult:
        password = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
        fields: dict[Any, Any] = {
            vol.Required(CONF_MED_API, default=MED_API_CURRENT): SelectSelector(
                SelectSelectorConfig(options=list(MED_APIS), mode=SelectSelectorMode.LIST, translation_key="med_api")
            ),
        }
        if with_prms:
            fields[vol.Required(CONF_MED_PRMS)] = TextSelector()
        fields.update(
            {
                vol.Optional(CONF_MED_CLIENT_ID): TextSelector(),
                vol.Optional(CONF_MED_CLIENT_SECRET): password,
                vol.Optional(CONF_MED_TOKEN): password,
                vol.Optional(CONF_MED_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
            }
        )
        schema = vol.Schema(fields)
        values = {key: value for key, value in (user_input or suggested).items() if value is not None}
        schema = self.add_suggested_values_to_schema(schema, values)
        return self.async_show_form(
            step_id=step_id,
            data_schema=schema,
            errors=errors,
            description_placeholders={"prm": self._med_prm or "-", "prms": ", ".join(prms or [])},
        )
