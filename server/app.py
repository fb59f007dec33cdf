"""Building and running the aiohttp application over `engine.services`."""

from __future__ import annotations

import logging

from aiohttp import web

from engine.services import Services
from server import routes
from server.middleware import MAX_BODY, SERVICES, auth_middleware, errors_middleware
from server.torznab.routes import torznab_api, torznab_download

log = logging.getLogger(__name__)


def make_app(services: Services, *, max_body_bytes: int) -> web.Application:
    """The application: routes, error and auth middleware, body size limit."""
    app = web.Application(
        middlewares=[errors_middleware, auth_middleware], client_max_size=max_body_bytes
    )
    app[SERVICES] = services
    app[MAX_BODY] = max_body_bytes
    add = app.router.add_route
    add("GET", "/api/health", routes.health, name="health")
    add("POST", "/api/ingest", routes.ingest_one, name="ingest")
    add("POST", "/api/ingest/bulk", routes.ingest_bulk, name="ingest_bulk")
    add("POST", "/api/ingest/file", routes.ingest_file, name="ingest_file")
    add("GET", "/api/search", routes.search, name="search")
    add("GET", "/api/search/live-status", routes.search_live_status, name="search_live_status")
    add("GET", "/api/torrents/{info_hash}", routes.torrent, name="torrent")
    add("GET", "/api/torrents/{info_hash}/file", routes.torrent_file, name="torrent_file")
    add("GET", "/api/sites", routes.sites, name="sites")
    add("GET", "/api/sites/{site}/mirrors", routes.site_mirrors, name="site_mirrors")
    add("GET", "/api/crawlers", routes.crawlers, name="crawlers")
    add("POST", "/api/crawlers/{source}/start", routes.crawler_start, name="crawler_start")
    add("POST", "/api/crawlers/{source}/stop", routes.crawler_stop, name="crawler_stop")
    add("GET", "/api/dht", routes.dht, name="dht")
    add("POST", "/api/dht/start", routes.dht_start, name="dht_start")
    add("POST", "/api/dht/stop", routes.dht_stop, name="dht_stop")
    add("GET", "/api/feeds", routes.feeds, name="feeds")
    add("POST", "/api/feeds", routes.feed_add, name="feed_add")
    add("DELETE", "/api/feeds/{name}", routes.feed_remove, name="feed_remove")
    add("GET", "/torznab/{indexer}/api", torznab_api, name="torznab")
    add(
        "GET",
        "/torznab/{indexer}/download/{info_hash}.torrent",
        torznab_download,
        name="torznab_download",
    )
    return app


async def start_server(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Bind and start serving; returns the runner (for cleanup) and the bound port."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    log.info("listening on http://%s:%d", host, bound)
    return runner, bound
