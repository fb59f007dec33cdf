"""AniList (GraphQL) for anime: romaji, English and native titles, episodes, AniList and MAL ids.

One fixed query document; the title travels only in `variables`, so nothing a
torrent title holds can change the query. Candidates are scored against every name
AniList knows (romaji, English, native, synonyms): fansub releases use romaji,
others the English title. No key is needed.
https://docs.anilist.co/guide/graphql/  and  .../guide/rate-limiting
"""

from __future__ import annotations

import logging

import httpx

from engine.enrich.base import LookupRequest, Match
from engine.enrich.http import check_status, decode_json, guarded_call
from engine.enrich.matching import (
    Scored,
    best_title_similarity,
    confidence,
    normalize_title,
    pick_confident,
    query_text,
)
from engine.enrich.ratelimit import RateLimiter
from engine.enrich.shape import as_dict, member, members, opt_dict, opt_int, opt_str, str_list
from engine.errors import ServiceUnavailable, UnexpectedResponse
from engine.models import ContentKind

log = logging.getLogger(__name__)

SERVICE = "anilist"
ANILIST_API = "https://graphql.anilist.co"
PER_PAGE = 10

SEARCH_QUERY = """
query ($search: String!, $perPage: Int!) {
  Page(page: 1, perPage: $perPage) {
    media(search: $search, type: ANIME, sort: SEARCH_MATCH) {
      id
      idMal
      format
      episodes
      seasonYear
      startDate { year }
      title { romaji english native }
      synonyms
    }
  }
}
""".strip()
"""Constant: user text goes in the variables only."""

_NEAR_KINDS = {"MUSIC": 0.5}  # a music video is not the anime a torrent is named after


class AnilistEnricher:
    """Anime ids (AniList, MyAnimeList) and titles from AniList.

    Args:
        client: an httpx client from `engine.enrich.http.make_client` (the caller closes it).
        url: AniList's GraphQL endpoint.
        limiter: defaults to 30 requests/min, AniList's limit while degraded (90 normally).
    """

    service = SERVICE
    kinds = frozenset({ContentKind.ANIME})

    def __init__(
        self,
        *,
        client: httpx.Client,
        url: str = ANILIST_API,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._client = client
        self._url = url
        self._limiter = limiter or RateLimiter(0.5)

    @property
    def limiter(self) -> RateLimiter:
        """The limiter pacing this service's requests."""
        return self._limiter

    def lookup(self, request: LookupRequest) -> Match | None:
        """The confident AniList match for an anime title (see `Enricher.lookup`)."""
        if request.kind not in self.kinds:
            raise ValueError(f"AniList looks up anime, not {request.kind}")
        search = query_text(request.title)
        if not normalize_title(search):
            return None
        media = self._search(search)
        scored = [s for s in (_score(request, m) for m in media) if s is not None]
        best = pick_confident(scored)
        if best is None:
            return None
        return _match(best)

    def _search(self, search: str) -> list[object]:
        body = {"query": SEARCH_QUERY, "variables": {"search": search, "perPage": PER_PAGE}}
        response = guarded_call(
            SERVICE, self._limiter, lambda: self._client.post(self._url, json=body)
        )
        # GraphQL errors come as {"errors": [...]} with a 4xx; 429 and 5xx are HTTP's.
        if response.status_code == 400:
            raise UnexpectedResponse(SERVICE, f"refused the query: {_first_error(response)}")
        if response.status_code in (401, 403):
            # No key to fix: AniList answers 403 while its API is switched off. Pause.
            raise ServiceUnavailable(
                SERVICE, f"HTTP {response.status_code}: refused: {_first_error(response)}"
            )
        check_status(SERVICE, response, limiter=self._limiter)
        answer = as_dict(SERVICE, decode_json(SERVICE, response), "answer")
        if answer.get("errors"):
            raise UnexpectedResponse(SERVICE, f"answered with errors: {_first_error(response)}")
        page = member(SERVICE, member(SERVICE, answer, "data", "answer"), "Page", "data")
        return members(SERVICE, page, "media", "Page")


def _score(request: LookupRequest, raw: object) -> Scored[dict[str, object]] | None:
    """The candidate's confidence, or None for an entry without an id or a title."""
    media = raw if isinstance(raw, dict) else {}
    anilist_id = opt_int(media, "id")
    titles = opt_dict(media, "title")
    names = [opt_str(titles, k) for k in ("romaji", "english", "native")]
    if anilist_id is None or not any(names):
        log.debug("anilist: an entry without id or title skipped")
        return None
    similarity = best_title_similarity(request.title, [*names, *str_list(media, "synonyms")])
    year = opt_int(opt_dict(media, "startDate"), "year") or opt_int(media, "seasonYear")
    score = confidence(
        request.kind,
        title=similarity,
        wanted_year=request.year,
        found_year=year,
        kind_agreement=_NEAR_KINDS.get(opt_str(media, "format") or "", 1.0),
    )
    return Scored(score, anilist_id, media)


def _match(best: Scored[dict[str, object]]) -> Match:
    media = best.candidate
    titles = opt_dict(media, "title")
    romaji, english, native = (opt_str(titles, k) for k in ("romaji", "english", "native"))
    title = romaji or english or native or ""
    alt: list[str] = []
    for name in (english, native, *(s.strip() for s in str_list(media, "synonyms"))):
        if name and name != title and name not in alt:
            alt.append(name)
    return Match(
        service=SERVICE,
        confidence=best.confidence,
        title=title,
        year=opt_int(opt_dict(media, "startDate"), "year") or opt_int(media, "seasonYear"),
        anilist_id=opt_int(media, "id"),
        mal_id=opt_int(media, "idMal"),
        episodes=opt_int(media, "episodes"),
        alt_titles=tuple(alt),
    )


def _first_error(response: httpx.Response) -> str:
    """AniList's first error message, cut short (it is shown to people and logged)."""
    try:
        errors = as_dict(SERVICE, response.json(), "answer").get("errors")
    except (ValueError, UnexpectedResponse):
        return f"HTTP {response.status_code}"
    first = errors[0] if isinstance(errors, list) and errors else None
    message = first.get("message") if isinstance(first, dict) else None
    return str(message)[:200] if message else f"HTTP {response.status_code}"
