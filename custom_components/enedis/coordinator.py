"""One coordinator per config entry: orchestration of the engine, errors, repairs and services.

The engine is split by responsibility; this module wires it to Home Assistant:

- ``planner.py`` (pure): which requests are due and when to wake, from the state (``state.py``) and a `Context`;
- ``fetcher.py``: one request against the source, its answer or typed error as an outcome, applied to the state;
- the statistics (``ledger.py`` and the tariff series): hours, sums from the oldest row, chunked writes and the
  recorder's reconciliation;
- ``snapshot.py`` (pure): what the entities and the diagnostics show.

Everything runs from `DataUpdateCoordinator` refreshes (HA's own scheduling, no hand-made loop): each refresh does
the work that is due (a few requests), writes what changed to the statistics, saves the cache, and sets
``update_interval`` to the next moment work will be due:

- **backfill** (after setup, in the background): for each PRM and direction, the newest week of load curve first,
  then daily energy and max power back to 36 months (at most 4 calls each), then the load curve week by week,
  newest first, back to 24 months (or the meter's activation). The pace is the source's (`source.contract.policy`,
  `api/contract.py`): through Conso API one request every 8 minutes after a first burst of 10, so the
  90-per-12-hours budget is never exceeded and always keeps a reserve for the daily poll; through Data Connect they
  go at the 5/s limit, 5 per refresh. The refresh in which a series' history completes ends with that request (its
  import, which publishes the oldest days, is the backfill's largest). The engine reads a source only through its
  contract and the `MeteringSource` interface, never by its class.
- **daily poll**: data for day D appears on D+1 from about 08:00 Paris time. Each installation polls once at its
  own random time in the options' morning window; the first poll of the day also refetches the day before
  yesterday once (late corrections). While yesterday is incomplete it retries every 1 to 2 hours until 20:00, then
  gives up until tomorrow. Older incomplete days (up to 14 days back) are retried with back-off (1, 2, 4, 8 days),
  inside the same calls when they fit in the window, then reported in diagnostics.
- **consent per PRM**: a PRM whose data Enedis refuses (ADAM-DC-0008 no or revoked consent, ADAM-DC-0007 not the
  holder's) stops alone after that one request, persisted across restarts, while the other PRMs go on; the user is
  asked for it by name (reauthentication, or a repair issue in the sandbox). It is polled again once a
  reauthentication or reconfiguration verified it (`_restore_refusals`). A rejected token still fails the entry.
- **refused measures**: a load curve the PRM refuses (ADAM-ERR0075, or empty for the newest 7 days whose daily
  energy exists) is not walked back 24 months nor retried daily: it is asked again once a week, in the daily poll,
  while daily energy keeps feeding the statistics and a repair issue says how to enable it
  (`fetcher.review_refusal`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import date, datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import planner
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
)
from .api.calendar import local_day
from .const import (
    ACCESS_CONSENT_MISSING,
    ACCESS_NOT_HOLDER,
    ACCESS_OK,
    CONF_CONSENT_EXPIRES,
    CONF_PRMS,
    CONF_VERIFIED,
    DOMAIN,
)
from .data import EnedisData
from .fetcher import Effects, apply_outcome, async_fetch, book_incomplete_days
from .importer import Importer
from .options import EntryOptions
from .planner import Job, days_between, stable_fraction
from .snapshot import build_snapshot, prm_diagnostics
from .state import AccessRefusal, SeriesCache
from .statistics import async_clear, statistic_id
from .store import EnedisStore
from .tariff_compare import TariffComparisons
from .tariff_series import TariffConfig

_LOGGER = logging.getLogger(__name__)

type EnedisConfigEntry = ConfigEntry[EnedisCoordinator]

CONTRACT_REFRESH_DAYS = 7
"""Contract data (subscribed power, off-peak hours, activation) is read again after this many days."""
FIRST_DELAY = timedelta(seconds=2)
MAX_BACKOFF = timedelta(hours=2)
ERROR_BACKOFF = timedelta(minutes=5)
CURVE_SETTINGS_URL = "https://mon-compte-particulier.enedis.fr/enregistrement-collect-donnees"
"""The Enedis customer-area page that enables the recording and the collection of the hourly consumption, named
"Gérer l'accès à mes données" in the customer area (bokub/linky#66, 2024; URL as of bokub/ha-linky#165, 2025-12)."""


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
        self._fraction = fraction = stable_fraction(entry.entry_id)
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
            self.contracts.get,
            self._create_issue,
        )
        self.comparisons = TariffComparisons(
            hass,
            self.store,
            self._importer,
            contracts=self.contracts,
            options=lambda: self.options,
            now=self._now,
            wants_curve=lambda: self._wants(Measure.LOAD_CURVE, Direction.CONSUMPTION),
        )
        """The tariff comparisons (service, and the sensors' once a day)."""
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
        cache = await self.store.async_load(self.source.location, self._today())
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

    # --- the planner's view ---------------------------------------------------------------------------

    def _today(self) -> date:
        return local_day(self._now())

    def _context(self, now: datetime | None = None) -> planner.Context:
        """What the planner reads besides the state, at ``now`` (default: the clock's now)."""
        now = now or self._now()
        source = self.source
        return planner.Context(
            today=local_day(now),
            now=now,
            options=self.options,
            contract=source.contract,
            prms=tuple(self._polled_prms()),
            entry_prms=len(self.prms),
            contracts=self.contracts,
            poll_minute=self.poll_minute,
            retry_interval=self.retry_interval,
            api_name=source.api_name,
            unsubscribed=frozenset(self._unsubscribed),
            index_unsupported=self._index_unsupported,
            last_poll_attempt=self._last_poll_attempt,
            remaining_budget=source.remaining_budget() if source.contract.policy.reserve_per_prm else None,
            budget_wait=source.budget_wait,
        )

    def _series(self, prm: str, direction: Direction) -> SeriesCache:
        """The series to write into (created on first use)."""
        return self.store.cache.prm(prm).series.setdefault(direction, SeriesCache())

    def _wants(self, measure: Measure, direction: Direction) -> bool:
        return planner.wants(self._context(), measure, direction)

    def _settle(self, settled: dict[tuple[str, Direction], planner.Settled]) -> None:
        """Apply what planning learnt without a request (`planner.Settled`) to the state."""
        for (prm, direction), learnt in settled.items():
            self._series(prm, direction).settle(learnt.frontier, learnt.walk_ended, learnt.history_done)

    def _backfill_jobs(self, prm: str, direction: Direction) -> list[tuple[int, Job]]:
        """The series' pending backfill requests; what planning settled is applied first (the import reads it)."""
        jobs, settled = planner.backfill_jobs(self._context(), self.store.cache, prm, direction)
        if settled:
            self._settle({(prm, direction): settled})
        return jobs

    def _next_backfill_job(self) -> Job | None:
        job, settled = planner.next_backfill_job(self._context(), self.store.cache)
        self._settle(settled)
        return job

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
        snapshot = self._snapshot()
        self._schedule_comparisons(snapshot)
        return snapshot

    def _schedule_comparisons(self, snapshot: EnedisData) -> None:
        """The sensors' tariff comparisons, at most once a day per PRM (and when its history import ends)."""
        if self.hass.is_stopping:
            return
        complete = {
            prm: data.backfill_progress >= 100
            for prm, data in snapshot.prms.items()
            if data.access == ACCESS_OK and Direction.CONSUMPTION in data.directions
        }
        self.comparisons.async_schedule(self.config_entry, complete, self.async_update_listeners)

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

    def _start_of_refresh(self) -> set[tuple[str, Direction]]:
        """Once per start: repair issues, and what the refresh imports even without a request."""
        if not self._refusal_issues_synced:
            self._sync_refusal_issues()
        touched, self._pending_import = self._pending_import, set()
        if not self._rebuilt:
            # Once per start: the options (tariff, prices) may have changed; rewriting only moves changed rows.
            self._rebuilt = True
            self._reconcile.update(self.prms)
            touched.update(self._imported_series())
        elif self._importer.price_data_missing:
            # The shipped price data could not be read: the import reads it again, and prices what needs it once it
            # reads (the repair issue then goes), without waiting for new data.
            touched.update(self._imported_series())
        return touched

    def _imported_series(self) -> set[tuple[str, Direction]]:
        """Every series with data."""
        touched: set[tuple[str, Direction]] = set()
        for prm in self.prms:
            cache = self.store.cache.prm(prm)
            touched.update((prm, d) for d, series in cache.series.items() if series.written or series.daily)
        return touched

    async def _async_daily_poll(self, now: datetime, touched: set[tuple[str, Direction]]) -> None:
        """The daily poll has priority over the backfill."""
        today = self._today()
        for prm in self._polled_prms():
            ctx = self._context(now)
            for direction in planner.directions(ctx, self.store.cache, prm):
                jobs = planner.daily_jobs(self._context(now), self.store.cache, prm, direction)
                if not jobs:
                    if now >= planner.poll_time(ctx, today):
                        # Nothing to ask today (only a refused curve, between its weekly re-asks): today's poll is
                        # done, and the next wake must not be for it again.
                        self._series(prm, direction).last_poll_day = today
                    continue
                self._last_poll_attempt[(prm, direction)] = now
                for job in jobs:
                    await self._async_run_job(job, touched)
                self._series(prm, direction).last_poll_day = today
                ctx = self._context(now)
                first = planner.start(ctx, self.store.cache, prm, direction, Measure.DAILY_ENERGY)
                book_incomplete_days(ctx, self._series(prm, direction), direction, first)

    async def _async_backfill(self, touched: set[tuple[str, Direction]]) -> None:
        """Backfill, newest first, within the source's pacing."""
        for _ in range(self.source.contract.policy.batch):
            if not planner.backfill_allowed(self._context(), self.store.cache):
                break
            next_job = self._next_backfill_job()
            if next_job is None:
                break
            await self._async_run_job(next_job, touched)
            if planner.burst_spent(self._context(), self.store.cache):
                break
            if not self._backfill_jobs(next_job.prm, next_job.direction):
                # The series' history is complete: this refresh's import publishes its oldest days (a year of daily
                # energy beyond the curve's horizon: the backfill's largest import). It ends the refresh, the next
                # requests' work going to the next one (`QuotaPolicy.interval` later): no refresh carries both.
                break

    async def _async_run_due_work(self, now: datetime) -> datetime:
        """Do what is due; return when to wake up next."""
        today = self._today()
        if self._unsubscribed_day != today:
            # An API refused as not subscribed is tried again once a day (the user may have subscribed it); before
            # the contracts, which may say again that one is not.
            self._unsubscribed.clear()
            self._unsubscribed_day = today
        await self._async_refresh_contracts(today)
        touched = self._start_of_refresh()
        try:
            await self._async_daily_poll(now, touched)
            await self._async_backfill(touched)
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
        return planner.next_wake(self._context(), self.store.cache)

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
        if self.source.reauth_restores_access:
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
        """Send one job's request (`fetcher`), record its outcome in the state, act on its effects."""
        cache = self.store.cache
        if job.backfill:
            cache.backfill_requests += 1
            cache.last_backfill_request = self._now().timestamp()
        outcome = await async_fetch(self.source, job)
        if outcome.error is not None:
            self._record_error(outcome.error)
        effects = apply_outcome(
            cache.prm(job.prm),
            self._series(job.prm, job.direction),
            job,
            outcome,
            today=self._today(),
            wants_curve=self._wants(Measure.LOAD_CURVE, job.direction),
        )
        self._act_on(job, effects, touched)

    def _act_on(self, job: Job, effects: Effects, touched: set[tuple[str, Direction]]) -> None:
        if effects.not_subscribed is not None:
            self._raise_not_subscribed(ApiNotSubscribedError(api=effects.not_subscribed))
        if effects.index_unsupported:
            self._index_unsupported = True
        if effects.curve_refused:
            self._create_refusal_issue(job.prm, job.direction)
        if effects.curve_lifted:
            ir.async_delete_issue(self.hass, DOMAIN, self._refusal_issue_id(job.prm, job.direction))
        if effects.touched:
            touched.add((job.prm, job.direction))

    # --- refused measures ---------------------------------------------------------------------------------

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
                if planner.curve_refused(series) and self._wants(Measure.LOAD_CURVE, direction):
                    self._create_refusal_issue(prm, direction)
                else:
                    ir.async_delete_issue(self.hass, DOMAIN, self._refusal_issue_id(prm, direction))

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
            series.reopen_history()
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
            series.forget_days(days_between(start, end + timedelta(days=1)))
        self.store.async_schedule_save()
        await self.async_request_refresh()

    # --- what the entities and the diagnostics show -------------------------------------------------------------

    def _snapshot(self) -> EnedisData:
        expires: datetime | None = None
        if self.source.contract.expiry is CredentialExpiry.CREDENTIALS:
            expires = self.source.credentials_expire_at()
        elif raw := self.config_entry.data.get(CONF_CONSENT_EXPIRES):
            expires = dt_util.parse_datetime(str(raw))
        return build_snapshot(
            self._context(),
            self.store.cache,
            self.prms,
            self.refused,
            expires_at=expires,
            last_error=self.errors[-1][1] if self.errors else None,
            bills=self._importer.bills,
        )

    def diagnostics(self) -> dict[str, Any]:
        """Coverage, holes, quota, errors (raw PRMs: diagnostics.py masks them)."""
        return {
            "requests_today": self.store.cache.requests_today,
            "backfill_requests": self.store.cache.backfill_requests,
            "rows_written": self.rows_written,
            "quota": self.source.quota_status(),
            "requests_by_api": dict(self.source.requests),
            "unsubscribed_apis": sorted(self._unsubscribed),
            "poll_time_local": f"{self.poll_minute // 60:02d}:{self.poll_minute % 60:02d}",
            "last_errors": list(self.errors),
            "tariffs": self.tariff_reports,
            "prms": {prm: prm_diagnostics(self.store.cache, prm) for prm in self.prms},
        }
