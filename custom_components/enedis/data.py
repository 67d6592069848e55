"""What the coordinator publishes to entities and diagnostics (immutable snapshots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from .api import Contract, Direction, Reading
from .bill import Forecast, MonthBill


@dataclass(frozen=True, slots=True)
class BillSummary:
    """The bill sensors' figures (EUR TTC, Paris months): None where a month has no priced day."""

    this_month: MonthBill | None
    forecast: Forecast | None
    last_month: MonthBill | None
    same_month_last_year: MonthBill | None


@dataclass(frozen=True, slots=True)
class PrmData:
    """Everything the entities of one PRM (one device) show."""

    prm: str
    directions: tuple[Direction, ...]
    """Directions this PRM measures (consumption and/or production), as far as known."""
    access: str = "ok"
    """``ok``, or why Enedis refuses this PRM's data (``consent_missing``, ``not_holder``): then it is not polled
    and its entities are unavailable, but for the *Data access* sensor that says why."""
    access_refused_since: datetime | None = None
    access_code: str | None = None
    """The Enedis code of the refusal (``ADAM-DC-0008``...)."""
    contract: Contract | None = None
    consumption_yesterday_wh: float | None = None
    """Daily energy of yesterday (Paris); None until Enedis publishes it (about 08:00)."""
    production_yesterday_wh: float | None = None
    last_power: Reading | None = None
    """The newest load-curve reading (consumption): average W over ``[start, end)``."""
    load_curve: bool | None = None
    """Whether the PRM has a consumption load curve: True once a reading is cached, False when it never can
    (load curve not imported, no consumption, the curve's history import ended without a single reading, or Enedis
    refuses the curve: until a weekly re-ask brings one), None while not known yet."""
    max_power_yesterday: Reading | None = None
    """Yesterday's maximum apparent power (VA), ``at`` = time of the peak."""
    newest_complete_day: date | None = None
    """The newest local day whose consumption (or production) data is complete."""
    oldest_day: date | None = None
    """The oldest local day with data in the cache."""
    days_covered: int = 0
    backfill_progress: float = 0.0
    """Share of the history backfill done, in % (100 once the history is imported)."""
    missing_days: tuple[date, ...] = ()
    """Days given up on after retries (reported in diagnostics)."""
    bill: BillSummary | None = None
    """The bill (consumption priced with the options' prices or the Tarif Bleu); None without prices."""


@dataclass(frozen=True, slots=True)
class EnedisData:
    """The coordinator's data: one `PrmData` per PRM plus entry-wide facts."""

    prms: dict[str, PrmData] = field(default_factory=dict)
    requests_today: int = 0
    """Requests this entry sent to Enedis / Conso API today (Paris day)."""
    expires_at: datetime | None = None
    """When the Conso API token or the Enedis consent expires."""
    last_error: str | None = None
