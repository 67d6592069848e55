"""Diagnostics of an Enedis Linky entry: coverage, holes, quota, contracts and errors, without secrets.

Secrets (Conso API token, client secret, access token, consent ids, XMPP password) are redacted; personal data
(names, addresses, emails, phones, the local part of XMPP JIDs) too. PRMs are masked everywhere, in keys and
values, keeping the first and last two digits (``22**********70``) so that a user with several meters can still
tell them apart.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
import re
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant

from .api.prm import PRM_DIGITS
from .const import (
    CONF_AUTHORIZATION_IDS,
    CONF_JID,
    CONF_MED_CLIENT_ID,
    CONF_MED_CLIENT_SECRET,
    CONF_MED_TOKEN,
    CONF_PASSWORD,
    CONF_PRMS,
    CONF_PROXY_JID,
    CONF_SGE_CA,
    CONF_SGE_CERTIFICATE,
    CONF_SGE_GATEWAY_KEY,
    CONF_SGE_KEY,
    CONF_SGE_LOGIN,
    CONF_TOKEN,
    MED_SECRETS,
    SGE_SECRETS,
)
from .coordinator import EnedisConfigEntry

TO_REDACT = {
    CONF_TOKEN,
    CONF_PASSWORD,
    CONF_AUTHORIZATION_IDS,
    # Enedis SGE: the key and the gateway key are secrets; the certificates and the login name the company.
    CONF_SGE_KEY,
    CONF_SGE_GATEWAY_KEY,
    CONF_SGE_CERTIFICATE,
    CONF_SGE_CA,
    CONF_SGE_LOGIN,
    # MyElectricalData: the client secret and the token are secrets; the client id names the account.
    CONF_MED_CLIENT_ID,
    CONF_MED_CLIENT_SECRET,
    CONF_MED_TOKEN,
    "access_token",
    "refresh_token",
    "client_id",
    "client_secret",
    "authorization_id",
    "name",
    "first_name",
    "last_name",
    "firstname",
    "lastname",
    "address",
    "addresses",
    "street",
    "city",
    "postal_code",
    "postal_code_city",
    "insee_code",
    "email",
    "phone",
}

_PRM_PATTERN = re.compile(rf"(?<![0-9]){PRM_DIGITS}(?![0-9])")
"""A PRM inside a text (an error message, a URL): 14 digits that are not part of a longer number."""


def mask_jid(jid: str) -> str:
    """``home@example.org/ha`` -> ``**REDACTED**@example.org/ha``: the account's name is personal, not its server."""
    local, at, rest = jid.partition("@")
    return f"{REDACTED}@{rest}" if at and local else jid


def _jid_locals(data: Any) -> set[str]:
    """The local parts of an XMPP entry's JIDs (scrubbed from every text of the diagnostics)."""
    return {
        str(data[key]).partition("@")[0]
        for key in (CONF_JID, CONF_PROXY_JID)
        if isinstance(data.get(key), str) and "@" in data[key]
    }


def _masked_jids(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: mask_jid(value) if key in {CONF_JID, CONF_PROXY_JID} and isinstance(value, str) else value
        for key, value in data.items()
    }


def mask_prm(prm: str) -> str:
    """``22516914714270`` -> ``22**********70``."""
    return prm[:2] + "*" * (len(prm) - 4) + prm[-2:]


class _Scrubber:
    """Masks PRMs and removes secrets from every string of a JSON-like structure (keys included)."""

    def __init__(self, prms: set[str], secrets: set[str]) -> None:
        self._prms = sorted(prms, key=len, reverse=True)
        self._secrets = sorted(secrets, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        for prm in self._prms:
            value = value.replace(prm, mask_prm(prm))
        return _PRM_PATTERN.sub(lambda match: mask_prm(match.group()), value)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self(key): self(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
            return [self(item) for item in items]
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: EnedisConfigEntry) -> dict[str, Any]:
    """Diagnostics of one entry (PRMs masked, secrets redacted)."""
    coordinator = entry.runtime_data
    data = coordinator.data
    prms = {str(prm) for prm in entry.data.get(CONF_PRMS, [])} | set(coordinator.prms)
    secrets = set(coordinator.source.secrets()) | {
        str(entry.data[key]) for key in (CONF_TOKEN, *SGE_SECRETS, *MED_SECRETS) if entry.data.get(key)
    }
    secrets |= {f"{local}@" for local in _jid_locals(entry.data)}
    scrub = _Scrubber(prms, secrets)
    snapshot: dict[str, Any] = {
        "requests_today": data.requests_today,
        "expires_at": data.expires_at,
        "last_error": data.last_error,
        "prms": {
            prm: {
                "directions": [direction.value for direction in prm_data.directions],
                "has_consumption_yesterday": prm_data.consumption_yesterday_wh is not None,
                "has_production_yesterday": prm_data.production_yesterday_wh is not None,
                "last_power_start": prm_data.last_power.start if prm_data.last_power else None,
                "newest_complete_day": prm_data.newest_complete_day,
                "oldest_day": prm_data.oldest_day,
                "days_covered": prm_data.days_covered,
                "backfill_progress": prm_data.backfill_progress,
                "missing_days": prm_data.missing_days,
            }
            for prm, prm_data in data.prms.items()
        },
    }
    diagnostics: dict[str, Any] = {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(_masked_jids(dict(entry.data)), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "source": coordinator.source.contract.name,
        "last_update_success": coordinator.last_update_success,
        "coordinator": coordinator.diagnostics(),
        "snapshot": snapshot,
        "contracts": {
            prm: async_redact_data(asdict(contract), TO_REDACT) for prm, contract in coordinator.contracts.items()
        },
    }
    result: dict[str, Any] = scrub(diagnostics)
    return result
