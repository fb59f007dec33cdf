"""Domain records -> JSON-ready dicts (pure functions; the API's answer shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.models import (
    ApiKeyInfo,
    EngineHealth,
    IngestReport,
    SearchPage,
    SourceOutcome,
    Torrent,
    TorrentSummary,
)
from engine.services.crawlers import (
    BreakerSnapshot,
    CrawlerStatus,
    MirrorCheck,
    MirrorCheckSchedule,
    MirrorReport,
    ProxyStatus,
    SiteInfo,
    SiteMirrors,
)
from engine.services.dht import DhtReport
from engine.services.feeds import FeedInfo
from engine.services.live import LiveSearchRow


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def summary_json(hit: TorrentSummary) -> dict[str, Any]:
    """One search hit."""
    return {
        "info_hash": hit.info_hash,
        "title": hit.title,
        "size": hit.size,
        "file_count": hit.file_count,
        "kind": hit.kind.value if hit.kind else None,
        "category": hit.category,
        "seeders": hit.seeders,
        "leechers": hit.leechers,
        "published_at": _time(hit.published_at),
        "first_seen": _time(hit.first_seen),
        "last_seen": _time(hit.last_seen),
        "year": hit.year,
        "season": hit.season,
        "episode": hit.episode,
        "resolution": hit.resolution,
        "video_codec": hit.video_codec,
        "audio": hit.audio,
        "media_source": hit.media_source,
        "release_group": hit.release_group,
        "languages": list(hit.languages),
        "imdb_id": hit.imdb_id,
        "tmdb_id": hit.tmdb_id,
        "tvdb_id": hit.tvdb_id,
        "anilist_id": hit.anilist_id,
        "mal_id": hit.mal_id,
        "musicbrainz_id": hit.musicbrainz_id,
        "enriched_by": hit.enriched_by,
        "sources": list(hit.sources),
    }


def page_json(page: SearchPage) -> dict[str, Any]:
    """A search answer: `{"total": n, "hits": [...]}`, and `live` when the sites were asked."""
    body: dict[str, Any] = {"total": page.total, "hits": [summary_json(h) for h in page.hits]}
    if page.live_text is not None:
        body["live"] = {
            "query": page.live_text,
            "sources": [source_outcome_json(outcome) for outcome in page.live],
        }
    return body


def source_outcome_json(outcome: SourceOutcome) -> dict[str, Any]:
    """One source's part of a live search: status, results, new, seconds, error."""
    return {
        "source": outcome.source,
        "status": outcome.status.value,
        "results": outcome.results,
        "new": outcome.new,
        "duration_s": round(outcome.duration_s, 3),
        "error": outcome.error,
    }


def torrent_json(torrent: Torrent) -> dict[str, Any]:
    """A torrent with its files, sightings and trackers."""
    body = summary_json(torrent.summary)
    body.update(
        magnet=torrent.magnet,
        description=torrent.description,
        trackers=list(torrent.trackers),
        has_torrent_file=torrent.has_metainfo,
        files=[{"path": f.path, "size": f.size} for f in torrent.files],
        sightings=[
            {
                "source": s.source,
                "source_url": s.source_url,
                "seeders": s.seeders,
                "leechers": s.leechers,
                "seen_at": _time(s.seen_at),
            }
            for s in torrent.sightings
        ],
    )
    return body


def report_json(report: IngestReport) -> dict[str, Any]:
    """An ingest answer: created/updated counts and each rejection with its index."""
    return {
        "created": report.created,
        "updated": report.updated,
        "rejected": [{"index": r.index, "error": r.error} for r in report.rejected],
    }


def health_json(health: EngineHealth) -> dict[str, Any]:
    """What `/api/health` answers."""
    return {
        "status": "ok",
        "version": health.version,
        "database": health.database,
        "search_backend": health.search_backend,
        "torrents": health.torrents,
        "index_backlog": health.index_backlog,
        "enrich_backlog": health.enrich_backlog,
        "enrichment": [
            {"service": s.service, "state": s.state, "detail": s.detail} for s in health.enrichment
        ],
    }


def key_json(info: ApiKeyInfo) -> dict[str, Any]:
    """An API key as listings show it (never the secret)."""
    return {
        "id": info.id,
        "name": info.name,
        "prefix": info.prefix,
        "created_at": _time(info.created_at),
        "last_used_at": _time(info.last_used_at),
        "revoked_at": _time(info.revoked_at),
    }


def _ms(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def crawler_json(status: CrawlerStatus) -> dict[str, Any]:
    """One crawler: state, figures of the last run and of all runs, next run, last error."""
    return {
        "id": status.source,
        "state": status.state.value,
        "enabled": status.enabled,
        "message": status.message,
        "last_heartbeat": _time(status.last_heartbeat),
        "started_at": _time(status.started_at),
        "finished_at": _time(status.finished_at),
        "last_duration_s": (
            round(status.last_duration_s, 3) if status.last_duration_s is not None else None
        ),
        "items_seen": status.items_seen,
        "items_new": status.items_new,
        "items_total": status.items_total,
        "runs": status.runs,
        "consecutive_failures": status.consecutive_failures,
        "next_run_at": _time(status.next_run_at),
        "last_error": status.last_error,
    }


def live_searches_json(rows: Sequence[LiveSearchRow]) -> dict[str, Any]:
    """What `/api/search/live-status` answers: `{"searches": [...]}`, newest first."""
    return {
        "searches": [
            {
                "query": row.query,
                "source": row.source,
                "searched_at": _time(row.searched_at),
                "results": row.results,
                "new": row.new,
                "duration_s": round(row.duration_s, 3),
                "error": row.error,
                "late": row.late,
            }
            for row in rows
        ]
    }


def dht_json(report: DhtReport) -> dict[str, Any]:
    """What `/api/dht` answers: the crawler's status and its figures (live or last saved)."""
    return {
        "crawler": crawler_json(report.status),
        "live": report.live,
        "figures": report.figures.to_json(),
    }


def crawlers_json(statuses: Sequence[CrawlerStatus]) -> dict[str, Any]:
    """What `/api/crawlers` answers: `{"crawlers": [...]}`, by id."""
    return {"crawlers": [crawler_json(s) for s in statuses]}


def _breaker_json(snapshot: BreakerSnapshot | None) -> dict[str, Any]:
    if snapshot is None:  # no request sent yet: a breaker that was never used is closed
        return {"state": "closed", "consecutive_failures": 0, "retry_after_s": 0.0}
    return {
        "state": snapshot.state.value,
        "consecutive_failures": snapshot.consecutive_failures,
        "retry_after_s": round(snapshot.retry_after, 3),
        "opened_at": _time(snapshot.opened_at),
        "last_error": snapshot.last_error,
    }


def site_json(site: SiteInfo) -> dict[str, Any]:
    """One site: settings, current mirror, how many mirrors answer, breaker, crawler state."""
    return {
        "id": site.id,
        "kind": site.kind,
        "enabled": site.enabled,
        "every_s": site.every_s,
        "proxy": site.proxy if isinstance(site.proxy, str) else list(site.proxy),
        "current_mirror": site.current_mirror,
        "mirrors": site.mirrors,
        "mirrors_online": site.mirrors_online,
        "checked_at": _time(site.checked_at),
        "breaker": _breaker_json(site.breaker),
        "crawler": site.crawler.value if site.crawler is not None else None,
    }


def proxy_json(proxy: ProxyStatus) -> dict[str, Any]:
    """One proxy's health; its URL with the password masked (never the credentials)."""
    return {
        "name": proxy.name,
        "url": proxy.safe_url,
        "healthy": proxy.healthy,
        "cooling_s": round(proxy.cooling_s, 1),
        "consecutive_failures": proxy.consecutive_failures,
        "last_error": proxy.last_error,
        "chosen": proxy.chosen,
    }


def sites_json(
    sites: Sequence[SiteInfo], proxies: Sequence[ProxyStatus], checks: MirrorCheckSchedule
) -> dict[str, Any]:
    """What `/api/sites` answers: the sites, the proxies, and the mirror check schedule."""
    return {
        "sites": [site_json(s) for s in sites],
        "proxies": [proxy_json(p) for p in proxies],
        "mirror_checks": {
            "enabled": checks.enabled,
            "every_s": checks.every_s,
            "last_round_at": _time(checks.last_round_at),
        },
    }


def _check_json(check: MirrorCheck) -> dict[str, Any]:
    return {
        "checked_at": _time(check.checked_at),
        "online": check.online,
        "usable": check.usable,
        "latency_ms": _ms(check.latency_ms),
        "status": check.status,
        "error": check.error,
        "blocked": check.blocked,
    }


def _mirror_json(report: MirrorReport) -> dict[str, Any]:
    state = report.state
    return {
        "url": state.url,
        "position": state.position,
        "online": state.online,
        "usable": state.usable,
        "latency_ms": _ms(state.latency_ms),
        "checked_at": _time(state.checked_at),
        "last_error": state.last_error,
        "blocked": state.blocked,
        "consecutive_failures": state.consecutive_failures,
        "chosen": state.chosen,
        "history": [_check_json(c) for c in report.history],
    }


def mirrors_json(mirrors: SiteMirrors) -> dict[str, Any]:
    """What `/api/sites/{id}/mirrors` answers: every mirror in config order, with history."""
    return {
        "site": mirrors.site,
        "current": mirrors.current,
        "mirrors": [_mirror_json(m) for m in mirrors.mirrors],
    }


def feed_json(feed: FeedInfo) -> dict[str, Any]:
    """One feed: where, how often, where the last poll stopped, its crawler (when running)."""
    return {
        "name": feed.name,
        "source": feed.source,
        "url": feed.shown_url,  # a tracker's passkey in it is the user's, not the API's
        "every_s": feed.every_s,
        "origin": feed.origin,
        "added_at": _time(feed.added_at),
        "last_polled_at": _time(feed.last_polled_at),
        "last_seen_guid": feed.last_seen_guid,
        "crawler": crawler_json(feed.crawler) if feed.crawler is not None else None,
    }
