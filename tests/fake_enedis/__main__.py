"""Run the fake Enedis gateway: ``python -m tests.fake_enedis --port 8788``."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
import ssl

from aiohttp import web

from . import data
from .rte import RTE_TEMPO_PATH
from .server import create_app
from .sge import DEMO_LOGIN
from .state import DEMO_CONSO_CLIENTS, FakeState
from .tls import make_pki, server_context


def main() -> None:
    """Parse arguments, print the demo credentials and serve forever."""
    parser = argparse.ArgumentParser(description="Fake Enedis gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--redirect-uri", default=None)
    parser.add_argument("--no-quotas", action="store_true")
    parser.add_argument("--sge-port", type=int, default=None, help="also serve SGE over mutual TLS on this port")
    parser.add_argument("--sge-dir", type=Path, default=None, help="where to write the SGE demo CA and certificate")
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
    print(f"  RTE Tempo calendar     : {base}{RTE_TEMPO_PATH}?season=2026-2027")
    print(f"  Conso API demo token (clients {DEMO_CONSO_CLIENTS}):")
    print(f"    {state.demo_conso_token()}")
    for n in DEMO_CONSO_CLIENTS:
        prms = ",".join(data.prms_for_client(n))
        print(f"  client {n} ({prms}):")
        print(f"    {state.conso_token_for_client(n)}")
    if args.sge_port is None:
        web.run_app(create_app(state), host=args.host, port=args.port, print=None)
        return
    folder = args.sge_dir or Path("sge-demo")
    folder.mkdir(parents=True, exist_ok=True)
    pki = make_pki()
    (folder / "ca.pem").write_text(pki.ca_pem, encoding="ascii")
    (folder / "client.pem").write_text(pki.client.cert_pem, encoding="ascii")
    (folder / "client.key").write_text(pki.client.key_pem, encoding="ascii")
    (folder / "client.key").chmod(0o600)
    print(f"  Enedis SGE (mutual TLS): https://{args.host}:{args.sge_port}  login {DEMO_LOGIN}")
    print(f"    CA, client certificate and key: {folder}/ca.pem, client.pem, client.key", flush=True)
    context = server_context(pki, folder)
    asyncio.run(_serve_with_sge(state, args.host, args.port, args.sge_port, context))


async def _serve_with_sge(state: FakeState, host: str, port: int, sge_port: int, context: ssl.SSLContext) -> None:
    """The gateway over HTTP, and the same app over HTTPS requiring a client certificate of the demo CA (SGE)."""
    runner = web.AppRunner(create_app(state))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    await web.TCPSite(runner, host, sge_port, ssl_context=context).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    main()
