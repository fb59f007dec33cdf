"""MusicBrainz (WS/2) for music: the release group (an album, all editions) by artist and title.

MusicBrainz asks every client for at most one request a second and a User-Agent
naming the application and a contact ("Minato/0.1.0 ( https://... )"); it answers
503 to clients over the limit and blocks anonymous ones, so the default limiter is
1 request/s and a lookup without a contact is refused before any request.
https://musicbrainz.org/doc/MusicBrainz_API/Rate_Limiting

The search is Lucene syntax; titles are quoted as phrases with every special
character escaped, so "AC/DC" or "Sunn O)))" cannot change the query.
https://musicbrainz.org/doc/MusicBrainz_API/Search#Release_Group
"""

from __future__ import annotations

import logging

import httpx

from engine.classify.credits import split_credit
from engine.enrich.base import LookupRequest, Match
from engine.enrich.http import check_status, decode_json, guarded_call, user_agent
from engine.enrich.matching import (
    Scored,
    best_title_similarity,
    confidence,
    normalize_title,
    pick_confident,
    query_text,
)
from engine.enrich.ratelimit import RateLimiter
from engine.enrich.shape import as_dict, members, opt_dict, opt_str, year_of
from engine.errors import ServiceNotConfigured
from engine.models import ContentKind

log = logging.getLogger(__name__)

SERVICE = "musicbrainz"
MUSICBRAINZ_API = "https://musicbrainz.org/ws/2"
CONTACT_FIX = "MusicBrainz needs a contact URL or e-mail for the User-Agent; configure one"
LIMIT = 10

_LUCENE_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/')
_ALBUM_TYPES = frozenset({"album", "ep"})
_RATE_LIMIT_STATUSES = frozenset({429, 503})  # MusicBrainz answers 503 to clients over the limit


def lucene_phrase(text: str) -> str:
    """`text` as a quoted Lucene phrase, every special character backslash-escaped.

    https://lucene.apache.org/core/4_3_0/queryparser/org/apache/lucene/queryparser/classic/package-summary.html#Escaping_Special_Characters
    """
    escaped = "".join(f"\\{c}" if c in _LUCENE_SPECIAL else c for c in text)
    return f'"{escaped}"'


def release_group_query(*, album: str, artist: str | None) -> str:
    """The Lucene query for a release group by title, and by artist when known."""
    query = f"releasegroup:{lucene_phrase(album)}"
    if artist:
        query += f" AND artist:{lucene_phrase(artist)}"
    return query


class MusicBrainzEnricher:
    """Release-group ids (MBIDs, what Lidarr searches by) from MusicBrainz.

    Args:
        client: an httpx client from `engine.enrich.http.make_client` (the caller closes it).
        base_url: the WS/2 root.
        contact: a URL or e-mail MusicBrainz can reach the operator at; required.
        limiter: defaults to 1 request/s, MusicBrainz's limit.
    """

    service = SERVICE
    kinds = frozenset({ContentKind.MUSIC})

    def __init__(
        self,
        *,
        client: httpx.Client,
        base_url: str = MUSICBRAINZ_API,
        contact: str,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._contact = contact.strip()
        self._limiter = limiter or RateLimiter(1.0)

    @property
    def limiter(self) -> RateLimiter:
        """The limiter pacing this service's requests."""
        return self._limiter

    def lookup(self, request: LookupRequest) -> Match | None:
        """The confident release group for "Artist - Album" (see `Enricher.lookup`)."""
        if request.kind not in self.kinds:
            raise ValueError(f"MusicBrainz looks up music, not {request.kind}")
        if not self._contact:
            raise ServiceNotConfigured(SERVICE, CONTACT_FIX)
        artist, album = request.artist, request.album
        if not album:
            pair = split_credit(request.title)
            artist, album = pair if pair else (None, request.title)
        album = query_text(album)
        artist = query_text(artist) if artist and normalize_title(artist) else None
        if not normalize_title(album):
            return None
        groups = self._search(release_group_query(album=album, artist=artist))
        scored = [s for s in (_score(request, album, artist, g) for g in groups) if s is not None]
        best = pick_confident(scored)
        return None if best is None else _match(best)

    def _search(self, query: str) -> list[object]:
        params = {"query": query, "limit": str(LIMIT), "fmt": "json"}
        response = guarded_call(
            SERVICE,
            self._limiter,
            lambda: self._client.get(
                f"{self._base_url}/release-group/",
                params=params,
                headers={"User-Agent": user_agent(self._contact)},
            ),
        )
        check_status(
            SERVICE,
            response,
            limiter=self._limiter,
            rate_limit_statuses=_RATE_LIMIT_STATUSES,
            auth_fix=CONTACT_FIX,
        )
        answer = as_dict(SERVICE, decode_json(SERVICE, response), "answer")
        return members(SERVICE, answer, "release-groups", "answer")


def _credit(group: dict[str, object]) -> tuple[str, list[str]]:
    """The artist credit as printed ("Simon & Garfunkel") and each credited name."""
    printed: list[str] = []
    names: list[str] = []
    credits = group.get("artist-credit")
    for raw in credits if isinstance(credits, list) else []:
        credit = raw if isinstance(raw, dict) else {}
        artist = opt_dict(credit, "artist")
        name = opt_str(credit, "name") or opt_str(artist, "name")
        if name:
            join = credit.get("joinphrase")
            printed.append(name + (join if isinstance(join, str) else ""))
            names.extend(n for n in (opt_str(artist, "name"), opt_str(artist, "sort-name")) if n)
    return "".join(printed).strip(), names


def _score(
    request: LookupRequest, album: str, artist: str | None, raw: object
) -> Scored[dict[str, object]] | None:
    group = raw if isinstance(raw, dict) else {}
    mbid, title = opt_str(group, "id"), opt_str(group, "title")
    if mbid is None or title is None:
        log.debug("musicbrainz: a release group without id or title skipped")
        return None
    similarity = best_title_similarity(album, [title])
    if artist:
        printed, names = _credit(group)
        similarity = (similarity + best_title_similarity(artist, [printed, *names])) / 2
    primary = (opt_str(group, "primary-type") or "").casefold()
    score = confidence(
        request.kind,
        title=similarity,
        wanted_year=request.year,
        found_year=year_of(opt_str(group, "first-release-date")),
        kind_agreement=1.0 if primary in _ALBUM_TYPES else 0.5,
    )
    return Scored(score, mbid, group)


def _match(best: Scored[dict[str, object]]) -> Match:
    group = best.candidate
    title = opt_str(group, "title") or ""
    printed, _ = _credit(group)
    return Match(
        service=SERVICE,
        confidence=best.confidence,
        title=title,
        year=year_of(opt_str(group, "first-release-date")),
        musicbrainz_id=opt_str(group, "id"),
        alt_titles=(f"{printed} - {title}",) if printed else (),
    )
