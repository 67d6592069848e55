"""RTE's public Tempo calendar: the colour of every day of a Tempo season, no account needed.

``GET https://www.services-rte.com/cms/open_data/v1/tempo?season=2026-2027`` answers
``{"values": {"2026-09-01": "BLUE", "2026-09-02": "BLUE", ...}}`` (colours ``BLUE``, ``WHITE``, ``RED``): the
shape documented in the project's price research (``fr-tariffs/README.md`` section 3.3, from two public clients
of the endpoint); no captured body was available. A Tempo season runs from 1 September to 31 August and is
named by its two years. The session is injected (the integration passes Home Assistant's); nothing here
imports Home Assistant.

The parser keeps only what the body says: a day absent from ``values``, or with another value (a day not yet
announced), is absent from the result, never guessed. Flags such as ``"2026-12-01-fallback"`` (the
``tempoLight`` endpoint's) are skipped.
"""

from __future__ import annotations

from datetime import date
import json
import re
from typing import Any

import aiohttp

from .errors import CommunicationError, InvalidResponseError, ServerError, UnrecognizedResponseError

RTE_TEMPO_URL = "https://www.services-rte.com/cms/open_data/v1/tempo"
"""RTE's public season endpoint (``?season=YYYY-YYYY``)."""

TIMEOUT = 30.0
"""Seconds before a request counts as failed (`CommunicationError`)."""

_COLOURS = {"BLUE": "blue", "WHITE": "white", "RED": "red"}
_SEASON = re.compile(r"(\d{4})-(\d{4})")
_FLAG = re.compile(r"\d{4}-\d{2}-\d{2}-[a-z]+")


def tempo_season(day: date) -> str:
    """The Tempo season ``day`` belongs to, e.g. ``2026-2027`` for 2026-09-01 to 2027-08-31."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def season_bounds(season: str) -> tuple[date, date]:
    """First and last day of ``season`` (``YYYY-YYYY``, consecutive years); ValueError otherwise."""
    match = _SEASON.fullmatch(season)
    if match is None or int(match[2]) != int(match[1]) + 1:
        msg = f"not a Tempo season: {season!r} (expected e.g. 2026-2027)"
        raise ValueError(msg)
    return date(int(match[1]), 9, 1), date(int(match[2]), 8, 31)


def parse_tempo_season(body: Any, season: str) -> dict[date, str]:
    """{day: ``blue`` | ``white`` | ``red``} from a season body; `InvalidResponseError` if it is not one.

    A key that is not a day of ``season`` means the answer is not the season asked for: refused. Days whose
    value is not one of the three colours are left out (unknown).
    """
    first, last = season_bounds(season)
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(values, dict):
        msg = "RTE Tempo answer without a 'values' object"
        raise InvalidResponseError(msg)
    colours: dict[date, str] = {}
    for key, value in values.items():
        if isinstance(key, str) and _FLAG.fullmatch(key):
            continue
        try:
            day = date.fromisoformat(key)
        except (TypeError, ValueError):
            msg = f"RTE Tempo answer with a key that is not a day: {str(key)[:40]!r}"
            raise InvalidResponseError(msg) from None
        if not first <= day <= last:
            msg = f"RTE Tempo answer for season {season} holds {day.isoformat()}"
            raise InvalidResponseError(msg)
        colour = _COLOURS.get(value) if isinstance(value, str) else None
        if colour is not None:
            colours[day] = colour
    return dict(sorted(colours.items()))


async def async_get_tempo_season(
    session: aiohttp.ClientSession, season: str, *, url: str = RTE_TEMPO_URL, request_timeout: float = TIMEOUT
) -> dict[date, str]:
    """The known colours of ``season`` (see `parse_tempo_season`), one GET on RTE's public endpoint.

    Raises `CommunicationError` (network, timeout), `ServerError` (5xx), `UnrecognizedResponseError` (another
    4xx: not the endpoint), `InvalidResponseError` (a 2xx body that is not a season's), ValueError for a
    malformed ``season``.
    """
    season_bounds(season)
    try:
        async with session.get(
            url,
            params={"season": season},
            headers={"Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=request_timeout),
        ) as response:
            status = response.status
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError) as err:
        msg = f"RTE Tempo request failed: {type(err).__name__}"
        raise CommunicationError(msg) from err
    if status >= 500:
        raise ServerError("RTE Tempo server error", status=status)
    if status != 200:
        raise UnrecognizedResponseError("not RTE's Tempo answer", status=status)
    try:
        body = json.loads(text)
    except ValueError as err:
        msg = "RTE Tempo answer is not JSON"
        raise InvalidResponseError(msg, status=status) from err
    return parse_tempo_season(body, season)
