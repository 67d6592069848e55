"""Deterministic ground truth for the fake Enedis gateway (pure functions, no I/O).

Everything here depends only on the PRM, the direction and the LOCAL (Europe/Paris) day, so
tests can compute the expected values and compare them with what the server answers.

Conventions:
- ``direction`` is ``"CONS"`` (consumption, soutirage) or ``"PROD"`` (production, injection).
- A load-curve point is ``(end_of_interval_utc, average_watts)``; the naive local stamp Enedis
  sends is ``local_stamp(end_of_interval_utc)``.
- Every 30-minute value is even, so ``W * 30 / 60`` is a whole number of Wh and the daily energy
  is the exact integral of the curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
import math
import random
from typing import Literal
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

type Direction = Literal["CONS", "PROD"]

CONS: Direction = "CONS"
PROD: Direction = "PROD"

DEFAULT_ACTIVATION = date(2015, 6, 1)
CLIENT1_ACTIVATION = date(2019, 8, 27)
OFFPEAK_HOURS = "HC (22H00-6H00)"

#: Sandbox fake clients: client number -> PRMs (§9 of the reference).
CLIENT_PRMS: dict[int, tuple[str, ...]] = {
    0: ("22516914714270",),
    1: ("11453290002823",),
    2: ("32320647321714",),
    3: ("12345678901234", "10284856584123"),
    4: ("42900589957123",),
    5: ("24880057139941",),
    6: ("12655648759651",),
    7: ("64975835695673", "63695879465986", "22315546958763"),
    8: ("26584978546985",),
    9: (),
}


@dataclass(frozen=True, slots=True)
class PrmInfo:
    """Static description of one sandbox PRM."""

    prm: str
    client: int
    consumption: bool = True
    production: bool = False
    self_consumption: bool = False
    load_curve_enabled: bool = True
    #: Local weekdays (Monday=0) with no data at all.
    hole_weekdays: frozenset[int] = frozenset()
    consent_revoked: bool = False
    activation: date = DEFAULT_ACTIVATION

    @property
    def directions(self) -> tuple[Direction, ...]:
        """Directions this PRM measures."""
        out: list[Direction] = []
        if self.consumption:
            out.append(CONS)
        if self.production:
            out.append(PROD)
        return tuple(out)


PRMS: dict[str, PrmInfo] = {
    "22516914714270": PrmInfo("22516914714270", 0),
    "11453290002823": PrmInfo("11453290002823", 1, activation=CLIENT1_ACTIVATION),
    "32320647321714": PrmInfo("32320647321714", 2, load_curve_enabled=False),
    "12345678901234": PrmInfo("12345678901234", 3),
    "10284856584123": PrmInfo("10284856584123", 3, consumption=False, production=True),
    "42900589957123": PrmInfo("42900589957123", 4, hole_weekdays=frozenset({1, 2})),
    "24880057139941": PrmInfo("24880057139941", 5, consumption=False, production=True),
    "12655648759651": PrmInfo("12655648759651", 6, production=True, self_consumption=True),
    "64975835695673": PrmInfo("64975835695673", 7),
    "63695879465986": PrmInfo("63695879465986", 7),
    "22315546958763": PrmInfo("22315546958763", 7),
    "26584978546985": PrmInfo("26584978546985", 8, consent_revoked=True),
}


def prms_for_client(n: int) -> list[str]:
    """PRMs of sandbox client ``n`` (empty for client 9, which refuses consent)."""
    return list(CLIENT_PRMS.get(n, ()))


def client_of(prm: str) -> int | None:
    """Sandbox client number owning ``prm``, or None for an unknown PRM."""
    info = PRMS.get(prm)
    return info.client if info else None


def prm_info(prm: str) -> PrmInfo | None:
    """Static description of ``prm`` (None if unknown)."""
    return PRMS.get(prm)


def has_direction(prm: str, direction: Direction) -> bool:
    """True when ``prm`` measures ``direction``."""
    info = PRMS.get(prm)
    return info is not None and direction in info.directions


def local_stamp(instant: datetime) -> str:
    """Naive Europe/Paris wall-clock stamp as Enedis sends it."""
    return instant.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")


def local_midnight_utc(day: date) -> datetime:
    """UTC instant of Europe/Paris midnight at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)


def is_hole(prm: str, day: date) -> bool:
    """True when ``prm`` has no data at all for the local ``day`` (client 4)."""
    info = PRMS.get(prm)
    return info is not None and day.weekday() in info.hole_weekdays


def has_data(prm: str, day: date, *, ignore_holes: bool = False) -> bool:
    """True when ``prm`` publishes data for ``day`` (ignoring publication time).

    ``ignore_holes``: client 4's Tuesday/Wednesday holes are filled (a test switch: "the data appears").
    """
    info = PRMS.get(prm)
    return info is not None and day >= info.activation and (ignore_holes or not is_hole(prm, day))


# ---------------------------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------------------------


def _seed(prm: str, tag: str) -> float:
    """Deterministic float in [0, 1) for a PRM and a tag (no global random state)."""
    return random.Random(f"{prm}|{tag}").random()  # noqa: S311 - deterministic profile


def _gauss(x: float, centre: float, width: float) -> float:
    return math.exp(-(((x - centre) / width) ** 2))


def _round_to(value: float, multiple: int) -> int:
    return max(0, round(value / multiple) * multiple)


def _multiple_for(step_minutes: int) -> int:
    """Smallest W multiple so that ``W * step / 60`` is an integer."""
    return 60 // math.gcd(60, step_minutes)


@lru_cache(maxsize=4096)
def _raw_curves(
    prm: str, day: date, step_minutes: int
) -> tuple[tuple[datetime, ...], tuple[int, ...], tuple[int, ...]]:
    """Raw household consumption and solar production of ``prm`` over the local ``day``.

    Returns (interval end instants in UTC, consumption W, production W) before the
    self-consumption netting.
    """
    start = local_midnight_utc(day)
    end = local_midnight_utc(day + timedelta(days=1))
    step = timedelta(minutes=step_minutes)
    count = int((end - start) / step)
    multiple = _multiple_for(step_minutes)
    rnd = random.Random(f"{prm}|{day.isoformat()}|{step_minutes}")  # noqa: S311

    doy = day.timetuple().tm_yday
    winter = (1 + math.cos(2 * math.pi * (doy - 15) / 365.25)) / 2  # 1 mid-January
    summer = (1 + math.sin(2 * math.pi * (doy - 80) / 365.25)) / 2  # 1 late June
    weekend = day.weekday() >= 5

    base = 180 + 220 * _seed(prm, "base")
    scale = 0.8 + 0.5 * _seed(prm, "scale")
    heating = (0.4 + 0.9 * _seed(prm, "heat")) * winter
    heater_w = 1600 + 800 * _seed(prm, "boiler")
    heater_hours = 1.5 + 1.5 * winter
    day_factor = 0.88 + 0.24 * rnd.random()

    peak_w = 2500 + 3500 * _seed(prm, "pv")
    half_day = 6 + 2.3 * math.sin(2 * math.pi * (doy - 80) / 365.25)
    strength = 0.45 + 0.55 * summer
    sky = 0.2 + 0.8 * math.sqrt(rnd.random())

    ends: list[datetime] = []
    cons: list[int] = []
    prod: list[int] = []
    utc_midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for i in range(count):
        s = start + i * step
        e = s + step
        mid = s + step / 2
        local = mid.astimezone(PARIS)
        h = local.hour + local.minute / 60 + local.second / 3600
        # Consumption: base load, morning/midday/evening peaks, heating, off-peak water heater.
        morning = _gauss(h, 9.0 if weekend else 7.25, 0.9) * 900 * scale
        midday = _gauss(h, 12.75, 1.0) * (750 if weekend else 300) * scale
        evening = _gauss(h, 19.5, 1.5) * 1500 * scale
        heat = heating * (700 + 500 * _gauss(h, 7, 2) + 800 * _gauss(h, 20, 2.5))
        since_22 = (h - 22) % 24
        heater = heater_w if since_22 < heater_hours else 0.0
        noise = 0.8 + 0.4 * rnd.random()
        watts = (base + morning + midday + evening + heat + heater) * noise * day_factor
        cons.append(_round_to(watts, multiple))
        # Production: solar bell around ~11:50 UTC, zero at night.
        t = (mid - utc_midnight).total_seconds() / 3600 - 11.85
        pv = 0.0
        cloud = 0.85 + 0.15 * rnd.random()
        if abs(t) < half_day:
            elev = math.cos(math.pi * t / (2 * half_day))
            pv = peak_w * strength * elev**1.3 * sky * cloud
        prod.append(_round_to(pv, multiple))
        ends.append(e)
    return tuple(ends), tuple(cons), tuple(prod)


@lru_cache(maxsize=8192)
def _curve(
    prm: str, direction: Direction, day: date, step_minutes: int, ignore_holes: bool = False
) -> tuple[tuple[datetime, int], ...]:
    info = PRMS.get(prm)
    if info is None or direction not in info.directions or not has_data(prm, day, ignore_holes=ignore_holes):
        return ()
    ends, cons, prod = _raw_curves(prm, day, step_minutes)
    if info.self_consumption:
        if direction == CONS:
            values = [max(0, c - p) for c, p in zip(cons, prod, strict=True)]
        else:
            values = [max(0, p - c) for c, p in zip(cons, prod, strict=True)]
    else:
        values = list(cons if direction == CONS else prod)
    return tuple(zip(ends, values, strict=True))


def curve_points(
    prm: str, direction: Direction, day: date, step_minutes: int = 30, *, ignore_holes: bool = False
) -> list[tuple[datetime, int]]:
    """Load curve of one LOCAL day: ``[(interval_end_utc, average_W), ...]``.

    46 points on the spring-forward day, 50 on the fall-back day (PT30M). Empty when the PRM
    has no data that day (hole, before activation, wrong direction or unknown PRM).
    """
    return list(_curve(prm, direction, day, step_minutes, ignore_holes))


def daily_wh(prm: str, direction: Direction, day: date, *, ignore_holes: bool = False) -> int:
    """Daily energy in Wh: the exact integral of ``curve_points`` (0 when no data)."""
    return sum(w for _, w in _curve(prm, direction, day, 30, ignore_holes)) // 2


def is_offpeak(interval_start_local_hour: int) -> bool:
    """Off-peak (HC) is 22:00-06:00 local for every sandbox PRM."""
    return interval_start_local_hour >= 22 or interval_start_local_hour < 6


@lru_cache(maxsize=65536)
def daily_split_wh(prm: str, direction: Direction, day: date) -> tuple[int, int]:
    """(HC Wh, HP Wh) of ``day``; HC/HP chosen by the local start of each interval."""
    hc = hp = 0
    for end, watts in _curve(prm, direction, day, 30):
        start_hour = (end - timedelta(minutes=30)).astimezone(PARIS).hour
        if is_offpeak(start_hour):
            hc += watts
        else:
            hp += watts
    return hc // 2, hp // 2


def max_power(prm: str, day: date, *, ignore_holes: bool = False) -> tuple[int, datetime] | None:
    """Daily max power of consumption: (VA, naive local datetime of the peak), or None.

    VA = ceil(curve max x factor) with a deterministic factor in [1.05, 1.30]; the peak instant
    lies strictly inside the interval holding the curve maximum.
    """
    points = _curve(prm, CONS, day, 30, ignore_holes)
    if not points:
        return None
    best_end, best_w = points[0]
    for end, watts in points:
        if watts > best_w:
            best_end, best_w = end, watts
    rnd = random.Random(f"{prm}|pmax|{day.isoformat()}")  # noqa: S311
    factor = 1.05 + 0.25 * rnd.random()
    va = math.ceil(best_w * factor)
    offset = 1 + int(rnd.random() * 1798)
    instant = best_end - timedelta(minutes=30) + timedelta(seconds=offset)
    return va, instant.astimezone(PARIS).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------
# Index registers
# ---------------------------------------------------------------------------------------------


def register_base(prm: str, direction: Direction) -> int:
    """Register value (Wh, all classes) at local midnight of the activation day."""
    return 1000 * int(5000 * _seed(prm, f"idx-{direction}"))


_CUMULATIVE: dict[tuple[str, Direction], list[tuple[int, int]]] = {}


def _cumulative(prm: str, direction: Direction, day: date) -> tuple[int, int]:
    """(HC, HP) energy from activation to local midnight of ``day`` (memoised prefix sums)."""
    info = PRMS[prm]
    offset = (day - info.activation).days
    if offset <= 0:
        return 0, 0
    sums = _CUMULATIVE.setdefault((prm, direction), [(0, 0)])
    while len(sums) <= offset:
        d = info.activation + timedelta(days=len(sums) - 1)
        hc, hp = daily_split_wh(prm, direction, d)
        last_hc, last_hp = sums[-1]
        sums.append((last_hc + hc, last_hp + hp))
    return sums[offset]


def index_registers(prm: str, direction: Direction, day: date) -> dict[str, int]:
    """Cumulative register values (Wh) at local midnight starting ``day``.

    Consumption: ``{"HC": ..., "HP": ...}`` (off-peak 22:00-06:00); production: ``{"BASE": ...}``.
    ``sum(index(day + 1)) - sum(index(day)) == daily_wh(day)`` for every day after activation.
    Empty for an unknown PRM or a direction the PRM does not measure.
    """
    if not has_direction(prm, direction):
        return {}
    base = register_base(prm, direction)
    hc, hp = _cumulative(prm, direction, day)
    if direction == PROD:
        return {"BASE": base + hc + hp}
    base_hc = base * 2 // 5
    return {"HC": base_hc + hc, "HP": base - base_hc + hp}


# ---------------------------------------------------------------------------------------------
# Contract data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractInfo:
    """Contract data of one PRM."""

    prm: str
    subscribed_power_kva: int
    offpeak_hours: str
    last_activation_date: date
    distribution_tariff: str
    distribution_tariff_label: str
    meter_type: str
    segment: str


_POWERS = (6, 9, 12)


def contract(prm: str) -> ContractInfo | None:
    """Contract data of ``prm`` (None if unknown)."""
    info = PRMS.get(prm)
    if info is None:
        return None
    power = _POWERS[int(_seed(prm, "kva") * len(_POWERS))]
    return ContractInfo(
        prm=prm,
        subscribed_power_kva=power,
        offpeak_hours=OFFPEAK_HOURS,
        last_activation_date=info.activation,
        distribution_tariff="BTINFMUDT",
        distribution_tariff_label=(
            "Tarif BT<=36kVA Moyenne Utilisation heures pleines heures creuses associées à deux saisons"
        ),
        meter_type="AMM",
        segment="C5" if info.consumption else "P4",
    )
