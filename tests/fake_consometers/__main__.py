"""Run Prosody and the fake consometers proxy for ``scripts/develop``: ``python -m tests.fake_consometers``.

Prosody listens on 127.0.0.1 (plain, no TLS: a local test server) with two accounts, the proxy's and a user's; the
bot serves the fake gateway's ground truth (today's real date). Its consent page is served here over HTTP: opening
it grants the demo PRMs and sends the authorize message, as the real proxy does when Enedis redirects back.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
import signal

from aiohttp import web

from tests.fake_enedis.state import FakeState
from tests.xmpp.prosody import Prosody

from .bot import FakeProxy

PROXY_USER = "dataconnect-proxy"
PROXY_PASSWORD = "demo-proxy-password"
USER = "home"
USER_PASSWORD = "demo-xmpp-password"
DEMO_PRMS = ("22516914714270", "12655648759651")
"""Sandbox client 0 (consumption) and client 6 (consumption and production)."""


async def _serve(args: argparse.Namespace) -> None:
    server = Prosody(Path(args.data), port=args.port)
    proxy_jid = server.add_account(PROXY_USER, PROXY_PASSWORD) + "/proxy"
    user_jid = server.add_account(USER, USER_PASSWORD)
    await server.async_start()
    page = f"http://{args.host}:{args.web_port}/dataconnect-proxy/authorize"
    bot = FakeProxy(
        proxy_jid,
        PROXY_PASSWORD,
        FakeState(today=args.today),
        generation=args.generation,
        address=("127.0.0.1", server.port),
        authorize_page=page,
    )

    async def authorize(request: web.Request) -> web.Response:
        page_id = request.query.get("id", "")
        if page_id not in bot.authorizations:
            return web.Response(status=404, text="Unknown consent page: ask Home Assistant for a new one.")
        bot.complete_authorization(list(DEMO_PRMS), page=page_id)
        return web.Response(
            text=f"Access granted for usage points {', '.join(DEMO_PRMS)}. You can close this page.",
        )

    app = web.Application()
    app.router.add_get("/dataconnect-proxy/authorize", authorize)
    runner = web.AppRunner(app, access_log=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await bot.start()
        await runner.setup()
        await web.TCPSite(runner, args.host, args.web_port).start()
        print(f"Fake consometers proxy ({args.generation} protocol), today = {bot.state.current_date()}")
        print(f"  XMPP server      : 127.0.0.1:{server.port} (plain, no TLS)")
        print(f"  Proxy JID        : {proxy_jid}")
        print(f"  Your JID         : {user_jid}")
        print(f"  Your password    : {USER_PASSWORD}")
        print(f"  Consent page     : {page}?id=…  (grants {', '.join(DEMO_PRMS)})", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
        await bot.stop()
        server.stop()


def main() -> None:
    """Parse arguments and serve until SIGINT / SIGTERM."""
    parser = argparse.ArgumentParser(description="Prosody and the fake consometers proxy")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5222, help="Prosody's client port")
    parser.add_argument("--web-port", type=int, default=8789, help="the consent page's HTTP port")
    parser.add_argument("--data", default="config/xmpp", help="Prosody's configuration and data directory")
    parser.add_argument("--generation", choices=["head", "seed"], default="head")
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args()
    Path(args.data).mkdir(parents=True, exist_ok=True)
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
