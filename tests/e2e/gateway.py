"""The fake gateway for the end-to-end test: ``python -m tests.e2e.gateway --port 8789 --delay 1``.

The same app as ``python -m tests.fake_enedis`` (real Paris date, quotas on), plus, for the test only:

* ``--delay S``: every measure request is answered S seconds late, so that the backfill's first burst lasts
  long enough for the test to restart Home Assistant in the middle of it;
* ``GET /_e2e/requests``: the requests the gateway saw (method, path, query, status), as JSON.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from tests.fake_enedis.server import STATE_KEY, create_app
from tests.fake_enedis.state import FakeState


async def requests_handler(request: web.Request) -> web.Response:
    """Every request logged so far (never a credential: the log keeps no header and no client_secret)."""
    state: FakeState = request.app[STATE_KEY]
    return web.json_response(
        [{"method": r.method, "path": r.path, "query": r.query, "status": r.status} for r in state.requests]
    )


def main() -> None:
    """Serve the fake gateway with the test's switches."""
    parser = argparse.ArgumentParser(description="Fake Enedis gateway for the end-to-end test")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8789)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to every measure request")
    args = parser.parse_args()
    state = FakeState()
    if args.delay:
        state.add_fault("delay", None, path=r"^/mesure_synchrone_auto/", delay=args.delay)
    app = create_app(state)
    app.router.add_get("/_e2e/requests", requests_handler)
    print(f"e2e gateway on http://{args.host}:{args.port}, today = {state.current_date()}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
