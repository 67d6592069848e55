"""Enedis Data Connect, with the application's own DataHub credentials (client_credentials)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date

import aiohttp

from .base import REQUEST_TIMEOUT, USER_AGENT, MeteringSource, about_prm
from .consent import CONSENT_URL, build_authorize_url
from .contract import DATA_CONNECT_CONTRACT, SourceContract
from .errors import ApiNotSubscribedError, AuthError, NoDataError, RequestError
from .limiter import LimiterRegistry
from .models import Address, Contract, Direction, Measure, SubscribedService
from .parsers import (
    parse_address_2026,
    parse_contract_2026,
    parse_subscribed_services,
    parse_token,
)
from .prm import is_prm
from .resources import dc2026_request

PRODUCTION_URL = "https://gw.ext.prod.api.enedis.fr"
SANDBOX_URL = "https://gw.ext.prod-sandbox.api.enedis.fr"
ENVIRONMENTS = {"production": PRODUCTION_URL, "sandbox": SANDBOX_URL}
TOKEN_MARGIN = 60.0
"""Renew the application token this many seconds before ``expires_in`` runs out."""


def _basic_auth(client_id: str, client_secret: str) -> str:
    """HTTP Basic client authentication, as the token endpoint expects."""
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


def check_prm(prm: str) -> str:
    """Return ``prm`` if it is 14 digits, else raise `RequestError` (no request is sent)."""
    if not is_prm(prm):
        raise RequestError("a PRM is exactly 14 digits", code="invalid_prm")
    return prm


class DataConnect(MeteringSource):
    """Enedis Data Connect 2026 (``mesure_synchrone_auto/v2`` and the ``*_auto`` contract APIs).

    The legacy v5 APIs (shut down after 2026-09-28) are no longer requested; the parsers still read their bodies.
    One application token (``POST /oauth2/v3/token``, HTTP Basic client auth) serves every PRM; it is cached
    until 60 s before ``expires_in`` and renewed once when a call answers 401.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        client_id: str,
        client_secret: str,
        *,
        environment: str = "production",
        base_url: str | None = None,
        prms: tuple[str, ...] = (),
        authorization_ids: tuple[str, ...] = (),
        consent_url: str | None = None,
        registry: LimiterRegistry | None = None,
        user_agent: str = USER_AGENT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        """Configure the source; nothing is sent until the first call."""
        super().__init__(
            session,
            base_url=base_url or ENVIRONMENTS[environment],
            registry=registry,
            user_agent=user_agent,
            request_timeout=request_timeout,
        )
        self._environment = environment
        self._custom_base_url = base_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._prms = prms
        self._authorization_ids = authorization_ids
        self._token: str | None = None
        self._token_expires = 0.0
        if consent_url is None:
            # Production consent pages; the sandbox has none (its fake clients are always shared) and a
            # custom base URL (a test gateway) serves its own.
            consent_url = CONSENT_URL if base_url is None and environment == "production" else self._base_url
        self._consent_url = consent_url

    def authorize_url(self, state: str, *, duration: str = "P3Y", version: int = 2) -> str:
        """Where to send the PRM holder to give consent (v2: back with ``autorisation_id`` and ``state``)."""
        return build_authorize_url(
            self._client_id, state, duration=duration, version=version, base_url=self._consent_url
        )

    @property
    def contract(self) -> SourceContract:
        """Enedis' 5/s and 1000/h per API, unpaced; contract data; the consent (the entry's) is what expires."""
        return DATA_CONNECT_CONTRACT

    @property
    def location(self) -> str:
        """``data_connect <environment>``, plus the base URL when one replaces the environment's (a test gateway).

        The DataHub application's credentials are not part of it: they read the same meters from the same place.
        """
        where = f"data_connect {self._environment}"
        return f"{where} {self._custom_base_url}" if self._custom_base_url else where

    @property
    def reauth_restores_access(self) -> bool:
        """The sandbox has no consent page (its test customers' consents are fixed); production asks the holder."""
        return self._environment != "sandbox"

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._client_secret, self._token)

    def api_name(self, direction: Direction, measure: Measure) -> str:
        """Every measure is served by ``mesure_synchrone_auto/v2``."""
        return "mesure_synchrone_auto/v2"

    # --- token -------------------------------------------------------------------------------------

    async def _async_token(self) -> str:
        if self._token and self.clock.monotonic() < self._token_expires - TOKEN_MARGIN:
            return self._token
        try:
            body = await self._async_request(
                "POST",
                "/oauth2/v3/token",
                api="oauth2/v3",
                quotas=self.contract.policy.quotas,
                data={"grant_type": "client_credentials"},
                headers={"Authorization": _basic_auth(self._client_id, self._client_secret)},
            )
        except RequestError as err:
            # 400 invalid_client / unauthorized_client: the DataHub credentials are wrong.
            raise AuthError(err.description, code=err.code, status=err.status) from err
        token, expires_in = parse_token(body)
        self._token = token
        self._token_expires = self.clock.monotonic() + expires_in
        return token

    async def _async_api(
        self,
        method: str,
        path: str,
        *,
        api: str,
        params: dict[str, str] | None = None,
        json_body: object = None,
    ) -> object:
        """An authenticated call; a 401 renews the token once and retries."""
        for attempt in range(2):
            token = await self._async_token()
            try:
                return await self._async_request(
                    method,
                    path,
                    api=api,
                    quotas=self.contract.policy.quotas,
                    params=params,
                    json_body=json_body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except AuthError as err:
                if attempt or type(err) is not AuthError or err.status != 401:
                    raise
                self._token = None
        raise AssertionError  # pragma: no cover - the loop returns or raises

    # --- measures ----------------------------------------------------------------------------------

    async def _async_fetch_body(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> object:
        check_prm(prm)
        resource, params = dc2026_request(prm, direction, measure, start, end, source_name="Data Connect")
        return await self._async_api(
            "GET", f"/mesure_synchrone_auto/v2/{resource}", api="mesure_synchrone_auto/v2", params=params
        )

    # --- PRMs, contract ----------------------------------------------------------------------------

    async def async_get_subscribed_services(self, authorization_id: str) -> list[SubscribedService]:
        """The PRMs a consent v2 (``autorisation_id``) shares with the application."""
        body = await self._async_api(
            "POST",
            "/subscribed_services/v1",
            api="subscribed_services/v1",
            json_body={
                "autorisationId": int(authorization_id) if authorization_id.isdigit() else authorization_id,
                "comptage": False,
            },
        )
        return parse_subscribed_services(body)

    async def async_get_prms(self) -> list[str]:
        """PRMs of the consents given (active services), or the PRMs configured (v1 consent, sandbox)."""
        prms: list[str] = list(self._prms)
        for authorization_id in self._authorization_ids:
            for service in await self.async_get_subscribed_services(authorization_id):
                if service.active and service.prm not in prms:
                    prms.append(service.prm)
        return prms

    async def async_get_contract(self, prm: str) -> Contract:
        """Contract of a PRM.

        ``situation_contrat_auto`` plus, when the application subscribed them, ``synth_contrat_auto``
        (activation dates) and ``comptage_auto`` (off-peak hours).
        """
        with about_prm(prm):
            return await self._async_get_contract(check_prm(prm))

    async def _async_get_contract(self, prm: str) -> Contract:
        situation = await self._async_api("GET", f"/situation_contrat_auto/v1/{prm}", api="situation_contrat_auto/v1")
        optional: dict[str, object] = {}
        unavailable: list[str] = []
        for api in ("synth_contrat_auto/v1", "comptage_auto/v1"):
            try:
                optional[api] = await self._async_api("GET", f"/{api}/{prm}", api=api)
            except ApiNotSubscribedError:
                optional[api] = None
                unavailable.append(api)
            except NoDataError:
                optional[api] = None
        contract = parse_contract_2026(
            situation, optional["synth_contrat_auto/v1"], optional["comptage_auto/v1"], prm=prm
        )
        return replace(contract, unavailable_apis=tuple(unavailable))

    async def async_get_address(self, prm: str) -> Address:
        """Postal address of the PRM (``donnees_generales_auto``): personal data, never log it.

        Public library API for other users of the library; the integration never reads it (it keeps no personal
        data). Needs the application's subscription to ``donnees_generales_auto``.
        """
        with about_prm(prm):
            check_prm(prm)
            body = await self._async_api("GET", f"/donnees_generales_auto/v1/{prm}", api="donnees_generales_auto/v1")
            return parse_address_2026(body)
