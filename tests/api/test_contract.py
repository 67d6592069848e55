"""The source contract (issue 11 §1): what each source declares, and that the integration reads only that.

Pure tests: no request, no Home Assistant. The sources are built on no session (they send nothing here).
"""

from __future__ import annotations

import ast
import base64
from datetime import UTC, date, datetime, timedelta
import json
from pathlib import Path
from typing import cast

import aiohttp
import pytest

from custom_components.enedis.api import (
    CONSO_API_CONTRACT,
    DATA_CONNECT_CONTRACT,
    ConsoApi,
    Contract,
    CredentialExpiry,
    DataConnect,
    Direction,
    DirectionDiscovery,
    LimiterRegistry,
    ManualClock,
    Measure,
    MeteringSource,
    Quota,
    QuotaPolicy,
    SourceContract,
    WindowLimits,
)
from custom_components.enedis.api.limiter import CONSO_API_QUOTAS, ENEDIS_QUOTAS
from custom_components.enedis.api.windows import ENEDIS_WINDOWS

C, P = Direction.CONSUMPTION, Direction.PRODUCTION
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
TODAY = date(2026, 11, 22)
NO_SESSION = cast("aiohttp.ClientSession", None)
INTEGRATION = Path(__file__).parents[2] / "custom_components" / "enedis"


def jwt(payload: dict[str, object]) -> str:
    """An unsigned token with ``payload`` (Conso API tokens are read offline, never verified here)."""

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part(payload)}.c2lnbmF0dXJl"


def registry() -> LimiterRegistry:
    return LimiterRegistry(ManualClock(NOW))


def conso(token: str) -> ConsoApi:
    return ConsoApi(NO_SESSION, token, registry=registry())


def data_connect() -> DataConnect:
    return DataConnect(NO_SESSION, "client-id", "client-secret-value", registry=registry())


# --- each source's contract ---------------------------------------------------------------------------------


def test_data_connect_contract() -> None:
    contract = data_connect().contract
    assert contract is DATA_CONNECT_CONTRACT
    assert contract.name == "DataConnect"  # diagnostics' "source"
    assert contract.measures[C] == {Measure.LOAD_CURVE, Measure.DAILY_ENERGY, Measure.MAX_POWER, Measure.INDEX}
    assert contract.measures[P] == {Measure.LOAD_CURVE, Measure.DAILY_ENERGY, Measure.INDEX}
    assert not contract.serves(P, Measure.MAX_POWER)
    assert contract.serves_index
    assert contract.window_days(Measure.LOAD_CURVE) == 7
    assert contract.window_days(Measure.DAILY_ENERGY) == contract.window_days(Measure.MAX_POWER) == 365
    assert contract.history_start(Measure.LOAD_CURVE, TODAY) == date(2024, 11, 7)  # 24 months + 15 days
    assert contract.history_start(Measure.DAILY_ENERGY, TODAY) == date(2023, 11, 7)  # 36 months + 15 days
    # 5 per refresh, every second, unpaced (10 every 2 s until 2026-12-02: the same pace, refreshes twice as large).
    assert contract.policy == QuotaPolicy(quotas=ENEDIS_QUOTAS, batch=5, interval=timedelta(seconds=1))
    assert contract.policy.quotas == (Quota(5, 1.0), Quota(1000, 3600.0))
    assert not contract.policy.paced
    assert contract.policy.reserve_per_prm == 0
    assert contract.serves_contract
    assert contract.directions is DirectionDiscovery.CONTRACT
    assert contract.expiry is CredentialExpiry.CONSENT
    assert data_connect().credentials_expire_at() is None  # the consent's end is the entry's


def test_conso_api_contract() -> None:
    contract = conso(jwt({"sub": ["22516914714270"]})).contract
    assert contract is CONSO_API_CONTRACT
    assert contract.name == "ConsoApi"
    assert contract.measures == DATA_CONNECT_CONTRACT.measures  # the French types are Enedis' passed through
    assert contract.windows == ENEDIS_WINDOWS
    # The coordinator's former GATEWAY_BURST / GATEWAY_PACING / GATEWAY_RESERVE_PER_PRM.
    policy = contract.policy
    assert policy.quotas == CONSO_API_QUOTAS == (Quota(5, 1.0), Quota(90, 43200.0))
    assert policy.paced
    assert (policy.batch, policy.burst, policy.reserve_per_prm) == (10, 10, 4)
    assert policy.pace == timedelta(minutes=8)  # 12 h / 90
    assert policy.interval == timedelta(seconds=1)
    assert not contract.serves_contract
    assert contract.directions is DirectionDiscovery.PROBE
    assert contract.expiry is CredentialExpiry.CREDENTIALS


def test_conso_api_credentials_expire_with_the_token() -> None:
    expires = datetime(2029, 3, 1, 12, 0, tzinfo=UTC)
    assert conso(jwt({"sub": "22516914714270", "exp": expires.timestamp()})).credentials_expire_at() == expires
    assert conso(jwt({"sub": "22516914714270"})).credentials_expire_at() is None  # no ``exp``: no known end
    assert conso("not-a-token").credentials_expire_at() is None
    past = NOW - timedelta(days=1)
    assert conso(jwt({"sub": "22516914714270", "exp": past.timestamp()})).credentials_expire_at() is None


def test_secrets_are_public_and_never_empty() -> None:
    token = jwt({"sub": "22516914714270"})
    assert conso(token).secrets() == (token,)
    source = data_connect()
    assert source.secrets() == ("client-secret-value",)  # no application token yet: nothing else to hide
    assert "client-secret-value" not in repr(source)


# --- what the contract can express ---------------------------------------------------------------------------


class TinySource(MeteringSource):
    """A source that is only its contract (what adding a source takes on the library side)."""

    def __init__(self, contract: SourceContract) -> None:
        super().__init__(NO_SESSION, base_url="https://tiny.example", registry=registry())
        self._contract = contract

    @property
    def contract(self) -> SourceContract:
        return self._contract

    def api_name(self, direction: Direction, measure: Measure) -> str:
        return "tiny"

    async def async_get_prms(self) -> list[str]:
        return []

    async def async_get_contract(self, prm: str) -> Contract:
        raise NotImplementedError

    async def _async_fetch_body(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> object:
        raise NotImplementedError


def tiny_contract(policy: QuotaPolicy, **windows: WindowLimits) -> SourceContract:
    limits = {**ENEDIS_WINDOWS, **{Measure(k): v for k, v in windows.items()}}
    return SourceContract(
        name="tiny",
        measures={C: frozenset({Measure.LOAD_CURVE, Measure.DAILY_ENERGY}), P: frozenset()},
        windows=limits,
        policy=policy,
        serves_contract=False,
        directions=DirectionDiscovery.PROBE,
        expiry=CredentialExpiry.CREDENTIALS,
    )


def test_the_sources_to_come_can_be_expressed() -> None:
    # The XMPP proxy: one request at a time (a short quota of 1 holds its slot until 1.1 s after the answer), paced.
    one_at_a_time = QuotaPolicy(quotas=(Quota(1, 1.0),), batch=1, burst=1, pace=timedelta(minutes=1))
    assert one_at_a_time.paced
    # 1 call/s, unpaced.
    assert not QuotaPolicy(quotas=(Quota(1, 1.0),)).paced
    # MyElectricalData: 50 calls a day, paced, a reserve kept for the daily poll out of the day's budget.
    fifty_a_day = QuotaPolicy(
        quotas=(Quota(1, 1.0), Quota(50, 86400.0)), burst=5, pace=timedelta(days=1) / 40, reserve_per_prm=3
    )
    source = TinySource(tiny_contract(fifty_a_day, load_curve=WindowLimits(max_days=3, history_months=12)))
    assert source.remaining_budget() == 50  # the daily quota is a long budget: the reserve is kept from it
    assert source.contract.serves(C, Measure.DAILY_ENERGY)
    assert not source.contract.serves(P, Measure.DAILY_ENERGY)
    assert not source.contract.serves_index
    # Its window limits, not Enedis': 3-day curve windows back 12 months + 15 days.
    windows = source.windows(Measure.LOAD_CURVE, date(2026, 11, 1), date(2026, 11, 10))
    assert windows == [
        (date(2026, 11, 1), date(2026, 11, 4)),
        (date(2026, 11, 4), date(2026, 11, 7)),
        (date(2026, 11, 7), date(2026, 11, 10)),
    ]
    today = source.today()
    assert source.windows(Measure.LOAD_CURVE, date(2020, 1, 1), today)[0][0] == date(2025, 11, 7)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quotas": ()},
        {"quotas": (Quota(0, 1.0),)},
        {"quotas": (Quota(5, 1.0),), "batch": 0},
        {"quotas": (Quota(5, 1.0),), "interval": timedelta(0)},
        {"quotas": (Quota(5, 1.0),), "pace": timedelta(0)},
        {"quotas": (Quota(5, 1.0),), "burst": -1},
        {"quotas": (Quota(5, 1.0),), "reserve_per_prm": 2},  # a reserve needs a long budget to be kept from
    ],
)
def test_a_policy_the_engine_could_not_follow_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        QuotaPolicy(**kwargs)  # type: ignore[arg-type]


def test_an_inconsistent_contract_is_refused() -> None:
    policy = QuotaPolicy(quotas=(Quota(5, 1.0),))
    with pytest.raises(ValueError, match="window limits"):
        SourceContract(
            name="x",
            measures={C: frozenset({Measure.DAILY_ENERGY})},
            windows={},
            policy=policy,
            serves_contract=True,
            directions=DirectionDiscovery.CONTRACT,
            expiry=CredentialExpiry.CONSENT,
        )
    with pytest.raises(ValueError, match="contract data"):
        SourceContract(
            name="x",
            measures={},
            windows={},
            policy=policy,
            serves_contract=False,
            directions=DirectionDiscovery.CONTRACT,
            expiry=CredentialExpiry.CONSENT,
        )
    with pytest.raises(ValueError):
        WindowLimits(max_days=0, history_months=24)


# --- the integration reads only the contract ---------------------------------------------------------------------


def _concrete_sources() -> set[str]:
    found: set[str] = set()
    pending: list[type] = [MeteringSource]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass.__module__.startswith("custom_components.enedis.api."):
                found.add(subclass.__name__)
            pending.append(subclass)
    return found


def _source_class_checks(tree: ast.AST, concrete: set[str]) -> list[tuple[int, str]]:
    """Uses of a concrete source class other than building one or annotating, and introspection of a source.

    Allowed: ``ConsoApi(...)`` (the setup and the config flow build the source they configure), imports and type
    annotations. Flagged: ``isinstance(x, ConsoApi)``, ``type(x) is DataConnect``, a ``match`` class pattern…, and
    ``getattr``/``hasattr``/``type``/``vars`` applied to anything named ``source``.
    """
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            allowed.add(id(node.func))
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        elif isinstance(node, ast.arg | ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None:
                allowed.update(id(sub) for sub in ast.walk(annotation))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if name in concrete and id(node) not in allowed:
            found.append((node.lineno, f"{name} used other than to build a source"))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr", "type", "vars"}
            and node.args
            and "source" in ast.unparse(node.args[0])
        ):
            found.append((node.lineno, f"{node.func.id}() on a source"))
    return found


def test_the_integration_never_asks_which_source_it_has() -> None:
    concrete = _concrete_sources()
    assert {"ConsoApi", "DataConnect"} <= concrete
    files = sorted(INTEGRATION.glob("*.py"))  # the integration; api/ (the sources themselves) is a sub-package
    assert {f.name for f in files} >= {"coordinator.py", "diagnostics.py", "sensor.py", "config_flow.py"}
    problems = [
        f"{path.name}:{line}: {what}"
        for path in files
        for line, what in _source_class_checks(ast.parse(path.read_text(encoding="utf-8")), concrete)
    ]
    assert problems == []


@pytest.mark.parametrize(
    "code",
    [
        "isinstance(self.source, ConsoApi)",
        "type(self.source) is DataConnect",
        "getattr(self.source, 'flavor', None)",
        "hasattr(coordinator.source, 'token_info')",
        "match source:\n    case api.ConsoApi():\n        pass",
        "GATEWAY = (ConsoApi,)",
    ],
)
def test_the_scan_sees_each_way_of_asking(code: str) -> None:
    assert _source_class_checks(ast.parse(code), {"ConsoApi", "DataConnect"})


def test_the_scan_lets_the_setup_build_its_source() -> None:
    code = "def build(session) -> DataConnect:\n    source: ConsoApi = ConsoApi(session, token)\n    return source"
    assert _source_class_checks(ast.parse(code), {"ConsoApi", "DataConnect"}) == []
