"""TMDb (API v3) for movies and TV, through tmdbsimple with httpx carrying the requests.

tmdbsimple builds the calls (paths, parameters, the api_key); every object it makes
is bound by `_bind` to our `httpx.Client` (`.session`), base URL (`.base_uri`) and
timeout, so no request ever goes through `requests`, tmdbsimple's own dependency.
What it does on the session is `session.request(method, url, params=, data=,
headers=, timeout=)`, `.raise_for_status()`, `.encoding = "utf-8"`, `.json()`:
httpx answers all four.

One key per process: tmdbsimple reads the key from its module global
`tmdbsimple.API_KEY` at request time. Each lookup sets it to this enricher's key,
so two enrichers with different keys in one process would race; Minato builds one.

Movies: `find` by IMDb id when the source gave one, else `search/movie` (query,
year), the best confident candidate, then its details (imdb_id, alternative titles).
TV: `search/tv` (query, first_air_date_year), then `tv/{id}/external_ids` for the
tvdb and imdb ids Sonarr searches by. Anime goes to AniList, not here.

Names by id (`name_by_id`, for live searches Sonarr and Radarr send by id only):
`find/{id}?external_source=tvdb_id|imdb_id`, or `tv/{id}` / `movie/{id}` for a TMDb id.
https://developer.themoviedb.org/reference/intro/getting-started
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import tmdbsimple  # type: ignore[import-untyped]  # no type hints; answers are checked below

from engine.enrich.base import NAME_ID_ORDER, LookupRequest, Match
from engine.enrich.http import fail_shape, guard_httpx_log, guarded_call
from engine.enrich.matching import (
    Scored,
    best_title_similarity,
    confidence,
    id_confidence,
    normalize_title,
    pick_confident,
    query_text,
)
from engine.enrich.ratelimit import RateLimiter
from engine.enrich.shape import as_dict, members, opt_dict, opt_int, opt_str, year_of
from engine.errors import ServiceNotConfigured, ServiceUnavailable
from engine.models import ContentKind

log = logging.getLogger(__name__)

SERVICE = "tmdb"
TMDB_API = "https://api.themoviedb.org/3"
KEY_FIX = "check [enrich] tmdb_api_key (a free key: https://www.themoviedb.org/settings/api)"
_IMDB_ID = re.compile(r"tt\d{7,10}")  # goes into a URL path: nothing else may pass
_MAX_ID = 2**31 - 1  # TMDb and TVDB ids are int32 (and so are our columns)


@dataclass(frozen=True, slots=True)
class _Row:
    """A search or find result with its TMDb id checked."""

    tmdb_id: int
    data: dict[str, object]


class TmdbEnricher:
    """Movie and TV ids (TMDb, IMDb, TVDB) from TMDb.

    Args:
        api_key: the user's TMDb v3 API key; empty means "not configured".
        client: an httpx client from `engine.enrich.http.make_client` (the caller closes it).
        base_url: TMDb's API root, version included.
        limiter: defaults to 10 requests/s (TMDb allows about 50/s per IP; we are
            a background job and leave room to the user's other TMDb clients).
    """

    service = SERVICE
    kinds = frozenset({ContentKind.MOVIE, ContentKind.TV})

    def __init__(
        self,
        api_key: str,
        *,
        client: httpx.Client,
        base_url: str = TMDB_API,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._api_key = api_key.strip()
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._limiter = limiter or RateLimiter(10.0, burst=5)
        guard_httpx_log()  # the key travels in the query, which httpx logs at INFO

    @property
    def limiter(self) -> RateLimiter:
        """The limiter pacing this service's requests."""
        return self._limiter

    def __repr__(self) -> str:  # never the key
        return f"TmdbEnricher(base_url={self._base_url!r})"

    def lookup(self, request: LookupRequest) -> Match | None:
        """The confident TMDb match for a movie or TV title (see `Enricher.lookup`)."""
        if request.kind not in self.kinds:
            raise ValueError(f"TMDb looks up movies and TV, not {request.kind}")
        if not self._api_key:
            raise ServiceNotConfigured(SERVICE, f"no API key; {KEY_FIX}")
        imdb_id = (request.imdb_id or "").strip().lower()
        if _IMDB_ID.fullmatch(imdb_id):
            found = self._find(request, imdb_id)
            if found is not None:
                return found
        query = query_text(request.title)
        if not normalize_title(query):
            return None
        if request.kind is ContentKind.MOVIE:
            return self._search_movie(request, query)
        return self._search_tv(request, query)

    def name_by_id(
        self,
        kind: ContentKind,
        *,
        imdb_id: str | None = None,
        tmdb_id: int | None = None,
        tvdb_id: int | None = None,
    ) -> Match | None:
        """The title (and year, ids) TMDb gives the show or movie with one of these ids.

        For Torznab searches by id only: torrent sites search by text, so the id must
        become a name first. The answer is exact, not scored (confidence 1.0). With
        several ids, they are asked in `NAME_ID_ORDER`; the next one only when TMDb
        does not know the previous one.

        Returns:
            None when TMDb knows none of the ids as a `kind` (a 404, or no such result).

        Raises:
            ValueError: `kind` is not movie or TV, no id given, or a malformed id
                (`imdb_id` must be normalized: "tt" and 7 to 10 digits).
            EnrichmentError: as `lookup` (wait, pause, fix the settings, or unusable).
        """
        if kind not in self.kinds:
            raise ValueError(f"TMDb names movies and TV, not {kind}")
        asks: dict[str, Callable[[], Match | None]] = {}
        if tvdb_id is not None:
            tvdb = _checked_id(tvdb_id, "tvdb_id")
            asks["tvdb"] = lambda: self._name_found(kind, "tvdb_id", str(tvdb), tvdb_id=tvdb)
        if tmdb_id is not None:
            tmdb = _checked_id(tmdb_id, "tmdb_id")
            asks["tmdb"] = lambda: self._name_details(kind, tmdb)
        if imdb_id is not None:
            if not isinstance(imdb_id, str) or not _IMDB_ID.fullmatch(imdb_id):
                raise ValueError(f"imdb_id must look like tt0133093, got {str(imdb_id)[:20]!r}")
            imdb = imdb_id
            asks["imdb"] = lambda: self._name_found(kind, "imdb_id", imdb, imdb_id=imdb)
        if not asks:
            raise ValueError("name_by_id needs an imdb_id, tmdb_id or tvdb_id")
        if not self._api_key:
            raise ServiceNotConfigured(SERVICE, f"no API key; {KEY_FIX}")
        for which in NAME_ID_ORDER[kind]:
            if which in asks:
                found = asks[which]()
                if found is not None:
                    return found
        return None

    def _name_found(
        self,
        kind: ContentKind,
        source: str,
        external_id: str,
        *,
        imdb_id: str | None = None,
        tvdb_id: int | None = None,
    ) -> Match | None:
        """`find/{id}`: the first result of `kind` (TMDb maps an external id to one title)."""
        answer = self._get_found(
            lambda: self._bind(tmdbsimple.Find(external_id)).info(external_source=source)
        )
        if answer is None:
            return None
        key = "movie_results" if kind is ContentKind.MOVIE else "tv_results"
        for raw in members(SERVICE, answer, key, "find"):
            row = raw if isinstance(raw, dict) else {}
            found = _named(kind, row, imdb_id=imdb_id, tvdb_id=tvdb_id)
            if found is not None:
                return found
            log.debug("tmdb: a find result without id or title skipped")
        return None

    def _name_details(self, kind: ContentKind, tmdb_id: int) -> Match | None:
        """`tv/{id}` (with its external ids) or `movie/{id}`; a 404 means no such id."""
        if kind is ContentKind.MOVIE:
            answer = self._get_found(lambda: self._bind(tmdbsimple.Movies(tmdb_id)).info())
            if answer is None:
                return None
            found = _named(kind, answer, imdb_id=opt_str(answer, "imdb_id"))
        else:
            answer = self._get_found(
                lambda: self._bind(tmdbsimple.TV(tmdb_id)).info(append_to_response="external_ids")
            )
            if answer is None:
                return None
            ids = opt_dict(answer, "external_ids")
            found = _named(
                kind, answer, imdb_id=opt_str(ids, "imdb_id"), tvdb_id=opt_int(ids, "tvdb_id")
            )
        if found is None or found.tmdb_id != tmdb_id:
            fail_shape(SERVICE, "details (no title, or another id)")
        return found

    def _find(self, request: LookupRequest, imdb_id: str) -> Match | None:
        """The movie or show with this IMDb id, if its title agrees (a source can mislabel)."""
        answer = self._get(
            lambda: self._bind(tmdbsimple.Find(imdb_id)).info(external_source="imdb_id")
        )
        key = "movie_results" if request.kind is ContentKind.MOVIE else "tv_results"
        scored = self._score(request, members(SERVICE, answer, key, "find"), id_based=True)
        best = pick_confident(scored)
        if best is None:
            log.debug("tmdb: %s does not confidently name %r; searching", imdb_id, request.title)
            return None
        if request.kind is ContentKind.MOVIE:
            return _movie_match(best, imdb_id=imdb_id)
        return self._tv_match(best)

    def _search_movie(self, request: LookupRequest, query: str) -> Match | None:
        params: dict[str, object] = {"query": query, "include_adult": False}
        if request.year:
            params["year"] = request.year
        answer = self._get(lambda: self._bind(tmdbsimple.Search()).movie(**params))
        best = pick_confident(self._score(request, members(SERVICE, answer, "results", "search")))
        if best is None:
            return None
        movie_id = _tmdb_id(best)
        details = self._get(
            lambda: self._bind(tmdbsimple.Movies(movie_id)).info(
                append_to_response="alternative_titles"
            )
        )
        alt = members(SERVICE, opt_dict(details, "alternative_titles"), "titles", "movie")
        alt_titles = [opt_str(as_dict(SERVICE, t, "movie.titles[]"), "title") for t in alt]
        return _movie_match(
            best,
            imdb_id=opt_str(details, "imdb_id"),
            alt_titles=[opt_str(details, "original_title"), *alt_titles],
        )

    def _search_tv(self, request: LookupRequest, query: str) -> Match | None:
        params: dict[str, object] = {"query": query, "include_adult": False}
        if request.year:
            params["first_air_date_year"] = request.year
        answer = self._get(lambda: self._bind(tmdbsimple.Search()).tv(**params))
        best = pick_confident(self._score(request, members(SERVICE, answer, "results", "search")))
        return None if best is None else self._tv_match(best)

    def _tv_match(self, best: Scored[_Row]) -> Match:
        show_id = _tmdb_id(best)
        ids = self._get(lambda: self._bind(tmdbsimple.TV(show_id)).external_ids())
        row = best.candidate.data
        return Match(
            service=SERVICE,
            confidence=best.confidence,
            title=opt_str(row, "name") or "",
            year=year_of(opt_str(row, "first_air_date")),
            tmdb_id=show_id,
            tvdb_id=opt_int(ids, "tvdb_id"),
            imdb_id=_valid_imdb(opt_str(ids, "imdb_id")),
            alt_titles=_others(opt_str(row, "name"), [opt_str(row, "original_name")]),
        )

    def _score(
        self, request: LookupRequest, rows: list[object], *, id_based: bool = False
    ) -> list[Scored[_Row]]:
        """Candidates with their confidence; rows without an id or a title are skipped."""
        movie = request.kind is ContentKind.MOVIE
        title_key, original_key = (
            ("title", "original_title") if movie else ("name", "original_name")
        )
        date_key = "release_date" if movie else "first_air_date"
        scored: list[Scored[_Row]] = []
        for raw in rows:
            row = raw if isinstance(raw, dict) else {}
            tmdb_id, title = opt_int(row, "id"), opt_str(row, title_key)
            if tmdb_id is None or title is None:
                log.debug("tmdb: a result without id or %s skipped", title_key)
                continue
            similarity = best_title_similarity(request.title, [title, opt_str(row, original_key)])
            score = confidence(
                request.kind,
                title=similarity,
                wanted_year=request.year,
                found_year=year_of(opt_str(row, date_key)),
            )
            conf = id_confidence(score) if id_based else score
            scored.append(Scored(conf, tmdb_id, _Row(tmdb_id, row)))
        return scored

    def _bind(self, obj: Any) -> Any:  # tmdbsimple is untyped: its objects are Any
        """Point a tmdbsimple object at our client: without this it would use `requests`."""
        obj.session = self._client
        obj.base_uri = self._base_url
        # tmdbsimple passes its own timeout (None by default), and to httpx None means
        # "never time out": pass the client's instead.
        obj.timeout = self._client.timeout
        # Its defaults add "Connection: close" (no keep-alive) and a JSON Content-Type on GETs.
        obj.headers = {"Accept": "application/json"}
        return obj

    def _get(self, call: Callable[[], object]) -> dict[str, object]:
        """Run one tmdbsimple call through the limiter and the error translation."""
        tmdbsimple.API_KEY = self._api_key
        answer = guarded_call(SERVICE, self._limiter, lambda: _json_of(call), auth_fix=KEY_FIX)
        return as_dict(SERVICE, answer, "answer")

    def _get_found(self, call: Callable[[], object]) -> dict[str, object] | None:
        """`_get` for an id that may not exist: a 404 is None ("TMDb has no such id")."""

        def fetch() -> object:
            try:
                return call()
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code == 404:
                    return None  # returned, not raised: httpx's message quotes the key
                raise

        tmdbsimple.API_KEY = self._api_key
        answer = guarded_call(SERVICE, self._limiter, lambda: _json_of(fetch), auth_fix=KEY_FIX)
        return None if answer is None else as_dict(SERVICE, answer, "answer")


def _json_of(call: Callable[[], object]) -> object:
    """Run a tmdbsimple call, turning its own failures into EnrichmentErrors."""
    try:
        return call()
    except tmdbsimple.APIKeyError as exc:
        raise ServiceNotConfigured(SERVICE, f"no API key; {KEY_FIX}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # from tmdbsimple's `.json()`
        raise ServiceUnavailable(
            SERVICE, f"answered with something that is not JSON ({type(exc).__name__})"
        ) from exc


def _movie_match(
    best: Scored[_Row],
    *,
    imdb_id: str | None,
    alt_titles: list[str | None] | None = None,
) -> Match:
    row = best.candidate.data
    title = opt_str(row, "title") or ""
    return Match(
        service=SERVICE,
        confidence=best.confidence,
        title=title,
        year=year_of(opt_str(row, "release_date")),
        tmdb_id=_tmdb_id(best),
        imdb_id=_valid_imdb(imdb_id),
        alt_titles=_others(title, alt_titles or [opt_str(row, "original_title")]),
    )


def _named(
    kind: ContentKind,
    row: dict[str, object],
    *,
    imdb_id: str | None = None,
    tvdb_id: int | None = None,
) -> Match | None:
    """An exact (by id) match from a TMDb movie or show object; None without id or title."""
    movie = kind is ContentKind.MOVIE
    title_key, original_key = ("title", "original_title") if movie else ("name", "original_name")
    tmdb_id, title = opt_int(row, "id"), opt_str(row, title_key)
    if tmdb_id is None or title is None:
        return None
    return Match(
        service=SERVICE,
        confidence=1.0,
        title=title,
        year=year_of(opt_str(row, "release_date" if movie else "first_air_date")),
        tmdb_id=tmdb_id,
        tvdb_id=tvdb_id,
        imdb_id=_valid_imdb(imdb_id),
        alt_titles=_others(title, [opt_str(row, original_key)]),
    )


def _checked_id(value: int, name: str) -> int:
    """A TMDb or TVDB id: a positive int32 (it goes into a URL path)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= _MAX_ID:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return value


def _tmdb_id(best: Scored[_Row]) -> int:
    return best.candidate.tmdb_id


def _valid_imdb(imdb_id: str | None) -> str | None:
    """TMDb's imdb_id, kept only when it looks like one ("" and null mean unknown)."""
    return imdb_id if imdb_id and _IMDB_ID.fullmatch(imdb_id) else None


def _others(title: str | None, names: list[str | None]) -> tuple[str, ...]:
    """Distinct names other than `title`, in order."""
    seen = {title}
    out = []
    for name in names:
        if name and name not in seen:
            seen.add(name)
            out.append(name)
    return tuple(out)
