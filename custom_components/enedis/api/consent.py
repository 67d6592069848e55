"""Enedis consent ("authorize") URLs, v1 and v2 (Data Connect 2026)."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

CONSENT_URL = "https://mon-compte-particulier.enedis.fr"
"""Production consent pages. The sandbox has no consent page: its fake clients are always shared."""

MAX_STATE_LENGTH = 100
MAX_DURATION_DAYS = 3 * 365 + 1
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


def duration_days(duration: str) -> float:
    """Approximate length in days of an ISO-8601 date duration such as ``P3Y``, ``P1Y6M`` or ``P1095D``."""
    match = _DURATION.match(duration)
    if match is None or duration == "P":
        msg = f"invalid consent duration {duration!r} (expected e.g. P3Y, P1Y6M, P90D)"
        raise ValueError(msg)
    years, months, days = (int(group or 0) for group in match.groups())
    return years * 365 + months * 365 / 12 + days


def validate_duration(duration: str) -> str:
    """Return ``duration`` if it is a valid consent duration of at most 3 years, else raise ValueError."""
    length = duration_days(duration)
    if length <= 0 or length > MAX_DURATION_DAYS:
        msg = f"consent duration {duration!r} must be between 1 day and 3 years"
        raise ValueError(msg)
    return duration


def make_state(length: int = 32) -> str:
    """A short random ``state`` (URL-safe; Enedis accepts at most 100 characters)."""
    return secrets.token_urlsafe(length)[:length]


def build_authorize_url(
    client_id: str,
    state: str,
    *,
    duration: str = "P3Y",
    version: int = 2,
    base_url: str = CONSENT_URL,
) -> str:
    """The URL to send the PRM holder to.

    v2 (Data Connect 2026) redirects back with ``autorisation_id`` and ``state``; v1 with ``code``, ``state``
    and ``usage_point_id``. The redirect URL is the one registered on DataHub (not a parameter).
    """
    if version not in (1, 2):
        msg = "consent version must be 1 or 2"
        raise ValueError(msg)
    if not state or len(state) > MAX_STATE_LENGTH:
        msg = f"state must be 1 to {MAX_STATE_LENGTH} characters"
        raise ValueError(msg)
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "state": state,
            "duration": validate_duration(duration),
        }
    )
    return f"{base_url.rstrip('/')}/dataconnect/v{version}/oauth2/authorize?{query}"
