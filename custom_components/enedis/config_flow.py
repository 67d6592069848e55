"""Config flow for Enedis Linky.

The ways in (step ``user`` is a menu):

* ``conso_api``: a personal Conso API token (conso.boris.sh or a self-hosted instance). Checked offline (JWT
  payload: PRMs, expiry), then with one cheap live call.
* ``data_connect``: the user's own Enedis DataHub application, whose client id/secret live in Home
  Assistant's Application Credentials. Production sends the holder to the Enedis consent page (external
  step ``consent``; the answer comes back through our own view, see `views.py`), then reads the shared PRMs
  (``subscribed_services``). The sandbox has no consent page: its fake clients' PRMs are offered directly.
  ``scripts/develop`` adds a third environment, its demo gateway (``ENEDIS_DEMO_GATEWAY``), which plays the
  sandbox: same fake clients, picked the same way, so the direct path can be tried without a DataHub account.
* ``sge``: Enedis SGE (professional access), a supplier's SGE contract over mutual TLS or an API gateway; its
  steps (``sge``, ``sge_reauth``, ``sge_reconfigure``) live in `config_flow_sge` and this flow inherits them.
* ``myelectricaldata``: a MyElectricalData account (client credentials, or a legacy token); its steps
  (``myelectricaldata``, ``med_reauth``, ``med_reconfigure``) live in `config_flow_med`, inherited the same way.

Credentials are tested before an entry is created: Conso API and sandbox with one daily-energy call,
production with the ``subscribed_services`` call (its token request proves the client id/secret; there is
no public token-only call in the library, and nothing can be checked before consent without a PRM).

One entry per credential, one device per PRM: the PRM picker offers only PRMs that are in no entry yet (it
names the others); a token or consent whose PRMs are all configured already aborts ``already_configured``.

Consent is per PRM, and so is the check: every chosen PRM is verified before the entry is created, with one
daily-energy call each (Conso API, sandbox, consent v1), or by ``subscribed_services`` listing it as active
(consent v2). A PRM Enedis refuses (ADAM-DC-0008, ADAM-DC-0007) is named in the form. A reauthentication or
reconfiguration says success only once every PRM of the entry was verified the same way, and records when
(`CONF_VERIFIED`): the coordinator then polls a PRM it had stopped for lack of consent, and one the flow could not
verify stays stopped, so success cannot be followed by the same failure at the next refresh. In the sandbox, whose
test customers cannot consent again, a refused PRM does not fail a reauthentication (its repair issue says what to
do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
import logging
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    DateSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util

from .tariffs import BASE, FEED_IN, OFFPEAK, PEAK, TEMPO_CLASSES, OffpeakFormatError, format_offpeak, parse_offpeak

if TYPE_CHECKING:
    # Home Assistant 2026.x types its flow forms with probatio, which it also installs as ``voluptuous``
    # at runtime; importing voluptuous keeps older Home Assistant (2025.11) working.
    import probatio as vol
else:
    import voluptuous as vol

from .api import (
    ApiNotSubscribedError,
    AuthError,
    CommunicationError,
    ConsentError,
    ConsoApi,
    DataConnect,
    Direction,
    EnedisError,
    InvalidResponseError,
    MalformedTokenError,
    Measure,
    MeteringSource,
    NoDataError,
    NotHolderError,
    RateLimitError,
    ServerError,
    TokenExpiredError,
    decode_conso_token,
    is_prm,
    make_state,
)
from .api.consent import duration_days
from .api.errors import InvalidDatesError, OutOfRangeError, WrongDirectionError
from .api.xmpp import ConsometersProxy, ProxyUnreachableError, valid_jid
from .bill import TARIF_BLEU_OFFERS
from .config_flow_med import MedConfigFlowSteps
from .config_flow_sge import SgeConfigFlowSteps
from .const import (
    ALL_MEASURES,
    CONF_AUTH_IMPLEMENTATION,
    CONF_AUTHORIZATION_IDS,
    CONF_BASE_URL,
    CONF_CONSENT_DURATION,
    CONF_CONSENT_EXPIRES,
    CONF_CURVE_MONTHS,
    CONF_DAILY_MONTHS,
    CONF_ENVIRONMENT,
    CONF_JID,
    CONF_MEASURES,
    CONF_MONTHLY_FEE,
    CONF_OFFPEAK_OVERRIDE,
    CONF_PASSWORD,
    CONF_POLL_END,
    CONF_POLL_START,
    CONF_PRICE_ENTITY,
    CONF_PRICE_PERIODS,
    CONF_PRICE_SOURCE,
    CONF_PRMS,
    CONF_PROXY_JID,
    CONF_SOURCE,
    CONF_SUBSCRIBED_KVA,
    CONF_TARIFF,
    CONF_TEMPO_ENTITY,
    CONF_TOKEN,
    CONF_VERIFIED,
    CONF_XMPP_GENERATION,
    CONF_XMPP_HOST,
    CONF_XMPP_PLAIN,
    CONF_XMPP_PORT,
    DEFAULT_CONSENT_DURATION,
    DEFAULT_CONSO_API_URL,
    DEFAULT_PROXY_JID,
    DEMO_GATEWAY_VARIABLE,
    DOMAIN,
    ENV_DEMO,
    ENV_PRODUCTION,
    ENV_SANDBOX,
    PRICE_SOURCE_MANUAL,
    PRICE_SOURCE_TARIF_BLEU,
    PRICE_SOURCES,
    SANDBOX_PRMS,
    SOURCE_CONSO_API,
    SOURCE_CONSOMETERS,
    SOURCE_DATA_CONNECT,
    SOURCE_MED,
    SOURCE_SGE,
    TARIFF_BASE,
    TARIFF_HPHC,
    TARIFF_TEMPO,
    TARIFFS,
)
from .helpers import PRICE_DATA_ERRORS, async_price_data, get_registry
from .options import (
    CURVE_MONTHS_MAX,
    DAILY_MONTHS_MAX,
    HISTORY_KEYS,
    POLL_HOURS,
    TARIFF_KEYS,
    EntryOptions,
    price_periods_to_options,
)
from .views import async_register_view, consent_redirect_url, consent_states

_LOGGER = logging.getLogger(__name__)

CONF_IMPLEMENTATION = "implementation"
"""Form field: which Application Credentials entry to use (shown only when there are several)."""
CONSENT_DURATIONS: dict[str, str] = {"1_year": "P1Y", "2_years": "P2Y", "3_years": "P3Y"}
"""Consent durations the form offers: selector option -> ISO 8601 duration sent to Enedis (``duration=``).

The options cannot be the ISO durations themselves: Home Assistant's translation keys are lower case
(``[a-z0-9-_]+``, checked by hassfest and `tests/test_translations.py`). Entries keep storing the ISO duration
(``CONF_CONSENT_DURATION``), as they always did, so entries created before still work unchanged.
"""
ENVIRONMENTS = (ENV_PRODUCTION, ENV_SANDBOX)
ENVIRONMENTS_WITH_DEMO = (*ENVIRONMENTS, ENV_DEMO)
"""Offered only in the process ``scripts/develop`` starts (`_demo_gateway_url`), or to edit a demo entry."""
"""Enedis' environments, always offered; `ENV_DEMO` is added only when a demo gateway is named."""
WITHOUT_CONSENT_PAGE = (ENV_SANDBOX, ENV_DEMO)
"""Environments whose fake clients are picked directly (`SANDBOX_PRMS`) instead of an Enedis consent page."""
CONSENT_VERSION = 2

CONSENT_MISSING = "consent_missing"
"""Form error (and `_async_live_check` result): the credentials were accepted, Enedis refuses the PRM's data."""

_PRM_SEPARATORS = re.compile(r"[,;]")

XMPP_LOGIN_TIMEOUT = 20.0
"""Seconds the consometers login check waits for the XMPP session and the proxy's command list."""
XMPP_CONSENT_TIMEOUT = 900.0
"""Seconds the external step waits for the proxy's authorize message before offering to try again."""
XMPP_FIELDS = (CONF_JID, CONF_PASSWORD, CONF_PROXY_JID, CONF_XMPP_HOST, CONF_XMPP_PORT, CONF_XMPP_PLAIN)

_ACCEPTED: tuple[type[EnedisError], ...] = (
    NoDataError,
    OutOfRangeError,
    InvalidDatesError,
    WrongDirectionError,
    ApiNotSubscribedError,
)
"""Answers of the live check that still prove the credentials were accepted.

No data for that day, a date/range refusal, a production-only PRM (``WrongDirectionError``) and a DataHub
application not subscribed to the measure API all come after the token was accepted.
"""


def _error_key(err: EnedisError, *, url_typed: bool = False) -> str:
    """The form error for a library error (credentials, network, quota).

    ``url_typed``: the user typed the URL (Conso API). An answer that is not the API's (a web page, another API's
    JSON, a body that cannot be read) then means "check this URL" (``invalid_response``); with Enedis' own hosts
    it can only be a passing failure (``cannot_connect``).
    """
    if isinstance(err, RateLimitError):
        return "rate_limited"
    if isinstance(err, AuthError):
        return "invalid_auth"
    if url_typed and isinstance(err, InvalidResponseError):
        return "invalid_response"
    if isinstance(err, CommunicationError | ServerError | InvalidResponseError):
        return "cannot_connect"
    _LOGGER.warning("Unexpected answer while checking the credentials: %s", err)
    return "unknown"


async def _async_live_check(source: MeteringSource, prm: str, *, url_typed: bool = False) -> str | None:
    """One cheap call (the day before yesterday's daily energy): ``None`` if the credentials were accepted."""
    yesterday = source.today() - timedelta(days=1)
    try:
        await source.async_fetch_window(
            prm, Direction.CONSUMPTION, Measure.DAILY_ENERGY, yesterday - timedelta(days=1), yesterday
        )
    except _ACCEPTED:
        return None
    except (ConsentError, NotHolderError):
        return CONSENT_MISSING
    except EnedisError as err:
        return _error_key(err, url_typed=url_typed)
    except Exception:
        _LOGGER.exception("Unexpected error while checking the credentials")
        return "unknown"
    return None


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _demo_gateway_url() -> str | None:
    """The demo gateway's base URL when ``scripts/develop`` named it in `DEMO_GATEWAY_VARIABLE`, else None.

    An environment variable rather than an option: only the process ``scripts/develop`` starts has it, so no
    production installation can show or pick the demo environment.
    """
    url = os.environ.get(DEMO_GATEWAY_VARIABLE, "").strip().rstrip("/")
    return url if _valid_url(url) else None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _title(prms: list[str]) -> str:
    return f"Linky {prms[0]}" if len(prms) == 1 else f"Linky ({len(prms)} PRMs)"


def _consent_expires(duration: str) -> str:
    """When a consent given now ends (ISO; ``P1Y`` counted as 365 days, so never later than Enedis)."""
    return (dt_util.utcnow() + timedelta(days=duration_days(duration))).isoformat()


def _duration_option(duration: str) -> str:
    """The form's option for a stored ISO duration (the default duration's for one the form does not offer)."""
    by_duration = {iso: option for option, iso in CONSENT_DURATIONS.items()}
    return by_duration.get(duration) or by_duration[DEFAULT_CONSENT_DURATION]


def _select(options: list[SelectOptionDict] | list[str], *, translation_key: str | None = None) -> SelectSelector:
    config = SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
    if translation_key:
        config["translation_key"] = translation_key
    return SelectSelector(config)


class EnedisConfigFlow(SgeConfigFlowSteps, MedConfigFlowSteps, domain=DOMAIN):
    """Set up Enedis Linky with a Conso API token or the user's own DataHub application."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._kind = SOURCE_CONSO_API
        # Conso API
        self._token = ""
        self._base_url = DEFAULT_CONSO_API_URL
        # Data Connect
        self._implementation: config_entry_oauth2_flow.LocalOAuth2Implementation | None = None
        self._environment = ENV_PRODUCTION
        self._gateway_url: str | None = None
        """The demo gateway's base URL (`ENV_DEMO` only)."""
        self._duration = DEFAULT_CONSENT_DURATION
        self._state: str | None = None
        self._authorize_url = ""
        self._callback: dict[str, str] = {}
        self._authorization_ids: list[str] = []
        # PRM picker: PRM -> label
        self._available: dict[str, str] = {}
        # Per PRM, whether Enedis served its data to the credentials being checked (one request each).
        self._checked: dict[str, bool] = {}
        self._refused: list[str] = []
        # consometers XMPP proxy: the login being checked, its live source, the consent wait
        self._xmpp: dict[str, Any] = {}
        self._xmpp_source: ConsometersProxy | None = None
        self._xmpp_wait: asyncio.Task[None] | None = None
        self._xmpp_url = ""
        """The proxy's authorize page the flow is waiting on."""
        self._xmpp_prms: list[str] = []

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:  # noqa: ARG004
        """The options flow (history depth, poll window, measures)."""
        return EnedisOptionsFlow()

    @callback
    def async_remove(self) -> None:
        """Forget this flow's pending consent ``state`` when the flow ends or is closed."""
        if self._state is not None:
            consent_states(self.hass).pop(self._state, None)
        self._xmpp_stop()

    def _xmpp_stop(self) -> None:
        """Stop waiting for a consent and log the flow's XMPP session out."""
        if self._xmpp_wait is not None:
            self._xmpp_wait.cancel()
            self._xmpp_wait = None
        source, self._xmpp_source = self._xmpp_source, None
        if source is not None:
            self.hass.async_create_task(source.async_close(), eager_start=True)

    # --- entry points ------------------------------------------------------------------------------

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose how to reach the data."""
        return self.async_show_menu(
            step_id="user",
            menu_options=[SOURCE_CONSO_API, SOURCE_DATA_CONNECT, SOURCE_CONSOMETERS, SOURCE_SGE, SOURCE_MED],
        )

    async def async_step_conso_api(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A Conso API token (and the instance's URL)."""
        self._kind = SOURCE_CONSO_API
        errors: dict[str, str] = {}
        if user_input is not None:
            prms, errors = await self._async_validate_conso(user_input)
            if not errors:
                return await self._async_prms_found({prm: prm for prm in prms})
        schema = vol.Schema(
            {
                vol.Required(CONF_TOKEN): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
                vol.Optional(CONF_BASE_URL, default=DEFAULT_CONSO_API_URL): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.URL)
                ),
            }
        )
        if user_input is not None:
            # After an error the form keeps what was typed, the token too (a password field: shown masked).
            schema = self.add_suggested_values_to_schema(schema, user_input)
        return self.async_show_form(
            step_id="conso_api", data_schema=schema, errors=errors, description_placeholders=self._refused_placeholder()
        )

    async def async_step_data_connect(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The user's DataHub application: credentials, environment, consent duration."""
        self._kind = SOURCE_DATA_CONNECT
        return await self._async_data_connect_form("data_connect", user_input, ask_settings=True)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The token or the consent was refused: ask for a new one."""
        self._load_entry(entry_data)
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Conso API: a new token. Data Connect: give the consent again."""
        if self._kind == SOURCE_SGE:
            return await self.async_step_sge_reauth()
        if self._kind == SOURCE_MED:
            return await self.async_step_med_reauth()
        entry = self._get_reauth_entry()
        if self._kind == SOURCE_CONSOMETERS:
            return await self.async_step_consometers_xmpp()
        if self._kind == SOURCE_DATA_CONNECT:
            return await self._async_data_connect_form("reauth_confirm", user_input, ask_settings=False, entry=entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            prms, errors = await self._async_validate_conso(
                {CONF_TOKEN: user_input[CONF_TOKEN], CONF_BASE_URL: self._base_url}, entry=entry
            )
            if not errors:
                return await self._async_prms_found({prm: prm for prm in prms})
        return self._conso_entry_form("reauth_confirm", entry, errors, user_input)

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Conso API: token and URL. Data Connect: credentials, environment, duration, then consent again."""
        entry = self._get_reconfigure_entry()
        if user_input is None:
            self._load_entry(entry.data)
        if self._kind == SOURCE_CONSOMETERS:
            return await self.async_step_consometers_xmpp()
        if self._kind == SOURCE_SGE:
            return await self.async_step_sge_reconfigure()
        if self._kind == SOURCE_MED:
            return await self.async_step_med_reconfigure()
        if self._kind == SOURCE_DATA_CONNECT:
            return await self._async_data_connect_form("reconfigure", user_input, ask_settings=True, entry=entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            prms, errors = await self._async_validate_conso(user_input, entry=entry)
            if not errors:
                return await self._async_prms_found({prm: prm for prm in prms})
        return self._conso_entry_form("reconfigure", entry, errors, user_input)

    def _conso_entry_form(
        self, step_id: str, entry: ConfigEntry, errors: dict[str, str], user_input: Mapping[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Conso API reauthentication (a token) or reconfiguration (token and URL) form.

        After an error it keeps what was typed, the token too (a password field: shown masked).
        """
        fields: dict[Any, Any] = {
            vol.Required(CONF_TOKEN): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
        }
        if step_id == "reconfigure":
            fields[vol.Required(CONF_BASE_URL)] = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
        schema = vol.Schema(fields)
        suggested = dict(user_input) if user_input else {}
        if step_id == "reconfigure" and not user_input:
            suggested = {CONF_BASE_URL: self._base_url}
        schema = self.add_suggested_values_to_schema(schema, suggested)
        return self.async_show_form(
            step_id=step_id,
            data_schema=schema,
            errors=errors,
            description_placeholders=self._placeholders(entry),
        )

    async def _async_entry_form(self, entry: ConfigEntry, errors: dict[str, str]) -> ConfigFlowResult:
        """The reauthentication or reconfiguration form again, with errors (a PRM could not be verified)."""
        step_id = "reauth_confirm" if self.source == SOURCE_REAUTH else "reconfigure"
        if self._kind == SOURCE_DATA_CONNECT:
            return await self._async_data_connect_form(
                step_id, None, ask_settings=step_id == "reconfigure", entry=entry, errors=errors
            )
        return self._conso_entry_form(step_id, entry, errors)

    # --- consometers XMPP proxy ----------------------------------------------------------------------

    async def async_step_consometers_xmpp(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An XMPP account and the proxy's JID: a live login, then the consent (new entry) or the update."""
        self._kind = SOURCE_CONSOMETERS
        errors: dict[str, str] = {}
        if user_input is not None:
            login = {key: user_input.get(key) for key in XMPP_FIELDS}
            login[CONF_JID] = str(login[CONF_JID] or "").strip()
            login[CONF_PROXY_JID] = (login[CONF_PROXY_JID] or DEFAULT_PROXY_JID).strip()
            login[CONF_XMPP_PORT] = int(login[CONF_XMPP_PORT]) if login[CONF_XMPP_PORT] else None
            errors = {
                field: "invalid_jid"
                for field, account in ((CONF_JID, True), (CONF_PROXY_JID, False))
                if not valid_jid(str(login[field]), account=account)
            }
            if not errors:
                error = await self._async_xmpp_login(login)
                if error is None and self.source in {SOURCE_REAUTH, SOURCE_RECONFIGURE}:
                    return await self._async_xmpp_update(user_input)
                if error is None:
                    return await self.async_step_xmpp_consent()
                errors["base"] = error
        return self._xmpp_form(errors, user_input)

    def _xmpp_form(self, errors: dict[str, str], user_input: Mapping[str, Any] | None = None) -> ConfigFlowResult:
        """The login form (after an error it keeps what was typed, the password too: shown masked)."""
        defaults: Mapping[str, Any] = user_input or self._xmpp or {CONF_PROXY_JID: DEFAULT_PROXY_JID}
        schema = vol.Schema(
            {
                vol.Required(CONF_JID): TextSelector(TextSelectorConfig(type=TextSelectorType.EMAIL)),
                vol.Required(CONF_PASSWORD): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
                vol.Required(CONF_PROXY_JID): TextSelector(),
                vol.Optional(CONF_XMPP_HOST): TextSelector(),
                vol.Optional(CONF_XMPP_PORT): NumberSelector(
                    NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)
                ),
                vol.Optional(CONF_XMPP_PLAIN, default=False): BooleanSelector(),
            }
        )
        suggested = {key: value for key, value in defaults.items() if value is not None and key != CONF_PASSWORD}
        if user_input is not None:
            suggested = dict(user_input)
        return self.async_show_form(
            step_id="consometers_xmpp",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def _async_xmpp_login(self, login: dict[str, Any]) -> str | None:
        """Log in and list the proxy's commands: None when both worked, else the form error."""
        self._xmpp_stop()
        source = ConsometersProxy(
            login[CONF_JID],
            str(login[CONF_PASSWORD]),
            proxy_jid=login[CONF_PROXY_JID],
            host=(login[CONF_XMPP_HOST] or "").strip() or None,
            port=login[CONF_XMPP_PORT],
            plain=bool(login[CONF_XMPP_PLAIN]),
            registry=get_registry(self.hass),
        )
        try:
            generation = await source.async_check(XMPP_LOGIN_TIMEOUT)
        except EnedisError as err:
            await source.async_close()
            if isinstance(err, ProxyUnreachableError):
                return "proxy_unreachable"
            return _error_key(err)  # the login refused, no server, the proxy failing or busy, or unknown
        self._xmpp = {**login, CONF_XMPP_GENERATION: generation.value}
        self._xmpp_source = source
        return None

    async def _async_xmpp_update(self, user_input: Mapping[str, Any]) -> ConfigFlowResult:
        """Reauth / reconfigure: each PRM of the entry is checked with one request; a refused one needs consent.

        Every PRM served: the entry is updated (and reloaded) without asking for consent again. Otherwise the
        proxy's consent page follows (the proxy keys consent on the JID: a new JID always needs it).
        """
        entry = self._get_reauth_entry() if self.source == SOURCE_REAUTH else self._get_reconfigure_entry()
        prms = list(entry.data[CONF_PRMS])
        source = self._xmpp_source
        assert source is not None
        day = source.today() - timedelta(days=2)
        for prm in prms:
            try:
                await source.async_fetch_window(prm, Direction.CONSUMPTION, Measure.LOAD_CURVE, day, day + timedelta(1))
            except (ConsentError, NotHolderError):
                self._checked[prm] = False  # the proxy's consent page follows
            except _ACCEPTED:
                pass  # an answer about the data, not a refusal: the proxy may read the PRM
            except EnedisError as err:
                return self._xmpp_form({"base": _error_key(err)}, user_input)  # what was typed, the password too
        if self._refused_of(prms):
            return await self.async_step_xmpp_consent()
        self._xmpp_stop()
        now = dt_util.utcnow().isoformat()
        return self.async_update_reload_and_abort(
            entry, data_updates={**self._entry_data(prms), CONF_VERIFIED: dict.fromkeys(prms, now)}
        )

    def _xmpp_data(self) -> dict[str, Any]:
        """The entry data of the login checked (the PRMs are added by `_entry_data`)."""
        return {CONF_SOURCE: SOURCE_CONSOMETERS, **self._xmpp}

    async def async_step_xmpp_consent(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the proxy's authorize page; done when its authorize message arrives (or the wait times out)."""
        if user_input is None and self._xmpp_wait is not None:
            # The frontend fetched the flow again (it was reopened): the page handed out still works, and its wait
            # goes on (a new page would leave the old wait running on, answering a flow that has moved on).
            return self.async_external_step(step_id="xmpp_consent", url=self._xmpp_url)
        if user_input is None:
            # Reached after a login that worked (the session is kept until the consent, or the flow, ends).
            source = self._xmpp_source
            assert source is not None
            state = make_state()
            try:
                self._xmpp_url = await source.async_get_authorize_uri(
                    state, name=self.hass.config.location_name or "Home Assistant"
                )
            except EnedisError as err:
                _LOGGER.warning("The proxy gave no authorize page: %s", type(err).__name__)
                return self.async_abort(reason="cannot_connect")
            self._xmpp_wait = self.hass.async_create_background_task(
                self._async_xmpp_wait(source, state), f"{DOMAIN} consometers consent"
            )
            return self.async_external_step(step_id="xmpp_consent", url=self._xmpp_url)
        self._xmpp_wait = None
        self._xmpp_prms = [prm for prm in user_input.get(CONF_PRMS, []) if is_prm(prm)]
        if not self._xmpp_prms:
            return self.async_external_step_done(next_step_id="xmpp_consent_timeout")
        return self.async_external_step_done(next_step_id="xmpp_consent_done")

    async def _async_xmpp_wait(self, source: ConsometersProxy, state: str) -> None:
        try:
            prms: tuple[str, ...] = await source.async_wait_authorization(state, XMPP_CONSENT_TIMEOUT)
        except TimeoutError:
            prms = ()
        await self.hass.config_entries.flow.async_configure(flow_id=self.flow_id, user_input={CONF_PRMS: list(prms)})

    async def async_step_xmpp_consent_timeout(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """No authorize message in time: submit to get a new page."""
        if user_input is not None:
            return await self.async_step_xmpp_consent()
        return self.async_show_form(step_id="xmpp_consent_timeout")

    async def async_step_xmpp_consent_done(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The authorize message named the PRMs: create the entry (or pick PRMs)."""
        self._checked = dict.fromkeys(self._xmpp_prms, True)  # the proxy's own word that it may read them
        self._xmpp_stop()
        return await self._async_prms_found({prm: prm for prm in self._xmpp_prms})

    # --- Data Connect: consent ---------------------------------------------------------------------

    async def async_step_consent(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Send the holder to the Enedis consent page; `views.EnedisConsentView` brings the answer here."""
        if user_input is None:
            assert self._implementation is not None
            async_register_view(self.hass)
            self._state = make_state()
            consent_states(self.hass)[self._state] = self.flow_id
            self._authorize_url = self._data_connect().authorize_url(
                self._state, duration=self._duration, version=CONSENT_VERSION
            )
            return self.async_external_step(step_id="consent", url=self._authorize_url)
        state = self._state
        if state is None or user_input.get("state") != state:
            # Not the answer to our consent page: keep waiting for it.
            return self.async_external_step(step_id="consent", url=self._authorize_url)
        consent_states(self.hass).pop(state, None)
        self._state = None
        self._callback = {str(key): str(value) for key, value in user_input.items()}
        if "error" in self._callback:
            _LOGGER.info(
                "Enedis consent not given: %s %s",
                self._callback["error"],
                self._callback.get("error_description", ""),
            )
            return self.async_external_step_done(next_step_id="consent_refused")
        return self.async_external_step_done(next_step_id="consent_done")

    async def async_step_consent_refused(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The holder refused (or Enedis failed) the consent."""
        return self.async_abort(reason="consent_refused")

    async def async_step_consent_done(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Read the shared PRMs (v2: ``subscribed_services``; v1: ``usage_point_id``); a form to retry."""
        authorization_id = self._callback.get("autorisation_id", "").strip()
        source = self._data_connect()
        if authorization_id:
            outcome = await self._async_consent_v2(source, authorization_id)
        else:
            outcome = await self._async_consent_v1(source)
        if not isinstance(outcome, str):
            return outcome
        return self.async_show_form(
            step_id="consent_done", errors={"base": outcome}, description_placeholders=self._refused_placeholder()
        )

    async def _async_consent_v2(self, source: DataConnect, authorization_id: str) -> ConfigFlowResult | str:
        """Consent v2: the PRMs of the authorisation's services; the next step, or an error key."""
        try:
            services = await source.async_get_subscribed_services(authorization_id)
        except NoDataError:
            services = []
        except EnedisError as err:
            return _error_key(err)
        except Exception:
            _LOGGER.exception("Unexpected error while reading the consent")
            return "unknown"
        prms = _unique([service.prm for service in services if service.active])
        if not prms:
            return self.async_abort(reason="no_prm")
        self._authorization_ids = [authorization_id]
        # An active service is Enedis' own word that the consent covers the PRM (no request per PRM); an ended
        # one, that it no longer does.
        self._checked = {}
        for service in services:
            self._checked[service.prm] = self._checked.get(service.prm, False) or service.active
        return await self._async_prms_found({prm: prm for prm in prms})

    async def _async_consent_v1(self, source: DataConnect) -> ConfigFlowResult | str:
        """Consent v1: ``?code=…&state=…&usage_point_id=PRM[,;PRM…]`` (the code is never exchanged)."""
        raw = _PRM_SEPARATORS.split(self._callback.get("usage_point_id", ""))
        prms = _unique([prm.strip() for prm in raw if is_prm(prm.strip())])
        if not prms:
            return self.async_abort(reason="no_prm")
        self._checked = {}
        error = await self._async_check(source, prms[0])
        creating = self.source not in {SOURCE_REAUTH, SOURCE_RECONFIGURE}
        if error is None and creating and prms == self._refused_of(prms):  # its only PRM is refused
            error = CONSENT_MISSING
        if error is not None:
            return error
        self._authorization_ids = []
        return await self._async_prms_found({prm: prm for prm in prms})

    # --- PRM picker --------------------------------------------------------------------------------

    async def async_step_prm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Several PRMs: choose which ones this entry imports (default: all not configured yet).

        Only PRMs not in any entry are offered (a PRM belongs to one entry); the others are named in the
        description, so choosing never ends the flow on ``already_configured``. Nothing left to offer aborts.
        """
        configured = self._configured_prms()
        free = {prm: label for prm, label in self._available.items() if prm not in configured}
        if not free:
            return self.async_abort(reason="already_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = set(user_input.get(CONF_PRMS, []))
            selected = [prm for prm in free if prm in chosen]
            if not selected:
                errors["base"] = "no_prm_selected"
            else:
                # Every chosen PRM is checked (`_async_create` then aborts if one was configured meanwhile).
                errors = await self._async_verify(selected)
                if not errors:
                    return await self._async_create(selected)
                if errors["base"] == CONSENT_MISSING:
                    errors["base"] = "prm_consent_missing"
        # Ticked: every PRM at first, then what was chosen; never a PRM found refused (the check of the credentials
        # may have tried one).
        ticked = set(free) if user_input is None else set(user_input.get(CONF_PRMS, []))
        default = [prm for prm in free if prm in ticked and self._checked.get(prm, True)]
        schema = vol.Schema(
            {
                vol.Required(CONF_PRMS, default=default): SelectSelector(
                    SelectSelectorConfig(
                        options=[SelectOptionDict(value=prm, label=label) for prm, label in free.items()],
                        multiple=True,
                        mode=SelectSelectorMode.LIST,
                    )
                )
            }
        )
        taken = [prm for prm in self._available if prm in configured]
        return self.async_show_form(
            step_id="prm",
            data_schema=schema,
            errors=errors,
            description_placeholders={"configured": ", ".join(taken) or "-", **self._refused_placeholder()},
        )

    # --- shared ------------------------------------------------------------------------------------

    def _load_entry(self, data: Mapping[str, Any]) -> None:
        """Start a reauth/reconfigure from what the entry holds."""
        self._kind = data.get(CONF_SOURCE, SOURCE_CONSO_API)
        if self._kind == SOURCE_CONSOMETERS:
            self._xmpp = {key: data.get(key) for key in (*XMPP_FIELDS, CONF_XMPP_GENERATION)}
        self._base_url = data.get(CONF_BASE_URL, DEFAULT_CONSO_API_URL)
        self._environment = data.get(CONF_ENVIRONMENT, ENV_PRODUCTION)
        if self._kind == SOURCE_DATA_CONNECT:
            self._gateway_url = data.get(CONF_BASE_URL)
        self._duration = data.get(CONF_CONSENT_DURATION, DEFAULT_CONSENT_DURATION)

    def _placeholders(self, entry: ConfigEntry) -> dict[str, str]:
        """``prms``: the PRMs Enedis refuses, as the loaded entry knows them, else every PRM of the entry."""
        refused = getattr(getattr(entry, "runtime_data", None), "refused", None)
        prms = [prm for prm in entry.data.get(CONF_PRMS, []) if prm in refused] if refused else []
        return {
            "prms": ", ".join(prms or entry.data.get(CONF_PRMS, [])),
            "redirect_url": consent_redirect_url(self.hass),
            **self._refused_placeholder(),
        }

    def _refused_placeholder(self) -> dict[str, str]:
        """``refused``: the PRMs the last check found refused (the ``consent_missing`` errors name them)."""
        return {"refused": ", ".join(self._refused)} if self._refused else {}

    def _refused_of(self, prms: list[str]) -> list[str]:
        """The PRMs of ``prms`` checked and refused (remembered for the error's placeholder)."""
        self._refused = [prm for prm in prms if self._checked.get(prm) is False]
        return self._refused

    def _source(self) -> MeteringSource:
        """A source with the credentials this flow is checking."""
        if self._kind == SOURCE_CONSO_API:
            return ConsoApi(
                async_get_clientsession(self.hass),
                self._token,
                base_url=self._base_url,
                registry=get_registry(self.hass),
            )
        return self._data_connect()

    async def _async_check(self, source: MeteringSource, prm: str) -> str | None:
        """One cheap call for ``prm``: ``None`` when the credentials were accepted, else the form error.

        Whether Enedis serves the PRM's data is remembered in `_checked`: a refused consent (ADAM-DC-0008) comes
        after the credentials were accepted, so it is not an error of the credentials.
        """
        error = await _async_live_check(source, prm, url_typed=self._kind == SOURCE_CONSO_API)
        if error == CONSENT_MISSING:
            self._checked[prm] = False
            return None
        if error is None:
            self._checked[prm] = True
        return error

    async def _async_verify(self, prms: list[str], *, tolerate_refused: bool = False) -> dict[str, str]:
        """Check each of ``prms`` not checked yet (one request each); form errors, or none when all are served.

        ``tolerate_refused``: a refused PRM is not an error (it is simply not marked verified).
        """
        for prm in prms:
            if prm not in self._checked and (error := await self._async_check(self._source(), prm)) is not None:
                return {"base": error}
        if self._refused_of(prms) and not tolerate_refused:
            return {"base": CONSENT_MISSING}
        return {}

    def _configured_prms(self) -> set[str]:
        return {
            prm for entry in self._async_current_entries(include_ignore=False) for prm in entry.data.get(CONF_PRMS, [])
        }

    async def _async_validate_conso(
        self, user_input: Mapping[str, Any], *, entry: ConfigEntry | None = None
    ) -> tuple[list[str], dict[str, str]]:
        """Check a Conso API token offline, then live; the PRMs it covers, or form errors."""
        token = str(user_input[CONF_TOKEN]).strip()
        base_url = str(user_input.get(CONF_BASE_URL) or DEFAULT_CONSO_API_URL).strip().rstrip("/")
        if not _valid_url(base_url):
            return [], {CONF_BASE_URL: "invalid_url"}
        try:
            info = decode_conso_token(token)
        except TokenExpiredError:
            return [], {CONF_TOKEN: "token_expired"}
        except MalformedTokenError:
            return [], {CONF_TOKEN: "invalid_token"}
        prms = _unique(list(info.prms))
        self._checked = {}
        if entry is not None:
            # No request here: `_async_prms_found` aborts a token of someone else's meters, or verifies every PRM.
            self._token, self._base_url = token, base_url
            return prms, {}
        source = ConsoApi(
            async_get_clientsession(self.hass), token, base_url=base_url, registry=get_registry(self.hass)
        )
        if (error := await self._async_check(source, prms[0])) is not None:
            return [], {"base": error}
        if prms == self._refused_of(prms):  # its only PRM is refused: nothing to choose
            return [], {"base": CONSENT_MISSING}
        self._token, self._base_url = token, base_url
        return prms, {}

    async def _async_implementations(self) -> dict[str, config_entry_oauth2_flow.LocalOAuth2Implementation]:
        """The Application Credentials of this integration (client id/secret pairs).

        Another implementation provider that is down (Home Assistant Cloud offline) raises when no credential
        is registered at all: that is "no credentials" for us, not a crash of the flow.
        """
        try:
            implementations = await config_entry_oauth2_flow.async_get_implementations(self.hass, DOMAIN)
        except HomeAssistantError:
            return {}
        return {
            key: implementation
            for key, implementation in implementations.items()
            if isinstance(implementation, config_entry_oauth2_flow.LocalOAuth2Implementation)
        }

    async def _async_data_connect_form(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        *,
        ask_settings: bool,
        entry: ConfigEntry | None = None,
        errors: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        """Pick the credentials (and environment/duration), then consent (production) or check (sandbox)."""
        implementations = await self._async_implementations()
        if not implementations:
            return self.async_abort(reason="missing_credentials")
        current = entry.data.get(CONF_AUTH_IMPLEMENTATION) if entry is not None else None
        if user_input is not None:
            current = user_input.get(CONF_IMPLEMENTATION, current)  # after an error, keep the user's choice
        default_id = current if current in implementations else next(iter(implementations))
        errors = dict(errors or {})
        if user_input is not None:
            self._implementation = implementations[user_input.get(CONF_IMPLEMENTATION, default_id)]
            if ask_settings:
                self._environment = user_input[CONF_ENVIRONMENT]
                self._duration = CONSENT_DURATIONS[user_input[CONF_CONSENT_DURATION]]
            self._gateway_url = (_demo_gateway_url() or self._gateway_url) if self._environment == ENV_DEMO else None
            if self._environment not in WITHOUT_CONSENT_PAGE:
                return await self.async_step_consent()
            # The sandbox (and the demo gateway playing it) has no consent page: check the credentials on its
            # first fake client.
            self._checked = {}
            error = await self._async_check(self._data_connect(), next(iter(SANDBOX_PRMS)))
            if error is None:
                self._authorization_ids = []
                return await self._async_prms_found(
                    {prm: f"{prm} (client {client})" for prm, client in SANDBOX_PRMS.items()}
                )
            errors["base"] = error
        fields: dict[Any, Any] = {}
        if len(implementations) > 1:
            fields[vol.Required(CONF_IMPLEMENTATION, default=default_id)] = _select(
                [
                    SelectOptionDict(value=key, label=implementation.name)
                    for key, implementation in implementations.items()
                ]
            )
        if ask_settings:
            demo = bool(_demo_gateway_url() or (self._environment == ENV_DEMO and self._gateway_url))
            fields[vol.Required(CONF_ENVIRONMENT, default=self._environment)] = _select(
                list(ENVIRONMENTS_WITH_DEMO if demo else ENVIRONMENTS), translation_key="environment"
            )
            fields[vol.Required(CONF_CONSENT_DURATION, default=_duration_option(self._duration))] = _select(
                list(CONSENT_DURATIONS), translation_key="consent_duration"
            )
        placeholders = {"redirect_url": consent_redirect_url(self.hass), **self._refused_placeholder()}
        if entry is not None:
            placeholders = self._placeholders(entry)
        return self.async_show_form(
            step_id=step_id,
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _data_connect(self) -> DataConnect:
        assert self._implementation is not None
        return DataConnect(
            async_get_clientsession(self.hass),
            self._implementation.client_id,
            self._implementation.client_secret,
            environment=self._environment,
            base_url=self._gateway_url,
            registry=get_registry(self.hass),
        )

    async def _async_prms_found(self, available: dict[str, str]) -> ConfigFlowResult:
        """Credentials checked and PRMs known: create the entry (or pick PRMs), or update the entry."""
        if self.source in {SOURCE_REAUTH, SOURCE_RECONFIGURE}:
            entry = self._get_reauth_entry() if self.source == SOURCE_REAUTH else self._get_reconfigure_entry()
            prms = list(entry.data[CONF_PRMS])
            known_refused = {prm for prm, served in self._checked.items() if not served}
            if not set(prms) <= set(available) | known_refused:
                return self.async_abort(reason="wrong_account")
            # Success only once every PRM of the entry was verified (see the module docstring). The sandbox's test
            # customers cannot consent again: a refused one does not fail the flow, and stays refused.
            sandbox = self._kind == SOURCE_DATA_CONNECT and self._environment == ENV_SANDBOX
            if errors := await self._async_verify(prms, tolerate_refused=sandbox):
                return await self._async_entry_form(entry, errors)
            now = dt_util.utcnow().isoformat()
            verified = {prm: now for prm in prms if self._checked.get(prm)}
            return self.async_update_reload_and_abort(
                entry, data_updates={**self._entry_data(prms), CONF_VERIFIED: verified}
            )
        self._available = available
        if len(available) > 1:
            return await self.async_step_prm()
        return await self._async_create(list(available))

    async def _async_create(self, prms: list[str]) -> ConfigFlowResult:
        if self._configured_prms() & set(prms):
            return self.async_abort(reason="already_configured")
        await self.async_set_unique_id("_".join(sorted(prms)))
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=_title(prms), data=self._entry_data(prms))

    def _entry_data(self, prms: list[str]) -> dict[str, Any]:
        if self._kind == SOURCE_CONSOMETERS:
            return {**self._xmpp_data(), CONF_PRMS: prms}
        if self._kind == SOURCE_CONSO_API:
            return {
                CONF_SOURCE: SOURCE_CONSO_API,
                CONF_TOKEN: self._token,
                CONF_BASE_URL: self._base_url,
                CONF_PRMS: prms,
            }
        assert self._implementation is not None
        data: dict[str, Any] = {
            CONF_SOURCE: SOURCE_DATA_CONNECT,
            CONF_AUTH_IMPLEMENTATION: self._implementation.domain,
            CONF_ENVIRONMENT: self._environment,
            CONF_CONSENT_DURATION: self._duration,
            CONF_AUTHORIZATION_IDS: list(self._authorization_ids),
            CONF_PRMS: prms,
            CONF_CONSENT_EXPIRES: _consent_expires(self._duration),
        }
        if self._gateway_url is not None:
            # The entry keeps the demo gateway's URL: it works after a restart without ENEDIS_DEMO_GATEWAY.
            data[CONF_BASE_URL] = self._gateway_url
        elif self.source == SOURCE_RECONFIGURE:
            data[CONF_BASE_URL] = None  # leaving the demo gateway: the reconfigure merges into the entry's data
        return data


class EnedisOptionsFlow(OptionsFlowWithReload):
    """Two pages: history (depth, poll window, measures) and tariff (option, entities, dated prices).

    Saving reloads the entry (HA >= 2025.8). Both pages read the stored options through `options.EntryOptions`
    (its defaults, its price periods) and save through it: a page writes its own keys only (`HISTORY_KEYS`,
    `TARIFF_KEYS`, the price periods when they changed), every other stored key stays as it was.
    """

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose what to change."""
        return self.async_show_menu(step_id="init", menu_options=["history", "tariff"])

    async def async_step_history(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """History depth, poll window and measures; the poll window must start before it ends."""
        errors: dict[str, str] = {}
        stored = EntryOptions.from_entry(self.config_entry.options)
        if user_input is not None:
            chosen = replace(
                stored,
                curve_months=int(user_input[CONF_CURVE_MONTHS]),
                daily_months=int(user_input[CONF_DAILY_MONTHS]),
                poll_start=int(user_input[CONF_POLL_START]),
                poll_end=int(user_input[CONF_POLL_END]),
                measures=tuple(measure for measure in ALL_MEASURES if measure in user_input[CONF_MEASURES]),
            )
            if chosen.poll_window_valid:
                # This page's keys only: the other pages' stay as stored.
                return self.async_create_entry(data={**self.config_entry.options, **chosen.to_options(HISTORY_KEYS)})
            errors["base"] = "invalid_window"
        current: dict[str, Any] = {**stored.to_options(HISTORY_KEYS), **(user_input or {})}

        def number(maximum: int, minimum: int = 1, unit: str = "months") -> NumberSelector:
            # min/max let the frontend explain the limits in the user's language before anything is sent; a unit
            # that is a word ("months") is translated through the selector's translation key (strings.json
            # ``selector.<unit>.unit_of_measurement``), a symbol ("h") is not.
            config = NumberSelectorConfig(
                min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement=unit
            )
            if unit.isalpha() and len(unit) > 1:
                config["translation_key"] = unit
            return NumberSelector(config)

        schema = vol.Schema(
            {
                vol.Required(CONF_CURVE_MONTHS, default=current[CONF_CURVE_MONTHS]): number(CURVE_MONTHS_MAX),
                vol.Required(CONF_DAILY_MONTHS, default=current[CONF_DAILY_MONTHS]): number(DAILY_MONTHS_MAX),
                vol.Required(CONF_POLL_START, default=current[CONF_POLL_START]): number(
                    POLL_HOURS[1], POLL_HOURS[0], "h"
                ),
                vol.Required(CONF_POLL_END, default=current[CONF_POLL_END]): number(POLL_HOURS[1], POLL_HOURS[0], "h"),
                vol.Required(CONF_MEASURES, default=current[CONF_MEASURES]): SelectSelector(
                    SelectSelectorConfig(
                        options=list(ALL_MEASURES),
                        multiple=True,
                        mode=SelectSelectorMode.LIST,
                        translation_key="measures",
                    )
                ),
            }
        )
        return self.async_show_form(step_id="history", data_schema=schema, errors=errors)

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Tariff option, off-peak windows, Tempo colour and price entities, prices from a date."""
        errors: dict[str, str] = {}
        stored = EntryOptions.from_entry(self.config_entry.options)
        if user_input is not None:
            offpeak = str(user_input.get(CONF_OFFPEAK_OVERRIDE) or "").strip()
            if offpeak:
                try:
                    offpeak = format_offpeak(parse_offpeak(offpeak))
                except OffpeakFormatError:
                    errors[CONF_OFFPEAK_OVERRIDE] = "invalid_offpeak"
            errors.update(await self._async_tariff_errors(user_input, offpeak))
            if not errors:
                chosen = replace(
                    stored,
                    tariff=user_input[CONF_TARIFF],
                    offpeak_override=offpeak or None,
                    tempo_entity=user_input.get(CONF_TEMPO_ENTITY) or None,
                    price_entity=user_input.get(CONF_PRICE_ENTITY) or None,
                    monthly_fee=float(user_input.get(CONF_MONTHLY_FEE) or 0.0),
                    price_source=user_input.get(CONF_PRICE_SOURCE) or PRICE_SOURCE_MANUAL,
                    subscribed_kva=_whole(user_input.get(CONF_SUBSCRIBED_KVA)),
                )
                options = {**self.config_entry.options, **chosen.to_options(TARIFF_KEYS)}
                prices = {
                    key: float(user_input[field])
                    for key, field in PRICE_FIELDS.items()
                    if user_input.get(field) is not None
                }
                apply_from = dt_util.parse_date(str(user_input.get(CONF_APPLY_FROM) or ""))
                periods = stored.edited_price_periods(prices, apply_from, dt_util.now().date())
                if periods != stored.price_periods:
                    # Written only when they changed: editing another option leaves the stored periods as they are.
                    options[CONF_PRICE_PERIODS] = price_periods_to_options(periods)
                return self.async_create_entry(data=options)
        current = stored.current_prices
        newest_start = stored.current_prices_from
        suggested = {
            CONF_TARIFF: stored.tariff,
            CONF_OFFPEAK_OVERRIDE: stored.offpeak_override,
            CONF_TEMPO_ENTITY: stored.tempo_entity,
            CONF_PRICE_ENTITY: stored.price_entity,
            CONF_MONTHLY_FEE: stored.monthly_fee,
            CONF_PRICE_SOURCE: stored.price_source,
            CONF_SUBSCRIBED_KVA: stored.subscribed_kva,
            # The date the shown prices apply from (the newest period's), not today: the form shows one period.
            CONF_APPLY_FROM: newest_start.isoformat() if newest_start else None,
            **{field: current[key] for key, field in PRICE_FIELDS.items() if key in current},
            **(user_input or {}),
        }
        price = NumberSelector(
            NumberSelectorConfig(min=0, max=10, step="any", mode=NumberSelectorMode.BOX, unit_of_measurement="€/kWh")
        )
        fields: dict[Any, Any] = {
            vol.Required(CONF_TARIFF): SelectSelector(
                SelectSelectorConfig(options=list(TARIFFS), mode=SelectSelectorMode.LIST, translation_key="tariff")
            ),
            # Optional: a form saved without it (an older frontend, a script) keeps manual prices.
            vol.Optional(CONF_PRICE_SOURCE): SelectSelector(
                SelectSelectorConfig(
                    options=list(PRICE_SOURCES), mode=SelectSelectorMode.LIST, translation_key="price_source"
                )
            ),
            vol.Optional(CONF_SUBSCRIBED_KVA): NumberSelector(
                NumberSelectorConfig(min=3, max=36, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="kVA")
            ),
            vol.Optional(CONF_OFFPEAK_OVERRIDE): TextSelector(),
            vol.Optional(CONF_TEMPO_ENTITY): EntitySelector(EntitySelectorConfig()),
            vol.Optional(CONF_PRICE_ENTITY): EntitySelector(EntitySelectorConfig(domain=["sensor", "input_number"])),
            vol.Optional(CONF_MONTHLY_FEE): NumberSelector(
                NumberSelectorConfig(min=0, max=1000, step=0.01, mode=NumberSelectorMode.BOX, unit_of_measurement="€")
            ),
        }
        fields.update({vol.Optional(field): price for field in PRICE_FIELDS.values()})
        fields[vol.Optional(CONF_APPLY_FROM)] = DateSelector()
        schema = self.add_suggested_values_to_schema(vol.Schema(fields), suggested)
        return self.async_show_form(step_id="tariff", data_schema=schema, errors=errors)

    async def _async_tariff_errors(self, user_input: Mapping[str, Any], offpeak: str) -> dict[str, str]:
        """Refuse a tariff whose costs or splits could not be computed (an hour is never priced by a guess).

        HP/HC needs off-peak windows, typed here or read from the contract of every PRM of the entry (Conso API
        serves no contract); prices, when any consumption price is given, must cover every class of the option (a
        price entity prices them all). Tempo needs no colour entity: colours also come from the shipped calendar
        and RTE (`tempo_colours`), and a day none of them knows is left unpriced, never guessed.
        """
        errors: dict[str, str] = {}
        tariff = user_input[CONF_TARIFF]
        if tariff == TARIFF_HPHC and not offpeak and not self._contract_offpeak():
            errors[CONF_OFFPEAK_OVERRIDE] = "offpeak_required"
        if user_input.get(CONF_PRICE_SOURCE) == PRICE_SOURCE_TARIF_BLEU:
            errors.update(await self._async_tarif_bleu_errors(user_input))
        elif not user_input.get(CONF_PRICE_ENTITY):
            given = {key for key, field in PRICE_FIELDS.items() if user_input.get(field) is not None}
            consumption = given - {FEED_IN}
            if consumption and not set(OPTION_PRICES[tariff]) <= consumption:
                errors["base"] = "prices_incomplete"
        return errors

    async def _async_tarif_bleu_errors(self, user_input: Mapping[str, Any]) -> dict[str, str]:
        """The Tarif Bleu needs the subscribed power (typed, or every PRM's contract) and a grid at that power."""
        kva = _whole(user_input.get(CONF_SUBSCRIBED_KVA))
        powers = {kva} if kva is not None else self._contract_powers()
        if not powers:
            return {CONF_SUBSCRIBED_KVA: "subscribed_kva_required"}
        try:
            data = await async_price_data(self.hass)
        except PRICE_DATA_ERRORS:
            # A broken install: the grids cannot be checked, and the other options must still save. The importer's
            # repair issue says to reinstall; once the data reads, a power without a grid has its own issue.
            return {}
        offered = set(data.kvas(TARIF_BLEU_OFFERS[user_input[CONF_TARIFF]]))
        if not powers <= offered:
            return {CONF_SUBSCRIBED_KVA: "tarif_bleu_no_grid"}
        return {}

    def _contract_powers(self) -> set[int]:
        """The subscribed powers of every PRM of the (loaded) entry, empty when one is unknown."""
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return set()
        powers: set[int] = set()
        for prm in entry.data[CONF_PRMS]:
            contract = entry.runtime_data.contracts.get(prm)
            if contract is None or not contract.subscribed_power_kva:
                return set()
            powers.add(round(contract.subscribed_power_kva))
        return powers

    def _contract_offpeak(self) -> bool:
        """Whether the contract of every PRM of the (loaded) entry gives off-peak windows this integration reads.

        Whatever the source: the statistics take the windows of any contract (Data Connect's, SGE's); a source that
        serves none (Conso API, MyElectricalData, the consometers proxy) has no contract here.
        """
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return False
        contracts = entry.runtime_data.contracts
        for prm in entry.data[CONF_PRMS]:
            contract = contracts.get(prm)
            if contract is None or not contract.offpeak_hours:
                return False
            try:
                parse_offpeak(contract.offpeak_hours)
            except OffpeakFormatError:
                return False
        return True


CONF_APPLY_FROM = "apply_from"


def _whole(value: object) -> int | None:
    """A number field's value as a whole number, None when empty."""
    if value is None or value == "":
        return None
    return round(float(str(value)))


OPTION_PRICES: dict[str, tuple[str, ...]] = {
    TARIFF_BASE: (BASE,),
    TARIFF_HPHC: (OFFPEAK, PEAK),
    TARIFF_TEMPO: TEMPO_CLASSES,
}
"""The price classes each tariff option needs (`tariffs.priced_hours` leaves an hour without them unpriced)."""
PRICE_FIELDS: dict[str, str] = {
    "base": "price_base",
    "offpeak": "price_offpeak",
    "peak": "price_peak",
    "blue_offpeak": "price_blue_offpeak",
    "blue_peak": "price_blue_peak",
    "white_offpeak": "price_white_offpeak",
    "white_peak": "price_white_peak",
    "red_offpeak": "price_red_offpeak",
    "red_peak": "price_red_peak",
    "feed_in": "price_feed_in",
}
"""Price class (as in `tariffs.PricePeriod`) -> options form field."""
