"""Domain records shared by every layer: frozen dataclasses, no ORM rows, no raw JSON.

What lives here is the vocabulary the server and the GUI speak with the engine
(`engine.services`). Records are immutable so they can cross threads freely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

ProgressCallback = Callable[[int, int], None]
"""Long jobs (reindex, reclassify) report (done, total) through one of these."""


class ContentKind(StrEnum):
    """What a torrent holds; decides its Torznab category and how people filter."""

    MOVIE = "movie"
    TV = "tv"
    ANIME = "anime"
    MUSIC = "music"
    AUDIOBOOK = "audiobook"
    EBOOK = "ebook"
    COMIC = "comic"
    SOFTWARE = "software"
    GAME = "game"
    XXX = "xxx"
    OTHER = "other"


LOOKED_UP_KINDS: frozenset[ContentKind] = frozenset(
    {ContentKind.MOVIE, ContentKind.TV, ContentKind.ANIME, ContentKind.MUSIC}
)
"""Kinds that enrichment looks up (TMDb, AniList, MusicBrainz); no service knows the rest."""


class SortOrder(StrEnum):
    """Result orders offered by every search backend."""

    RELEVANCE = "relevance"  # then seeders, then recency
    SEEDERS = "seeders"
    SIZE = "size"
    DATE = "date"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileEntry:
    """One file inside a torrent (padding files already removed)."""

    path: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RawRecord:
    """A sighting as a source or an ingest client reported it, before normalization.

    `info_hash` may be hex or base32, or missing when `magnet` carries it; sizes
    and times are as received. `engine.normalize` turns it into a `TorrentRecord`.
    """

    source: str
    title: str
    info_hash: str | None = None
    magnet: str | None = None
    size: int | None = None
    seeders: int | None = None
    leechers: int | None = None
    source_url: str | None = None
    category: str | None = None
    published_at: datetime | None = None
    files: tuple[FileEntry, ...] = ()
    description: str | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    trackers: tuple[str, ...] = ()
    metainfo: bytes | None = None
    details_read: bool = False
    """The source read its detail page for this record (HTML crawlers skip it for a while)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TorrentRecord:
    """One normalized sighting: 40-hex lowercase info hash, UTC times, checked sizes."""

    info_hash: str
    title: str
    source: str
    seen_at: datetime
    size: int | None = None
    seeders: int | None = None
    leechers: int | None = None
    source_url: str | None = None
    category: str | None = None
    published_at: datetime | None = None
    files: tuple[FileEntry, ...] = ()
    description: str | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    trackers: tuple[str, ...] = ()
    metainfo: bytes | None = None
    details_read: bool = False
    """The source read its detail page for this record (HTML crawlers skip it for a while)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """What the classifier decided about a title (and its files), and why."""

    kind: ContentKind
    category: int
    reason: str
    year: int | None = None
    season: int | None = None
    episode: int | None = None
    resolution: str | None = None
    video_codec: str | None = None
    audio: str | None = None
    media_source: str | None = None
    release_group: str | None = None
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassifiedRecord:
    """A normalized record with its classification: what the writer stores."""

    record: TorrentRecord
    classification: Classification | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sighting:
    """Where and when one source last reported a torrent, with that source's swarm figures."""

    source: str
    source_url: str | None
    seeders: int | None
    leechers: int | None
    seen_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TorrentSummary:
    """A torrent as a search hit shows it (no files, no sightings)."""

    info_hash: str
    title: str
    size: int | None
    file_count: int
    kind: ContentKind | None
    category: int | None
    seeders: int | None
    leechers: int | None
    published_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    year: int | None = None
    season: int | None = None
    episode: int | None = None
    resolution: str | None = None
    video_codec: str | None = None
    audio: str | None = None
    media_source: str | None = None
    release_group: str | None = None
    languages: tuple[str, ...] = ()
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    anilist_id: int | None = None
    mal_id: int | None = None
    musicbrainz_id: str | None = None  # release-group MBID
    enriched_by: str | None = None  # "tmdb 603 (0.97)": which lookup set the ids above
    sources: tuple[str, ...] = ()
    magnet: str = ""  # with the title as `dn` and every known tracker
    has_metainfo: bool = False  # Minato keeps the .torrent file and can serve it


@dataclass(frozen=True, slots=True, kw_only=True)
class Torrent:
    """Everything known about one torrent: summary, files, sightings, trackers."""

    summary: TorrentSummary
    files: tuple[FileEntry, ...]
    sightings: tuple[Sighting, ...]
    trackers: tuple[str, ...]
    description: str | None

    @property
    def has_metainfo(self) -> bool:
        """Minato keeps the .torrent file (the summary knows)."""
        return self.summary.has_metainfo

    @property
    def magnet(self) -> str:
        """The magnet with `dn` and every known tracker (the summary's)."""
        return self.summary.magnet


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchQuery:
    """A search as every backend understands it.

    `text` words must all match; the last word also matches as a prefix. A
    category that is a multiple of 1000 (2000 Movies) also matches its
    subcategories (2040 Movies/HD), as Torznab clients expect.
    """

    text: str = ""
    kinds: tuple[ContentKind, ...] = ()
    categories: tuple[int, ...] = ()
    year: int | None = None
    season: int | None = None
    episode: int | None = None
    resolution: str | None = None
    source: str | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    sort: SortOrder = SortOrder.RELEVANCE
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexDocument:
    """What the search index holds for one torrent (derived from the database)."""

    info_hash: str
    title: str
    files_text: str = ""
    kind: str | None = None
    category: int | None = None
    year: int | None = None
    season: int | None = None
    episode: int | None = None
    resolution: str | None = None
    sources: tuple[str, ...] = ()
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    seeders: int = 0
    size: int = 0
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IndexHit:
    """One match from the search index: the key to hydrate from the database."""

    info_hash: str
    score: float


@dataclass(frozen=True, slots=True)
class IndexPage:
    """A page of index matches and the total number of matches."""

    total: int
    hits: tuple[IndexHit, ...]


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Size and identity of a search backend, for `minato` status views."""

    backend: str
    documents: int
    location: str


class LiveMode(StrEnum):
    """Whether a search may ask the sites live (search-through) besides the local index."""

    OFF = "off"
    """The index only (the JSON API's default, the GUI's typing)."""
    AUTO = "auto"
    """The sites too when the index is thin for the query or the last live ask is stale."""
    ALWAYS = "always"
    """The sites every time (`minato search --live`)."""


class LiveStatus(StrEnum):
    """How one source's part of a live search ended; the value is what APIs show."""

    ANSWERED = "answered"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Its breaker is open: nothing was sent."""
    TIMED_OUT = "timed_out"
    """A deadline passed: the answer went without it; it goes on in the background."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOutcome:
    """One source's part of a live search, as it arrived."""

    source: str
    status: LiveStatus
    results: int = 0
    """Records the source returned."""
    new: int = 0
    """Of those, torrents new to the index."""
    duration_s: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of search results, hydrated from the database."""

    total: int
    hits: tuple[TorrentSummary, ...]
    live_text: str | None = None
    """The text the sites were asked, when the search went live; None: the index alone."""
    live: tuple[SourceOutcome, ...] = ()
    """Each source's outcome, in the order they arrived (empty unless it went live)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one record was refused: its `index` in the request, `error` as 'field: reason'."""

    index: int
    error: str


@dataclass(frozen=True, slots=True)
class IngestReport:
    """The answer to an ingest: counts, plus each rejected record with its reason."""

    created: int = 0
    updated: int = 0
    rejected: tuple[Rejection, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyInfo:
    """An API key as listings show it: never the secret, only its prefix."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewApiKey:
    """A freshly created key; `secret` is shown once and never stored in clear."""

    info: ApiKeyInfo
    secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineHealth:
    """What `/api/health` reports."""

    version: str
    database: str
    search_backend: str
    torrents: int
    index_backlog: int
    enrich_backlog: int = 0
    enrichment: tuple[EnricherStatus, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexActivity:
    """The monitor's figures: new torrents per minute, totals by kind and by source."""

    per_minute: tuple[tuple[datetime, int], ...]
    """(minute, torrents new to the index), oldest first; quiet minutes are absent."""
    by_kind: tuple[tuple[str, int], ...]
    """(kind, torrents), most first; "unclassified" for those without a kind."""
    by_source: tuple[tuple[str, int], ...]
    """(source, torrents it reported), most first."""
    torrents: int
    index_backlog: int


@dataclass(frozen=True, slots=True)
class EnricherStatus:
    """How one enrichment service is doing: "ok", "paused" (for a while) or "off" (until fixed)."""

    service: str
    state: str
    detail: str = ""
