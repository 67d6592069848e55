"""Async client for Enedis Linky data: Data Connect 2026, Conso API, the consometers XMPP proxy and Enedis SGE.

The parsers also read v5 bodies.

This package imports nothing from Home Assistant: it could be published on PyPI as is. Every HTTP source takes an
injected `aiohttp.ClientSession`; the XMPP source keeps its own session (``async_open`` / ``async_close``).

The public API is what ``__all__`` lists:

- the sources (`DataConnect`, `ConsoApi`, `MyElectricalData`: the MyElectricalData gateway, `med`,
  `ConsometersProxy`: the consometers XMPP proxy, `xmpp`) and their interface, `MeteringSource`:
  ``async_fetch_window`` (one request, what the integration uses),
  ``async_get_series`` and ``windows`` (a whole range in the fewest requests, clamped to the history horizon: for
  scripts and other users; the integration plans its own windows from the contract),
  ``async_get_index``, ``async_get_contract``, ``async_get_prms``, ``secrets`` and ``credentials_expire_at``;
  `DataConnect.async_get_address` (the PRM's postal address, `Address`: personal data the integration never reads);
- each source's `SourceContract` (``source.contract``, `api/contract.py`): what it serves, its window limits, its
  `QuotaPolicy`, how its directions are learnt and what expires: all that an engine needs to schedule it;
- `SgeSource` (Enedis SGE, the suppliers' SOAP services) with its client certificate `SgeTls` and SGE's errors;
- the models, the typed errors, the clocks, the limiter registry and the consent helpers.

Removed (issue 11): the request-side v5 flavour (``ApiFlavor``, the ``flavor=`` argument of both sources, the v5
paths and Conso API's English legacy types): Enedis shut v5 down after 2026-09-28 and no source sent v5 requests
any more. The v5 parsers stay: saved v5 bodies still parse into the same models.
"""

from .base import MeteringSource
from .client import EnedisApiHelper, EnedisClient, InvalidAccess
from .clock import Clock, ManualClock, SystemClock
from .consent import build_authorize_url, make_state
from .consoapi import CONSO_API_URL, ConsoApi, decode_conso_token
from .contract import (
    CONSO_API_CONTRACT,
    DATA_CONNECT_CONTRACT,
    CredentialExpiry,
    DirectionDiscovery,
    QuotaPolicy,
    SourceContract,
)
from .dataconnect import PRODUCTION_URL, SANDBOX_URL, DataConnect, check_prm
from .errors import (
    ApiNotSubscribedError,
    AuthError,
    BeforeActivationError,
    CommunicationError,
    ConsentError,
    EnedisError,
    HistoryLimitError,
    InvalidResponseError,
    MalformedTokenError,
    NoDataError,
    NotHolderError,
    RateLimitError,
    RequestError,
    ServerError,
    TokenExpiredError,
    UnrecognizedResponseError,
    UnsupportedError,
)
from .limiter import DEFAULT_REGISTRY, LimiterRegistry, Quota
from .med import MED_CONTRACT, MED_LEGACY_URL, MED_URL, MedApi, MyElectricalData
from .models import (
    Address,
    Contract,
    Direction,
    IndexSeries,
    Measure,
    Reading,
    Series,
    SubscribedService,
    TokenInfo,
)
from .prm import PRM_DIGITS, PRM_PATTERN, is_prm
from .sge import SGE_CONTRACT, CertificateError, InvalidCertificateError, SgeSource, SgeTls
from .sge_parsers import LoginRefusedError, OutOfPerimeterError, UnknownPrmError
from .windows import WindowLimits
from .xmpp import (
    CONSOMETERS_CONTRACT,
    CONSOMETERS_LEGACY_CONTRACT,
    PROXY_JID,
    ConsometersProxy,
    Generation,
    ProxyUnreachableError,
)

__all__ = [
    "CONSOMETERS_CONTRACT",
    "CONSOMETERS_LEGACY_CONTRACT",
    "CONSO_API_CONTRACT",
    "CONSO_API_URL",
    "DATA_CONNECT_CONTRACT",
    "DEFAULT_REGISTRY",
    "MED_CONTRACT",
    "MED_LEGACY_URL",
    "MED_URL",
    "PRM_DIGITS",
    "PRM_PATTERN",
    "PRODUCTION_URL",
    "PROXY_JID",
    "SANDBOX_URL",
    "SGE_CONTRACT",
    "Address",
    "ApiNotSubscribedError",
    "AuthError",
    "BeforeActivationError",
    "CertificateError",
    "Clock",
    "CommunicationError",
    "ConsentError",
    "ConsoApi",
    "ConsometersProxy",
    "Contract",
    "CredentialExpiry",
    "DataConnect",
    "Direction",
    "DirectionDiscovery",
    "EnedisApiHelper",
    "EnedisClient",
    "EnedisError",
    "Generation",
    "HistoryLimitError",
    "IndexSeries",
    "InvalidAccess",
    "InvalidCertificateError",
    "InvalidResponseError",
    "LimiterRegistry",
    "LoginRefusedError",
    "MalformedTokenError",
    "ManualClock",
    "Measure",
    "MedApi",
    "MeteringSource",
    "MyElectricalData",
    "NoDataError",
    "NotHolderError",
    "OutOfPerimeterError",
    "ProxyUnreachableError",
    "Quota",
    "QuotaPolicy",
    "RateLimitError",
    "Reading",
    "RequestError",
    "Series",
    "ServerError",
    "SgeSource",
    "SgeTls",
    "SourceContract",
    "SubscribedService",
    "SystemClock",
    "TokenExpiredError",
    "TokenInfo",
    "UnknownPrmError",
    "UnrecognizedResponseError",
    "UnsupportedError",
    "WindowLimits",
    "build_authorize_url",
    "check_prm",
    "decode_conso_token",
    "is_prm",
    "make_state",
]
