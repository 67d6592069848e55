"""Config flow steps of Enedis SGE (professional access): the supplier's SGE contract reads its customers' meters.

Kept apart from ``config_flow.py`` (whose `EnedisConfigFlow` inherits these steps) so that each source's steps
stay in their own place.

One form: the environment (production, homologation, or another address: an API gateway in front of SGE, or a
host reached with the certificate), the SGE login (``initiateurLogin``), the client certificate and key (PEM; or
the gateway's key), the contract id if any, the PRMs, and the REQUIRED declaration that the customers agreed (the
requests are sent with ``cadreAcces=ACCORD_CLIENT``). Nothing is saved before a live check: one contract call
(``ConsultationDonneesTechniquesContractuelles``) per PRM, at SGE's pace of one call per second. Its refusals are
named: a certificate the TLS layer refused, a login SGE refused, an unknown PRM, a PRM outside the contract's
perimeter.

Reauthentication and reconfiguration show the same form for the entry's PRMs (new PRMs make a new entry); a secret
left empty keeps the stored one. Success means every PRM of the entry was verified (`CONF_VERIFIED`).
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util

if TYPE_CHECKING:
    import probatio as vol
else:
    import voluptuous as vol

from .api import (
    AuthError,
    CertificateError,
    CommunicationError,
    EnedisError,
    InvalidCertificateError,
    InvalidResponseError,
    LoginRefusedError,
    OutOfPerimeterError,
    RateLimitError,
    ServerError,
    UnknownPrmError,
)
from .config_flow_prms import TypedPrmSteps
from .const import (
    CONF_PRMS,
    CONF_SGE_AGREED,
    CONF_SGE_AGREED_AT,
    CONF_SGE_CA,
    CONF_SGE_CERTIFICATE,
    CONF_SGE_CONTRACT_ID,
    CONF_SGE_ENVIRONMENT,
    CONF_SGE_GATEWAY_HEADER,
    CONF_SGE_GATEWAY_KEY,
    CONF_SGE_KEY,
    CONF_SGE_LOGIN,
    CONF_SGE_PRMS,
    CONF_SGE_URL,
    CONF_SOURCE,
    DEFAULT_SGE_GATEWAY_HEADER,
    SGE_CUSTOM,
    SGE_ENVIRONMENTS,
    SGE_PRODUCTION,
    SGE_SECRETS,
    SOURCE_SGE,
)
from .sge_entry import async_sge_source

_LOGGER = logging.getLogger(__name__)

_STORED = (
    CONF_SGE_ENVIRONMENT,
    CONF_SGE_URL,
    CONF_SGE_LOGIN,
    CONF_SGE_CERTIFICATE,
    CONF_SGE_KEY,
    CONF_SGE_CA,
    CONF_SGE_GATEWAY_KEY,
    CONF_SGE_GATEWAY_HEADER,
    CONF_SGE_CONTRACT_ID,
)
"""The form's fields kept in the entry's data."""


def sge_error_key(err: EnedisError) -> str:
    """The form error for an SGE refusal (the specific ones first: they are subclasses of the generic ones)."""
    for cls, key in (
        (InvalidCertificateError, "invalid_certificate"),
        (CertificateError, "certificate_refused"),
        (LoginRefusedError, "login_refused"),
        (UnknownPrmError, "unknown_prm"),
        (OutOfPerimeterError, "out_of_perimeter"),
        (RateLimitError, "rate_limited"),
        (AuthError, "invalid_auth"),
        (CommunicationError | ServerError | InvalidResponseError, "cannot_connect"),
    ):
        if isinstance(err, cls):
            return key
    _LOGGER.warning("Unexpected answer from SGE while checking the credentials: %s", err)
    return "unknown"


def _sge_title(prms: list[str]) -> str:
    return f"Linky SGE {prms[0]}" if len(prms) == 1 else f"Linky SGE ({len(prms)} PRMs)"


class SgeConfigFlowSteps(TypedPrmSteps):
    """The SGE steps of the integration's config flow (`EnedisConfigFlow` inherits them)."""

    _sge_prm: str = ""
    """The PRM an error is about (the ``prm`` placeholder of ``unknown_prm`` / ``out_of_perimeter``)."""

    async def async_step_sge(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A new SGE entry: the whole form, then one contract call per PRM."""
        return await self._async_typed_new_step(
            user_input,
            prms_field=CONF_SGE_PRMS,
            check=self._async_sge_check,
            title=_sge_title,
            form=lambda errors: self._sge_form("sge", user_input, errors, suggested={}, with_prms=True),
        )

    async def async_step_sge_reauth(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The certificate, login or key was refused: new credentials for the entry's PRMs."""
        return await self._async_sge_update("sge_reauth", self._get_reauth_entry(), user_input)

    async def async_step_sge_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the environment, address, login or credentials of the entry's PRMs."""
        return await self._async_sge_update("sge_reconfigure", self._get_reconfigure_entry(), user_input)

    async def _async_sge_update(
        self, step_id: str, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        suggested = {key: entry.data.get(key) for key in _STORED if key not in SGE_SECRETS}
        return await self._async_typed_update_step(
            entry,
            user_input,
            check=self._async_sge_check,
            form=lambda errors, prms: self._sge_form(
                step_id, user_input, errors, suggested=suggested, with_prms=False, prms=prms
            ),
        )

    async def _async_sge_check(
        self, user_input: Mapping[str, Any], prms: list[str], *, stored: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The entry data of the form, or its errors (offline checks, then one contract call per PRM)."""
        if not user_input.get(CONF_SGE_AGREED):
            return {}, {CONF_SGE_AGREED: "agreement_required"}
        values = {key: str(user_input.get(key) or "").strip() for key in _STORED}
        for secret in SGE_SECRETS:
            values[secret] = values[secret] or str(stored.get(secret) or "")
        environment = values[CONF_SGE_ENVIRONMENT] or SGE_PRODUCTION
        custom = environment == SGE_CUSTOM
        url = values[CONF_SGE_URL].rstrip("/")
        if custom and (urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).hostname):
            return {}, {CONF_SGE_URL: "invalid_url"}
        gateway = custom and bool(values[CONF_SGE_GATEWAY_KEY])
        if not gateway and not (values[CONF_SGE_CERTIFICATE] and values[CONF_SGE_KEY]):
            return {}, {"base": "sge_credentials_missing"}
        data: dict[str, Any] = {
            CONF_SOURCE: SOURCE_SGE,
            CONF_SGE_ENVIRONMENT: environment,
            CONF_SGE_URL: url if custom else None,
            CONF_SGE_LOGIN: values[CONF_SGE_LOGIN],
            CONF_SGE_CERTIFICATE: None if gateway else values[CONF_SGE_CERTIFICATE],
            CONF_SGE_KEY: None if gateway else values[CONF_SGE_KEY],
            CONF_SGE_CA: (values[CONF_SGE_CA] or None) if custom and not gateway else None,
            CONF_SGE_GATEWAY_KEY: values[CONF_SGE_GATEWAY_KEY] if gateway else None,
            CONF_SGE_GATEWAY_HEADER: (values[CONF_SGE_GATEWAY_HEADER] or DEFAULT_SGE_GATEWAY_HEADER)
            if gateway
            else None,
            CONF_SGE_CONTRACT_ID: values[CONF_SGE_CONTRACT_ID] or None,
            CONF_PRMS: prms,
            CONF_SGE_AGREED_AT: dt_util.utcnow().isoformat(),
        }
        try:
            source = await async_sge_source(self.hass, data)
            for prm in prms:
                self._sge_prm = prm
                await source.async_get_contract(prm)
        except EnedisError as err:
            return {}, {"base": sge_error_key(err)}
        return data, {}

    def _sge_form(
        self,
        step_id: str,
        user_input: Mapping[str, Any] | None,
        errors: dict[str, str],
        *,
        suggested: Mapping[str, Any],
        with_prms: bool,
        prms: list[str] | None = None,
    ) -> ConfigFlowResult:
        multiline = TextSelector(TextSelectorConfig(multiline=True))
        password = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
        fields: dict[Any, Any] = {
            vol.Required(CONF_SGE_ENVIRONMENT, default=SGE_PRODUCTION): SelectSelector(
                SelectSelectorConfig(
                    options=list(SGE_ENVIRONMENTS),
                    mode=SelectSelectorMode.DROPDOWN,
                    translation_key="sge_environment",
                )
            ),
            vol.Optional(CONF_SGE_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
            vol.Required(CONF_SGE_LOGIN): TextSelector(),
        }
        if with_prms:
            fields[vol.Required(CONF_SGE_PRMS)] = multiline
        fields.update(
            {
                vol.Optional(CONF_SGE_CERTIFICATE): multiline,
                vol.Optional(CONF_SGE_KEY): password,
                vol.Optional(CONF_SGE_CA): multiline,
                vol.Optional(CONF_SGE_GATEWAY_KEY): password,
                vol.Optional(CONF_SGE_GATEWAY_HEADER, default=DEFAULT_SGE_GATEWAY_HEADER): TextSelector(),
                vol.Optional(CONF_SGE_CONTRACT_ID): TextSelector(),
                vol.Required(CONF_SGE_AGREED, default=False): BooleanSelector(),
            }
        )
        schema = vol.Schema(fields)
        values = {key: value for key, value in (user_input or suggested).items() if value is not None}
        if user_input is not None:
            values[CONF_SGE_AGREED] = False  # the declaration is made again at each submission
        schema = self.add_suggested_values_to_schema(schema, values)
        return self.async_show_form(
            step_id=step_id,
            data_schema=schema,
            errors=errors,
            description_placeholders={"prm": self._sge_prm or "-", "prms": ", ".join(prms or [])},
        )
