"""aiohttp application of the fake Enedis gateway (Data Connect 2026 + v5 + Conso API, and RTE's Tempo calendar).

Conso API base URL: ``http://HOST:PORT/conso/api``; Enedis base URL: ``http://HOST:PORT``.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from datetime import timedelta
import html
import re
import secrets
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import web

from . import data, measures
from .measures import Reply
from .state import FakeState, RequestRecord

STATE_KEY: web.AppKey[FakeState] = web.AppKey("fake_enedis_state", FakeState)

CONTRACT_APIS = (
    "situation_contrat_auto",
    "synth_contrat_auto",
    "comptage_auto",
    "donnees_generales_auto",
)
V2_ALLOWED = {"pointId", "dateDebut", "dateFin"}
PMAX_STEPS = {"P1D", "P1M"}
PMAX_PHYSIQUES = {"PMA", "TOUT"}
HTML_ERROR = (
    "<html><head><title>{status} Bad Gateway</title></head>"
    "<body><center><h1>{status} Bad Gateway</h1></center><hr><center>nginx</center>"
    "</body></html>"
)
CONSO_BANNED_MESSAGE = "Trop de requêtes : limite de 100 requêtes par 12 heures atteinte pour votre adresse IP"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def to_response(reply: Reply) -> web.Response:
    """aiohttp response of a Reply."""
    return web.Response(
        status=reply.status,
        text=reply.payload(),
        content_type=reply.content_type,
        headers=reply.headers,
    )


def _state(request: web.Request) -> FakeState:
    return request.app[STATE_KEY]


@web.middleware
async def arrival_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hold each request ``state.arrival_delay(path)`` seconds before the gateway sees it (a delay in flight)."""
    state = _state(request)
    if state.arrival_delay is not None and (delay := state.arrival_delay(request.path)) > 0:
        await asyncio.sleep(delay)
    return await handler(request)


@web.middleware
async def log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Append every request to ``state.requests`` (never the Authorization header)."""
    state = _state(request)
    query = {k: v for k, v in request.query.items() if k != "client_secret"}
    status = 500
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        status = exc.status
        raise
    else:
        status = response.status
        return response
    finally:
        state.requests.append(RequestRecord(request.method, request.path, query, status, state.clock()))


# ---------------------------------------------------------------------------------------------
# Gateway pipeline shared by direct calls and the Conso API
# ---------------------------------------------------------------------------------------------


async def gateway(
    state: FakeState,
    path: str,
    client_id: str,
    produce: Callable[[int], Reply],
) -> Reply:
    """Subscription check, quotas, faults, then ``produce(truncate_points)``."""
    api = path.strip("/").split("/", 1)[0]
    if api in state.unsubscribed_apis:
        return Reply(403, measures.NOT_SUBSCRIBED)
    breach = state.check_quota(api, client_id)
    if breach is not None:
        headers = {"Retry-After": str(breach.retry_after)} if breach.retry_after else {}
        return Reply(429, breach.body, headers=headers)
    faults = state.take_faults(path)
    for fault in faults:
        if fault.kind == "delay":
            await asyncio.sleep(fault.delay)
    truncate = 0
    malformed = False
    for fault in faults:
        match fault.kind:
            case "technical_error":
                return Reply(500, measures.TECHNICAL_ERROR)
            case "plain_500":
                return Reply(500, text="500 Internal Server Error", content_type="text/plain")
            case "html_error":
                return Reply(
                    fault.status,
                    text=HTML_ERROR.format(status=fault.status),
                    content_type="text/html",
                )
            case "throttle":
                return Reply(
                    429,
                    {
                        "fault": {
                            "code": 900807,
                            "message": "Message throttled out",
                            "description": "You have exceeded your quota",
                        }
                    },
                )
            case "truncated_day":
                truncate = max(truncate, fault.points)
            case "malformed_json":
                malformed = True
            case _:
                pass
    reply = produce(truncate)
    if malformed and reply.status == 200:
        text = reply.payload()
        return Reply(200, text=text[: max(1, len(text) // 2)])
    return reply


def bearer_client(request: web.Request) -> str | Reply:
    """client_id of the request's bearer token, or the WSO2 401 reply."""
    state = _state(request)
    header = request.headers.get("Authorization", "")
    if not header:
        return Reply(401, measures.MISSING_CREDENTIALS)
    scheme, _, token = header.partition(" ")
    client_id = state.token_client(token.strip()) if scheme.lower() == "bearer" else None
    if client_id is None:
        return Reply(401, measures.INVALID_JWT)
    return client_id


def measure_producer(
    state: FakeState,
    *,
    kind: measures.Kind,
    direction: data.Direction,
    prm: str,
    start: str,
    end: str,
    flavour: Literal["v2", "v5"],
    step: str = "P1D",
) -> Callable[[int], Reply]:
    """Closure computing a measure reply (validation included)."""

    def produce(truncate: int) -> Reply:
        req = measures.validate(
            state,
            kind=kind,
            direction=direction,
            prm=prm,
            start_s=start,
            end_s=end,
            flavour=flavour,
        )
        if isinstance(req, Reply):
            return req
        req.step = step
        req.truncate = truncate
        return measures.build(state, req)

    return produce


def v2_producer(state: FakeState, resource: str, query: dict[str, str]) -> Callable[[int], Reply]:
    """Producer of a ``mesure_synchrone_auto/v2`` call (off-Swagger requests answer 500)."""
    kind, direction = measures.V2_RESOURCES[resource]
    allowed = V2_ALLOWED | ({"mesuresPas", "grandeurPhysique"} if kind == "pmax" else set())
    off_swagger = set(query) - allowed or not set(query) >= V2_ALLOWED
    if kind == "pmax" and not off_swagger:
        off_swagger = query.get("mesuresPas") not in PMAX_STEPS or query.get("grandeurPhysique") not in PMAX_PHYSIQUES
    if off_swagger:
        return lambda _t: Reply(500, measures.TECHNICAL_ERROR)
    return measure_producer(
        state,
        kind=kind,
        direction=direction,
        prm=query["pointId"],
        start=query["dateDebut"],
        end=query["dateFin"],
        flavour="v2",
        step=query.get("mesuresPas", "P1D"),
    )


def v5_producer(state: FakeState, api: str, resource: str, query: dict[str, str]) -> Callable[[int], Reply]:
    """Producer of a ``metering_data_*/v5`` call."""
    kind, direction = measures.V5_RESOURCES[(api, resource)]
    prm = query.get("usage_point_id")
    start = query.get("start")
    end = query.get("end")
    if prm is None:
        return lambda _t: measures._invalid("usage_point_id parameter is required")
    if start is None:
        return lambda _t: measures._invalid("Start date parameter is required")
    if end is None:
        return lambda _t: measures._invalid("End date parameter is required")
    return measure_producer(
        state,
        kind=kind,
        direction=direction,
        prm=prm,
        start=start,
        end=end,
        flavour="v5",
    )


# ---------------------------------------------------------------------------------------------
# Enedis routes
# ---------------------------------------------------------------------------------------------


async def token_handler(request: web.Request) -> web.Response:
    """``POST /oauth2/v3/token`` (client_credentials; Basic auth, form or query creds)."""
    state = _state(request)
    for fault in state.take_faults(request.path, default_scope=False):
        if fault.kind == "delay":
            await asyncio.sleep(fault.delay)
        elif fault.kind == "technical_error":
            return to_response(Reply(500, measures.TECHNICAL_ERROR))
        elif fault.kind == "plain_500":
            return to_response(Reply(500, text="500 Internal Server Error", content_type="text/plain"))
    form = await request.post()
    params: dict[str, str] = {k: str(v) for k, v in request.query.items()}
    params |= {k: str(v) for k, v in form.items()}
    client_id = params.get("client_id")
    secret = params.get("client_secret")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except ValueError:
            decoded = ""
        client_id, _, secret = decoded.partition(":")
    if params.get("grant_type") != "client_credentials":
        return to_response(
            Reply(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Unsupported grant_type value",
                },
            )
        )
    if not state.check_credentials(client_id, secret) or client_id is None:
        return to_response(
            Reply(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client Authentication failed.",
                },
            )
        )
    token = state.issue_token(client_id)
    return web.json_response(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": state.token_lifetime,
            "scope": "am_application_scope default",
        }
    )


async def v2_measure_handler(request: web.Request) -> web.Response:
    """``GET /mesure_synchrone_auto/v2/{resource}``."""
    state = _state(request)
    resource = request.match_info["resource"]
    if resource not in measures.V2_RESOURCES:
        raise web.HTTPNotFound
    client = bearer_client(request)
    if isinstance(client, Reply):
        return to_response(client)
    query = dict(request.query)
    reply = await gateway(state, request.path, client, v2_producer(state, resource, query))
    return to_response(reply)


async def v5_measure_handler(request: web.Request) -> web.Response:
    """``GET /metering_data_{dc,clc,dcmp,dp,plc}/v5/{resource}``."""
    state = _state(request)
    api = request.match_info["api"]
    resource = request.match_info["resource"]
    if (api, resource) not in measures.V5_RESOURCES:
        raise web.HTTPNotFound
    client = bearer_client(request)
    if isinstance(client, Reply):
        return to_response(client)
    producer = v5_producer(state, api, resource, dict(request.query))
    return to_response(await gateway(state, request.path, client, producer))


async def contract_handler(request: web.Request) -> web.Response:
    """2026 contract APIs, PRM in the path; PRM in the query (or any query) answers 500."""
    state = _state(request)
    api = request.match_info["api"]
    prm = request.match_info.get("prm", "")
    client = bearer_client(request)
    if isinstance(client, Reply):
        return to_response(client)

    def produce(_truncate: int) -> Reply:
        if not prm or request.query:
            return Reply(500, measures.TECHNICAL_ERROR)
        return measures.contract_reply(state, api, prm)

    return to_response(await gateway(state, request.path, client, produce))


async def v5_contracts_handler(request: web.Request) -> web.Response:
    """``GET /customers_upc/v5/usage_points/contracts?usage_point_id``."""
    state = _state(request)
    client = bearer_client(request)
    if isinstance(client, Reply):
        return to_response(client)
    prm = request.query.get("usage_point_id")

    def produce(_truncate: int) -> Reply:
        if prm is None:
            return measures._invalid("usage_point_id parameter is required")
        return measures.v5_contracts_reply(state, prm)

    return to_response(await gateway(state, request.path, client, produce))


async def subscribed_services_handler(request: web.Request) -> web.Response:
    """``POST /subscribed_services/v1`` with ``{"autorisationId", "comptage"}``."""
    state = _state(request)
    client = bearer_client(request)
    if isinstance(client, Reply):
        return to_response(client)
    try:
        payload = await request.json()
    except ValueError:
        payload = None

    def produce(_truncate: int) -> Reply:
        if not isinstance(payload, dict) or "autorisationId" not in payload:
            return measures._invalid("autorisationId is required")
        auth_id = str(payload["autorisationId"])
        prms = state.autorisations.get(auth_id, [])
        services: list[dict[str, Any]] = []
        today = state.current_date()
        for prm in prms:
            info = data.prm_info(prm)
            if info is None:
                continue
            revoked = state.consent_revoked(prm)
            for direction in info.directions:
                services.append(
                    {
                        "id": 900000 + len(services) + 10 * int(auth_id[-4:] or 0),
                        "injection": direction == data.PROD,
                        "soutirage": direction == data.CONS,
                        "serviceCode": "ACCES",
                        "dateDebut": today.isoformat(),
                        "dateFin": (today + timedelta(days=1095)).isoformat(),
                        "etatCode": "TERMINE" if revoked else "ACTIF",
                        "etatLibelle": "Terminé" if revoked else "Actif",
                        "pointId": prm,
                        "sirenTitulaire": None,
                        "sirenBeneficiaire": "123456789",
                        "mesuresTypeCode": "CDC",
                        "mesuresPas": "PT30M",
                        "periodiciteTransmission": "P1D",
                        "mesuresCorrigees": False,
                        "espaceDynamique": False,
                        "publicationDonnees": False,
                        "autorisation": {
                            "autorisationId": int(auth_id) if auth_id.isdigit() else auth_id,
                            "autorisationLibelle": "Consentement Data Connect",
                            "autorisationType": "EXPLICITE",
                        },
                    }
                )
        if payload.get("comptage") is True:
            return Reply(200, {"nbTotalServices": len(services)})
        return Reply(200, {"nbTotalServices": len(services), "serviceSouscrit": services})

    return to_response(await gateway(state, request.path, client, produce))


# ---------------------------------------------------------------------------------------------
# Consent
# ---------------------------------------------------------------------------------------------

DURATION_RE = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def validate_authorize(state: FakeState, query: dict[str, str]) -> Reply | None:
    """Authorize query validation; a 400 reply on error."""
    client_id = query.get("client_id")
    if not client_id:
        return measures._invalid("Client id parameter is required")
    if client_id not in state.credentials:
        return measures._invalid("Invalid client id")
    if not query.get("response_type"):
        return measures._invalid("Response type parameter is required")
    if query["response_type"] != "code":
        return measures._invalid("Response type parameter must be code")
    if len(query.get("state", "")) > 100:
        return measures._invalid("State parameter must not exceed 100 characters")
    duration = query.get("duration")
    if not duration:
        return measures._invalid("Duration parameter is required")
    match = DURATION_RE.match(duration)
    if match is None:
        return measures._invalid("invalid_duration_format")
    y, m, w, d = (int(g) if g else 0 for g in match.groups())
    if y * 365 + m * 30.44 + w * 7 + d > 1096:
        return measures._invalid("maximum_duration_exceeded")
    return None


def sandbox_client(state_param: str) -> int:
    """Sandbox client chosen by the last digit of ``state`` (0 without a digit)."""
    return int(state_param[-1]) if state_param and state_param[-1].isdigit() else 0


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(params, safe=",")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def authorize_page(request: web.Request) -> web.Response:
    """Consent page with accept/refuse links."""
    state = _state(request)
    query = dict(request.query)
    error = validate_authorize(state, query)
    if error is not None:
        return to_response(error)
    client = sandbox_client(query.get("state", ""))
    prms = data.prms_for_client(client)
    qs = html.escape(urlencode(query))
    base = request.path.rstrip("/")
    body = (
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>"
        "<title>Enedis - Partage de données (fake)</title></head><body>"
        f"<h1>Autoriser {html.escape(query['client_id'])}</h1>"
        f"<p>Client bac à sable n°{client} : {html.escape(', '.join(prms) or 'aucun PRM')}"
        f" ; durée {html.escape(query['duration'])}</p>"
        f"<a id='accept' href='{base}/accept?{qs}'>Accepter</a> "
        f"<a id='refuse' href='{base}/refuse?{qs}'>Refuser</a>"
        "</body></html>"
    )
    return web.Response(text=body, content_type="text/html")


async def authorize_decision(request: web.Request) -> web.Response:
    """``.../authorize/accept`` or ``/refuse``: 302 to the redirect URL."""
    state = _state(request)
    version = request.match_info["version"]
    decision = request.match_info["decision"]
    query = dict(request.query)
    error = validate_authorize(state, query)
    if error is not None:
        return to_response(error)
    redirect = query.get("redirect_uri") or state.redirect_uri
    state_param = query.get("state")
    client = sandbox_client(state_param or "")
    params: dict[str, str] = {}
    if decision == "refuse" or client == 9:
        params["error"] = "access_denied"
        if state_param is not None:
            params["state"] = state_param
    else:
        prms = data.prms_for_client(client)
        if version == "v1":
            code = secrets.token_urlsafe(18)
            state.codes[code] = prms
            params["code"] = code
            if state_param is not None:
                params["state"] = state_param
            params["usage_point_id"] = ",".join(prms)
        else:
            auth_id = str(58240 + client)
            state.autorisations[auth_id] = prms
            params["autorisation_id"] = auth_id
            if state_param is not None:
                params["state"] = state_param
    raise web.HTTPFound(_with_query(redirect, params))


# ---------------------------------------------------------------------------------------------
# Conso API
# ---------------------------------------------------------------------------------------------


def _conso(status: int, message: str, error: Any = None) -> web.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if error is not None:
        body["error"] = error
    return to_response(Reply(status, body))


async def conso_handler(request: web.Request) -> web.Response:
    """``GET /conso/api/{type}``: French types pass the Enedis body through, legacy types
    return the unwrapped ``meter_reading``; Enedis errors are wrapped with the same status.
    Over 100 requests per 12 h from one IP: 429 ``{"status":429,"message":...}``."""
    state = _state(request)
    if request.method != "GET":
        return _conso(405, "Seule la méthode GET est autorisée")
    if not state.check_conso_ip(request.remote or "unknown"):
        return _conso(429, CONSO_BANNED_MESSAGE)
    kind = request.match_info["type"]
    q = request.query
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not header[7:].strip():
        return _conso(400, "Le header 'Authorization' est manquant ou invalide")
    prm = q.get("pointId") or q.get("prm") or ""
    start = q.get("dateDebut") or q.get("start") or ""
    end = q.get("dateFin") or q.get("end") or ""
    step = q.get("mesuresPas", "P1D")
    physique = q.get("grandeurPhysique", "PMA")
    issues: list[dict[str, Any]] = []
    if kind not in measures.V2_RESOURCES and kind not in measures.CONSO_LEGACY:
        issues.append(_issue("invalid_enum_value", ["type"], "Invalid enum value"))
    if len(prm) != 14:
        issues.append(_issue("invalid_string", ["prm"], "Le PRM doit faire 14 caractères"))
    for name, value in (("start", start), ("end", end)):
        if not re.fullmatch(r"20\d{2}-\d{2}-\d{2}", value):
            issues.append(_issue("invalid_string", [name], "Invalid"))
    if step not in PMAX_STEPS:
        issues.append(_issue("invalid_enum_value", ["mesuresPas"], "Invalid enum value"))
    if physique not in PMAX_PHYSIQUES:
        issues.append(_issue("invalid_enum_value", ["grandeurPhysique"], "Invalid enum value"))
    if issues:
        return _conso(400, "Paramètres invalides", {"issues": issues, "name": "ZodError"})
    prms = state.conso_token_prms(header[7:].strip())
    if prms is None or prm not in prms:
        return _conso(401, "Votre token est invalide ou ne permet pas d'accéder à ce PRM")
    if kind in measures.V2_RESOURCES:
        upstream = f"/mesure_synchrone_auto/v2/{kind}"
        query = {"pointId": prm, "dateDebut": start, "dateFin": end}
        if kind == "puissance_conso_max_quotidienne":
            query |= {"mesuresPas": step, "grandeurPhysique": physique}
        producer = v2_producer(state, kind, query)
    else:
        api, resource = measures.CONSO_LEGACY[kind]
        upstream = f"/{api}/v5/{resource}"
        producer = v5_producer(state, api, resource, {"usage_point_id": prm, "start": start, "end": end})
    reply = await gateway(state, upstream, state.conso_client_id, producer)
    if reply.status != 200:
        error: Any = reply.body if reply.text is None else reply.text
        return _conso(reply.status, "The Enedis API returned an error", error)
    if reply.text is not None:  # malformed JSON upstream
        return _conso(500, "Erreur inconnue. Réessayez plus tard")
    if kind in measures.V2_RESOURCES:
        return to_response(reply)
    return to_response(Reply(200, reply.body["meter_reading"]))


def _issue(code: str, path: list[str], message: str) -> dict[str, Any]:
    return {"code": code, "path": path, "message": message}


# ---------------------------------------------------------------------------------------------
# App
# ---------------------------------------------------------------------------------------------


def create_app(state: FakeState | None = None) -> web.Application:
    """The fake gateway; ``app[STATE_KEY]`` is the FakeState."""
    app = web.Application(middlewares=[arrival_middleware, log_middleware])
    app[STATE_KEY] = state if state is not None else FakeState()
    r = app.router
    r.add_post("/oauth2/v3/token", token_handler)
    r.add_get("/dataconnect/{version:v[12]}/oauth2/authorize", authorize_page)
    r.add_get(
        "/dataconnect/{version:v[12]}/oauth2/authorize/{decision:accept|refuse}",
        authorize_decision,
    )
    r.add_post("/subscribed_services/v1", subscribed_services_handler)
    r.add_get("/mesure_synchrone_auto/v2/{resource}", v2_measure_handler)
    r.add_get("/{api:metering_data_[a-z]+}/v5/{resource}", v5_measure_handler)
    for api in CONTRACT_APIS:
        r.add_get(f"/{{api:{api}}}/v1/{{prm}}", contract_handler)
        r.add_get(f"/{{api:{api}}}/v1", contract_handler)
    r.add_get("/customers_upc/v5/usage_points/contracts", v5_contracts_handler)
    r.add_route("*", "/conso/api/{type}", conso_handler)
    from .med import install as install_med
    from .rte import install as install_rte
    from .sge import install

    install(app)
    install_med(app)
    install_rte(app)
    return app
