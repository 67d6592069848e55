"""Long-term statistics: ids, metadata and the thin writer (the computations live in `ledger`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import contextlib
from datetime import UTC, datetime

from homeassistant.components.recorder.models import StatisticData, StatisticMeanType, StatisticMetaData
from homeassistant.components.recorder.statistics import async_add_external_statistics, statistics_during_period
from homeassistant.const import CURRENCY_EURO, UnitOfEnergy
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.recorder import get_instance

from .api import Direction
from .const import DOMAIN
from .ledger import StatRow, StatRows, SumShift

NAMES: dict[str, dict[Direction, str]] = {
    "en": {Direction.CONSUMPTION: "Linky {prm} consumption", Direction.PRODUCTION: "Linky {prm} production"},
    "fr": {Direction.CONSUMPTION: "Linky {prm} consommation", Direction.PRODUCTION: "Linky {prm} production"},
}


def statistic_id(prm: str, direction: Direction) -> str:
    """``enedis:{prm}_consumption`` / ``enedis:{prm}_production``."""
    return f"{DOMAIN}:{prm}_{direction.value}"


def statistic_name(hass: HomeAssistant, prm: str, direction: Direction) -> str:
    """The statistic's display name, in French when HA is in French (names are not translatable)."""
    return NAMES[_language(hass)][direction].format(prm=prm)


def energy_metadata(hass: HomeAssistant, prm: str, direction: Direction) -> StatisticMetaData:
    """External energy statistic: kWh, a running sum, no mean."""
    return StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name=statistic_name(hass, prm, direction),
        source=DOMAIN,
        statistic_id=statistic_id(prm, direction),
        unit_class="energy",
        unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    )


SERIES_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "consumption_offpeak": "consumption off-peak",
        "consumption_peak": "consumption peak",
        "consumption_cost": "consumption cost",
        "bill": "bill (Tarif Bleu)",
        "production_compensation": "production compensation",
        "blue": "Blue",
        "white": "White",
        "red": "Red",
        "offpeak": "off-peak",
        "peak": "peak",
    },
    "fr": {
        "consumption_offpeak": "consommation heures creuses",
        "consumption_peak": "consommation heures pleines",
        "consumption_cost": "coût de la consommation",
        "bill": "facture (Tarif Bleu)",
        "production_compensation": "rémunération de la production",
        "blue": "Bleu",
        "white": "Blanc",
        "red": "Rouge",
        "offpeak": "HC",
        "peak": "HP",
    },
}


def _language(hass: HomeAssistant) -> str:
    return "fr" if (hass.config.language or "").lower().startswith("fr") else "en"


def series_metadata(hass: HomeAssistant, prm: str, key: str) -> StatisticMetaData:
    """Metadata of a tariff series ``enedis:{prm}_{key}``: kWh for energy splits, EUR for money (no unit class)."""
    names = SERIES_NAMES[_language(hass)]
    if key in names:
        label = names[key]
    else:  # consumption_{colour}_{offpeak|peak}
        _, colour, part = key.split("_", 2)
        prefix = "consommation" if _language(hass) == "fr" else "consumption"
        label = f"{prefix} Tempo {names[colour]} {names[part]}"
    money = key == "bill" or key.endswith(("_cost", "_compensation"))
    return StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name=f"Linky {prm} {label}",
        source=DOMAIN,
        statistic_id=f"{DOMAIN}:{prm}_{key}",
        unit_class=None if money else "energy",
        unit_of_measurement=CURRENCY_EURO if money else UnitOfEnergy.KILO_WATT_HOUR,
    )


WRITE_CHUNK = 1000
"""Rows handed to the recorder per call: each call validates its rows in the event loop, so a 2-year rewrite is
queued in chunks, yielding to the loop in between (no stall over a few milliseconds)."""
RECORDER_WAIT = 60.0
"""Longest wait (s) for the recorder to commit what is queued before the next chunk is queued, or the next import
computed, anyway."""


async def async_recorder_caught_up(hass: HomeAssistant) -> None:
    """Wait until the recorder has committed what is queued (at most `RECORDER_WAIT`)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(RECORDER_WAIT):
            await get_instance(hass).async_block_till_done()


async def async_write(
    hass: HomeAssistant, metadata: StatisticMetaData, rows: Sequence[StatRow], *, newest_first: bool = True
) -> int:
    """Queue the rows for the recorder (it upserts by start hour); returns how many were queued.

    A large write (a 2-year import or repricing: up to ~18,000 rows per series) is paced: each chunk is queued once
    the recorder has committed the previous one. Chunks go newest first (``rows`` sorted by start) when the rows
    replace rows already in the recorder: the newer rows get their larger sums before the older rows appear, so the
    sums never decrease in between; only while the older rows' chunks are committed (seconds) can a period spanning
    the border show more energy, never less (when the series' origin moves back, `async_shift_sums` has given the
    rows already there their larger sums first). A first write (``newest_first=False``) goes oldest first: every
    prefix of it is right.

    Queued all at once, 100,000 rows wait a minute in the recorder's
    queue as 100,000 dicts that Python's cycle collector walks at every full collection: pauses of the whole process
    of 40-80 ms instead of 20-30 ms (benchmarks/statistics_import.py).
    """
    table = rows if isinstance(rows, StatRows) else StatRows(rows)
    starts = range(0, len(table), WRITE_CHUNK)
    for i, first in enumerate(reversed(starts) if newest_first else starts):
        if i:
            await async_recorder_caught_up(hass)
        statistics: list[StatisticData] = [
            {"start": start, "state": state, "sum": total}
            for start, state, total in table[first : first + WRITE_CHUNK].columns()
        ]
        async_add_external_statistics(hass, metadata, statistics)
        await asyncio.sleep(0)
    return len(rows)


@callback
def async_shift_sums(hass: HomeAssistant, metadata: StatisticMetaData, shift: SumShift) -> None:
    """Queue the recorder's own adjustment of a statistic's sums: every row from ``shift.start`` on gets
    ``shift.kwh`` added to its sum, in one SQL update (`Recorder.async_adjust_statistics`, what the statistics
    developer tool's "adjust sum" uses) instead of rewriting each row. Rows queued after it are written after it
    (the recorder runs its tasks in order)."""  # noqa: D205, D209
    get_instance(hass).async_adjust_statistics(
        metadata["statistic_id"], shift.start, shift.kwh, metadata["unit_of_measurement"] or ""
    )


async def async_write_rows(hass: HomeAssistant, prm: str, direction: Direction, rows: Sequence[StatRow]) -> int:
    """Write energy rows of ``enedis:{prm}_{direction}``."""
    return await async_write(hass, energy_metadata(hass, prm, direction), rows)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def async_recorded_rows(hass: HomeAssistant, statistic_id: str) -> dict[float, tuple[float | None, float | None]]:
    """Every hourly row the recorder holds for ``statistic_id``: UTC epoch start -> (state, sum).

    Waits for what is queued to be committed first, then reads in the recorder's executor.
    """
    await async_recorder_caught_up(hass)
    return await get_instance(hass).async_add_executor_job(_recorded_rows, hass, statistic_id)


def _recorded_rows(hass: HomeAssistant, statistic_id: str) -> dict[float, tuple[float | None, float | None]]:
    """Read in the recorder's executor (a two-year series is ~26,000 rows: not converted in the event loop)."""
    result = statistics_during_period(hass, _EPOCH, None, {statistic_id}, "hour", None, {"state", "sum"})
    return {row["start"]: (row.get("state"), row.get("sum")) for row in result.get(statistic_id, [])}


async def async_clear(hass: HomeAssistant, statistic_id: str) -> None:
    """Delete a statistic and all its rows (it is created again by the next write), and wait until done."""
    get_instance(hass).async_clear_statistics([statistic_id])
    await async_recorder_caught_up(hass)
