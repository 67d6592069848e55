"""Async client for Enedis Linky data: Data Connect 2026 (and v5), Conso API.

This package imports nothing from Home Assistant: it could be published on PyPI as is. Every source takes an
injected `aiohttp.ClientSession`.
"""

from .base import MeteringSource
from .clock import Clock, ManualClock, SystemClock
from .consent import build_authorize_url, make_state
from .consoapi import CONSO_API_URL, ConsoApi, decode_conso_token
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
from .limiter import DEFAULT_REGISTRY, LimiterRegistry
from .models import (
    ApiFlavor,
    Contract,
    Direction,
    IndexSeries,
    Measure,
    Reading,
    Series,
    SubscribedService,
    TokenInfo,
)

__all__ = [
    "CONSO_API_URL",
    "DEFAULT_REGISTRY",
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "ApiFlavor",
    "ApiNotSubscribedError",
    "AuthError",
    "BeforeActivationError",
    "Clock",
    "CommunicationError",
    "ConsentError",
    "ConsoApi",
    "Contract",
    "DataConnect",
    "Direction",
    "EnedisError",
    "HistoryLimitError",
    "IndexSeries",
    "InvalidResponseError",
    "LimiterRegistry",
    "MalformedTokenError",
    "ManualClock",
    "Measure",
    "MeteringSource",
    "NoDataError",
    "NotHolderError",
    "RateLimitError",
    "Reading",
    "RequestError",
    "Series",
    "ServerError",
    "SubscribedService",
    "SystemClock",
    "TokenExpiredError",
    "TokenInfo",
    "UnrecognizedResponseError",
    "UnsupportedError",
    "build_authorize_url",
    "check_prm",
    "decode_conso_token",
    "make_state",
]
