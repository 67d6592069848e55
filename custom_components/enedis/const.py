"""Constants of the Enedis Linky integration (config keys are the public contract: keep them)."""

from __future__ import annotations

from typing import Final

from .api.consoapi import CONSO_API_URL
from .api.xmpp import PROXY_JID

DOMAIN: Final = "enedis"

# --- config entry data ----------------------------------------------------------------------------------
CONF_SOURCE: Final = "source"
SOURCE_CONSO_API: Final = "conso_api"
SOURCE_DATA_CONNECT: Final = "data_connect"
SOURCE_CONSOMETERS: Final = "consometers_xmpp"
"""The consometers Data Connect proxy, over XMPP (``api/xmpp.py``)."""

# --- consometers XMPP proxy entry data --------------------------------------------------------------------
CONF_JID: Final = "jid"
CONF_PASSWORD: Final = "password"  # noqa: S105  (the config key of the XMPP password, not a secret)
CONF_PROXY_JID: Final = "proxy_jid"
DEFAULT_PROXY_JID: Final = PROXY_JID  # the library's constant: the JID is written in one place
CONF_XMPP_HOST: Final = "xmpp_host"  # optional: the XMPP server (SRV records of the JID's domain otherwise)
CONF_XMPP_PORT: Final = "xmpp_port"
CONF_XMPP_PLAIN: Final = "xmpp_plain"  # plain connection, no TLS: a local test server only
CONF_XMPP_GENERATION: Final = "xmpp_generation"  # the proxy's protocol found at setup (`api.xmpp.Generation`)

CONF_TOKEN: Final = "token"  # noqa: S105  (the config key of the Conso API token, not a secret)
CONF_BASE_URL: Final = "base_url"  # Conso API base URL (self-hosted instances); Data Connect: the demo gateway
DEFAULT_CONSO_API_URL: Final = CONSO_API_URL  # the library's constant: the URL is written in one place
CONF_PRMS: Final = "prms"  # list of PRMs this entry imports (14 digits, `api.prm.is_prm`)

CONF_AUTH_IMPLEMENTATION: Final = "auth_implementation"  # the Application Credentials id (Data Connect)
CONF_ENVIRONMENT: Final = "environment"
ENV_PRODUCTION: Final = "production"
ENV_SANDBOX: Final = "sandbox"
ENV_DEMO: Final = "demo"
"""The embedded demo gateway (tests/fake_enedis) of ``scripts/develop``; its base URL is in the entry's
``base_url``. Offered only when `DEMO_GATEWAY_VARIABLE` names it: production users never see it."""
DEMO_GATEWAY_VARIABLE: Final = "ENEDIS_DEMO_GATEWAY"
"""Environment variable set by ``scripts/develop`` for Home Assistant: the demo gateway's base URL."""
CONF_CONSENT_DURATION: Final = "consent_duration"
DEFAULT_CONSENT_DURATION: Final = "P3Y"
CONF_AUTHORIZATION_IDS: Final = "authorization_ids"  # consent v2 autorisation_id values
CONF_CONSENT_EXPIRES: Final = "consent_expires"  # ISO datetime, when the consent ends (Data Connect)

# --- Enedis SGE (suppliers' SOAP services): one group, so sources added alongside merge cleanly ------------
SOURCE_SGE: Final = "sge"
CONF_SGE_ENVIRONMENT: Final = "sge_environment"  # SGE_PRODUCTION | SGE_HOMOLOGATION | SGE_CUSTOM
SGE_PRODUCTION: Final = "production"
SGE_HOMOLOGATION: Final = "homologation"
SGE_CUSTOM: Final = "custom"
"""Another address: an API gateway in front of SGE (with a key), or a host reached with the certificate."""
SGE_ENVIRONMENTS: Final = (SGE_PRODUCTION, SGE_HOMOLOGATION, SGE_CUSTOM)
CONF_SGE_URL: Final = "sge_url"  # the custom address (SGE_CUSTOM only)
CONF_SGE_LOGIN: Final = "sge_login"  # initiateurLogin, the supplier's SGE login
CONF_SGE_CERTIFICATE: Final = "sge_certificate"  # client certificate, PEM
CONF_SGE_KEY: Final = "sge_private_key"  # its private key, PEM (a secret)
CONF_SGE_CA: Final = "sge_ca_certificate"  # CA to trust instead of the system's (a custom address), PEM
CONF_SGE_GATEWAY_KEY: Final = "sge_gateway_key"  # API gateway key (a secret)
CONF_SGE_GATEWAY_HEADER: Final = "sge_gateway_header"
DEFAULT_SGE_GATEWAY_HEADER: Final = "apikey"
CONF_SGE_CONTRACT_ID: Final = "sge_contract_id"
CONF_SGE_PRMS: Final = "sge_prms"  # form field: PRMs separated by commas, spaces or new lines
CONF_SGE_AGREED: Final = "sge_customer_agreed"  # form field: the customer agreed (ACCORD_CLIENT), required
CONF_SGE_AGREED_AT: Final = "sge_agreed_at"  # ISO datetime the declaration was made
SGE_SECRETS: Final = (CONF_SGE_KEY, CONF_SGE_GATEWAY_KEY)

# --- MyElectricalData (a gateway with a 50-calls-a-day quota): one group, so sources added alongside merge cleanly --
SOURCE_MED: Final = "myelectricaldata"
CONF_MED_API: Final = "med_api"  # MED_API_CURRENT | MED_API_LEGACY (`api.med.MedApi`)
MED_API_CURRENT: Final = "current"  # client credentials, https://myelectricaldata.fr/api
MED_API_LEGACY: Final = "legacy"  # a personal token, https://myelectricaldata.fr
MED_APIS: Final = (MED_API_CURRENT, MED_API_LEGACY)
CONF_MED_CLIENT_ID: Final = "med_client_id"
CONF_MED_CLIENT_SECRET: Final = "med_client_secret"  # noqa: S105  (a config key, not a secret)
CONF_MED_TOKEN: Final = "med_token"  # noqa: S105  (a config key, not a secret)
CONF_MED_URL: Final = "med_url"  # optional: another instance (None: the API's public one)
CONF_MED_PRMS: Final = "med_prms"  # form field: PRMs separated by commas, spaces or new lines
MED_SECRETS: Final = (CONF_MED_CLIENT_SECRET, CONF_MED_TOKEN)

CONF_VERIFIED: Final = "verified"
"""{PRM: ISO datetime}: when a reauthentication or reconfiguration last verified each PRM's access with a request.

A PRM refused before that moment (`store.AccessRefusal.since`) is polled again after the reload; one refused after
it stays refused, so a reauthentication that did not verify a PRM cannot end in a loop."""

# --- per-PRM access (consent) ---------------------------------------------------------------------------
ACCESS_OK: Final = "ok"
ACCESS_CONSENT_MISSING: Final = "consent_missing"  # ADAM-DC-0008: no consent, or revoked
ACCESS_NOT_HOLDER: Final = "not_holder"  # ADAM-DC-0007: the consent is not the holder's
ACCESS_STATES: Final = (ACCESS_OK, ACCESS_CONSENT_MISSING, ACCESS_NOT_HOLDER)

CONSENT_CALLBACK_PATH: Final = "/api/enedis/consent"
"""The redirect URL path the user registers in their DataHub application."""

# --- options (their defaults and how they are read and stored: options.py, `EntryOptions`) ----------------
CONF_CURVE_MONTHS: Final = "curve_history_months"
CONF_DAILY_MONTHS: Final = "daily_history_months"
CONF_POLL_START: Final = "poll_window_start"  # hour (Paris) of the earliest daily poll
CONF_POLL_END: Final = "poll_window_end"  # hour (Paris) of the latest first daily poll
CONF_MEASURES: Final = "measures"
MEASURE_LOAD_CURVE: Final = "load_curve"
MEASURE_DAILY_ENERGY: Final = "daily_energy"
MEASURE_MAX_POWER: Final = "max_power"
MEASURE_PRODUCTION: Final = "production"
ALL_MEASURES: Final = (MEASURE_LOAD_CURVE, MEASURE_DAILY_ENERGY, MEASURE_MAX_POWER, MEASURE_PRODUCTION)

SANDBOX_PRMS: Final = {
    "22516914714270": "0",
    "11453290002823": "1",
    "32320647321714": "2",
    "12345678901234": "3",
    "10284856584123": "3",
    "42900589957123": "4",
    "24880057139941": "5",
    "12655648759651": "6",
    "64975835695673": "7",
    "63695879465986": "7",
    "22315546958763": "7",
    "26584978546985": "8",
}
"""The Enedis sandbox's fake clients: PRM -> client number (the sandbox has no consent page)."""

# --- tariffs and prices (options) ---------------------------------------------------------------------
CONF_TARIFF: Final = "tariff_option"
TARIFF_BASE: Final = "base"
TARIFF_HPHC: Final = "hphc"
TARIFF_TEMPO: Final = "tempo"
TARIFFS: Final = (TARIFF_BASE, TARIFF_HPHC, TARIFF_TEMPO)
CONF_OFFPEAK_OVERRIDE: Final = "offpeak_hours"  # e.g. "HC (22H00-6H00)", overrides the contract's
CONF_TEMPO_ENTITY: Final = "tempo_entity"  # an entity whose state is the Tempo colour of the current day
CONF_PRICE_ENTITY: Final = "price_entity"  # an entity whose state is the price (history-aware)
CONF_MONTHLY_FEE: Final = "monthly_fee"  # EUR per month (subscription), spread per hour
CONF_PRICE_PERIODS: Final = "price_periods"  # [{"start": ISO datetime, "prices": {class: EUR/kWh}}]
CONF_PRICE_SOURCE: Final = "price_source"  # where the prices come from (PRICE_SOURCES)
PRICE_SOURCE_MANUAL: Final = "manual"  # the dated prices (or the price entity) typed in the options
PRICE_SOURCE_TARIF_BLEU: Final = "tarif_bleu"  # the regulated grids shipped with the integration (prices/)
PRICE_SOURCES: Final = (PRICE_SOURCE_MANUAL, PRICE_SOURCE_TARIF_BLEU)
CONF_SUBSCRIBED_KVA: Final = "subscribed_kva"  # kVA for the Tarif Bleu grid when the contract does not say it
