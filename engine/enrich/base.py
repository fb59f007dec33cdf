"""What every enrichment service shares: the request, the match, the `Enricher` role.

A lookup asks one service about one parsed title. It answers a `Match` (confident,
with the ids Sonarr/Radarr/Lidarr search by), or None ("looked, nothing confident":
cacheable like a match), or raises an `EnrichmentError` (engine.errors) saying
whether to wait, pause or fix the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Final, Protocol, TypeVar

from engine.enrich.matching import normalize_title
from engine.models import ContentKind

T = TypeVar("T")

NAME_ID_ORDER: Final = {
    ContentKind.TV: ("tvdb", "tmdb", "imdb"),
    ContentKind.MOVIE: ("imdb", "tmdb", "tvdb"),
}
"""Which id naming a show or movie is tried first: the one each kind's *arr searches by.

Sonarr's shows are keyed by TVDB id, Radarr's movies by IMDb id; TMDb ids are next
(unambiguous once the kind is known); an IMDb id for a show, a TVDB id for a movie last.
"""

_MATCH_FORMAT = 1  # bump when Match.to_json changes, so old cache rows read as unusable


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupRequest:
    """One question to a service, from a torrent's parsed title.

    For music, `title` is the whole "Artist - Album" part and `artist`/`album` are
    its halves when it splits (see `split_credit`).
    """

    kind: ContentKind
    title: str
    year: int | None = None
    imdb_id: str | None = None
    artist: str | None = None
    album: str | None = None

    def cache_key(self) -> str:
        """A stable key: kind, normalized title, year, and any ids or halves given.

        Two torrents with the same key get the same answer from a service, so the
        normalization is the one matching uses (casefold, accents and punctuation
        gone, spaces collapsed): "The.Matrix" and "the matrix" share a key.
        """
        parts = [self.kind.value, normalize_title(self.title), str(self.year or "")]
        if self.imdb_id:
            parts.append(f"imdb={self.imdb_id.strip().casefold()}")
        if self.artist or self.album:
            parts.append(f"artist={normalize_title(self.artist or '')}")
            parts.append(f"album={normalize_title(self.album or '')}")
        return "|".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A confident answer: the service's canonical title and every id it gave."""

    service: str
    confidence: float
    title: str
    year: int | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    anilist_id: int | None = None
    mal_id: int | None = None
    musicbrainz_id: str | None = None
    episodes: int | None = None
    alt_titles: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict for the cache, with a format number."""
        data: dict[str, object] = {"format": _MATCH_FORMAT}
        for f in fields(self):
            value = getattr(self, f.name)
            data[f.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Match:
        """The inverse of `to_json`.

        Raises:
            ValueError: the data is of another format (an older cache row).
            TypeError: a field has the wrong type (a damaged cache row).
        """
        if data.get("format") != _MATCH_FORMAT:
            raise ValueError(f"match of format {data.get('format')!r}, not {_MATCH_FORMAT}")
        service, title, confidence = data.get("service"), data.get("title"), data.get("confidence")
        if not isinstance(service, str) or not isinstance(title, str):
            raise TypeError("match without a service or title")
        if not isinstance(confidence, int | float) or isinstance(confidence, bool):
            raise TypeError("match without a numeric confidence")
        alt = data.get("alt_titles", [])
        if not isinstance(alt, list) or not all(isinstance(t, str) for t in alt):
            raise TypeError("match alt_titles is not a list of strings")
        return cls(
            service=service,
            confidence=float(confidence),
            title=title,
            year=_opt(data, "year", int),
            imdb_id=_opt(data, "imdb_id", str),
            tmdb_id=_opt(data, "tmdb_id", int),
            tvdb_id=_opt(data, "tvdb_id", int),
            anilist_id=_opt(data, "anilist_id", int),
            mal_id=_opt(data, "mal_id", int),
            musicbrainz_id=_opt(data, "musicbrainz_id", str),
            episodes=_opt(data, "episodes", int),
            alt_titles=tuple(alt),
        )


class Enricher(Protocol):
    """A metadata service client: blocking, thread-safe, paced by its own rate limiter."""

    service: str
    kinds: frozenset[ContentKind]

    def lookup(self, request: LookupRequest) -> Match | None:
        """The confident match for `request`, or None when nothing is confident.

        Raises:
            RateLimited: wait `retry_after` seconds (the limiter already holds back).
            ServiceUnavailable: offline, timeout, 5xx: pause this service and retry later.
            ServiceNotConfigured: missing or rejected key: off until the settings change.
            UnexpectedResponse: the answer to this lookup was unusable; skip it.
            ValueError: `request.kind` is not one of `kinds` (a caller's bug).
        """
        ...


def _opt(data: Mapping[str, object], key: str, kind: type[T]) -> T | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"match field {key} is a {type(value).__name__}, not {kind.__name__}")
    return value
