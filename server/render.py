"""Domain records -> JSON-ready dicts (pure functions; the API's answer shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.models import (
    ApiKeyInfo,
    EngineHealth,
    IngestReport,
    SearchPage,
    Torrent,
    TorrentSummary,
)


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
    """A search answer: `{"total": n, "hits": [...]}`."""
    return {"total": page.total, "hits": [summary_json(hit) for hit in page.hits]}


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
