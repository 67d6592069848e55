"""Tempo colours for every day the integration prices: one shared source per Home Assistant instance.

`async_colours` answers the known colour of each Tempo day of a range, from three sources, in this order of
precedence (a source wins wherever it says something):

1. the colour entity of the entry's options, when one is configured (its recorded history, `tariff_history`);
2. the colours shipped with the integration (`helpers.async_price_data`, read once per Home Assistant in the
   executor: every day from 2014-09-01 to 2026-08-31; none while a broken install cannot read them, read again at
   the next call);
3. RTE's public season endpoint (`api.rte_tempo`, no account), cached in a `Store` of its own
   (``.storage/enedis.tempo_colours``) shared by every entry.

A day none of them knows is absent from the answer: never guessed (its Tempo hours stay out of the Tempo
statistics and unpriced, as the importer reports).

When RTE is asked: only for the days the two first sources leave unknown, up to tomorrow (later days cannot be
known), and only for a season the cache does not hold complete. Such a season is asked at most once per Paris day
(the first time a day needs it), plus at most one more attempt that same day when tomorrow's colour is wanted and
still unknown, the first attempt was made before 11:00 Paris and it is now 11:00 or later (RTE announces
tomorrow's colour around 10:40): at most 2 requests a day per season, and in practice one (the importer never asks
for tomorrow). A past season that is not shipped is asked the same way until the cache holds all its days, then
never again. Each attempt's time is saved at once with the cache, so a restart the same day does not ask again.
A failed attempt (network, timeout, 5xx, another status, a body that is not a season) counts as the day's attempt:
it is logged once as a warning (then at debug level until an attempt succeeds again; the endpoint is public, no
secret is involved), the cached colours are kept and still answered, and the missing days stay unknown until the
next day's attempt. Offline, the entity and the shipped colours work as before and the season's days already
cached keep their colours.

The demo of ``scripts/develop`` cannot intercept www.services-rte.com: it names its demo gateway's copy of the
endpoint in the environment variable `DEMO_RTE_VARIABLE`, which nothing else sets (never offered in the UI).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
import logging
import os
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .api.calendar import local_day, to_paris
from .api.errors import EnedisError
from .api.rte_tempo import RTE_TEMPO_URL, async_get_tempo_season, season_bounds, tempo_season
from .const import DOMAIN
from .helpers import PRICE_DATA_ERRORS, async_price_data
from .tariff_history import async_tempo_colours

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY = f"{DOMAIN}.tempo_colours"
STORAGE_VERSION = 1
DATA_KEY: HassKey[TempoColours] = HassKey(f"{DOMAIN}_tempo_colours")
TOMORROW_HOUR = 11
"""Paris hour from which a second attempt of the day may fetch tomorrow's colour (RTE announces it ~10:40)."""
DEMO_RTE_VARIABLE = "ENEDIS_DEMO_RTE_URL"
"""Set by ``scripts/develop`` only: its demo gateway's URL of the season endpoint, instead of RTE's."""
_COLOURS = frozenset({"blue", "white", "red"})


async def async_colours(
    hass: HomeAssistant, first: date, last: date, *, entity_id: str | None = None
) -> dict[date, str]:
    """The known colour (``blue``, ``white``, ``red``) of every Tempo day in ``[first, last]``; unknown days absent."""
    source = hass.data.get(DATA_KEY)
    if source is None:
        source = hass.data[DATA_KEY] = TempoColours(hass)
    return await source.async_colours(first, last, entity_id=entity_id)


@dataclass(slots=True)
class _Season:
    """What the cache holds of one season: RTE's colours so far and the attempts of the last day it was asked."""

    colours: dict[date, str] = field(default_factory=dict)
    asked: list[datetime] = field(default_factory=list)

    def complete(self, season: str) -> bool:
        first, last = season_bounds(season)
        return len(self.colours) >= (last - first).days + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "colours": {day.isoformat(): colour for day, colour in sorted(self.colours.items())},
            "asked": [moment.isoformat() for moment in self.asked],
        }

    @classmethod
    def from_json(cls, season: str, value: Any) -> _Season:
        """A season read from the file; entries that cannot be read are dropped (asked again, never guessed)."""
        first, last = season_bounds(season)
        result = cls()
        if not isinstance(value, dict):
            return result
        colours = value.get("colours")
        for key, colour in colours.items() if isinstance(colours, dict) else ():
            try:
                day = date.fromisoformat(key)
            except (TypeError, ValueError):
                continue
            if first <= day <= last and colour in _COLOURS:
                result.colours[day] = colour
        asked = value.get("asked")
        for stamp in asked if isinstance(asked, list) else ():
            moment = dt_util.parse_datetime(stamp) if isinstance(stamp, str) else None
            if moment is not None and moment.tzinfo is not None:
                result.asked.append(moment)
        return result


class TempoColours:
    """The shared colour source of one Home Assistant instance (`async_colours`; module docstring for the rules)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._lock = asyncio.Lock()
        self._shipped: Mapping[date, str] | None = None
        self._seasons: dict[str, _Season] | None = None
        self._failing = False
        self._shipped_failing = False

    async def async_colours(self, first: date, last: date, *, entity_id: str | None = None) -> dict[date, str]:
        """See `async_colours`."""
        if last < first:
            return {}
        days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
        known: dict[date, str] = {}
        if entity_id:
            known.update(await async_tempo_colours(self._hass, entity_id, first, last))
        async with self._lock:
            shipped, seasons = await self._async_load()
            for day in days:
                if day not in known and (colour := shipped.get(day)) is not None:
                    known[day] = colour
            tomorrow = local_day(dt_util.utcnow()) + timedelta(days=1)
            wanted: dict[str, set[date]] = {}
            for day in days:
                if day not in known and day <= tomorrow:
                    wanted.setdefault(tempo_season(day), set()).add(day)
            for season, missing in sorted(wanted.items()):
                await self._async_refresh(seasons, season, missing)
                cached = seasons.get(season)
                for day in missing:
                    if cached is not None and (colour := cached.colours.get(day)) is not None:
                        known[day] = colour
        return dict(sorted(known.items()))

    async def _async_load(self) -> tuple[Mapping[date, str], dict[str, _Season]]:
        """The shipped colours and the cached seasons, read once (the shipped ones again while they cannot be read)."""
        shipped = self._shipped
        if shipped is None:
            try:
                shipped = self._shipped = (await async_price_data(self._hass)).tempo
            except PRICE_DATA_ERRORS as err:
                level = logging.DEBUG if self._shipped_failing else logging.WARNING
                _LOGGER.log(
                    level, "The shipped Tempo colours cannot be read (%s): only the entity and RTE give colours", err
                )
                self._shipped_failing = True
                shipped = {}
        if self._seasons is None:
            stored = await self._store.async_load()
            seasons: dict[str, _Season] = {}
            raw = stored.get("seasons") if isinstance(stored, dict) else None
            for season, value in raw.items() if isinstance(raw, dict) else ():
                try:
                    seasons[season] = _Season.from_json(season, value)
                except ValueError:
                    continue
            self._seasons = seasons
        return shipped, self._seasons

    def _should_ask(self, season: str, cached: _Season, missing: set[date], now: datetime) -> bool:
        """Whether RTE is asked for ``season`` now (at most once a Paris day, plus tomorrow's after 11:00)."""
        if cached.complete(season):
            return False
        today = local_day(now)
        attempts = [moment for moment in cached.asked if local_day(moment) == today]
        if not attempts:
            return True
        tomorrow = today + timedelta(days=1)
        return (
            len(attempts) == 1
            and tomorrow in missing
            and tomorrow not in cached.colours
            and to_paris(attempts[0]).hour < TOMORROW_HOUR <= to_paris(now).hour
        )

    async def _async_refresh(self, seasons: dict[str, _Season], season: str, missing: set[date]) -> None:
        """Ask RTE for ``season`` if the rules allow it now; the cache is saved with the attempt's time."""
        cached = seasons.setdefault(season, _Season())
        now = dt_util.utcnow()
        if not self._should_ask(season, cached, missing, now):
            return
        today = local_day(now)
        cached.asked = [moment for moment in cached.asked if local_day(moment) == today] + [now]
        url = os.environ.get(DEMO_RTE_VARIABLE, "").strip() or RTE_TEMPO_URL
        try:
            colours = await async_get_tempo_season(async_get_clientsession(self._hass), season, url=url)
        except EnedisError as err:
            level = logging.DEBUG if self._failing else logging.WARNING
            _LOGGER.log(
                level,
                "RTE's Tempo colours of season %s could not be read (%s): the cached colours are kept, the days"
                " still unknown stay unpriced; asked again tomorrow",
                season,
                err,
            )
            self._failing = True
        else:
            if self._failing:
                _LOGGER.info("RTE's Tempo colours can be read again")
            self._failing = False
            cached.colours.update(colours)
        await self._store.async_save({"seasons": {key: value.to_json() for key, value in sorted(seasons.items())}})
