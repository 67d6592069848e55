"""Mutable configuration and bookkeeping of the fake Enedis gateway."""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import hashlib
import hmac
import json
import re
import secrets
import time as _time
from typing import Any, Literal

from . import data

type FaultKind = Literal[
    "technical_error",
    "plain_500",
    "delay",
    "malformed_json",
    "truncated_day",
    "html_error",
    "throttle",
]

#: Fixed expiry (2100-01-01) of the demo Conso API tokens.
DEMO_CONSO_EXP = 4102444800
DEMO_CONSO_IAT = 1767225600  # 2026-01-01
DEMO_CONSO_CLIENTS = (0, 3, 4, 6, 7)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(slots=True)
class RequestRecord:
    """One request seen by the server (the Authorization header is never stored)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    time: float


@dataclass(slots=True)
class Fault:
    """A switchable fault.

    ``remaining`` requests are affected (None: until removed). ``path`` is a regex searched in
    the Enedis path (for Conso API requests: the upstream Enedis path); without it the fault
    hits every Enedis data API (measures, contracts, subscribed_services), never the token
    endpoint nor the consent pages.
    """

    kind: FaultKind
    remaining: int | None = 1
    path: str | None = None
    #: Seconds, for ``delay``.
    delay: float = 0.0
    #: K points removed from the last day, for ``truncated_day``.
    points: int = 1
    #: HTTP status of the ``html_error`` page.
    status: int = 502

    def matches(self, path: str, default_scope: bool) -> bool:
        """True when this fault applies to ``path``."""
        if self.path is None:
            return default_scope
        return re.search(self.path, path) is not None


@dataclass(slots=True)
class QuotaBreach:
    """A quota rejection (429)."""

    body: dict[str, Any]
    retry_after: int | None = None


@dataclass
class FakeState:
    """Configuration, switches and bookkeeping of one fake server instance."""

    #: The server's "today" (Europe/Paris). None: the real Paris date, read at each request.
    today: date | None = None
    #: Local time of day used with a fixed ``today`` (default 12:00); ignored when today is None.
    time_of_day: time | None = None
    #: Local hour at which day D is published on D+1.
    publish_hour: int = 8
    #: Monotonic clock in seconds, for quotas and token expiry (tests inject a fake one).
    clock: Callable[[], float] = _time.monotonic
    #: Accepted Data Connect application credentials: client_id -> client_secret.
    credentials: dict[str, str] = field(default_factory=lambda: {"demo-client-id": "demo-client-secret"})
    #: Redirect URL registered for the application (consent redirections go there).
    redirect_uri: str = "https://my.home-assistant.io/redirect/oauth"
    token_lifetime: int = 12600
    quotas_enabled: bool = True
    per_second_limit: int = 5
    per_hour_limit: int = 1000
    conso_ip_limit: int = 100
    conso_ip_window: float = 12 * 3600
    #: API names (first path segment, e.g. ``comptage_auto``) not subscribed on DataHub (403).
    unsubscribed_apis: set[str] = field(default_factory=set)
    #: PRMs whose consent was revoked at run time (403 ADAM-DC-0008).
    revoked_prms: set[str] = field(default_factory=set)
    #: PRMs whose consent was given again at run time (overrides client 8's revoked consent).
    granted_prms: set[str] = field(default_factory=set)
    #: Extra publication delay in hours for given days.
    late_days: dict[date, float] = field(default_factory=dict)
    holes_filled: bool = False
    """Serve client 4's Tuesday/Wednesday holes as ordinary days ("the data appears")."""
    curve_refusal: Literal["no_data_found", "ADAM-ERR0075"] = "no_data_found"
    """How a PRM without load curve (client 2) answers a load-curve call: 404 ``no_data_found``, as observed in
    production when the hourly collection is off, or 400 ``ADAM-ERR0075``, the code Enedis documents for it."""
    curve_enabled_from: dict[str, date] = field(default_factory=dict)
    """PRMs whose customer enabled the load curve at run time: their curve is served from that day on."""
    history_margin_days: int = 15
    """Days served beyond the 24 (load curve) or 36 months of history; an older start answers ADAM-ERR0125. The
    integration assumes Enedis' 15: a smaller margin is a stricter horizon than it expects (found by bisection)."""
    no_index_prms: set[str] = field(default_factory=set)
    """PRMs whose meter keeps no index registers: their ``index_*`` calls answer 404 ``no_data_found``."""
    contract_offpeak: dict[str, str] = field(default_factory=dict)
    """PRM -> the off-peak hours its contract gives instead of `data.OFFPEAK_HOURS` (Enedis writes some in forms
    the integration cannot read, e.g. ``HC (la nuit)``)."""
    faults: list[Fault] = field(default_factory=list)
    #: Seconds a request spends in flight before the gateway sees it, from its path (None: none). Its quotas count
    #: it on arrival, as Enedis does, so this models network or proxy delays that bunch requests up on arrival.
    arrival_delay: Callable[[str], float] | None = None
    requests: list[RequestRecord] = field(default_factory=list)
    #: HS256 secret of the Conso API tokens.
    conso_secret: str = "fake-conso-api-secret"
    #: Data Connect client_id the Conso API uses upstream (its quota is shared by all users).
    conso_client_id: str = "conso-api"
    #: Issued bearer tokens: token -> (client_id, issue clock).
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    #: v1 consent codes -> PRMs.
    codes: dict[str, list[str]] = field(default_factory=dict)
    #: v2 autorisation_id -> PRMs.
    autorisations: dict[str, list[str]] = field(default_factory=dict)
    _second_window: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _hour_window: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    _conso_ip: dict[str, deque[float]] = field(default_factory=dict)

    # ----------------------------------------------------------------------------- time

    def current_date(self) -> date:
        """The server's today (Europe/Paris)."""
        if self.today is None:
            return datetime.now(data.PARIS).date()
        return self.today

    def now_local(self) -> datetime:
        """Aware Europe/Paris 'now' used for publication and ``nextAccessTime``."""
        if self.today is None:
            return datetime.now(data.PARIS)
        return datetime.combine(self.today, self.time_of_day or time(12, 0), tzinfo=data.PARIS)

    def published_at(self, day: date) -> datetime:
        """Moment the data of ``day`` becomes available (D+1 at publish_hour + late hours)."""
        moment = datetime.combine(day + timedelta(days=1), time(self.publish_hour), tzinfo=data.PARIS)
        return moment + timedelta(hours=self.late_days.get(day, 0.0))

    def is_published(self, day: date) -> bool:
        """True when the data of ``day`` is available now."""
        return self.now_local() >= self.published_at(day)

    # ----------------------------------------------------------------------------- faults

    def add_fault(
        self,
        kind: FaultKind,
        count: int | None = 1,
        path: str | None = None,
        *,
        delay: float = 0.0,
        points: int = 1,
        status: int = 502,
    ) -> Fault:
        """Arm a fault for the next ``count`` matching requests (None: until cleared)."""
        fault = Fault(kind, count, path, delay=delay, points=points, status=status)
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self.faults.clear()

    def take_faults(self, path: str, default_scope: bool = True) -> list[Fault]:
        """Faults applying to this request (their counters are decremented)."""
        hit: list[Fault] = []
        for fault in list(self.faults):
            if not fault.matches(path, default_scope):
                continue
            hit.append(fault)
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
        return hit

    def revoke_consent(self, prm: str) -> None:
        """Revoke the consent of ``prm`` (measures then answer 403 ADAM-DC-0008)."""
        self.granted_prms.discard(prm)
        self.revoked_prms.add(prm)

    def curve_recorded(self, prm: str, day: date) -> bool:
        """True when Enedis holds the load curve of ``prm`` for ``day`` (client 2 only once enabled)."""
        info = data.prm_info(prm)
        if info is None or info.load_curve_enabled:
            return True
        enabled = self.curve_enabled_from.get(prm)
        return enabled is not None and day >= enabled

    def grant_consent(self, prm: str) -> None:
        """The holder of ``prm`` consents again (also client 8, whose consent is revoked in the sandbox's data)."""
        self.revoked_prms.discard(prm)
        self.granted_prms.add(prm)

    def consent_revoked(self, prm: str) -> bool:
        """True when the consent of ``prm`` is revoked (client 8 unless granted again, or at run time)."""
        info = data.prm_info(prm)
        if prm in self.granted_prms:
            return False
        return prm in self.revoked_prms or (info is not None and info.consent_revoked)

    # ----------------------------------------------------------------------------- tokens

    def check_credentials(self, client_id: str | None, secret: str | None) -> bool:
        """True for an accepted client_id/client_secret pair."""
        return client_id is not None and self.credentials.get(client_id) == secret

    def issue_token(self, client_id: str) -> str:
        """Issue an opaque JWT-looking application token."""
        now = int(_time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5t": "ZmFrZS1lbmVkaXM"}
        payload = {
            "sub": f"{client_id}@carbon.super",
            "aud": "http://org.wso2.apimgt/gateway",
            "scope": "am_application_scope default",
            "consumerKey": client_id,
            "keytype": "PRODUCTION",
            "iat": now,
            "exp": now + self.token_lifetime,
            "jti": secrets.token_hex(16),
        }
        token = ".".join(
            (
                _b64url(json.dumps(header).encode()),
                _b64url(json.dumps(payload).encode()),
                _b64url(secrets.token_bytes(64)),
            )
        )
        self.tokens[token] = (client_id, self.clock())
        return token

    def token_client(self, token: str) -> str | None:
        """client_id of a valid (known, unexpired) bearer token."""
        entry = self.tokens.get(token)
        if entry is None:
            return None
        client_id, issued = entry
        if self.clock() - issued >= self.token_lifetime:
            return None
        return client_id

    def revoke_tokens(self) -> None:
        """Invalidate every issued token (the next data call answers 401 900901)."""
        self.tokens.clear()

    # ----------------------------------------------------------------------------- Conso API

    def make_conso_token(self, prms: list[str], exp: int | datetime) -> str:
        """Conso API personal token: HS256 JWT with ``sub`` = PRM list."""
        exp_ts = int(exp.timestamp()) if isinstance(exp, datetime) else int(exp)
        header = {"alg": "HS256", "typ": "JWT"}
        payload = {"sub": list(prms), "iat": DEMO_CONSO_IAT, "exp": exp_ts}
        signing = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(payload, separators=(",", ":")).encode())
        )
        sig = hmac.new(self.conso_secret.encode(), signing.encode(), hashlib.sha256)
        return signing + "." + _b64url(sig.digest())

    def demo_conso_token(self) -> str:
        """Fixed demo token for clients 0, 3, 4, 6 and 7 (expires 2100-01-01)."""
        prms = [p for n in DEMO_CONSO_CLIENTS for p in data.prms_for_client(n)]
        return self.make_conso_token(prms, DEMO_CONSO_EXP)

    def conso_token_for_client(self, n: int) -> str:
        """Fixed demo token for one sandbox client (expires 2100-01-01)."""
        return self.make_conso_token(data.prms_for_client(n), DEMO_CONSO_EXP)

    def conso_token_prms(self, token: str) -> list[str] | None:
        """PRMs of a valid Conso API token (None if bad signature, malformed or expired)."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        signing = parts[0] + "." + parts[1]
        expected = hmac.new(self.conso_secret.encode(), signing.encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _b64url_decode(parts[2])):
                return None
            payload = json.loads(_b64url_decode(parts[1]))
        except ValueError:
            return None
        if not isinstance(payload, dict):
            return None
        exp = payload.get("exp")
        if not isinstance(exp, int) or exp <= self.now_local().timestamp():
            return None
        sub = payload.get("sub")
        if isinstance(sub, str):
            sub = [sub]
        if not isinstance(sub, list):
            return None
        return [str(p) for p in sub]

    def check_conso_ip(self, ip: str) -> bool:
        """Count a Conso API request from ``ip``; False when the IP is banned."""
        if not self.quotas_enabled:
            return True
        now = self.clock()
        window = self._conso_ip.setdefault(ip, deque())
        while window and window[0] <= now - self.conso_ip_window:
            window.popleft()
        if len(window) >= self.conso_ip_limit:
            return False
        window.append(now)
        return True

    # ----------------------------------------------------------------------------- quotas

    def check_quota(self, api: str, client_id: str) -> QuotaBreach | None:
        """Count a call to ``api`` by ``client_id``; a breach when over 5/s or 1000/h."""
        if not self.quotas_enabled:
            return None
        now = self.clock()
        key = (api, client_id)
        window = self._second_window.setdefault(key, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.per_second_limit:
            return QuotaBreach(
                {
                    "fault": {
                        "code": 900807,
                        "message": "Message throttled out",
                        "description": "You have exceeded your quota",
                    }
                }
            )
        hour = int(now // 3600)
        current_hour, count = self._hour_window.get(key, (hour, 0))
        if current_hour != hour:
            count = 0
        if count >= self.per_hour_limit:
            remaining = (hour + 1) * 3600 - now
            # Fixed hourly windows: access again at the next round UTC hour of the wall clock.
            at = self.now_local().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            stamp = (at + timedelta(hours=1)).strftime("%Y-%b-%d %H:%M:%S+0000 UTC")
            return QuotaBreach(
                {
                    "code": "900804",
                    "message": "Message throttled out",
                    "description": (f"You have exceeded your quota .You can access API after {stamp}"),
                    "nextAccessTime": stamp,
                },
                retry_after=max(1, int(remaining + 0.999)),
            )
        window.append(now)
        self._hour_window[key] = (hour, count + 1)
        return None

    def reset_quotas(self) -> None:
        """Forget every quota counter."""
        self._second_window.clear()
        self._hour_window.clear()
        self._conso_ip.clear()

    # ----------------------------------------------------------------------------- log

    def count(self, path_part: str = "", status: int | None = None) -> int:
        """Number of logged requests whose path contains ``path_part`` (and status)."""
        return sum(1 for r in self.requests if path_part in r.path and (status is None or r.status == status))
