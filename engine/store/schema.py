"""The database schema (SQLAlchemy Core tables). Alembic revisions create and evolve it.

Core tables rather than ORM classes: the writer upserts thousands of rows per
transaction and the readers hydrate search hits, and both are simplest and
fastest as plain statements. Times are stored as UTC (see `UtcDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UtcDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC datetime on every backend.

    SQLite keeps no zone, so values are written as naive UTC and the zone is
    re-attached on read; PostgreSQL stores `timestamptz`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """To UTC; naive on SQLite."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Always tz-aware UTC."""
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a plain SQL read
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

torrents = Table(
    "torrents",
    metadata,
    Column("info_hash", String(40), primary_key=True),
    Column("title", Text, nullable=False),
    Column("size", BigInteger),
    Column("file_count", Integer, nullable=False, default=0),
    Column("kind", String(16)),
    Column("category", Integer),
    Column("classified_by", Text),
    Column("year", Integer),
    Column("season", Integer),
    Column("episode", Integer),
    Column("resolution", String(16)),
    Column("video_codec", String(32)),
    Column("audio", String(64)),
    Column("media_source", String(32)),
    Column("release_group", String(128)),
    Column("languages", String(128)),
    Column("imdb_id", String(16)),
    Column("tmdb_id", Integer),
    Column("tvdb_id", Integer),
    Column("anilist_id", Integer),
    Column("mal_id", Integer),
    Column("musicbrainz_id", String(36)),
    Column("enriched_by", Text),  # which service matched, its id and confidence: the "why"
    Column("published_at", UtcDateTime),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("seeders", Integer),
    Column("leechers", Integer),
    Column("trackers", Text),
    Column("description", Text),
    Index("ix_torrents_last_seen", "last_seen"),
    Index("ix_torrents_imdb_id", "imdb_id"),
    Index("ix_torrents_tmdb_id", "tmdb_id"),
    Index("ix_torrents_tvdb_id", "tvdb_id"),
)

files = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "info_hash",
        String(40),
        ForeignKey("torrents.info_hash", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Index("ix_files_info_hash", "info_hash"),
)

sightings = Table(
    "sightings",
    metadata,
    Column("source", String(64), primary_key=True),
    Column(
        "info_hash",
        String(40),
        ForeignKey("torrents.info_hash", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("source_url", Text),
    Column("seeders", Integer),
    Column("leechers", Integer),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    Column("category", String(64)),  # the source's own label, input to re-classification
    Column("details_at", UtcDateTime),  # when the source's detail page was last read
    Index("ix_sightings_info_hash", "info_hash"),
    Index("ix_sightings_source_source_url", "source", "source_url"),
)

feeds = Table(
    "feeds",
    metadata,
    Column("name", String(48), primary_key=True),  # the source is "feed:<name>"
    Column("url", Text, nullable=False),
    Column("every_s", Float, nullable=False),
    Column("origin", String(16), nullable=False),  # "settings" or "api"
    Column("added_at", UtcDateTime, nullable=False),
    Column("last_seen_guid", Text),  # the newest item of the last poll: a poll stops there
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_polled_at", UtcDateTime),
)

metainfo = Table(
    "metainfo",
    metadata,
    Column(
        "info_hash",
        String(40),
        ForeignKey("torrents.info_hash", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("data", LargeBinary, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

crawler_status = Table(
    "crawler_status",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("last_heartbeat", UtcDateTime),
    Column("last_error", Text),
    Column("items_new", BigInteger, nullable=False, default=0),
    Column("items_total", BigInteger, nullable=False, default=0),
    Column("next_run_at", UtcDateTime),
    Column("enabled", Boolean, nullable=False, default=True),  # False: stopped by the user
    Column("message", Text),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("last_duration_s", Float),
    Column("items_seen", BigInteger, nullable=False, default=0),
    Column("runs", BigInteger, nullable=False, default=0),
    Column("consecutive_failures", Integer, nullable=False, default=0),
)
"""One row per source: the scheduler's `CrawlerStatus`, so a restart keeps totals and choices."""

feed_state = Table(
    "feed_state",
    metadata,
    Column("feed", String(128), primary_key=True),
    Column("url", Text, nullable=False),
    Column("last_seen_guid", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_polled_at", UtcDateTime),
    Column("last_error", Text),
)

source_state = Table(
    "source_state",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("data", Text, nullable=False),  # one JSON object: a watermark, a cursor, figures
    Column("updated_at", UtcDateTime, nullable=False),
)
"""What a source keeps between runs that is not a torrent: the Bitmagnet bridge's watermark,
the DHT's last figures."""

index_outbox = Table(
    "index_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("info_hash", String(40), nullable=False),
    Column("queued_at", UtcDateTime, nullable=False),
)

ingest_counts = Table(
    "ingest_counts",
    metadata,
    Column("minute", UtcDateTime, primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("created", BigInteger, nullable=False, default=0),
    Column("updated", BigInteger, nullable=False, default=0),
)

enrich_queue = Table(
    "enrich_queue",
    metadata,
    Column(
        "info_hash",
        String(40),
        ForeignKey("torrents.info_hash", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("queued_at", UtcDateTime, nullable=False),
    Index("ix_enrich_queue_queued_at", "queued_at"),
)
"""Torrents waiting for a metadata lookup: filled by the writer when a torrent gets a kind."""

enrich_cache = Table(
    "enrich_cache",
    metadata,
    Column("service", String(16), primary_key=True),
    Column("lookup_key", String(512), primary_key=True),
    Column("match", Text),  # the Match as JSON; NULL = looked up, nothing confident
    Column("fetched_at", UtcDateTime, nullable=False),
)
"""Every lookup a service answered, so the same title is never asked twice."""

site_mirrors = Table(
    "site_mirrors",
    metadata,
    Column("site", String(64), primary_key=True),
    Column("url", String(512), primary_key=True),
    Column("position", Integer, nullable=False),  # order in the site's config, 0 first
    Column("online", Boolean),  # NULL until the first check
    Column("latency_ms", Float),
    Column("checked_at", UtcDateTime),
    Column("last_error", Text),
    Column("blocked", Text),  # "challenge: ..." / "parked: ...": it answers, but not as the site
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("chosen", Boolean, nullable=False, default=False),
)
"""Each site's configured mirrors, their last health and the one crawls use (`chosen`)."""

mirror_checks = Table(
    "mirror_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("url", String(512), nullable=False),
    Column("checked_at", UtcDateTime, nullable=False),
    Column("online", Boolean, nullable=False),
    Column("latency_ms", Float),
    Column("status", Integer),
    Column("error", Text),
    Column("blocked", Text),
    Index("ix_mirror_checks_site_url_checked_at", "site", "url", "checked_at"),
)
"""Recent health checks per mirror (the last few, pruned on write), for "why this mirror"."""

live_searches = Table(
    "live_searches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("query", String(200), nullable=False),  # normalized: lowercase, spaces collapsed
    Column("source", String(64), nullable=False),
    Column("searched_at", UtcDateTime, nullable=False),
    Column("results", Integer, nullable=False, default=0),  # records the source returned
    Column("new", Integer, nullable=False, default=0),  # of those, new to the index
    Column("duration_s", Float, nullable=False),
    Column("error", Text),  # NULL: the source answered
    Column("late", Boolean, nullable=False, default=False),  # ended after the answer was sent
    Index("ix_live_searches_query_source_searched_at", "query", "source", "searched_at"),
    Index("ix_live_searches_searched_at", "searched_at"),
)
"""The query log of live searches: one row per source asked (pruned to the newest on write)."""
