"""Long-term statistics: ids, metadata and the thin writer (the computations live in `ledger`)."""

from __future__ import annotations

from collections.abc import Sequence

from homeassistant.components.recorder.models import StatisticData, StatisticMeanType, StatisticMetaData
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant

from .api import Direction
from .const import DOMAIN
from .ledger import StatRow

NAMES: dict[str, dict[Direction, str]] = {
    "en": {Direction.CONSUMPTION: "Linky {prm} consumption", Direction.PRODUCTION: "Linky {prm} production"},
    "fr": {Direction.CONSUMPTION: "Linky {prm} consommation", Direction.PRODUCTION: "Linky {prm} production"},
}


def statistic_id(prm: str, direction: Direction) -> str:
    """``enedis:{prm}_consumption`` / ``enedis:{prm}_production``."""
    return f"{DOMAIN}:{prm}_{direction.value}"


def statistic_name(hass: HomeAssistant, prm: str, direction: Direction) -> str:
    """The statistic's display name, in French when HA is in French (names are not translatable)."""
    language = "fr" if (hass.config.language or "").lower().startswith("fr") else "en"
    return NAMES[language][direction].format(prm=prm)


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


def async_write_rows(hass: HomeAssistant, prm: str, direction: Direction, rows: Sequence[StatRow]) -> int:
    """Queue the rows for the recorder (it upserts by start hour); returns how many were queued."""
    if not rows:
        return 0
    statistics = [StatisticData(start=row.start, state=row.state, sum=row.sum) for row in rows]
    async_add_external_statistics(hass, energy_metadata(hass, prm, direction), statistics)
    return len(statistics)
