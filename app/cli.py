"""`minato`: the command line, and the composition root (the only module that sees all layers).

`minato serve` runs the engine and the HTTP server headless; the other
commands work on the same data dir directly (a running server picks up what
they write). Qt is never imported on these paths.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.dht_cli import ask_server, describe
from app.formatting import human_size
from engine import __version__
from engine.config import Settings, default_config_path, load_settings, masked
from engine.core import Core
from engine.errors import ConfigError, IndexBusy, MinatoError
from engine.logs import configure_logging
from engine.models import IngestReport, LiveMode, NewApiKey, SearchPage, SearchQuery
from engine.services import parse_search_params
from engine.services.crawlers import CrawlReport
from engine.services.keys import ensure_internal_secret
from engine.sources.catalog import load_catalog
from server.app import make_app, start_server

if TYPE_CHECKING:  # the window's types: Qt is imported only when the window opens
    from app.desktop.welcome import Startup
from server.render import crawler_json, dht_json, page_json, source_outcome_json

log = logging.getLogger("minato")

_TORRENT_SUFFIXES = {".torrent"}
_NDJSON_SUFFIXES = {".ndjson", ".jsonl"}
_MAX_INGEST_FILE_BYTES = 2 * 1024**3
_CRAWLER_COLUMNS = [
    "crawler", "state", "last run (UTC)", "took", "seen/new", "total", "runs", "next run", "note"
]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `minato` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(logging.INFO if args.command == "serve" else logging.WARNING)
    if args.command is None:  # plain `minato`: the window
        if not _has_display():
            print(
                "minato: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are "
                "unset). Run `minato serve` to start the indexer and its API headless, or "
                "`minato --help` for every command.",
                file=sys.stderr,
            )
            return 1
        args.handler = cmd_desktop  # `minato --data-dir X --config Y` opens that one
    try:
        settings = _settings(args)
        return int(args.handler(args, settings))
    except ConfigError as exc:
        print(f"minato: configuration error: {exc}", file=sys.stderr)
        return 2
    except MinatoError as exc:
        print(f"minato: {exc.user_message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--config", type=Path, help="settings file (default: platform config dir)")
    top.add_argument("--data-dir", type=Path, help="data dir (database, index, secrets)")
    # The same options after a command name. SUPPRESS: a command must not reset an option
    # given before it (`minato --data-dir X ingest ...`) to None with its own default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="settings file")
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help="data dir")
    parser = argparse.ArgumentParser(
        prog="minato", description="Self-hosted torrent indexer.", parents=[top]
    )
    parser.add_argument("--version", action="version", version=f"minato {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the engine and API headless")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default 9797)")
    serve.set_defaults(handler=cmd_serve)

    keys = sub.add_parser("keys", parents=[common], help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = keys_sub.add_parser("create", parents=[common], help="create a key (shown once)")
    create.add_argument("--name", required=True, help="what the key is for, e.g. sonarr")
    create.set_defaults(handler=cmd_keys_create)
    keys_sub.add_parser("list", parents=[common], help="list keys").set_defaults(
        handler=cmd_keys_list
    )
    revoke = keys_sub.add_parser("revoke", parents=[common], help="revoke a key")
    revoke.add_argument("ref", help="the key's id, name or prefix")
    revoke.set_defaults(handler=cmd_keys_revoke)

    ingest = sub.add_parser("ingest", parents=[common], help="add .torrent, JSON or NDJSON files")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--source", default="upload", help="source name for .torrent files")
    ingest.set_defaults(handler=cmd_ingest)

    search = sub.add_parser("search", parents=[common], help="search the local index")
    search.add_argument("query", nargs="*", help="words; the last one may be a prefix")
    search.add_argument("--kind", default="", help="movie, tv, anime, music, ... (comma list)")
    search.add_argument("--category", default="", help="Torznab categories (comma list)")
    search.add_argument("--sort", default="", help="relevance | seeders | size | date")
    search.add_argument("--limit", default="20", help="rows to show (default 20)")
    search.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    search.add_argument(
        "--live",
        action="store_true",
        help="also ask every searchable site now (search-through): shows what each one "
        "answered, how fast, and its errors; results are stored for the next search",
    )
    search.set_defaults(handler=cmd_search)

    crawlers = sub.add_parser(
        "crawlers",
        parents=[common],
        help="show each crawler's last saved status (start/stop: the HTTP API)",
        description="Each crawler's status as the database holds it (what the running or last "
        "`minato serve` saved). Starting and stopping a crawler needs the running scheduler: "
        "POST /api/crawlers/ID/start or /stop.",
    )
    crawlers.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    crawlers.set_defaults(handler=cmd_crawlers)

    crawl = sub.add_parser(
        "crawl",
        parents=[common],
        help="crawl one HTML site now (latest listings, a category, or a search)",
        description="Crawl one site now, outside its schedule: its newest listings, a category "
        "(browse) or a search, following next pages to --depth and reading detail pages for "
        "what listings lack. What is found is stored and searchable.",
    )
    crawl.add_argument("site", help="site id (1337x, thepiratebay, limetorrents, ...)")
    crawl.add_argument("--mode", choices=("latest", "browse", "search"), default="latest")
    crawl.add_argument("--query", help="what to search for (--mode search)")
    crawl.add_argument("--category", help="site category to browse (--mode browse)")
    crawl.add_argument("--depth", type=int, help="pages per listing (1-100)")
    crawl.set_defaults(handler=cmd_crawl)

    feeds = sub.add_parser(
        "feeds",
        parents=[common],
        help="list, add or remove RSS/Atom/Torznab feeds to poll",
        description="Feeds added here are kept in the database; a running `minato serve` "
        "polls them from its next start (POST /api/feeds adds one to a running server at once). "
        "Feeds written in the settings file ([[feeds]]) are listed too.",
    )
    feeds_sub = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    feeds_sub.add_parser("list", parents=[common], help="list feeds").set_defaults(
        handler=cmd_feeds_list
    )
    feed_add = feeds_sub.add_parser("add", parents=[common], help="add a feed")
    feed_add.add_argument("url", help="the feed's http(s) URL")
    feed_add.add_argument("--name", required=True, help="a short name: a-z, 0-9, - and _")
    feed_add.add_argument("--every", default="15m", help="poll interval (90s, 15m, 6h, 1d)")
    feed_add.set_defaults(handler=cmd_feeds_add)
    feed_remove = feeds_sub.add_parser("remove", parents=[common], help="remove a feed")
    feed_remove.add_argument("name")
    feed_remove.set_defaults(handler=cmd_feeds_remove)

    dht = sub.add_parser(
        "dht",
        parents=[common],
        help="start, stop or look at the DHT crawler",
        description="The DHT crawler finds torrents no website lists, by listening to the "
        "BitTorrent DHT and fetching their metadata. It is off until started; the choice is "
        "kept. With a server running, the command acts on it at once; without, `start` and "
        "`stop` take effect at the next `minato serve`.",
    )
    dht.add_argument("action", choices=("status", "start", "stop"), help="status shows figures")
    dht.add_argument("--json", action="store_true", help="print JSON instead of text")
    dht.set_defaults(handler=cmd_dht)

    sub.add_parser(
        "reclassify", parents=[common], help="run the classifier again over stored torrents"
    ).set_defaults(handler=cmd_reclassify)

    sub.add_parser(
        "reindex", parents=[common], help="rebuild the search index from the database"
    ).set_defaults(handler=cmd_reindex)

    config = sub.add_parser("config", parents=[common], help="show settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_sub.add_parser(
        "path", parents=[common], help="print the settings file path"
    ).set_defaults(handler=cmd_config_path)
    config_sub.add_parser(
        "show", parents=[common], help="print effective settings, secrets masked"
    ).set_defaults(handler=cmd_config_show)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.data_dir:
        overrides["storage.data_dir"] = str(args.data_dir)
    if getattr(args, "host", None):
        overrides["server.host"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["server.port"] = args.port
    path = args.config or default_config_path()
    args.config_path = path  # where the settings dialog saves: the file this run loaded
    settings = load_settings(path, os.environ, overrides)
    # checked at start, naming the file, key and fix; `serve` hands them to the core
    args.catalog = load_catalog(settings, config_path=path)
    return settings


# --- serve -------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run engine + HTTP server until SIGINT/SIGTERM, then shut down cleanly."""
    core = Core.open(settings, catalog=args.catalog, config_path=args.config_path)
    try:
        core.index.ensure_writable()  # a second server on one data dir stops here, not later
        asyncio.run(_serve(core, settings))
    finally:
        core.close()
    log.info("stopped")
    return 0


async def _serve(core: Core, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await _first_key(core)
    app = make_app(core.services, max_body_bytes=settings.server.max_body_bytes)
    runner, port = await start_server(app, settings.server.host, settings.server.port)
    print(f"Minato {__version__} serving on http://{settings.server.host}:{port}", file=sys.stderr)
    print(f"data dir: {settings.data_path()}", file=sys.stderr)
    background = asyncio.create_task(core.run(), name="minato-core")
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({background, stopper}, return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down")
    await runner.cleanup()  # finishes in-flight requests first
    background.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await background
    stopper.cancel()
    if background.done() and not background.cancelled() and background.exception():
        raise background.exception()  # type: ignore[misc]


# --- the window ----------------------------------------------------------------------------


def cmd_desktop(args: argparse.Namespace, settings: Settings) -> int:
    """`minato` alone: the window, with the engine and its HTTP server in the same process.

    The engine runs on a thread of its own (the server answers Sonarr while the window
    is busy); the window reaches it only through `engine.services`. Qt is imported here,
    never by `minato serve`.
    """
    from app.desktop.engine_thread import EngineThread
    from app.desktop.launch import (
        DesktopOptions,
        hold_quit_signals,
        qt_application,
        run_window,
    )
    from app.desktop.single_instance import ask_running_to_show, instance_name
    from app.desktop.welcome import Startup

    data_dir = settings.data_path()
    log_path = data_dir / "logs" / "minato.log"
    configure_logging(logging.WARNING, log_file=log_path)
    qt_application()
    instance = instance_name(data_dir)
    if ask_running_to_show(instance):
        print(
            f"minato: Minato is already running on {data_dir}; its window was brought forward.",
            file=sys.stderr,
        )
        return 0
    hold_quit_signals()  # before the server answers: a stop then waits for the window
    core = Core.open(settings, catalog=args.catalog, config_path=args.config_path)
    engine = EngineThread()
    startup = Startup(
        data_dir=str(data_dir),
        server_url=concurrent.futures.Future(),
        first_key=concurrent.futures.Future(),
    )
    options = DesktopOptions(
        data_dir=data_dir,
        log_path=log_path,
        instance=instance,
        start_minimized=settings.desktop.start_minimized,
        close_to_tray=settings.desktop.close_to_tray,
        theme=settings.desktop.theme,
    )
    try:
        core.index.ensure_writable()  # a running `minato serve` on this data dir stops us here
        engine.start(lambda: serve_beside_window(core, settings, startup))
        return run_window(core.services, engine, startup=startup, options=options)
    finally:
        engine.stop()
        core.close()
        log.info("stopped")


async def serve_beside_window(core: Core, settings: Settings, startup: Startup) -> None:
    """The server and the engine's background work, until the window's exit cancels them.

    Tells the window, through `startup`, the key made on a first start and the
    server's URL once it listens (or the error that kept it from listening).
    """
    try:
        startup.first_key.set_result(await _first_key(core))
        app = make_app(core.services, max_body_bytes=settings.server.max_body_bytes)
        runner, port = await start_server(app, settings.server.host, settings.server.port)
    except BaseException as exc:
        for future in (startup.first_key, startup.server_url):
            if not future.done():
                future.set_exception(exc)
        raise
    url = f"http://{settings.server.host}:{port}"
    startup.server_url.set_result(url)
    print(f"Minato {__version__} serving on {url}", file=sys.stderr)
    try:
        await core.run()
    finally:
        await runner.cleanup()


def _has_display() -> bool:
    """Whether a window can open: a display on Linux/BSD, or Qt told which platform to use."""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


async def _first_key(core: Core) -> NewApiKey | None:
    """On a fresh install, make one API key so Sonarr & co. can connect; shown once.

    Returns the new key, or None when one exists already (not a first start).
    """
    if any(k.revoked_at is None for k in await core.services.keys.list_all()):
        return None
    new = await core.services.keys.create("default")
    print(
        "First start: created API key 'default' (shown only now; "
        f"`minato keys create` makes more):\n{new.secret}",
        file=sys.stderr,
    )
    return new


# --- keys --------------------------------------------------------------------------------------


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create a key; its secret is the last line printed."""
    new = _run(settings, lambda core: core.services.keys.create(args.name))
    print(f"API key {new.info.name!r} (id {new.info.id}) created; it will not be shown again:")
    print(new.secret)
    return 0


def cmd_keys_list(_args: argparse.Namespace, settings: Settings) -> int:
    """Print every key (prefix only)."""
    keys = _run(settings, lambda core: core.services.keys.list_all())
    rows = [
        [
            str(k.id),
            k.name,
            k.prefix + "…",
            k.created_at.strftime("%Y-%m-%d %H:%M"),
            k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never",
            "revoked" if k.revoked_at else "active",
        ]
        for k in keys
    ]
    _table(["id", "name", "prefix", "created", "last used", "state"], rows)
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """Revoke by id, name or prefix."""
    revoked = _run(settings, lambda core: core.services.keys.revoke(args.ref))
    for info in revoked:
        print(f"revoked key {info.id} ({info.name})")
    return 0


# --- ingest, search, reindex -------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest files, then index what was stored (unless a running server does it)."""
    failed: int = _run(
        settings, lambda core: _ingest_paths(core, args.paths, args.source), classify=None
    )
    return failed


async def _ingest_paths(core: Core, paths: Sequence[Path], source: str) -> int:
    failed = 0
    for path in paths:
        try:
            report = await _ingest_path(core, path, source)
        except (OSError, MinatoError) as exc:
            message = exc.user_message if isinstance(exc, MinatoError) else str(exc)
            print(f"{path}: {message}", file=sys.stderr)
            failed += 1
            continue
        print(
            f"{path}: {report.created} created, {report.updated} updated, "
            f"{len(report.rejected)} rejected"
        )
        for rejection in report.rejected[:20]:
            print(f"  record {rejection.index}: {rejection.error}")
    print(await asyncio.to_thread(_drain_unless_served, core))
    return 1 if failed else 0


async def _ingest_path(core: Core, path: Path, source: str) -> IngestReport:
    ingest = core.services.ingest
    suffix = path.suffix.lower()
    limit = ingest.max_torrent_bytes if suffix in _TORRENT_SUFFIXES else _MAX_INGEST_FILE_BYTES
    data = await asyncio.to_thread(_read_limited, path, limit)
    if suffix in _TORRENT_SUFFIXES:
        return await ingest.ingest_torrent(data, source)
    if suffix in _NDJSON_SUFFIXES:
        return await ingest.ingest_ndjson(data)
    if data.lstrip()[:1] == b"{":
        return await ingest.ingest_one(data)
    return await ingest.ingest_json(data)


def _read_limited(path: Path, limit: int) -> bytes:
    size = path.stat().st_size
    if size > limit:
        raise MinatoError(f"file of {size} bytes is over the limit of {limit}")
    return path.read_bytes()


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """Search the local index and print a table (or JSON lines); `--live` asks the sites too."""
    params = {
        "q": " ".join(args.query),
        "kind": args.kind,
        "category": args.category,
        "sort": args.sort,
        "limit": args.limit,
    }
    query = parse_search_params(params)
    if args.live:
        return _search_live(args, settings, query)
    core = Core.open(settings, classify=False)
    try:
        page = core.services.search.search_sync(query)
    finally:
        core.close()
    if args.json:
        for hit in page.hits:
            print(
                json.dumps(
                    {
                        "info_hash": hit.info_hash,
                        "title": hit.title,
                        "size": hit.size,
                        "seeders": hit.seeders,
                        "kind": hit.kind,
                    }
                )
            )
        return 0
    rows = [
        [
            hit.title[:70],
            human_size(hit.size, "?"),
            str(hit.seeders or 0),
            str(hit.leechers or 0),
            hit.kind.value if hit.kind else "",
            hit.info_hash,
        ]
        for hit in page.hits
    ]
    _table(["title", "size", "seeders", "leechers", "kind", "info hash"], rows)
    print(f"{page.total} match(es); showing {len(page.hits)}")
    return 0


def _search_live(args: argparse.Namespace, settings: Settings, query: SearchQuery) -> int:
    """`minato search --live`: the sites asked from this process, each answer as it arrives.

    With a server running, that server's drainer indexes what the sites return (this
    process waits for it); the sites' breakers are this process's own.
    """
    if not query.text.strip():
        print("--live needs words to search for", file=sys.stderr)
        return 2
    if not settings.live.enabled:
        print("minato: live search is off ([live] enabled = false)", file=sys.stderr)
        return 2
    core = Core.open(settings, catalog=args.catalog)
    try:
        page = asyncio.run(_stream_live(core, query, quiet=args.json))
    finally:
        core.close()
    return _print_live_answer(page_json(page), as_json=args.json)


async def _stream_live(core: Core, query: SearchQuery, *, quiet: bool) -> SearchPage:
    """The live search in this process, printing each source's answer as it arrives."""
    page = SearchPage(total=0, hits=())
    try:
        updates = core.services.search.search_stream(query, live=LiveMode.ALWAYS)
        async for update in updates:
            page = update.page
            if update.outcome is not None and not quiet:
                print(_outcome_line(source_outcome_json(update.outcome)), flush=True)
    finally:
        await core.close_network()
    return page


def _outcome_line(outcome: dict[str, Any]) -> str:
    error = f"  {outcome['error']}" if outcome.get("error") else ""
    return (
        f"  {outcome['source']:<22} {outcome['status']:<10} {outcome['results']:>5} results "
        f"{outcome['new']:>5} new {outcome['duration_s']:>6.1f} s{error}"
    )


def _print_live_answer(body: dict[str, Any], *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(body))
        return 0
    live = body.get("live")
    if live is not None and not live.get("sources"):
        print(
            "  no site was asked: none is enabled with a search, or crawling is off "
            "([crawl] enabled = false)"
        )
    hits = body.get("hits", [])
    rows = [
        [
            hit["title"][:70],
            human_size(hit.get("size"), "?"),
            str(hit.get("seeders") or 0),
            str(hit.get("leechers") or 0),
            hit.get("kind") or "",
            ", ".join(hit.get("sources", [])),
            hit["info_hash"],
        ]
        for hit in hits
    ]
    _table(["title", "size", "seeders", "leechers", "kind", "sources", "info hash"], rows)
    print(f"{body.get('total', 0)} match(es); showing {len(hits)}")
    return 0


def cmd_crawlers(args: argparse.Namespace, settings: Settings) -> int:
    """Print each crawler's last saved status, read from the database (no server needed)."""
    core = Core.open(settings, classify=False, catalog=args.catalog)
    try:
        statuses = core.services.crawlers.saved_statuses()
    finally:
        core.close()
    if args.json:
        for status in statuses:
            print(json.dumps(crawler_json(status)))
        return 0
    if not statuses:
        print(
            "No crawler has saved a status yet: `minato serve` runs the crawlers. "
            "Start or stop one through the running server: POST /api/crawlers/ID/start or /stop."
        )
        return 0
    rows = [
        [
            s.source,
            s.state.value,
            _when(s.finished_at),
            f"{s.last_duration_s:.1f} s" if s.last_duration_s is not None else "-",
            f"{s.items_seen}/{s.items_new}",
            str(s.items_total),
            str(s.runs),
            _when(s.next_run_at),
            (s.last_error or s.message or "")[:60],
        ]
        for s in statuses
    ]
    _table(_CRAWLER_COLUMNS, rows)
    return 0


def cmd_crawl(args: argparse.Namespace, settings: Settings) -> int:
    """Crawl one site now with a progress bar, then print what the crawl did."""
    if args.depth is not None and not 1 <= args.depth <= 100:
        print("--depth: give a number of pages from 1 to 100", file=sys.stderr)
        return 2
    if args.mode == "search" and not (args.query or "").strip():
        print("--mode search needs --query", file=sys.stderr)
        return 2
    core = Core.open(settings, classify=None, catalog=args.catalog)
    try:
        report = asyncio.run(_crawl(core, args))
        indexed = _drain_unless_served(core)
    except MinatoError as exc:
        print(f"{args.site}: {exc.user_message}", file=sys.stderr)
        return 1
    finally:
        core.close()
    stopped = f" (stopped: {report.stopped})" if report.stopped else ""
    print(
        f"{report.site} {report.mode}: {report.pages} pages, {report.rows} rows, "
        f"{report.new} new, {report.updated} updated, {report.errors} errors, "
        f"{report.bad_rows} bad rows, {report.details} detail pages read, "
        f"{report.details_skipped} skipped{stopped}; {indexed}"
    )
    for message in report.error_messages[:10]:
        print(f"  error: {message}")
    return 0


async def _crawl(core: Core, args: argparse.Namespace) -> CrawlReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress

    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
    with Progress(*columns) as bar:
        task = bar.add_task(f"{args.site}: listing pages", total=None)

        def show(report: CrawlReport) -> None:
            bar.update(
                task,
                completed=report.pages,
                total=max(report.planned_pages, report.pages),
                description=f"{report.site}: {report.rows} rows, {report.new} new, "
                f"{report.details} details, {report.errors} errors; listing pages",
            )

        try:
            return await core.services.crawlers.crawl_site(
                args.site,
                args.mode,
                query=args.query,
                category=args.category,
                depth=args.depth,
                progress=show,
            )
        finally:
            await core.close_network()


def cmd_feeds_list(_args: argparse.Namespace, settings: Settings) -> int:
    """Print every feed and where its last poll stopped."""
    feeds = _run(settings, lambda core: core.services.feeds.list())
    if not feeds:
        print("No feeds yet: `minato feeds add URL --name NAME`, or [[feeds]] in the settings.")
        return 0
    rows = [
        [f.name, f.origin, _every(f.every_s), _when(f.last_polled_at), f.shown_url[:80]]
        for f in feeds
    ]
    _table(["name", "from", "every", "last poll", "url"], rows)
    return 0


def cmd_feeds_add(args: argparse.Namespace, settings: Settings) -> int:
    """Add a feed to the database (polled by the server from its next start)."""
    try:
        feed = _run(settings, lambda core: core.services.feeds.add(args.name, args.url, args.every))
    except MinatoError as exc:
        print(exc.user_message, file=sys.stderr)
        return 1
    print(f"added feed {feed.name} ({feed.source}), polled every {_every(feed.every_s)}")
    return 0


def cmd_feeds_remove(args: argparse.Namespace, settings: Settings) -> int:
    """Remove a feed added with `feeds add` or the API."""
    try:
        _run(settings, lambda core: core.services.feeds.remove(args.name))
    except MinatoError as exc:
        print(exc.user_message, file=sys.stderr)
        return 1
    print(f"removed feed {args.name}")
    return 0


def _every(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def cmd_dht(args: argparse.Namespace, settings: Settings) -> int:
    """Act on the running server if there is one, else on the saved choice; print the result."""
    secret = ensure_internal_secret(settings.server.internal_secret, settings.data_path())
    answer = ask_server(settings.server.host, settings.server.port, secret, args.action)
    if answer is None:
        data = _dht_offline(args, settings)
        where = "no server running: " + (
            "last saved figures" if args.action == "status" else "takes effect at the next start"
        )
    else:
        status, data = answer
        if status >= 400:
            message = data.get("error", {}).get("message", f"HTTP {status}")
            print(f"minato: the server refused: {message}", file=sys.stderr)
            return 2 if status == 409 else 1
        where = "running server"
    print(json.dumps({**data, "from": where}) if args.json else describe(data, where))
    return 0


def _dht_offline(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    core = Core.open(settings, classify=False, catalog=args.catalog)
    try:
        service = core.services.dht
        if args.action == "start":
            service.check_allowed()
        if args.action != "status":
            asyncio.run(service.saved_start_choice(args.action == "start"))
        return dht_json(service.saved_report())
    finally:
        core.close()


def cmd_reclassify(_args: argparse.Namespace, settings: Settings) -> int:
    """Re-classify every torrent (after the classifier improved), with a progress bar."""
    core = Core.open(settings, classify=True)
    try:
        with _progress_bar() as progress:
            task = progress.add_task("reclassifying", total=None)
            examined, changed = core.services.status.reclassify(
                lambda done, total: progress.update(task, completed=done, total=total)
            )
        indexed = _drain_unless_served(core)
    finally:
        core.close()
    print(f"reclassified {examined} torrents: {changed} changed; {indexed}")
    return 0


def _drain_unless_served(core: Core) -> str:
    try:
        return f"search index updated ({core.services.status.drain_index()} changes)"
    except IndexBusy:
        return "the running Minato server will update the search index"


def _progress_bar() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )


def cmd_reindex(_args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the search index from the database, with a progress bar."""
    core = Core.open(settings, classify=False)
    try:
        with _progress_bar() as progress:
            task = progress.add_task("reindexing", total=None)
            count = core.services.status.reindex(
                lambda done, total: progress.update(task, completed=done, total=total)
            )
    finally:
        core.close()
    print(f"reindexed {count} torrents")
    return 0


# --- config ------------------------------------------------------------------------------------


def cmd_config_path(args: argparse.Namespace, _settings: Settings) -> int:
    """Print where the settings file is (whether or not it exists yet)."""
    print(args.config or default_config_path())
    return 0


def cmd_config_show(_args: argparse.Namespace, settings: Settings) -> int:
    """Print the effective settings as JSON, secrets masked."""
    shown = masked(settings)
    shown["storage"]["effective_data_dir"] = str(settings.data_path())
    print(json.dumps(shown, indent=2))
    return 0


# --- helpers -----------------------------------------------------------------------------------


def _run(settings: Settings, action: Any, classify: bool | None = False) -> Any:
    """Open a core, run one async action on it, close it."""
    core = Core.open(settings, classify=classify)

    async def go() -> Any:
        return await action(core)

    try:
        return asyncio.run(go())
    finally:
        core.close()


def _table(headers: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*headers)
    if headers[-1] == "info hash":  # a hash is only useful whole, to copy
        table.columns[-1].no_wrap = True
        table.columns[-1].min_width = 40
    for row in rows:
        table.add_row(*row)
    Console(width=max(140, Console().width)).print(table)


if __name__ == "__main__":
    sys.exit(main())
