"""The source contract: what a source declares, as data, for the engine that schedules its requests.

The integration's engine (the coordinator) reads a source only through `MeteringSource.contract` and the
`MeteringSource` methods: it never asks which class a source is (no ``isinstance``/``getattr`` on a concrete
source; ``tests/api/test_contract.py`` scans the integration for them). Adding a source is writing the source.

What a new source (the consometers XMPP proxy, Enedis SGE, MyElectricalData…) must provide:

- a `SourceContract`, usually a module constant returned by its ``contract`` property:

  - ``measures``: per direction, the measures it serves. The engine never asks for one that is not listed.
  - ``windows``: per measure, the longest window one request may cover and how far back the source serves
    (`WindowLimits`); `ENEDIS_WINDOWS` are Enedis' (curve ≤ 7 days back 24 months, daily ≤ 365 days back 36).
  - ``policy``: its `QuotaPolicy`: the limiter's quotas (per second, per hour, per rolling window) and how the
    engine paces the history import (requests per refresh, a burst then a pace, a reserve kept for the daily poll).
  - ``serves_contract``: whether ``async_get_contract`` answers (subscribed power, off-peak hours, activation
    dates, which directions the PRM has). ``False``: the engine never calls it.
  - ``directions``: how a PRM's directions are learnt (`DirectionDiscovery`).
  - ``expiry``: what expires (`CredentialExpiry`), and then ``credentials_expire_at()`` says when.

- ``_secrets()``: every credential string (token, client secret…); the public ``secrets()`` is what callers
  redact (diagnostics) and what the library scrubs from its own errors.

How the quota policy expresses the sources to come:

- **one request at a time, paced** (the XMPP proxy): ``quotas=(Quota(1, 1.0),)`` (a short quota's slot is held from
  the sending until 1.1 s after the answer: never two in flight), ``batch=1, burst=1, pace=timedelta(minutes=1)``;
- **1 call/s**: ``quotas=(Quota(1, 1.0),)``;
- **50 calls a day** (MyElectricalData): ``quotas=(Quota(1, 1.0), Quota(50, 86400.0))``, a burst and a pace that
  spread the import under it, e.g. ``burst=5, pace=timedelta(days=1) / 40``, and ``reserve_per_prm`` calls of the
  day kept for the daily poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
import enum
from types import MappingProxyType

from .limiter import CONSO_API_QUOTAS, ENEDIS_QUOTAS, Quota
from .models import Direction, Measure
from .resources import DC2026_RESOURCES
from .windows import ENEDIS_WINDOWS, WindowLimits

LONG_QUOTA_PERIOD = 3600.0
"""Quotas of at least this many seconds are budgets (hourly, 12-hourly, daily): the daily poll's reserve is kept
from them (`MeteringSource.remaining_budget`)."""


class DirectionDiscovery(enum.StrEnum):
    """How the engine learns which directions (consumption, production) a PRM has."""

    CONTRACT = "contract"
    """The contract data says (``Contract.has_consumption`` / ``has_production``)."""
    PROBE = "probe"
    """No contract data: each direction is asked; a refusal (`WrongDirectionError`, ADAM-ERR0069) marks it absent."""


class CredentialExpiry(enum.StrEnum):
    """What ends the source's access."""

    CREDENTIALS = "credentials"
    """The source's own credential expires (Conso API's token): ``credentials_expire_at()`` says when, offline."""
    CONSENT = "consent"
    """The source's credentials do not expire (a DataHub application); the PRM holder's consent does, and its end is
    known to whoever obtained it (the config entry), not to the source: ``credentials_expire_at()`` is None."""


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    """The quotas a source lives under and how the engine paces its history import under them.

    Unpaced (``pace`` is None): each refresh sends up to ``batch`` backfill requests, every ``interval``; the
    limiter alone keeps them under ``quotas``. Paced: the first ``burst`` backfill requests go back to back (the
    dashboard fills within minutes), then one every ``pace``; while ``reserve_per_prm`` x PRMs requests or fewer
    are left in a long budget, the import waits and they stay for the daily poll.
    """

    quotas: tuple[Quota, ...]
    """The limiter's quotas of one API key (`limiter.Quota`: at most ``limit`` per rolling ``period`` seconds)."""
    batch: int = 10
    """Backfill requests per refresh at most."""
    interval: timedelta = timedelta(seconds=2)
    """Between backfill refreshes while no pace applies (unpaced, or during a paced source's burst)."""
    burst: int = 0
    """Paced sources: backfill requests sent back to back before the pace applies."""
    pace: timedelta | None = None
    """One backfill request per ``pace`` after the burst; None: unpaced."""
    reserve_per_prm: int = 0
    """Requests of the long budgets (period ≥ 1 hour) kept per PRM for the daily poll while importing history."""

    def __post_init__(self) -> None:
        """Refuse a policy the engine could not follow."""
        if not self.quotas or any(q.limit < 1 or q.period <= 0 for q in self.quotas):
            msg = "a quota policy needs quotas of at least 1 request per positive period"
            raise ValueError(msg)
        if self.batch < 1 or self.interval <= timedelta(0) or self.burst < 0 or self.reserve_per_prm < 0:
            msg = "batch and interval must be positive, burst and reserve not negative"
            raise ValueError(msg)
        if self.pace is not None and self.pace <= timedelta(0):
            msg = "a pace must be positive"
            raise ValueError(msg)
        if self.reserve_per_prm and not any(q.period >= LONG_QUOTA_PERIOD for q in self.quotas):
            msg = "a reserve is kept from a long quota (period of an hour or more): there is none"
            raise ValueError(msg)

    @property
    def paced(self) -> bool:
        """Whether backfill requests are paced after a burst."""
        return self.pace is not None


@dataclass(frozen=True, slots=True)
class SourceContract:
    """Everything the engine needs to know about a source (see the module docstring)."""

    name: str
    """The source's name in diagnostics (``"source"``): the class name of the built-in sources, so diagnostics read
    as before the contract existed."""
    measures: Mapping[Direction, frozenset[Measure]]
    windows: Mapping[Measure, WindowLimits]
    policy: QuotaPolicy
    serves_contract: bool
    directions: DirectionDiscovery
    expiry: CredentialExpiry

    def __post_init__(self) -> None:
        """Every served measure has window limits; probing is the only way without contract data."""
        missing = {m for served in self.measures.values() for m in served} - set(self.windows)
        if missing:
            msg = f"no window limits for {sorted(missing)}"
            raise ValueError(msg)
        if self.directions is DirectionDiscovery.CONTRACT and not self.serves_contract:
            msg = "directions cannot come from contract data the source does not serve"
            raise ValueError(msg)

    def serves(self, direction: Direction, measure: Measure) -> bool:
        """Whether the source serves ``measure`` in ``direction``."""
        return measure in self.measures.get(direction, frozenset())

    @property
    def serves_index(self) -> bool:
        """Whether it serves the meter's cumulative registers (`Measure.INDEX`) in some direction."""
        return any(Measure.INDEX in served for served in self.measures.values())

    def window_days(self, measure: Measure) -> int:
        """The most days one request for ``measure`` may cover."""
        return self.windows[measure].max_days

    def history_start(self, measure: Measure, today: date) -> date:
        """The oldest day the source serves for ``measure`` when asked on ``today``."""
        return self.windows[measure].history_start(today)


def _measures(resources: Mapping[tuple[Direction, Measure], str]) -> Mapping[Direction, frozenset[Measure]]:
    return MappingProxyType(
        {direction: frozenset(m for d, m in resources if d is direction) for direction in Direction}
    )


ENEDIS_MEASURES = _measures(DC2026_RESOURCES)
"""``mesure_synchrone_auto/v2``'s resources: the three measures and the index in consumption, no max power in
production. Conso API passes the same French types through."""

DATA_CONNECT_CONTRACT = SourceContract(
    name="DataConnect",
    measures=ENEDIS_MEASURES,
    windows=ENEDIS_WINDOWS,
    policy=QuotaPolicy(quotas=ENEDIS_QUOTAS, batch=5, interval=timedelta(seconds=1)),
    serves_contract=True,
    directions=DirectionDiscovery.CONTRACT,
    expiry=CredentialExpiry.CONSENT,
)
"""Enedis Data Connect with the user's own DataHub application: 5/s and 1000/h per API. The history import sends
5 requests per refresh every second, unpaced (the limiter keeps them under 5/s): 2 years take about a minute. Five,
not ten every 2 s (the same pace): a refresh parses, stores and imports what its requests brought in one go, and
ten weeks of load curve made a refresh's CPU twice as large (`benchmarks/statistics_import.py`: median 78-90 ms
instead of 129-145 ms, see the README's Benchmarks)."""

CONSO_API_CONTRACT = SourceContract(
    name="ConsoApi",
    measures=ENEDIS_MEASURES,
    windows=ENEDIS_WINDOWS,
    policy=QuotaPolicy(
        quotas=CONSO_API_QUOTAS,
        batch=10,
        interval=timedelta(seconds=1),
        burst=10,
        pace=timedelta(hours=12) / 90,
        reserve_per_prm=4,
    ),
    serves_contract=False,
    directions=DirectionDiscovery.PROBE,
    expiry=CredentialExpiry.CREDENTIALS,
)
"""Conso API: 90 requests per rolling 12 h (it bans an IP above 100). The history import sends 10 at once, then one
every 8 minutes (90 per 12 h), and keeps 4 requests of the budget per PRM for the daily poll; no contract data, so
production is learnt from one refused request; the token expires (3 years)."""
