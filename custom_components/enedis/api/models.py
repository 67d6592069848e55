"""Typed models returned by the Enedis client library.

All datetimes are timezone-aware. Parsers give them a FIXED Paris offset (``+01:00`` or ``+02:00``), not
``ZoneInfo("Europe/Paris")``: Python subtracts and compares two datetimes sharing one ``ZoneInfo`` by wall
clock, which would make DST days 24 h long and mis-order the repeated autumn stamps. Never rebuild them with
``tzinfo=PARIS``; convert with `calendar.to_paris` or ``astimezone`` (and compare ambiguous autumn times in UTC).
Intervals are half-open ``[start, end)``. Every Paris-calendar conversion is in `calendar`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
import enum


class Direction(enum.StrEnum):
    """Energy flow seen by the meter."""

    CONSUMPTION = "consumption"
    PRODUCTION = "production"


class Measure(enum.StrEnum):
    """What a series measures."""

    DAILY_ENERGY = "daily_energy"
    """Energy per local day, Wh. One reading spans local midnight to midnight (23/24/25 h)."""
    LOAD_CURVE = "load_curve"
    """Average active power over each interval (5 to 60 min), W."""
    MAX_POWER = "max_power"
    """Maximum apparent power of the local day, VA; ``Reading.at`` is the moment of the peak."""
    INDEX = "index"
    """Cumulative energy registers per tariff class, Wh (see `IndexSeries`)."""


UNITS: dict[Measure, str] = {
    Measure.DAILY_ENERGY: "Wh",
    Measure.LOAD_CURVE: "W",
    Measure.MAX_POWER: "VA",
    Measure.INDEX: "Wh",
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One value over the aware interval ``[start, end)``.

    For ``LOAD_CURVE`` the value is the average power in W over the interval; for ``DAILY_ENERGY`` it is
    the energy in Wh of the local day; for ``MAX_POWER`` it is the day's peak in VA reached at ``at``.
    """

    start: datetime
    end: datetime
    value: float
    at: datetime | None = None

    @property
    def duration_h(self) -> float:
        """Length of the interval in hours (exact across DST changes)."""
        return (self.end - self.start).total_seconds() / 3600

    @property
    def energy_wh(self) -> float:
        """Energy of a load-curve reading: average W x interval length (W x step/60 Wh)."""
        return self.value * self.duration_h


@dataclass(frozen=True, slots=True)
class Series:
    """A measured series for one PRM, direction and measure, ordered by ``start``.

    ``holes`` lists the intervals for which the API returned a point with a null or empty value: they are
    missing data, never zero.
    """

    prm: str
    direction: Direction
    measure: Measure
    unit: str
    readings: tuple[Reading, ...] = ()
    holes: tuple[tuple[datetime, datetime], ...] = ()
    quality: str | None = None

    def energy_wh(self) -> float:
        """Total energy of the series in Wh (load curve integrated, daily energy summed)."""
        if self.measure is Measure.LOAD_CURVE:
            return sum(r.energy_wh for r in self.readings)
        if self.measure is Measure.DAILY_ENERGY:
            return sum(r.value for r in self.readings)
        msg = f"{self.measure} has no energy"
        raise ValueError(msg)

    def merged(self, other: Series) -> Series:
        """Concatenate two series of the same kind, keeping order and dropping exact duplicates."""
        if (self.prm, self.direction, self.measure) != (other.prm, other.direction, other.measure):
            msg = "cannot merge series of different PRM, direction or measure"
            raise ValueError(msg)
        seen: set[tuple[datetime, datetime]] = set()
        readings: list[Reading] = []
        for reading in sorted((*self.readings, *other.readings), key=lambda r: (r.start, r.end)):
            key = (reading.start, reading.end)
            if key not in seen:
                seen.add(key)
                readings.append(reading)
        holes = tuple(sorted(set(self.holes) | set(other.holes)))
        return Series(
            prm=self.prm,
            direction=self.direction,
            measure=self.measure,
            unit=self.unit,
            readings=tuple(readings),
            holes=holes,
            quality=self.quality or other.quality,
        )


@dataclass(frozen=True, slots=True)
class RegisterValue:
    """A cumulative register value (Wh) read at ``at`` (aware)."""

    at: datetime
    value_wh: int


@dataclass(frozen=True, slots=True)
class Register:
    """One meter register (cadran): a tariff class of a calendar, or the totaliser."""

    calendar_id: str
    """``FC...`` supplier calendar, ``DI...`` distributor calendar, or ``""`` for the totaliser."""
    calendar_label: str
    class_id: str
    """Tariff class, e.g. ``HP``, ``HC``, ``BUHC``... (``TOTAL`` for the totaliser)."""
    class_label: str
    code: str
    """Register code (``codeCadran``), e.g. ``IDX_EAS_F1``."""
    values: tuple[RegisterValue, ...] = ()


@dataclass(frozen=True, slots=True)
class IndexSeries:
    """Cumulative registers of one PRM and direction (``index_consommation`` / ``index_production``)."""

    prm: str
    direction: Direction
    registers: tuple[Register, ...] = ()
    totaliser: Register | None = None
    quality: str | None = None

    def supplier_registers(self) -> tuple[Register, ...]:
        """Registers of the supplier calendar(s) (``FC...``): the tariff split (HP/HC, Tempo...)."""
        return tuple(r for r in self.registers if r.calendar_id.startswith("FC"))

    def distributor_registers(self) -> tuple[Register, ...]:
        """Registers of the distributor calendar(s) (``DI...``)."""
        return tuple(r for r in self.registers if r.calendar_id.startswith("DI"))


@dataclass(frozen=True, slots=True)
class Contract:
    """What the contract APIs tell about a PRM (fields are ``None`` when the API does not say)."""

    prm: str
    segment: str | None = None
    subscribed_power_kva: float | None = None
    offpeak_hours: str | None = None
    """Raw off-peak string as Enedis gives it, e.g. ``HC (22H00-6H00)``; parsed by the tariff module."""
    distribution_tariff: str | None = None
    meter_type: str | None = None
    contract_type: str | None = None
    contract_status: str | None = None
    usage_point_status: str | None = None
    last_activation_date: date | None = None
    """Consumption side's last activation (mise en service): no data exists before it."""
    production_activation_date: date | None = None
    last_tariff_change_date: date | None = None
    last_power_change_date: date | None = None
    services_level: str | None = None
    has_production: bool = False
    has_consumption: bool = True
    unavailable_apis: tuple[str, ...] = ()
    """Optional contract APIs the application may not read (403 900908): subscribe them on DataHub."""


@dataclass(frozen=True, slots=True)
class Address:
    """Postal address of a PRM (personal data: never log, redact in diagnostics).

    Public library API (`DataConnect.async_get_address`, the parsers of both generations); the integration does not
    read it.
    """

    street: str | None = None
    postal_code_city: str | None = None
    insee_code: str | None = None
    city: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True, slots=True)
class SubscribedService:
    """One entry of ``subscribed_services/v1``: a PRM shared with the application."""

    prm: str
    state: str
    """``DEMANDE`` | ``ACTIF`` | ``TERMINE`` | ``SUPPRIME``."""
    consumption: bool
    production: bool
    service_code: str | None = None
    measure_type: str | None = None
    start: date | None = None
    end: date | None = None
    authorization_id: str | None = None

    @property
    def active(self) -> bool:
        """Services that still grant access (``ACTIF`` or ``DEMANDE``)."""
        return self.state in {"ACTIF", "DEMANDE"}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a Conso API token (an unverified JWT) says about itself."""

    prms: tuple[str, ...]
    expires_at: datetime | None
    issued_at: datetime | None = None
    extra: dict[str, object] = field(default_factory=dict, repr=False)
