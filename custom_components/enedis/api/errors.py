"""Typed errors raised by the Enedis client library.

Every error carries the Enedis (or gateway) ``code`` and ``description`` when the body gave them, the HTTP
``status``, and a retry hint: ``retryable`` (trying again later can succeed) and ``retry_after`` (seconds,
when the server or the local quota said when). An error raised by a call about one PRM (measures, index,
contract, address) names it in ``prm``: `ConsentError` and `NotHolderError` concern that PRM only, not the
credentials. No error ever carries a secret: sources scrub their credentials from any server-provided text
before raising (see `scrub`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime


class EnedisError(Exception):
    """Base class of every error raised by the library."""

    retryable: bool = False

    def __init__(
        self,
        description: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        prm: str | None = None,
    ) -> None:
        """Store the Enedis code/description, HTTP status, retry hint and the PRM the call was about."""
        self.description = description
        self.code = code
        self.status = status
        self.retry_after = retry_after
        self.prm = prm
        """The PRM of the call that failed (set by the sources); not part of the message."""
        super().__init__(self._message())

    def _message(self) -> str:
        parts = [type(self).__name__]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        head = " ".join(parts)
        return f"{head}: {self.description}" if self.description else head


class InvalidResponseError(EnedisError):
    """The server answered something that is not the expected body (non-JSON, missing fields, wrong PRM)."""

    retryable = True


class UnrecognizedResponseError(InvalidResponseError):
    """An error answer whose body is not recognisably Enedis' or a gateway's: most likely not the API at all.

    An HTML or plain-text page, or JSON of another API, with a 404 or another 4xx status (a web server's
    "page not found", Home Assistant's own ``404: Not Found`` when the base URL points at it...). Enedis' 404
    means "no data" (`NoDataError`) only when its body says so in one of the known error shapes; such a page
    says nothing about the meter's data, so it must never be read as "no data" nor as a request Enedis refused.
    Not retryable: the same URL answers the same page until the URL (or the server behind it) is fixed.
    """

    retryable = False


class AuthError(EnedisError):
    """Credentials rejected: invalid or expired token, bad client id/secret (401, WSO2 900901)."""


class MalformedTokenError(AuthError):
    """A gateway token that is not a well-formed JWT listing 14-digit PRMs (checked offline)."""


class TokenExpiredError(AuthError):
    """A gateway token whose ``exp`` is in the past (checked offline)."""


class ConsentError(AuthError):
    """No consent for this PRM, or it was revoked (ADAM-DC-0008): the holder must share the PRM again.

    The credentials were accepted (Enedis answers this after authenticating the caller): only ``prm`` is refused.
    """


class NotHolderError(AuthError):
    """The customer is not the holder of the PRM (ADAM-DC-0007 / ADAM-ERR0061): like `ConsentError`, about a PRM."""


class ApiNotSubscribedError(EnedisError):
    """The DataHub application is not subscribed to this API (403, WSO2 900908).

    ``api`` names the API to subscribe on DataHub (for example ``comptage_auto/v1``).
    """

    def __init__(self, description: str = "", *, api: str | None = None, **kwargs: object) -> None:
        """Remember which API is not subscribed."""
        self.api = api
        super().__init__(description, **kwargs)  # type: ignore[arg-type]


class RateLimitError(EnedisError):
    """Quota exceeded (429: WSO2 900807/900804, "Quota Q3/Q4"), or refused locally by the rate limiter.

    ``retry_after`` is the number of seconds to wait (from ``nextAccessTime``, ``Retry-After`` or the
    local quota); ``retry_at`` the matching absolute time when known.
    """

    retryable = True

    def __init__(
        self,
        description: str = "",
        *,
        retry_at: datetime | None = None,
        local: bool = False,
        **kwargs: object,
    ) -> None:
        """Store the absolute retry time and whether the local limiter refused the call (no request sent)."""
        self.retry_at = retry_at
        self.local = local
        super().__init__(description, **kwargs)  # type: ignore[arg-type]


class NoDataError(EnedisError):
    """No measure for this PRM and period (404 ``no_data_found``, "Pas de mesure trouvée")."""


class RequestError(EnedisError):
    """The request itself was refused (400): bad parameters, dates or PRM."""


class OutOfRangeError(RequestError):
    """The requested period is outside what Enedis can serve."""


class BeforeActivationError(OutOfRangeError):
    """The period starts before the meter's last activation (ADAM-ERR0123)."""


class HistoryLimitError(OutOfRangeError):
    """The period starts before the history deadline (ADAM-ERR0125 / ADAM-DC-0016)."""


class WindowTooLongError(OutOfRangeError):
    """The load-curve window is longer than 7 days (ADAM-DC-0015 / ADAM-ERR0126)."""


class InvalidDatesError(RequestError):
    """Dates are malformed, in the wrong order or in the future (ADAM-ERR0002, invalid_request on dates)."""


class WrongDirectionError(RequestError):
    """The measure direction does not match the PRM (ADAM-ERR0069): e.g. consumption of a production PRM."""


class CurveNotEnabledError(RequestError):
    """The customer refused the load-curve recording (ADAM-ERR0075)."""


class ServerError(EnedisError):
    """Enedis or the gateway failed (5xx ``technical_error``, plain-text 500, 503)."""

    retryable = True


class CommunicationError(EnedisError):
    """The network failed or timed out before a response arrived."""

    retryable = True


class UnsupportedError(EnedisError):
    """The source cannot provide this data (e.g. contract data through a gateway that has none)."""


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of a secret in ``text`` (for server-provided descriptions)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "**REDACTED**")
    return text
