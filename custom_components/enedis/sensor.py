"""Sensors of the Enedis Linky integration: yesterday's energy, power, contract and import progress per PRM.

The tariff comparison sensors (cost over the last 12 complete months under each option, the cheapest option) read
the comparison the coordinator computes at most once a day (`tariff_compare.TariffComparisons`), not the snapshot.

The energy sensors have NO ``state_class``: Enedis publishes each day's data the next morning, so a sensor
sampled by the recorder would put the energy in the wrong hours. The integration imports the hourly energy as
external statistics instead (``enedis:{prm}_consumption`` / ``enedis:{prm}_production``, see ``statistics.py``),
which is what the Energy dashboard should use. A ``state_class`` here would create a second, wrong, series.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    CURRENCY_EURO,
    PERCENTAGE,
    EntityCategory,
    UnitOfApparentPower,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .api import Direction
from .api.calendar import local_day
from .bill import MonthBill
from .comparator import OPTION_KEYS, option_dict
from .const import ACCESS_STATES, DOMAIN
from .coordinator import EnedisConfigEntry, EnedisCoordinator
from .data import BillSummary, EnedisData, PrmData
from .entity import EnedisEntity
from .tariff_compare import ComparisonResult

# Read-only sensors fed by the coordinator: no request per entity.
PARALLEL_UPDATES = 0

type SensorValue = StateType | date | datetime


def _yesterday() -> date:
    """Yesterday in Paris (Enedis' days are local days)."""
    return local_day(dt_util.utcnow()) - timedelta(days=1)


def _kwh(wh: float | None) -> float | None:
    return None if wh is None else wh / 1000


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _consumes(prm_data: PrmData) -> bool:
    return Direction.CONSUMPTION in prm_data.directions


def _produces(prm_data: PrmData) -> bool:
    return Direction.PRODUCTION in prm_data.directions


def _has_load_curve(prm_data: PrmData) -> bool:
    return _consumes(prm_data) and prm_data.load_curve is True


def _never_load_curve(prm_data: PrmData) -> bool:
    return not _consumes(prm_data) or prm_data.load_curve is False


def _consumption_contract(prm_data: PrmData) -> bool:
    """A contract is known and it has a consumption side (subscribed power, distribution tariff).

    Conso API serves no contract and a production-only PRM has no subscribed power: their contract sensors could
    never get a value. Through Data Connect the contract arrives with the first refresh (or the week's refresh).
    """
    return prm_data.contract is not None and prm_data.contract.has_consumption


def _billed(prm_data: PrmData) -> bool:
    """Whether the PRM's consumption is priced (prices in the options, or the Tarif Bleu)."""
    return prm_data.bill is not None


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _month_value(pick: Callable[[BillSummary], MonthBill | None]) -> Callable[[PrmData, EnedisData], SensorValue]:
    def value(prm_data: PrmData, _data: EnedisData) -> SensorValue:
        month = pick(prm_data.bill) if prm_data.bill is not None else None
        return None if month is None else _money(month.total)

    return value


def _month_attributes(
    pick: Callable[[BillSummary], MonthBill | None],
) -> Callable[[PrmData, EnedisData], Mapping[str, Any]]:
    """The month, its energy and the bill's split (EUR TTC; HT, accise, TVA where the taxes are known)."""

    def attributes(prm_data: PrmData, _data: EnedisData) -> Mapping[str, Any]:
        month = pick(prm_data.bill) if prm_data.bill is not None else None
        if month is None:
            return dict.fromkeys(BILL_ATTRIBUTES)
        return {
            "month": month.month.strftime("%Y-%m"),
            "energy_kwh": round(month.kwh, 3),
            "energy": _money(month.energy),
            "subscription": _money(month.subscription),
            "energy_ht": _money(month.energy_ht),
            "accise": _money(month.accise),
            "energy_tva": _money(month.energy_tva),
            "subscription_before_tva": _money(month.subscription_before_tva),
            "subscription_tva": _money(month.subscription_tva),
            "priced_hours": month.priced_hours,
            "unpriced_hours": month.unpriced_hours,
            "complete": month.complete,
        }

    return attributes


BILL_ATTRIBUTES = (
    "month",
    "energy_kwh",
    "energy",
    "subscription",
    "energy_ht",
    "accise",
    "energy_tva",
    "subscription_before_tva",
    "subscription_tva",
    "priced_hours",
    "unpriced_hours",
    "complete",
)
"""The bill sensors' attributes (the keys stay the same when a month has no figure)."""


def _forecast_value(prm_data: PrmData, _data: EnedisData) -> SensorValue:
    forecast = prm_data.bill.forecast if prm_data.bill is not None else None
    return None if forecast is None else _money(forecast.total)


def _forecast_attributes(prm_data: PrmData, _data: EnedisData) -> Mapping[str, Any]:
    forecast = prm_data.bill.forecast if prm_data.bill is not None else None
    if forecast is None:
        return {"so_far": None, "estimated_days": None, "basis_days": None}
    return {
        "so_far": _money(forecast.so_far),
        "estimated_days": forecast.estimated_days,
        "basis_days": forecast.basis_days,
    }


def _bill_sensor(
    key: str,
    value_fn: Callable[[PrmData, EnedisData], SensorValue],
    attr_fn: Callable[[PrmData, EnedisData], Mapping[str, Any]],
) -> EnedisSensorEntityDescription:
    return EnedisSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY_EURO,
        suggested_display_precision=2,
        # No state_class: the hourly bill is the external statistic enedis:{prm}_bill (or _consumption_cost);
        # these are a month's figures, recomputed as Enedis publishes each day.
        value_fn=value_fn,
        attr_fn=attr_fn,
        exists_fn=_billed,
        # Kept while the first import of a start has not priced anything yet (not removed from the registry).
        never_fn=lambda _: False,
    )


@dataclass(frozen=True, kw_only=True)
class EnedisSensorEntityDescription(SensorEntityDescription):
    """A sensor of one PRM: its value (and attributes) read from the coordinator's snapshot."""

    value_fn: Callable[[PrmData, EnedisData], SensorValue]
    attr_fn: Callable[[PrmData, EnedisData], Mapping[str, Any]] | None = None
    exists_fn: Callable[[PrmData], bool] = lambda _: True
    """Whether the PRM has this sensor (e.g. production only for PRMs that produce): created when True."""
    never_fn: Callable[[PrmData], bool] | None = None
    """Whether the sensor can never get a value: removed from the entity registry when True. Defaults to
    ``not exists_fn``; a sensor created once its data appears (Last power) is kept while its data is pending."""
    entry_wide: bool = False
    """A fact of the whole entry (token/consent, request count): created on the entry's first PRM only."""
    available_when_refused: bool = False
    """Stays available when Enedis refuses the PRM's data (the other sensors of the PRM become unavailable)."""


SENSORS: tuple[EnedisSensorEntityDescription, ...] = (
    EnedisSensorEntityDescription(
        key="consumption_yesterday",
        translation_key="consumption_yesterday",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        # No state_class: the energy goes to the external statistics enedis:{prm}_consumption (module docstring).
        value_fn=lambda prm, _: _kwh(prm.consumption_yesterday_wh),
        attr_fn=lambda _prm, _data: {"date": _yesterday().isoformat()},
        exists_fn=_consumes,
    ),
    EnedisSensorEntityDescription(
        key="production_yesterday",
        translation_key="production_yesterday",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        # No state_class: the energy goes to the external statistics enedis:{prm}_production (module docstring).
        value_fn=lambda prm, _: _kwh(prm.production_yesterday_wh),
        attr_fn=lambda _prm, _data: {"date": _yesterday().isoformat()},
        exists_fn=_produces,
    ),
    EnedisSensorEntityDescription(
        key="last_power",
        translation_key="last_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        value_fn=lambda prm, _: prm.last_power.value if prm.last_power else None,
        attr_fn=lambda prm, _: {
            "interval_start": _iso(prm.last_power.start) if prm.last_power else None,
            "interval_end": _iso(prm.last_power.end) if prm.last_power else None,
        },
        # Created when the first load-curve reading arrives (a meter without load curve never gets one).
        exists_fn=_has_load_curve,
        never_fn=_never_load_curve,
    ),
    EnedisSensorEntityDescription(
        key="max_power_yesterday",
        translation_key="max_power_yesterday",
        device_class=SensorDeviceClass.APPARENT_POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfApparentPower.VOLT_AMPERE,
        value_fn=lambda prm, _: prm.max_power_yesterday.value if prm.max_power_yesterday else None,
        attr_fn=lambda prm, _: {
            "peak_time": _iso(prm.max_power_yesterday.at) if prm.max_power_yesterday else None,
        },
        exists_fn=_consumes,
    ),
    EnedisSensorEntityDescription(
        key="subscribed_power",
        translation_key="subscribed_power",
        device_class=SensorDeviceClass.APPARENT_POWER,
        native_unit_of_measurement=UnitOfApparentPower.KILO_VOLT_AMPERE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda prm, _: prm.contract.subscribed_power_kva if prm.contract else None,
        exists_fn=_consumption_contract,
    ),
    EnedisSensorEntityDescription(
        key="tariff",
        translation_key="tariff",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda prm, _: prm.contract.distribution_tariff if prm.contract else None,
        attr_fn=lambda prm, _: {"offpeak_hours": prm.contract.offpeak_hours if prm.contract else None},
        exists_fn=_consumption_contract,
    ),
    EnedisSensorEntityDescription(
        key="newest_day",
        translation_key="newest_day",
        device_class=SensorDeviceClass.DATE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda prm, _: prm.newest_complete_day,
    ),
    EnedisSensorEntityDescription(
        key="backfill_progress",
        translation_key="backfill_progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value_fn=lambda prm, _: prm.backfill_progress,
        attr_fn=lambda prm, _: {
            "days_covered": prm.days_covered,
            "oldest_day": prm.oldest_day.isoformat() if prm.oldest_day else None,
        },
    ),
    EnedisSensorEntityDescription(
        key="access",
        translation_key="access",
        device_class=SensorDeviceClass.ENUM,
        options=list(ACCESS_STATES),
        entity_category=EntityCategory.DIAGNOSTIC,
        # Why the PRM's other entities are unavailable: Enedis' consent for this PRM is missing or revoked.
        value_fn=lambda prm, _: prm.access,
        attr_fn=lambda prm, _: {"refused_since": _iso(prm.access_refused_since), "code": prm.access_code},
        available_when_refused=True,
    ),
    EnedisSensorEntityDescription(
        key="expiry",
        translation_key="expiry",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda _, data: data.expires_at,
        entry_wide=True,
    ),
    EnedisSensorEntityDescription(
        key="requests_today",
        translation_key="requests_today",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        # No state_class: a per-day counter reset at Paris midnight would need TOTAL with a moving last_reset,
        # and long-term statistics of our own request count are of no use (the quota is in the diagnostics).
        value_fn=lambda _, data: data.requests_today,
        entry_wide=True,
    ),
)

BILL_SENSORS: tuple[EnedisSensorEntityDescription, ...] = (
    _bill_sensor("bill_this_month", _month_value(lambda b: b.this_month), _month_attributes(lambda b: b.this_month)),
    _bill_sensor("bill_forecast", _forecast_value, _forecast_attributes),
    _bill_sensor("bill_last_month", _month_value(lambda b: b.last_month), _month_attributes(lambda b: b.last_month)),
    _bill_sensor(
        "bill_same_month_last_year",
        _month_value(lambda b: b.same_month_last_year),
        _month_attributes(lambda b: b.same_month_last_year),
    ),
)
"""The bill: this month so far, its forecast, last month, the same month a year ago (`snapshot.bill_summary`)."""


@dataclass(frozen=True, kw_only=True)
class EnedisComparisonSensorEntityDescription(SensorEntityDescription):
    """A sensor of the tariff comparison of one PRM (`tariff_compare.ComparisonResult`)."""

    value_fn: Callable[[ComparisonResult], SensorValue]
    attr_fn: Callable[[ComparisonResult], Mapping[str, Any]]
    option: str | None = None
    """The option whose cost the sensor shows (None: the cheapest-option sensor)."""


def _period(result: ComparisonResult) -> dict[str, Any]:
    return {
        "first": result.comparison.first.isoformat(),
        "last": result.comparison.last.isoformat(),
        "partial": result.partial,
        "computed_at": result.computed_at.isoformat(),
    }


def _option_value(result: ComparisonResult, option: str) -> float | None:
    cost = result.comparison.option(option)
    return round(cost.total_eur, 2) if cost is not None and cost.available else None


def _option_attributes(result: ComparisonResult, option: str) -> dict[str, Any]:
    cost = result.comparison.option(option)
    values = option_dict(cost) if cost is not None else {}
    return {
        **_period(result),
        "days_priced": values.get("days_priced"),
        "days_not_priced": values.get("days_not_priced"),
        "common_basis_eur": values.get("common_basis_eur"),
        "difference_to_current_eur": values.get("difference_to_current_eur"),
        "unavailable_reason": values.get("reason"),
    }


def _cheapest_attributes(result: ComparisonResult) -> dict[str, Any]:
    comparison = result.comparison
    options = [option for option in comparison.options if option.available]
    saving = comparison.saving_eur
    return {
        **_period(result),
        "current": comparison.current,
        "saving_eur": None if saving is None else round(saving, 2),
        "common_basis_days": comparison.common_days,
        "common_basis_eur": {o.key: None if o.common_eur is None else round(o.common_eur, 2) for o in options},
        "days_not_priced": {option.key: sum(option.days_not_priced.values()) for option in options},
    }


def _cost_sensor(option: str, translation_key: str) -> EnedisComparisonSensorEntityDescription:
    """The cost over the period of ``option`` (EUR TTC, the days it priced)."""
    return EnedisComparisonSensorEntityDescription(
        key=f"cost_{option}",
        translation_key=translation_key,
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY_EURO,
        suggested_display_precision=2,
        # Enabled by default: the current option's only (`EnedisComparisonSensor`); the others are in the
        # cheapest-option sensor's attributes, and can be enabled one by one.
        entity_registry_enabled_default=False,
        value_fn=lambda result: _option_value(result, option),
        attr_fn=lambda result: _option_attributes(result, option),
        option=option,
    )


COMPARISON_SENSORS: tuple[EnedisComparisonSensorEntityDescription, ...] = (
    EnedisComparisonSensorEntityDescription(
        key="cheapest_option",
        translation_key="cheapest_option",
        device_class=SensorDeviceClass.ENUM,
        options=list(OPTION_KEYS),
        value_fn=lambda result: result.comparison.cheapest,
        attr_fn=_cheapest_attributes,
    ),
    _cost_sensor("base", "cost_base"),
    _cost_sensor("hphc", "cost_hphc"),
    _cost_sensor("hphc_standard", "cost_hphc_standard"),
    _cost_sensor("tempo", "cost_tempo"),
    _cost_sensor("ejp", "cost_ejp"),
    _cost_sensor("zen_weekend", "cost_zen_weekend"),
    _cost_sensor("zen_weekend_hc", "cost_zen_weekend_hc"),
    _cost_sensor("zen_flex", "cost_zen_flex"),
)
"""Every option of `comparator.OPTIONS` has its cost sensor (tests/integration/test_compare_tariffs.py checks it)."""


def _exists(description: EnedisSensorEntityDescription, prm_data: PrmData) -> bool | None:
    """Whether a PRM's sensor exists: True, False (it never could: removed), None (not known yet: kept as is)."""
    if description.exists_fn(prm_data):
        return True
    never = description.never_fn(prm_data) if description.never_fn else True
    return False if never else None


def _new_comparison_sensors(
    coordinator: EnedisCoordinator, prm: str, prm_data: PrmData, added: set[tuple[str, str]]
) -> list[SensorEntity]:
    """The tariff comparison sensors of a PRM, once (``added`` records them).

    Only with a subscribed power to select the grids: a consumption contract's, or the options' *Subscribed power*
    for a PRM that consumes (Conso API entries have no contract); not before either is known.
    """
    typed_power = coordinator.options.subscribed_kva is not None and _consumes(prm_data)
    if not (_consumption_contract(prm_data) or typed_power):
        return []
    new: list[SensorEntity] = []
    for description in COMPARISON_SENSORS:
        if (prm, description.key) not in added:
            added.add((prm, description.key))
            new.append(EnedisComparisonSensor(coordinator, prm, description))
    return new


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnedisConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the sensors of each PRM of the entry.

    A PRM's directions are learnt as the data arrives (through Conso API a consumption-only meter is only known
    as such after its first production request fails): the sensors that depend on them are added, or removed
    from the registry, when the coordinator's snapshot changes. A sensor that could never get a value is not
    created (contract sensors without a consumption contract, e.g. on Conso API entries; Last power without a
    load curve), and is removed from the registry where an older version created it.
    """
    coordinator = entry.runtime_data
    entity_registry = er.async_get(hass)
    added: set[tuple[str, str]] = set()

    @callback
    def _async_sync_entities() -> None:
        new: list[SensorEntity] = []
        for index, prm in enumerate(coordinator.prms):
            prm_data = coordinator.data.prms.get(prm)
            if prm_data is None:
                continue
            new.extend(_new_comparison_sensors(coordinator, prm, prm_data, added))
            for description in (*SENSORS, *BILL_SENSORS):
                if description.entry_wide and index > 0:
                    continue
                key = (prm, description.key)
                exists = _exists(description, prm_data)
                if exists and key not in added:
                    added.add(key)
                    new.append(EnedisSensor(coordinator, prm, description))
                elif exists is False:
                    added.discard(key)
                    entity_id = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{prm}_{description.key}")
                    if entity_id is not None:
                        entity_registry.async_remove(entity_id)
        if new:
            async_add_entities(new)

    _async_sync_entities()
    entry.async_on_unload(coordinator.async_add_listener(_async_sync_entities))


class EnedisSensor(EnedisEntity, SensorEntity):
    """A sensor of one PRM."""

    entity_description: EnedisSensorEntityDescription

    def __init__(
        self,
        coordinator: EnedisCoordinator,
        prm: str,
        description: EnedisSensorEntityDescription,
    ) -> None:
        """Describe the sensor ``description.key`` of ``prm``."""
        super().__init__(coordinator, prm, description.key)
        self.entity_description = description
        self._available_when_refused = description.available_when_refused or description.entry_wide

    @property
    def _prm_data(self) -> PrmData | None:
        return self.coordinator.data.prms.get(self.prm)

    @property
    def native_value(self) -> SensorValue:
        """The value, None while unknown."""
        prm_data = self._prm_data
        return None if prm_data is None else self.entity_description.value_fn(prm_data, self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The description's attributes (None values included: the keys stay stable)."""
        prm_data = self._prm_data
        if self.entity_description.attr_fn is None or prm_data is None:
            return None
        return self.entity_description.attr_fn(prm_data, self.coordinator.data)


class EnedisComparisonSensor(EnedisEntity, SensorEntity):
    """A sensor of the tariff comparison of one PRM (unknown until the first comparison is computed)."""

    entity_description: EnedisComparisonSensorEntityDescription

    def __init__(
        self,
        coordinator: EnedisCoordinator,
        prm: str,
        description: EnedisComparisonSensorEntityDescription,
    ) -> None:
        """Describe the sensor ``description.key`` of ``prm``; the current option's cost is enabled by default."""
        super().__init__(coordinator, prm, description.key)
        self.entity_description = description
        if description.option is not None and description.option == coordinator.options.tariff:
            self._attr_entity_registry_enabled_default = True

    @property
    def _result(self) -> ComparisonResult | None:
        return self.coordinator.comparisons.results.get(self.prm)

    @property
    def native_value(self) -> SensorValue:
        """The value, None until computed."""
        result = self._result
        return None if result is None else self.entity_description.value_fn(result)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The period, what was priced and the common basis."""
        result = self._result
        return None if result is None else self.entity_description.attr_fn(result)
