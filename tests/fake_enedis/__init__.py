"""Fake Enedis gateway (Data Connect 2026, v5 and Conso API) for tests and manual runs."""

from .server import STATE_KEY, create_app
from .state import FakeState, Fault, RequestRecord

__all__ = ["STATE_KEY", "FakeState", "Fault", "RequestRecord", "create_app"]
