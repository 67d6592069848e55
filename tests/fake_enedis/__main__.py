"""Run the fake Enedis gateway: ``python -m tests.fake_enedis --port 8788``."""

from __future__ import annotations

import argparse
from datetime import date

from aiohttp import web

from . import data
from .server import create_app
from .state import DEMO_CONSO_CLIENTS, FakeState


def main() -> None:
    """Parse arguments, print the demo credentials and serve forever."""
    parser = argparse.ArgumentParser(description="Fake Enedis gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--redirect-uri", default=None)
    parser.add_argument("--no-quotas", action="store_true")
    args = parser.parse_args()

    state = FakeState(today=args.today, quotas_enabled=not args.no_quotas)
    if args.redirect_uri:
        state.redirect_uri = args.redirect_uri
    base = f"http://{args.host}:{args.port}"
    (client_id, secret), *_ = state.credentials.items()
    print(f"Fake Enedis gateway, today = {state.current_date()}")
    print(f"  Enedis base URL        : {base}")
    print(f"  Token                  : POST {base}/oauth2/v3/token")
    print(f"  Consent (v2)           : {base}/dataconnect/v2/oauth2/authorize")
    print(f"  client_id / secret     : {client_id} / {secret}")
    print(f"  Conso API base URL     : {base}/conso/api")
    print(f"  Redirect URL           : {state.redirect_uri}")
    print(f"  Conso API demo token (clients {DEMO_CONSO_CLIENTS}):")
    print(f"    {state.demo_conso_token()}")
    for n in DEMO_CONSO_CLIENTS:
        prms = ",".join(data.prms_for_client(n))
        print(f"  client {n} ({prms}):")
        print(f"    {state.conso_token_for_client(n)}")
    web.run_app(create_app(state), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
