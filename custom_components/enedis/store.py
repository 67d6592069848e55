"""Per-entry persistence (an HA `Store`) of the engine's state (``state.py``): what was fetched and written.

A restart never refetches what is known, and the statistics can be rebuilt from it. Readings are kept per PRM,
direction and local day; timestamps are stored as UTC epoch seconds. The classes and their JSON codecs are in
``state.py`` (one codec table per class); this module owns the file.

Versions (all read by this one; each is a major version: older code cannot read a newer file, and Home Assistant
refuses to load a newer major version (UnsupportedStorageVersionError) instead of handing it to code that would
misread it):

- **1**: readings and written hours as plain JSON lists, one number per line once Home Assistant indents the file
  (two years of one PRM ~10 MB).
- **2**: compact encodings: a day's load curve is ``[first start, step, "W,W,..."]`` when its readings follow each
  other with one step (nearly every day), else ``["start,end,W;..."]``; the hours written to the statistics are runs
  of consecutive hours, ``[[first hour, "Wh,Wh,..."], ...]``.
- **3**: each series' per-measure progress (days asked, history done, floor, probe) is one ``progress`` object per
  measure instead of parallel keys (``daily_fetched``, ``curve_done``, ``floors``…).

Older files are converted as they are read, in the executor (`state.migrate_series`, the version 1 decoders), with
nothing lost: no request after an upgrade (``tests/integration/test_store.py`` loads a real version 2 file written
by the previous release). They are rewritten in the current version at the next save.

The cache also records which source filled it (`MeteringSource.location`: Conso API URL, Data Connect
environment…); a setup from another location restarts the history import (`EnedisStore.async_load`). Fields added
without a format change are optional: a file written before a field existed loads with its default (the codecs skip
a missing key), and older code ignores a key it does not know (``source``, ``refused``).
"""

from __future__ import annotations

from datetime import date, datetime
import logging
import time
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api.calendar import local_day
from .const import DOMAIN
from .state import EntryCache, encode_hours_ahead, forget_hours_ahead

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 3
SAVE_DELAY = 10.0


class _Store(Store[dict[str, Any]]):
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Versions 1 and 2: converted as they are read, in the executor (`state.migrate_series`), not here."""
        return old_data


class EnedisStore:
    """The entry's `Store` (``.storage/enedis.<entry_id>``).

    Two years of readings are a few MB of JSON: converting them takes tens of milliseconds, so both directions
    run in the executor (the event loop only copies the containers; a save is a series of short jobs, see
    `_async_encode`), and saves are coalesced.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the store; nothing is read yet."""
        self._hass = hass
        # serialize_in_event_loop=False: the JSON of two years of readings is encoded in the executor.
        self._store: Store[dict[str, Any]] = _Store(
            hass,
            STORAGE_VERSION,
            f"enedis.{entry_id}",
            serialize_in_event_loop=False,
        )
        self._unsub_save: CALLBACK_TYPE | None = None
        self._unsub_final: CALLBACK_TYPE | None = None
        self._last_save = 0.0
        self._unloaded = False
        self.cache = EntryCache()

    async def async_load(self, source: str | None = None, today: date | None = None) -> EntryCache:
        """Load the cache (an empty one on first run).

        ``source`` (the entry's `MeteringSource.location`) different from the one the cache was filled from restarts the
        history import (`EntryCache.restart_history`, ``today`` in Paris). Why here and not in the reconfigure
        step: the running coordinator saves its cache when the reconfigure reloads the entry, which would write the
        old flags back; at load time the cache itself says which source filled it, whatever changed the entry (a
        reconfigure, an entry edited by hand) and whether the entry was loaded then. A cache without a recorded
        source (written before it was) adopts the entry's: its first start after the upgrade records it.
        """
        raw = await self._store.async_load()
        self.cache = await self._hass.async_add_executor_job(EntryCache.from_json, raw) if raw else EntryCache()
        if source is not None:
            if self.cache.source is not None and self.cache.source != source:
                _LOGGER.info("The source of this entry changed (%s): the history import starts again", source)
                self.cache.restart_history(today or local_day(dt_util.utcnow()))
            self.cache.source = source
        if self._unsub_final is None:
            # Home Assistant does not unload entries when it stops: flush what is pending at its final write.
            self._unsub_final = self._hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
            )
        return self.cache

    async def _async_final_write(self, _event: Event) -> None:
        self._unsub_final = None
        if self._unsub_save is not None:
            await self.async_save()

    @callback
    def async_schedule_save(self) -> None:
        """Save soon: at once when the last save is older than `SAVE_DELAY`, else coalesced after it.

        After `async_unload` (a refresh still running when the entry unloaded changed the cache), at once: no timer
        outlives the entry.
        """
        if self._unloaded:
            self._hass.async_create_task(self.async_save(), f"{DOMAIN} cache save after unload")
            return
        if self._unsub_save is not None:
            return
        delay = max(0.0, self._last_save + SAVE_DELAY - time.monotonic())
        self._unsub_save = async_call_later(self._hass, delay, self._async_delayed_save)

    async def _async_delayed_save(self, _now: datetime) -> None:
        self._unsub_save = None
        await self.async_save()

    async def async_save(self) -> None:
        """Save now (the coordinator's shutdown, tests)."""
        if self._unsub_save is not None:
            self._unsub_save()
            self._unsub_save = None
        self._last_save = time.monotonic()
        data = await self._async_encode(self.cache.copy())
        await self._store.async_save(data)

    async def _async_encode(self, cache: EntryCache) -> dict[str, Any]:
        """The JSON of ``cache`` (a copy: the loop goes on meanwhile) in short executor jobs: each statistic's written
        hours (`encode_hours_ahead`), then each series; the rest (a few fields) here. One job for the whole cache
        (~50 ms for a self-consumption PRM with prices) let the event loop wait as long for the interpreter lock
        while the recorder's thread also ran (`benchmarks/statistics_import.py`)."""  # noqa: D205, D209
        ahead = cache.written_hours()
        try:
            for hours in ahead:
                await self._hass.async_add_executor_job(encode_hours_ahead, hours)
            series = {
                (prm, direction): await self._hass.async_add_executor_job(one.to_json)
                for prm, direction, one in cache.series_items()
            }
        finally:
            forget_hours_ahead(ahead)
        return cache.to_json(series)

    @callback
    def async_unload(self) -> None:
        """Stop listening (the coordinator saves before).

        A save scheduled while that save ran (a refresh ending during the unload) waits behind it: it goes at once,
        no timer outlives the entry.
        """
        self._unloaded = True
        if self._unsub_final is not None:
            self._unsub_final()
            self._unsub_final = None
        if self._unsub_save is not None:
            self._unsub_save()
            self._unsub_save = None
            self._hass.async_create_task(self.async_save(), f"{DOMAIN} cache save after unload")

    async def async_remove(self) -> None:
        """Delete the file (entry removed)."""
        if self._unsub_save is not None:
            self._unsub_save()
            self._unsub_save = None
        await self._store.async_remove()
