"""`exportctl serve`: the decision API for order systems and a page for people, on one local
server (Starlette under uvicorn). Install with `pip install 'exportctl[web]'`.

Safe by default: loopback only unless told otherwise, and then only with a bearer token; the
policies are the ones given at start (no upload); request size and time limits."""

from __future__ import annotations

import ipaddress

TOKEN_ENV = "EXPORTCTL_TOKEN"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> tuple:
    """Host headers a loopback server answers (a web page cannot reach it by DNS rebinding)."""
    if host in ("localhost",) or host.startswith("127."):
        return ("127.0.0.1", "localhost", host)
    return ()


def create_app(*args, **kwargs):
    from .app import create_app as _create

    return _create(*args, **kwargs)


def run(host: str, port: int, settings, log_level: str = "info", ready=None) -> None:
    """Serve until interrupted. `settings` is an app.Settings; the policies load before the socket opens."""
    import uvicorn

    from .app import create_app as _create

    app = _create(settings)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, server_header=False,
                            timeout_keep_alive=30, limit_concurrency=256, h11_max_incomplete_event_size=64 * 1024)
    server = uvicorn.Server(config)
    if ready:
        ready(app)
    server.run()
