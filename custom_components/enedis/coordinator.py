"""One coordinator per config entry: backfill under quotas, the daily poll, the cache and the statistics.

Everything runs from `DataUpdateCoordinator` refreshes (HA's own scheduling, no hand-made loop): each refresh
does the work that is due (a few requests), writes what changed to the statistics, saves the cache, and sets
``update_interval`` to the next moment work will be due:

- **backfill** (after setup, in the background): for each PRM and direction, the newest week of load curve
  first, then daily energy and max power back to 36 months (at most 4 calls each), then the load curve week by
  week, newest first, back to 24 months (or the meter's activation). The pace is the source's
  (`source.contract.policy`, `api/contract.py`): through Conso API one request every 8 minutes after a first burst
  of 10, so the 90-per-12-hours budget is never exceeded and always keeps a reserve for the daily poll; through Data
  Connect they go at the 5/s limit, 10 per refresh. The coordinator reads a source only through its contract and
  the `MeteringSource` interface, never by its class.
- **daily poll**: data for day D appears on D+1 from about 08:00 Paris time. Each installation polls once at
  its own random time in the options' morning window; the first poll of the day also refetches the day before
  yesterday once (late corrections). While yesterday is incomplete it retries every 1 to 2 hours until 20:00, then
  gives up until tomorrow. Older incomplete days (up to 14 days back) are retried with back-off (1, 2, 4, 8 days),
  inside the same calls when they fit in the window, then reported in diagnostics.
- **consent per PRM**: a PRM whose data Enedis refuses (ADAM-DC-0008 no or revoked consent, ADAM-DC-0007 not the
  holder's) stops alone after that one request, persisted across restarts, while the other PRMs go on; the user is
  asked for it by name (reauthentication, or a repair issue in the sandbox). It is polled again once a
  reauthentication or reconfiguration verified it (`_restore_refusals`). A rejected token still fails the entry.
- **refused measures**: a load curve the PRM refuses (ADAM-ERR0075, or empty for the newest 7 days whose daily
  energy exists) is not walked back 24 months nor retried daily: it is asked again once a week, in the daily poll,
  while daily energy keeps feeding the statistics and a repair issue says how to enable it (`_review_refusal`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import hashlib
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import (
    ApiNotSubscribedError,
    AuthError,
    ConsentError,
    Contract,
    CredentialExpiry,
    Direction,
    EnedisError,
    InvalidResponseError,
    Measure,
    MeteringSource,
    NoDataError,
    NotHolderError,
    RateLimitError,
    Reading,
    RequestError,
    Series,
    UnsupportedError,
)
from .api.calendar import local_day, local_midnight_utc, months_before, paris_datetime
from .api.errors import BeforeActivationError, CurveNotEnabledError, HistoryLimitError, WrongDirectionError
from .const import (
    ACCESS_CONSENT_MISSING,
    ACCESS_NOT_HOLDER,
    ACCESS_OK,
    CONF_CONSENT_EXPIRES,
    CONF_ENVIRONMENT,
    CONF_PRMS,
    CONF_SOURCE,
    CONF_VERIFIED,
    DOMAIN,
    ENV_SANDBOX,
    MEASURE_DAILY_ENERGY,
    MEASURE_LOAD_CURVE,
    MEASURE_MAX_POWER,
    MEASURE_PRODUCTION,
    SOURCE_CONSO_API,
    TARIFF_HPHC,
)
from .data import EnedisData, PrmData
from .importer import Importer
from .ledger import CurveState, DayCurve, curve_state_of
from .options import EntryOptions
from .statistics import async_clear, statistic_id
from .store import AccessRefusal, DayAttempts, EnedisStore, MeasureRefusal, SeriesCache, source_key
from .tariff_series import TariffConfig
from .tariffs import daily_register_energy

_LOGGER = logging.getLogger(__name__)

type EnedisConfigEntry = ConfigEntry[EnedisCoordinator]

RETRY_DAYS = 14
CONTRACT_REFRESH_DAYS = 7
"""Contract data (subscribed power, off-peak hours, activation) is read again after this many days."""
OLD_PARTIAL_ATTEMPTS = 3
"""Days older than `RETRY_DAYS` whose curve came back incomplete during the backfill (a truncated answer) are
fetched again up to this many times, after the backfill's main work, then given up (reported)."""
GIVE_UP_HOUR = 20
LATE_CORRECTION_DAYS = 2
FIRST_DELAY = timedelta(seconds=2)
MAX_BACKOFF = timedelta(hours=2)
ERROR_BACKOFF = timedelta(minutes=5)
REFUSAL_RETRY = timedelta(days=7)
"""A measure the PRM refuses is asked again after this long: one request a week, in the daily poll."""
REFUSAL_EMPTY_DAYS = 7
"""Days of load curve that came back empty while daily energy exists for them that make a pattern, not a hole: the
newest ones mean the PRM refuses its curve (as ADAM-ERR0075 says explicitly); a run of them at the backfill's
frontier, below days that have a curve, is where the recorded curve begins (the walk stops there). Sandbox client
4's weekly holes (Tuesday and Wednesday) have no daily energy either, so they never count."""
CURVE_SETTINGS_URL = "https://mon-compte-particulier.enedis.fr/enregistrement-collect-donnees"
"""The Enedis customer-area page that enables the recording and the collection of the hourly consumption, named
"Gérer l'accès à mes données" in the customer area (bokub/linky#66, 2024; URL as of bokub/ha-linky#165, 2025-12)."""


@dataclass(frozen=True, slots=True)
class Job:
    """One request to make: a measure over a window, for one PRM and direction."""

    prm: str
    direction: Direction
    measure: Measure
    start: date
    end: date
    backfill: bool
    probe: bool = False
    repair: bool = False


def _stable_fraction(seed: str) -> float:
    """A per-installation number in [0, 1), stable across restarts."""
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) / 0x1_0000_0000


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def _group_windows(days: Iterable[date], size: int) -> list[tuple[date, date]]:
    """The fewest windows of at most ``size`` days covering ``days`` (sorted, gaps allowed inside)."""
    windows: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if windows and (day - windows[-1][0]).days < size:
            windows[-1] = (windows[-1][0], day + timedelta(days=1))
        else:
            windows.append((day, day + timedelta(days=1)))
    return windows


class EnedisCoordinator(DataUpdateCoordinator[EnedisData]):
    """Fetches, caches and imports the Linky data of one entry."""

    config_entry: EnedisConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnedisConfigEntry,
        source: MeteringSource,
    ) -> None:
        """Create the coordinator; `async_config_entry_first_refresh` loads the cache without any request."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=FIRST_DELAY,
        )
        self.source = source
        self.store = EnedisStore(hass, entry.entry_id)
        self.prms: list[str] = list(entry.data[CONF_PRMS])
        self._now = source.clock.now
        """The sources' clock (one per process, `helpers.get_registry`): the schedule and the requests read one time."""
        self._options = (entry.options, EntryOptions.from_entry(entry.options))
        self._fraction = fraction = _stable_fraction(entry.entry_id)
        self.retry_interval = timedelta(minutes=60 + int(fraction * 60))
        self.contracts: dict[str, Contract] = {}
        self._contract_day: dict[str, date] = {}
        self._unsubscribed: set[str] = set()
        self._last_poll_attempt: dict[tuple[str, Direction], datetime] = {}
        self._loaded = False
        self._started = False
        self._backoff = ERROR_BACKOFF
        self._invalid_response_warned = False
        self.errors: deque[tuple[str, str]] = deque(maxlen=20)
        self._importer = Importer(
            hass,
            self.store,
            lambda: self.options,
            lambda prm: self.contracts[prm].offpeak_hours if prm in self.contracts else None,
            self._create_issue,
        )
        self._rebuilt = False
        self._reconcile: set[str] = set()
        """PRMs whose statistics are compared with the recorder after the next import (start, refetch)."""
        self._pending_import: set[tuple[str, Direction]] = set()
        """Series to import at the next refresh even if no request touches them (statistics rewritten)."""
        self._index_unsupported = False
        self._unsubscribed_day: date | None = None
        self.refused: dict[str, AccessRefusal] = {}
        """PRMs whose data Enedis refuses (no consent): not polled, their entities unavailable (`_refuse`)."""
        self._refusal_issues_synced = False

    @property
    def options(self) -> EntryOptions:
        """The entry's options (`options.EntryOptions`): the engine reads them here, never ``entry.options``.

        Built once per setup, and again only if the entry's options are replaced without a reload (an options
        flow reloads the entry; Home Assistant replaces the whole mapping on every update, hence the identity
        check): the engine never acts on stale options.
        """
        stored, model = self._options
        if stored is not self.config_entry.options:
            self._options = (self.config_entry.options, EntryOptions.from_entry(self.config_entry.options))
            model = self._options[1]
        return model

    @property
    def poll_minute(self) -> int:
        """Minute of the Paris day of the first daily poll: this installation's own place in the poll window."""
        start, end = self.options.poll_start, self.options.poll_end
        return int(start * 60 + self._fraction * max(1, (end - start) * 60))

    # --- lifecycle --------------------------------------------------------------------------------------

    async def _async_setup(self) -> None:
        """Load the cache (first refresh): no request is sent while Home Assistant starts."""
        cache = await self.store.async_load(source_key(self.config_entry.data), self._today())
        for prm in self.prms:
            prm_cache = cache.prm(prm)
            if prm_cache.contract is not None and prm_cache.contract_day is not None:
                self.contracts[prm] = prm_cache.contract
                self._contract_day[prm] = prm_cache.contract_day
        self._loaded = True

    async def async_shutdown(self) -> None:
        """Save the cache when the entry unloads."""
        await super().async_shutdown()
        if self._loaded:
            await self.store.async_save()
            self.store.async_unload()

    # --- time helpers ---------------------------------------------------------------------------------

    def _today(self) -> date:
        return local_day(self._now())

    def _poll_time(self, day: date) -> datetime:
        return paris_datetime(day, *divmod(self.poll_minute, 60))

    def _give_up_time(self, day: date) -> datetime:
        return paris_datetime(day, GIVE_UP_HOUR)

    # --- what to import -------------------------------------------------------------------------------

    def _directions(self, prm: str) -> list[Direction]:
        cache = self.store.cache.prm(prm)
        directions = [Direction.CONSUMPTION]
        if MEASURE_PRODUCTION in self.options.measures:
            directions.append(Direction.PRODUCTION)
        contract = self.contracts.get(prm)
        if contract is not None:
            if not contract.has_production and Direction.PRODUCTION in directions:
                directions.remove(Direction.PRODUCTION)
            if not contract.has_consumption:
                directions.remove(Direction.CONSUMPTION)
        return [d for d in directions if d not in cache.absent]

    def _series(self, prm: str, direction: Direction) -> SeriesCache:
        return self.store.cache.prm(prm).series.setdefault(direction, SeriesCache())

    def _activation(self, prm: str, direction: Direction) -> date | None:
        contract = self.contracts.get(prm)
        if contract is None:
            return None
        if direction is Direction.PRODUCTION:
            return contract.production_activation_date
        return contract.last_activation_date

    def _start(self, prm: str, direction: Direction, measure: Measure) -> date:
        """Oldest day to import for a measure: options, Enedis' horizon, activation, import_history."""
        today = self._today()
        months = self.options.curve_months if measure is Measure.LOAD_CURVE else self.options.daily_months
        start = months_before(today, months)
        override = self.store.cache.prm(prm).history_start
        if override is not None:
            start = min(start, override)
        start = max(start, self.source.contract.history_start(measure, today))
        activation = self._activation(prm, direction)
        if activation is not None:
            start = max(start, activation)
        floor = self._series(prm, direction).floors.get(measure.value)
        if floor is not None:
            start = max(start, floor)
        return start

    def _wants(self, measure: Measure, direction: Direction) -> bool:
        if not self.source.contract.serves(direction, measure):
            return False  # e.g. no max power in production: the source's contract says what it serves
        if measure is Measure.LOAD_CURVE:
            return MEASURE_LOAD_CURVE in self.options.measures
        if measure is Measure.MAX_POWER:
            return MEASURE_MAX_POWER in self.options.measures
        if measure is Measure.INDEX:
            # The meter's HP/HC registers, only when they are used (HP/HC option; the contract said it serves them).
            return (
                direction is Direction.CONSUMPTION
                and self.options.tariff == TARIFF_HPHC
                and not self._index_unsupported
            )
        return MEASURE_DAILY_ENERGY in self.options.measures

    # --- planning ---------------------------------------------------------------------------------------

    def _backfill_jobs(self, prm: str, direction: Direction) -> list[tuple[int, Job]]:
        """Pending backfill requests of one series, with a priority tier (lower first)."""
        series = self._series(prm, direction)
        today = self._today()
        jobs: list[tuple[int, Job]] = []
        for measure, tier in (
            (Measure.LOAD_CURVE, 3),
            (Measure.DAILY_ENERGY, 1),
            (Measure.MAX_POWER, 2),
            (Measure.INDEX, 2),
        ):
            if not self._wants(measure, direction):
                continue
            if measure is Measure.LOAD_CURVE and self._curve_refused(series):
                continue  # asked again once a week by the daily poll (`_daily_jobs`), never walked back
            probe = series.probes.get(measure.value)
            if probe is not None:
                failing, working = probe
                middle = failing + (working - failing) / 2
                jobs.append((0, Job(prm, direction, measure, middle, working, backfill=True, probe=True)))
                continue
            if measure is Measure.LOAD_CURVE:
                if series.curve_done:
                    continue
                start = self._start(prm, direction, measure)
                upper = series.curve_frontier or today
                window = timedelta(days=self._window_days(measure))
                # A window whose every day already has its readings (or was given up) is not asked again: after
                # `refetch`, a source change or a lifted refusal, the walk passes those weeks. Days that came back
                # empty are asked (the reason to walk again may be that they were answered wrongly).
                while (
                    series.curve_frontier is not None
                    and upper > start
                    and all(self._curve_known(series, day) for day in _days(max(start, upper - window), upper))
                ):
                    upper = series.curve_frontier = max(start, upper - window)
                if upper <= start:
                    self._end_curve_walk(series)
                    continue
                lower = max(start, upper - window)
                jobs.append(
                    (
                        0 if series.curve_frontier is None else tier,
                        Job(prm, direction, measure, lower, upper, backfill=True),
                    )
                )
                continue
            if self._history_done(series, measure):
                continue
            fetched = self._fetched(series, measure)
            start = self._start(prm, direction, measure)
            needed = [d for d in _days(start, today) if d not in fetched]
            if not needed:
                self._set_history_done(series, measure)
                continue
            window_end = needed[-1] + timedelta(days=1)
            window_start = max(needed[0], window_end - timedelta(days=self._window_days(measure)))
            jobs.append((tier, Job(prm, direction, measure, window_start, window_end, backfill=True)))
        repair = [] if self._curve_refused(series) else self._old_partial_days(series, today)
        if repair:
            start, end = _group_windows(repair, self._window_days(Measure.LOAD_CURVE))[0]
            jobs.append((4, Job(prm, direction, Measure.LOAD_CURVE, start, end, backfill=True, repair=True)))
        return jobs

    @staticmethod
    def _old_partial_days(series: SeriesCache, today: date) -> list[date]:
        """Incomplete curve days beyond the daily poll's reach, still worth one more request."""
        limit = today - timedelta(days=RETRY_DAYS)
        return [
            day
            for day, state in sorted(series.curve_state.items())
            if state is CurveState.PARTIAL
            and day < limit
            and day not in series.given_up
            and (series.attempts.get(day) or DayAttempts()).count < OLD_PARTIAL_ATTEMPTS
        ]

    @staticmethod
    def _history_done(series: SeriesCache, measure: Measure) -> bool:
        if measure is Measure.DAILY_ENERGY:
            return series.daily_history_done
        if measure is Measure.MAX_POWER:
            return series.max_power_history_done
        return series.index_history_done

    @staticmethod
    def _set_history_done(series: SeriesCache, measure: Measure) -> None:
        if measure is Measure.DAILY_ENERGY:
            series.daily_history_done = True
        elif measure is Measure.MAX_POWER:
            series.max_power_history_done = True
        else:
            series.index_history_done = True

    @staticmethod
    def _fetched(series: SeriesCache, measure: Measure) -> set[date]:
        if measure is Measure.DAILY_ENERGY:
            return series.daily_fetched
        if measure is Measure.MAX_POWER:
            return series.max_power_fetched
        return series.index_fetched

    def _due_days(self, series: SeriesCache, measure: Measure, today: date, first_poll: bool) -> list[date]:
        """Recent days (up to 14 back) to (re)fetch in the daily poll for one measure.

        Days the backfill has not reached yet are left to it; yesterday is due until complete; the day before
        yesterday is refetched once (first poll of the day) for late corrections; older incomplete days are
        due again after their back-off.
        """
        if measure is Measure.LOAD_CURVE:
            if series.curve_frontier is None:
                return []
            oldest = max(today - timedelta(days=RETRY_DAYS), series.curve_frontier)
            floor = series.floors.get(measure.value)
            if floor is not None:
                oldest = max(oldest, floor)  # days before the recorded curve begins have none to retry
        else:
            history_done = (
                series.daily_history_done if measure is Measure.DAILY_ENERGY else series.max_power_history_done
            )
            if not history_done:
                return []
            oldest = today - timedelta(days=RETRY_DAYS)
        yesterday = today - timedelta(days=1)
        due: list[date] = []
        for day in _days(oldest, today):
            if day in series.given_up:
                continue
            if first_poll and day >= today - timedelta(days=LATE_CORRECTION_DAYS):
                due.append(day)
                continue
            if measure is Measure.LOAD_CURVE:
                complete = series.curve_state.get(day) is CurveState.COMPLETE
            elif measure is Measure.DAILY_ENERGY:
                complete = day in series.daily
            elif measure is Measure.MAX_POWER:
                complete = day in series.max_power
            else:
                complete = day in series.registers
            if complete:
                continue
            attempts = series.attempts.get(day)
            if day == yesterday or attempts is None or attempts.next_retry is None or attempts.next_retry <= today:
                due.append(day)
        return due

    def _daily_jobs(self, prm: str, direction: Direction, now: datetime) -> list[Job]:
        """The daily poll's requests for one series, if due now."""
        today = self._today()
        key = (prm, direction)
        if now < self._poll_time(today):
            return []
        series = self._series(prm, direction)
        first_poll = series.last_poll_day != today
        if not first_poll:
            if now >= self._give_up_time(today):
                return []
            last = self._last_poll_attempt.get(key)
            if last is not None and now < last + self.retry_interval:
                return []
        jobs: list[Job] = []
        for measure in (Measure.LOAD_CURVE, Measure.DAILY_ENERGY, Measure.MAX_POWER, Measure.INDEX):
            if not self._wants(measure, direction):
                continue
            if self.source.api_name(direction, measure) in self._unsubscribed:
                continue
            if measure is Measure.LOAD_CURVE and self._curve_refused(series):
                refusal = series.refused[measure.value]
                if first_poll and refusal.next_try <= today:
                    # The weekly re-ask: the newest week in one request; its answer lifts or renews the refusal.
                    week = today - timedelta(days=self._window_days(measure))
                    jobs.append(Job(prm, direction, measure, week, today, backfill=False))
                continue
            due = self._due_days(series, measure, today, first_poll)
            for start, end in _group_windows(due, self._window_days(measure)):
                jobs.append(Job(prm, direction, measure, start, end, backfill=False))
        return jobs

    @staticmethod
    def _curve_known(series: SeriesCache, day: date) -> bool:
        """The curve of ``day`` is in the cache (complete or partial, repaired apart) or was given up."""
        return series.curve_state.get(day) in (CurveState.COMPLETE, CurveState.PARTIAL) or day in series.given_up

    @staticmethod
    def _curve_refused(series: SeriesCache) -> bool:
        """The PRM refuses this series' load curve (and the refusal has not been lifted)."""
        refusal = series.refused.get(Measure.LOAD_CURVE.value)
        return refusal is not None and not refusal.lifted

    def _expects_curve(self, direction: Direction, series: SeriesCache, day: date) -> bool:
        """A curve is wanted and can exist for ``day``: not refused, not before the recorded curve begins."""
        floor = series.floors.get(Measure.LOAD_CURVE.value)
        return (
            self._wants(Measure.LOAD_CURVE, direction)
            and not self._curve_refused(series)
            and (floor is None or day >= floor)
        )

    def _yesterday_complete(self, prm: str, direction: Direction) -> bool:
        series = self._series(prm, direction)
        yesterday = self._today() - timedelta(days=1)
        if (
            self._expects_curve(direction, series, yesterday)
            and series.curve_state.get(yesterday) is not CurveState.COMPLETE
        ):
            return False
        if self._wants(Measure.DAILY_ENERGY, direction) and yesterday not in series.daily:
            return False
        return not (self._wants(Measure.MAX_POWER, direction) and yesterday not in series.max_power)

    def _window_days(self, measure: Measure) -> int:
        """The most days one request for ``measure`` may cover, per the source's contract."""
        return self.source.contract.window_days(measure)

    def _reserve_reached(self) -> bool:
        """The source keeps a reserve for the daily poll (`QuotaPolicy.reserve_per_prm`); its budget is down to it."""
        reserve = self.source.contract.policy.reserve_per_prm * len(self.prms)
        if not reserve:
            return False
        remaining = self.source.remaining_budget()
        return remaining is not None and remaining <= reserve

    def _burst_spent(self) -> bool:
        """A paced source's first burst of backfill requests is spent: from now on one request per pace."""
        policy = self.source.contract.policy
        return policy.paced and self.store.cache.backfill_requests >= policy.burst

    def _backfill_allowed(self, now: datetime) -> bool:
        """Follow the source's pacing (`QuotaPolicy`) and keep its reserve of the budget for the daily poll."""
        if self._reserve_reached():
            return False
        pace = self.source.contract.policy.pace
        last = self.store.cache.last_backfill_request
        if pace is None or not self._burst_spent() or last is None:
            return True
        return now.timestamp() >= last + pace.total_seconds()

    # --- the refresh ------------------------------------------------------------------------------------

    async def _async_update_data(self) -> EnedisData:
        now = self._now()
        if not self._loaded:  # pragma: no cover - _async_setup always ran (HA >= 2024.8)
            await self._async_setup()
        if not self._started:
            # First refresh, during setup: no request, so Home Assistant starts without waiting for Enedis.
            self._started = True
            self._restore_refusals()
            self.update_interval = FIRST_DELAY
            return self._snapshot()
        sent_before = self.source.request_count
        try:
            next_wake = await self._async_run_due_work(now)
        except (ConsentError, NotHolderError) as err:
            self._record_error(err)
            if err.prm not in self.prms:  # pragma: no cover - every call of the schedule is about one PRM
                raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="consent_revoked") from err
            # About one PRM only: the credentials were accepted. That PRM stops; the others' due work goes on
            # at the next refresh, in a second (this one stopped at the refused request).
            self._refuse(err.prm, err)
            next_wake = self._now()
        except AuthError as err:
            self._record_error(err)
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed") from err
        except RateLimitError as err:
            self._record_error(err)
            wait = timedelta(seconds=max(60.0, err.retry_after or 300.0))
            self.update_interval = wait
            raise self._update_failed("rate_limited", wait) from err
        except EnedisError as err:
            self._record_error(err)
            wait = self._backoff
            self._backoff = min(MAX_BACKOFF, self._backoff * 2)
            self.update_interval = wait
            if isinstance(err, InvalidResponseError):
                # Not Enedis' nor the gateway's answer (a wrong URL): say it once, above DEBUG, until it recovers.
                if not self._invalid_response_warned:
                    self._invalid_response_warned = True
                    _LOGGER.warning(
                        "%s: %r does not answer like Enedis or Conso API (%s): if it lasts, check the URL",
                        self.config_entry.title,
                        self.source,
                        err,
                    )
                raise self._update_failed("invalid_response", wait, str(err)) from err
            raise self._update_failed("api_error", wait, str(err.code or type(err).__name__)) from err
        finally:
            self._account(self.source.request_count - sent_before)
            self.store.async_schedule_save()
        self._backoff = ERROR_BACKOFF
        self._invalid_response_warned = False
        self.update_interval = max(timedelta(seconds=1), next_wake - self._now())
        return self._snapshot()

    def _update_failed(self, key: str, wait: timedelta, detail: str = "") -> UpdateFailed:
        failed = UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"minutes": str(round(wait.total_seconds() / 60)), "detail": detail},
        )
        failed.retry_after = wait.total_seconds()  # honoured from HA 2025.12; update_interval covers older
        return failed

    def _record_error(self, err: EnedisError) -> None:
        self.errors.append((self._now().isoformat(), str(err)))
        _LOGGER.debug("Enedis error: %s", err)

    def _account(self, sent: int) -> None:
        cache = self.store.cache
        today = self._today()
        if cache.requests_day != today:
            cache.requests_day = today
            cache.requests_today = 0
        cache.requests_today += sent

    async def _async_run_due_work(self, now: datetime) -> datetime:
        """Do what is due; return when to wake up next."""
        today = self._today()
        if self._unsubscribed_day != today:
            # An API refused as not subscribed is tried again once a day (the user may have subscribed it).
            self._unsubscribed.clear()
            self._unsubscribed_day = today
        await self._async_refresh_contracts(today)
        if not self._refusal_issues_synced:
            self._sync_refusal_issues()
        touched, self._pending_import = self._pending_import, set()
        if not self._rebuilt:
            # Once per start: the options (tariff, prices) may have changed; rewriting only moves changed rows.
            self._rebuilt = True
            self._reconcile.update(self.prms)
            for prm in self.prms:
                cache = self.store.cache.prm(prm)
                touched.update((prm, d) for d, series in cache.series.items() if series.written or series.daily)
        try:
            # 1. The daily poll has priority over the backfill.
            for prm in self._polled_prms():
                for direction in self._directions(prm):
                    jobs = self._daily_jobs(prm, direction, now)
                    if not jobs:
                        if now >= self._poll_time(today):
                            # Nothing to ask today (only a refused curve, between its weekly re-asks): today's
                            # poll is done, and `_next_wake` must not wake for it again.
                            self._series(prm, direction).last_poll_day = today
                        continue
                    self._last_poll_attempt[(prm, direction)] = now
                    for job in jobs:
                        await self._async_run_job(job, touched)
                    self._series(prm, direction).last_poll_day = today
                    self._after_daily_poll(prm, direction, today)
            # 2. Backfill, newest first, within the pacing.
            for _ in range(self.source.contract.policy.batch):
                if not self._backfill_allowed(self._now()):
                    break
                next_job = self._next_backfill_job()
                if next_job is None:
                    break
                await self._async_run_job(next_job, touched)
                if self._burst_spent():
                    break
        except RateLimitError as err:
            if not err.local:
                raise
            # Our own quota said no: nothing was sent. Wait until it allows, without failing.
            return self._now() + timedelta(seconds=max(1.0, err.retry_after or 60.0))
        finally:
            if touched:
                await self._async_import(touched)
        if self._reconcile and not self.hass.is_stopping:
            # Not in `finally`: after a failed or cancelled refresh it waits for the next one (the recorder may be
            # closing: Home Assistant cancels the refresh when it stops).
            prms, self._reconcile = sorted(self._reconcile), set()
            await self.async_reconcile(prms)
        return self._next_wake()

    def _next_backfill_job(self) -> Job | None:
        candidates: list[tuple[int, int, Job]] = []
        order = 0
        for prm in self._polled_prms():
            for direction in self._directions(prm):
                for tier, job in self._backfill_jobs(prm, direction):
                    if self.source.api_name(direction, job.measure) not in self._unsubscribed:
                        candidates.append((tier, order, job))
                    order += 1
        if not candidates:
            return None
        return min(candidates, key=lambda c: (c[0], c[1]))[2]

    def _next_wake(self) -> datetime:
        now = self._now()
        if self._next_backfill_job() is not None:
            policy = self.source.contract.policy
            if self._reserve_reached():
                # The long budget is down to the daily poll's reserve: wake when it frees up.
                reserve = policy.reserve_per_prm * len(self.prms)
                return now + timedelta(seconds=max(1.0, self.source.budget_wait(reserve + 1)))
            last = self.store.cache.last_backfill_request
            if policy.pace is not None and last is not None and self._burst_spent():
                return max(now + timedelta(seconds=1), dt_util.utc_from_timestamp(last) + policy.pace)
            return now + policy.interval
        today = self._today()
        candidates: list[datetime] = []
        for prm in self._polled_prms():
            for direction in self._directions(prm):
                key = (prm, direction)
                wake: datetime | None = None
                if self._series(prm, direction).last_poll_day != today:
                    wake = max(now, self._poll_time(today))
                elif not self._yesterday_complete(prm, direction):
                    retry = (self._last_poll_attempt.get(key) or now) + self.retry_interval
                    if retry < self._give_up_time(today):
                        wake = retry
                if wake is not None and wake <= now and not self._daily_jobs(prm, direction, now):
                    # Due, yet this refresh's poll found nothing it may ask (every measure's API refused as not
                    # subscribed, asked again tomorrow): waking at once would find nothing either, every second.
                    wake = None
                if wake is not None:
                    candidates.append(wake)
        candidates.append(self._poll_time(today + timedelta(days=1)))
        # Also wake at Paris midnight (no request): "yesterday" sensors must move to the new day.
        tomorrow = today + timedelta(days=1)
        candidates.append(local_midnight_utc(tomorrow))
        return max(now + timedelta(seconds=1), min(candidates))

    def _after_daily_poll(self, prm: str, direction: Direction, today: date) -> None:
        """Book-keeping of incomplete recent days: back-off, then give up after 14 days."""
        series = self._series(prm, direction)
        yesterday = today - timedelta(days=1)
        for day in _days(today - timedelta(days=RETRY_DAYS + 1), yesterday):
            incomplete = (
                self._expects_curve(direction, series, day) and series.curve_state.get(day) is not CurveState.COMPLETE
            ) or (self._wants(Measure.DAILY_ENERGY, direction) and day not in series.daily)
            if not incomplete or day in series.given_up:
                series.attempts.pop(day, None)
                continue
            if day < today - timedelta(days=RETRY_DAYS):
                series.given_up.add(day)
                series.attempts.pop(day, None)
                continue
            attempts = series.attempts.setdefault(day, DayAttempts())
            if attempts.next_retry is None or attempts.next_retry <= today:
                attempts.count += 1
                attempts.next_retry = today + timedelta(days=2 ** min(attempts.count - 1, 3))

    async def _async_refresh_contracts(self, today: date) -> None:
        """Contract data: once a week per PRM (it rarely changes), from a source whose contract says it serves it."""
        if not self.source.contract.serves_contract:
            return
        for prm in self._polled_prms():
            fetched = self._contract_day.get(prm)
            if fetched is not None and (today - fetched).days < CONTRACT_REFRESH_DAYS:
                continue
            try:
                contract = self.contracts[prm] = await self.source.async_get_contract(prm)
                self.store.cache.prm(prm).contract = contract
                for api in contract.unavailable_apis:
                    self._raise_not_subscribed(ApiNotSubscribedError(api=api))
            except ApiNotSubscribedError as err:
                self._raise_not_subscribed(err)
            except NoDataError as err:
                self._record_error(err)
            self._contract_day[prm] = today
            self.store.cache.prm(prm).contract_day = today

    # --- per-PRM access (consent) ---------------------------------------------------------------------

    def _polled_prms(self) -> list[str]:
        """The PRMs requests are sent for: every PRM of the entry but those Enedis refuses (`refused`)."""
        return [prm for prm in self.prms if prm not in self.refused]

    def _access_by_reauth(self) -> bool:
        """Whether new credentials can bring a refused PRM back: a new Conso API token, a new Enedis consent.

        The Enedis sandbox has no consent page (its test customers' consents are fixed): there, a repair issue per
        PRM says what to do instead.
        """
        data = self.config_entry.data
        return data.get(CONF_SOURCE) == SOURCE_CONSO_API or data.get(CONF_ENVIRONMENT) != ENV_SANDBOX

    def _refuse(self, prm: str, err: EnedisError) -> None:
        """Enedis refused ``prm``'s data: stop polling it (persisted), and ask the user to give consent again."""
        reason = ACCESS_NOT_HOLDER if isinstance(err, NotHolderError) else ACCESS_CONSENT_MISSING
        refusal = AccessRefusal(reason=reason, since=self._now(), code=err.code)
        self.refused[prm] = refusal
        self.store.cache.prm(prm).refusal = refusal
        _LOGGER.warning(
            "Enedis refuses the data of PRM %s (%s): it is no longer requested until its consent is given again; "
            "the other PRMs of %s go on",
            prm,
            err.code or reason,
            self.config_entry.title,
        )
        self._ask_for_access()

    def _ask_for_access(self) -> None:
        """Reauthentication (its form names the refused PRMs) or, in the sandbox, a repair issue per refused PRM.

        Home Assistant starts one reauthentication per entry at a time; the flow reads `refused` when it shows its
        form, and verifies every PRM of the entry before it says success.
        """
        if not self.refused:
            return
        if self._access_by_reauth():
            self.config_entry.async_start_reauth(self.hass)
            return
        for prm, refusal in self.refused.items():
            self._create_issue(
                f"access_refused_{prm}",
                "access_refused_sandbox",
                {"prm": prm, "code": refusal.code or refusal.reason},
            )

    def _restore_refusals(self) -> None:
        """At setup, without a request: PRMs refused before stay refused, unless a flow verified them since.

        A reauthentication or reconfiguration records when it verified each PRM (`CONF_VERIFIED`); a refusal older
        than that is over. The others are asked for again (reauthentication or repair issue), as after a restart.
        """
        verified: dict[str, Any] = dict(self.config_entry.data.get(CONF_VERIFIED) or {})
        for prm in self.prms:
            cache = self.store.cache.prm(prm)
            refusal = cache.refusal
            checked = dt_util.parse_datetime(str(verified[prm])) if prm in verified else None
            if refusal is not None and checked is not None and checked >= refusal.since:
                cache.refusal = refusal = None
                self.store.async_schedule_save()
            if refusal is None:
                ir.async_delete_issue(self.hass, DOMAIN, f"access_refused_{prm}")
            else:
                self.refused[prm] = refusal
        self._ask_for_access()

    def _create_issue(self, issue_id: str, translation_key: str, placeholders: dict[str, str]) -> None:
        """A repair issue the user acts on outside Home Assistant or in the options (not fixable here)."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=translation_key,
            translation_placeholders={**placeholders, "entry": self.config_entry.title},
        )

    def _raise_not_subscribed(self, err: ApiNotSubscribedError) -> None:
        api = err.api or "unknown"
        self._unsubscribed.add(api)
        self._create_issue(f"api_not_subscribed_{api.replace('/', '_')}", "api_not_subscribed", {"api": api})

    # --- one request --------------------------------------------------------------------------------

    async def _async_run_job(self, job: Job, touched: set[tuple[str, Direction]]) -> None:
        series = self._series(job.prm, job.direction)
        cache = self.store.cache
        if job.backfill:
            cache.backfill_requests += 1
            cache.last_backfill_request = self._now().timestamp()
        if job.measure is Measure.INDEX:
            await self._async_run_index_job(job, series, touched)
            return
        explicit = False
        try:
            result = await self.source.async_fetch_window(job.prm, job.direction, job.measure, job.start, job.end)
        except WrongDirectionError:
            self.store.cache.prm(job.prm).absent.add(job.direction)
            return
        except ApiNotSubscribedError as err:
            self._raise_not_subscribed(err)
            return
        except (BeforeActivationError, HistoryLimitError) as err:
            _LOGGER.debug("%s: %s", job, err)
            self._on_range_error(job, series)
            # No reading, but the oldest day may now be known and the history complete: the import decides (its
            # last full write from the oldest hour happens once the backfill has no job left).
            touched.add((job.prm, job.direction))
            return
        except NoDataError:
            result = Series(job.prm, job.direction, job.measure, "")
        except CurveNotEnabledError as err:
            # ADAM-ERR0075: the customer objected to the load-curve recording (`_review_refusal` decides what for).
            self._record_error(err)
            explicit = True
            result = Series(job.prm, job.direction, job.measure, "")
        except RequestError as err:
            # A request Enedis will never accept as is: record it and do not ask again.
            self._record_error(err)
            result = Series(job.prm, job.direction, job.measure, "")
        if job.probe:
            self._on_probe_success(job, series)
        self._store_result(job, series, result)
        self._review_refusal(job, series, result, explicit=explicit)
        touched.add((job.prm, job.direction))

    async def _async_run_index_job(self, job: Job, series: SeriesCache, touched: set[tuple[str, Direction]]) -> None:
        """Index registers of a window: the daily energy of each register class (HP/HC...)."""
        try:
            index = await self.source.async_get_index(job.prm, job.direction, job.start, job.end)
        except UnsupportedError:
            self._index_unsupported = True
            return
        except ApiNotSubscribedError as err:
            self._raise_not_subscribed(err)
            return
        except (BeforeActivationError, HistoryLimitError):
            self._on_range_error(job, series)
            touched.add((job.prm, job.direction))  # as in `_async_run_job`: the history may be complete now
            return
        except (NoDataError, RequestError) as err:
            self._record_error(err)
        else:
            if job.probe:
                self._on_probe_success(job, series)
            identity = {register.class_id: register.class_id for register in index.supplier_registers()}
            for day, classes in daily_register_energy(index, identity).items():
                if job.start <= day < job.end:
                    series.registers[day] = classes
        series.index_fetched.update(_days(job.start, job.end))
        touched.add((job.prm, job.direction))

    def _on_range_error(self, job: Job, series: SeriesCache) -> None:
        """The window starts before the meter's activation or Enedis' horizon.

        Bisect between the failing start and the newest start known to work (each probe fetches real data), so
        the oldest day Enedis serves is found in about log2(window) requests, without losing any day.
        """
        key = job.measure.value
        failing, working = series.probes.get(key, (job.start, job.end))
        if job.probe:
            failing = job.start
        if (working - failing).days <= 1:
            series.probes.pop(key, None)
            series.floors[key] = working
        else:
            series.probes[key] = (failing, working)

    def _on_probe_success(self, job: Job, series: SeriesCache) -> None:
        key = job.measure.value
        failing, _ = series.probes[key]
        if (job.start - failing).days <= 1:
            series.probes.pop(key, None)
            series.floors[key] = job.start
        else:
            series.probes[key] = (failing, job.start)

    # --- refused measures ---------------------------------------------------------------------------------

    def _review_refusal(self, job: Job, series: SeriesCache, result: Series, *, explicit: bool) -> None:
        """After a load-curve or daily-energy answer: find, renew or lift a refusal of the curve; end a walk.

        A request whose answer the recent answers predict is not sent:

        - **Refused**: Enedis answered ADAM-ERR0075 (``explicit``) for days with no newer curve, or the newest
          `REFUSAL_EMPTY_DAYS` fetched days whose daily energy is known all came back without curve (Enedis also
          answers 404 ``no_data_found`` when the hourly collection is off). The curve is then neither walked back
          nor retried: the daily poll asks the newest week once a week (`REFUSAL_RETRY`), daily energy still feeds
          the statistics, and a repair issue says how to enable the curve.
        - **Lifted**: that weekly request brought readings. The issue goes; the days whose curve was empty while
          daily energy existed are forgotten so the backfill, restarted from that week, asks them once more and
          walks on into the older history (known weeks are passed without a request).
        - **History start**: a backfill window older than the known curve came back refused, or left a run of at
          least `REFUSAL_EMPTY_DAYS` empty days with daily energy between the frontier and the oldest curve day
          (and no curve is known below it): the recorded curve begins at that day. It becomes the series' floor
          (as an activation date would) and the walk ends, instead of asking every older week for nothing
          (`import_history` forgets that floor and walks to the date it is given).
        """
        if job.measure not in (Measure.LOAD_CURVE, Measure.DAILY_ENERGY) or not self._wants(
            Measure.LOAD_CURVE, job.direction
        ):
            return
        key = Measure.LOAD_CURVE.value
        refusal = series.refused.get(key)
        if job.measure is Measure.LOAD_CURVE:
            if refusal is not None and not refusal.lifted:
                if result.readings:
                    self._lift_refusal(job, series, refusal)
                else:
                    refusal.next_try = self._today() + REFUSAL_RETRY
                return
            # A walk the user asked for with `import_history` goes on to the date given.
            walk = job.backfill and not job.repair and not job.probe
            walk = walk and self.store.cache.prm(job.prm).history_start is None
            if explicit:
                newer = self._oldest_curve_day(series, job.end)
                if newer is None:
                    self._refuse_curve(job.prm, job.direction, series)
                elif walk:
                    self._curve_history_starts(series, newer)
                return
            if walk and (first := self._curve_history_start(series)) is not None:
                self._curve_history_starts(series, first)
        if not self._curve_refused(series) and self._curve_empty_lately(series):
            self._refuse_curve(job.prm, job.direction, series)

    @staticmethod
    def _oldest_curve_day(series: SeriesCache, since: date) -> date | None:
        """The oldest day from ``since`` on whose curve has readings."""
        days = [
            day
            for day, state in series.curve_state.items()
            if day >= since and state in (CurveState.COMPLETE, CurveState.PARTIAL)
        ]
        return min(days, default=None)

    @staticmethod
    def _curve_empty_lately(series: SeriesCache) -> bool:
        """The newest `REFUSAL_EMPTY_DAYS` fetched curve days with known daily energy all came back empty.

        Days without daily energy either (a meter that did not communicate) say nothing and are skipped.
        """
        count = 0
        for day in sorted(series.curve_state, reverse=True):
            if series.curve_state[day] is not CurveState.MISSING:
                return False
            if day in series.daily:
                count += 1
                if count >= REFUSAL_EMPTY_DAYS:
                    return True
        return False

    def _curve_history_start(self, series: SeriesCache) -> date | None:
        """The day the recorded curve begins, when the walk's last window fell before it (see `_review_refusal`)."""
        frontier = series.curve_frontier
        if frontier is None:
            return None
        first = self._oldest_curve_day(series, frontier)
        if first is None or self._oldest_curve_day(series, date.min) != first:
            return None  # no newer curve (that is a refusal), or curve below the frontier (a gap, not a start)
        run = _days(frontier, first)
        if any(day not in series.curve_state for day in run):
            return None
        empty = sum(1 for day in run if series.curve_state[day] is CurveState.MISSING and day in series.daily)
        return first if empty >= REFUSAL_EMPTY_DAYS else None

    def _curve_history_starts(self, series: SeriesCache, first: date) -> None:
        series.floors[Measure.LOAD_CURVE.value] = first
        self._end_curve_walk(series)

    @staticmethod
    def _end_curve_walk(series: SeriesCache) -> None:
        """The curve backfill is done; a lifted refusal, kept while the walk ran, is over."""
        series.curve_done = True
        refusal = series.refused.get(Measure.LOAD_CURVE.value)
        if refusal is not None and refusal.lifted:
            del series.refused[Measure.LOAD_CURVE.value]

    def _refuse_curve(self, prm: str, direction: Direction, series: SeriesCache) -> None:
        today = self._today()
        series.refused[Measure.LOAD_CURVE.value] = MeasureRefusal(since=today, next_try=today + REFUSAL_RETRY)
        _LOGGER.debug("Load curve refused (%s); asked again on %s", direction.value, today + REFUSAL_RETRY)
        self._create_refusal_issue(prm, direction)

    def _lift_refusal(self, job: Job, series: SeriesCache, refusal: MeasureRefusal) -> None:
        refusal.lifted = True
        ir.async_delete_issue(self.hass, DOMAIN, self._refusal_issue_id(job.prm, job.direction))
        for day in [
            d
            for d, state in series.curve_state.items()
            if d < job.start and state is CurveState.MISSING and d in series.daily
        ]:
            del series.curve_state[day]
            series.given_up.discard(day)
            series.attempts.pop(day, None)
        series.curve_frontier = job.start
        series.curve_done = False

    @staticmethod
    def _refusal_issue_id(prm: str, direction: Direction) -> str:
        return f"load_curve_refused_{prm}_{direction.value}"

    def _create_refusal_issue(self, prm: str, direction: Direction) -> None:
        issue_id, placeholders = self._refusal_issue_id(prm, direction), {"prm": prm, "url": CURVE_SETTINGS_URL}
        # Literal translation keys, so that tests/test_translations.py finds and checks them.
        if direction is Direction.CONSUMPTION:
            self._create_issue(issue_id, "load_curve_refused", placeholders)
        else:
            self._create_issue(issue_id, "production_curve_refused", placeholders)

    def _sync_refusal_issues(self) -> None:
        """Once per start: repair issues are not persistent, so the refusals kept in the cache create theirs again."""
        self._refusal_issues_synced = True
        for prm in self.prms:
            for direction, series in self.store.cache.prm(prm).series.items():
                if self._curve_refused(series) and self._wants(Measure.LOAD_CURVE, direction):
                    self._create_refusal_issue(prm, direction)
                else:
                    ir.async_delete_issue(self.hass, DOMAIN, self._refusal_issue_id(prm, direction))

    def _store_result(self, job: Job, series: SeriesCache, result: Series) -> None:
        days = _days(job.start, job.end)
        if job.measure is Measure.LOAD_CURVE:
            by_day: dict[date, list[Reading]] = {day: [] for day in days}
            for reading in result.readings:
                day = local_day(reading.start)
                if day in by_day:
                    by_day[day].append(reading)
            for day, readings in by_day.items():
                state = curve_state_of(day, readings)
                previous = series.curve_state.get(day)
                if state is CurveState.MISSING and previous in (CurveState.COMPLETE, CurveState.PARTIAL):
                    continue  # never lose what we have because a refetch came back empty
                if state is CurveState.PARTIAL and previous is CurveState.COMPLETE:
                    continue
                series.curve_state[day] = state
                if readings:
                    series.curve[day] = DayCurve.of(readings)
            if job.repair:
                for day in days:
                    if series.curve_state.get(day) is CurveState.PARTIAL:
                        attempts = series.attempts.setdefault(day, DayAttempts())
                        attempts.count += 1
                        if attempts.count >= OLD_PARTIAL_ATTEMPTS:
                            series.given_up.add(day)
                            series.attempts.pop(day, None)
                    else:
                        series.attempts.pop(day, None)
            elif job.backfill:
                series.curve_frontier = min(job.start, series.curve_frontier or job.start)
                if job.end >= self._today():
                    # The newest week was just fetched: today's poll must not ask for those days again.
                    series.last_poll_day = self._today()
        elif job.measure is Measure.DAILY_ENERGY:
            for reading in result.readings:
                series.daily[local_day(reading.start)] = reading.value
            series.daily_fetched.update(days)
        else:
            for reading in result.readings:
                series.max_power[local_day(reading.start)] = reading
            series.max_power_fetched.update(days)

    # --- statistics (the importer, `importer.py`) ---------------------------------------------------------

    @property
    def rows_written(self) -> int:
        """Statistics rows queued for the recorder since setup (diagnostics)."""
        return self._importer.rows_written

    @property
    def tariff_reports(self) -> dict[str, dict[str, Any]]:
        """Per PRM: days that could not be split or priced (diagnostics)."""
        return self._importer.tariff_reports

    def tariff_config(self, prm: str) -> TariffConfig:
        """The tariff of a PRM: option, off-peak windows (options' override, else the contract's), prices."""
        return self._importer.tariff_config(prm)

    async def _async_import(self, touched: set[tuple[str, Direction]]) -> None:
        """Recompute the hourly rows of the touched series (and their tariff series) and write what changed."""
        await self._importer.async_import(
            touched,
            complete=lambda prm, direction: not self._backfill_jobs(prm, direction),
            wants_curve=lambda direction: self._wants(Measure.LOAD_CURVE, direction),
        )

    async def async_reconcile(self, prms: Iterable[str] | None = None) -> int:
        """Make the recorder hold what the cache says was written (every PRM, or ``prms``); rows rewritten."""
        return await self._importer.async_reconcile(self.prms if prms is None else prms)

    # --- services -----------------------------------------------------------------------------------------

    async def async_import_history(self, prm: str, start: date) -> None:
        """Import back to ``start`` (within Enedis' horizons): the backfill resumes towards it."""
        cache = self.store.cache.prm(prm)
        cache.history_start = start
        for series in cache.series.values():
            # The user asks for older history: the walk goes back to ``start`` even through weeks without curve
            # (`_review_refusal` does not end it at a start of the recorded curve it would otherwise infer).
            series.floors.pop(Measure.LOAD_CURVE.value, None)
            series.curve_done = False
            series.daily_history_done = False
            series.max_power_history_done = False
        self.store.async_schedule_save()
        await self.async_request_refresh()

    async def async_refetch(self, prm: str, start: date, end: date, *, rewrite_statistics: bool = False) -> None:
        """Forget what is known of ``[start, end]`` so that it is fetched again (and statistics rewritten).

        The PRM's statistics are then compared with the recorder (`async_reconcile`). With ``rewrite_statistics``
        they are cleared from the recorder and written again whole from the cache, even where nothing changed.
        """
        cache = self.store.cache.prm(prm)
        if rewrite_statistics:
            for direction, series in cache.series.items():
                ids = [statistic_id(prm, direction), *(f"{DOMAIN}:{prm}_{key}" for key in series.extra_written)]
                for stat_id in ids:
                    await async_clear(self.hass, stat_id)
                series.written = {}
                series.extra_written = {}
                series.anchor = None
                self._pending_import.add((prm, direction))
        self._reconcile.add(prm)
        for series in cache.series.values():
            # Each measure's readings of the days go with their "fetched" mark: a day forgotten but still marked
            # fetched would never be asked again by the backfill (beyond the daily poll's 14 days, lost for good).
            for day in _days(start, end + timedelta(days=1)):
                series.curve_state.pop(day, None)
                series.curve.pop(day, None)
                series.daily_fetched.discard(day)
                series.max_power.pop(day, None)
                series.max_power_fetched.discard(day)
                series.registers.pop(day, None)
                series.index_fetched.discard(day)
                series.given_up.discard(day)
                series.attempts.pop(day, None)
            if series.curve_frontier is not None and series.curve_frontier <= end:
                # Move the backfill frontier back up so the curve windows cover the range again.
                series.curve_frontier = max(series.curve_frontier, end + timedelta(days=1))
                series.curve_done = False
            series.daily_history_done = False
            series.max_power_history_done = False
            series.index_history_done = False
        self.store.async_schedule_save()
        await self.async_request_refresh()

    # --- snapshot -----------------------------------------------------------------------------------------

    def _progress(self, prm: str) -> float:
        today = self._today()
        total = done = 0.0
        for direction in self._directions(prm):
            series = self._series(prm, direction)
            if self._wants(Measure.LOAD_CURVE, direction):
                start = self._start(prm, direction, Measure.LOAD_CURVE)
                span = max(1, (today - start).days)
                total += span / 7
                if series.curve_done or self._curve_refused(series):
                    done += span / 7
                elif series.curve_frontier is not None:
                    done += min(span, (today - series.curve_frontier).days) / 7
            for measure, flag in (
                (Measure.DAILY_ENERGY, series.daily_history_done),
                (Measure.MAX_POWER, series.max_power_history_done),
                (Measure.INDEX, series.index_history_done),
            ):
                if self._wants(measure, direction):
                    total += 3
                    done += 3 if flag else 0
        progress = 100.0 if total == 0 else round(100 * done / total, 1)
        pending_repairs = any(self._old_partial_days(self._series(prm, d), today) for d in self._directions(prm))
        return min(progress, 99.9) if pending_repairs else progress

    def _snapshot(self) -> EnedisData:
        today = self._today()
        yesterday = today - timedelta(days=1)
        prms: dict[str, PrmData] = {}
        for prm in self.prms:
            cache = self.store.cache.prm(prm)
            cons = cache.series.get(Direction.CONSUMPTION)
            prod = cache.series.get(Direction.PRODUCTION)
            covered: set[date] = set()
            complete: set[date] = set()
            missing: set[date] = set()
            for series in cache.series.values():
                covered |= set(series.daily) | {d for d, s in series.curve_state.items() if s is not CurveState.MISSING}
                complete |= set(series.daily) | {d for d, s in series.curve_state.items() if s is CurveState.COMPLETE}
                missing |= series.given_up
            last_power: Reading | None = None
            if cons is not None and cons.curve:
                last_power = cons.curve[max(cons.curve)][-1]
            directions = tuple(self._directions(prm))
            refusal = self.refused.get(prm)
            load_curve: bool | None = None
            if last_power is not None:
                load_curve = True
            elif Direction.CONSUMPTION not in directions or not self._wants(Measure.LOAD_CURVE, Direction.CONSUMPTION):
                load_curve = False
            elif cons is not None and (cons.curve_done or self._curve_refused(cons)):
                load_curve = False  # the whole history was asked for, or refused: not a single reading
            prms[prm] = PrmData(
                prm=prm,
                directions=directions,
                access=refusal.reason if refusal else ACCESS_OK,
                access_refused_since=refusal.since if refusal else None,
                access_code=refusal.code if refusal else None,
                contract=self.contracts.get(prm),
                consumption_yesterday_wh=self._day_energy(cons, yesterday),
                production_yesterday_wh=self._day_energy(prod, yesterday),
                last_power=last_power,
                load_curve=load_curve,
                max_power_yesterday=cons.max_power.get(yesterday) if cons is not None else None,
                newest_complete_day=max(complete) if complete else None,
                oldest_day=min(covered) if covered else None,
                days_covered=len(covered),
                backfill_progress=self._progress(prm),
                missing_days=tuple(sorted(missing)),
            )
        expires: datetime | None = None
        if self.source.contract.expiry is CredentialExpiry.CREDENTIALS:
            expires = self.source.credentials_expire_at()
        elif raw := self.config_entry.data.get(CONF_CONSENT_EXPIRES):
            expires = dt_util.parse_datetime(str(raw))
        entry_cache = self.store.cache
        return EnedisData(
            prms=prms,
            requests_today=entry_cache.requests_today if entry_cache.requests_day == today else 0,
            expires_at=expires,
            last_error=self.errors[-1][1] if self.errors else None,
        )

    @staticmethod
    def _day_energy(series: SeriesCache | None, day: date) -> float | None:
        if series is None:
            return None
        if day in series.daily:
            return series.daily[day]
        if series.curve_state.get(day) is CurveState.COMPLETE:
            return series.curve[day].energy_wh()
        return None

    # --- diagnostics ------------------------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Coverage, holes, quota, errors (raw PRMs: diagnostics.py masks them)."""
        out: dict[str, Any] = {
            "requests_today": self.store.cache.requests_today,
            "backfill_requests": self.store.cache.backfill_requests,
            "rows_written": self.rows_written,
            "quota": self.source.quota_status(),
            "requests_by_api": dict(self.source.requests),
            "unsubscribed_apis": sorted(self._unsubscribed),
            "poll_time_local": f"{self.poll_minute // 60:02d}:{self.poll_minute % 60:02d}",
            "last_errors": list(self.errors),
            "tariffs": self.tariff_reports,
            "prms": {},
        }
        for prm in self.prms:
            cache = self.store.cache.prm(prm)
            per: dict[str, Any] = {
                "absent": sorted(a.value for a in cache.absent),
                "access_refused": cache.refusal.to_json() if cache.refusal else None,
            }
            for direction, series in cache.series.items():
                if direction in cache.absent:
                    continue
                per[direction.value] = {
                    "curve_days": _ranges(d for d, s in series.curve_state.items() if s is CurveState.COMPLETE),
                    "curve_partial": [
                        d.isoformat() for d, s in sorted(series.curve_state.items()) if s is CurveState.PARTIAL
                    ],
                    "curve_missing": _ranges(d for d, s in series.curve_state.items() if s is CurveState.MISSING),
                    "daily_days": _ranges(series.daily),
                    "max_power_days": _ranges(series.max_power),
                    "curve_frontier": series.curve_frontier.isoformat() if series.curve_frontier else None,
                    "curve_done": series.curve_done,
                    "refused": {k: r.to_json() for k, r in series.refused.items()},
                    "floors": {k: v.isoformat() for k, v in series.floors.items()},
                    "daily_history_done": series.daily_history_done,
                    "retrying": {d.isoformat(): a.count for d, a in sorted(series.attempts.items())},
                    "given_up": [d.isoformat() for d in sorted(series.given_up)],
                    "hours_written": len(series.written),
                }
            out["prms"][prm] = per
        return out


def _ranges(days: Iterable[date]) -> list[str]:
    """Compress days into ``first..last`` ranges."""
    ordered = sorted(set(days))
    ranges: list[list[date]] = []
    for day in ordered:
        if ranges and day - ranges[-1][1] == timedelta(days=1):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return [a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}" for a, b in ranges]
