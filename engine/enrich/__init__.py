"""Metadata enrichment: ids and canonical titles from TMDb, AniList and MusicBrainz.

* base.py         LookupRequest, Match, the Enricher protocol
* matching.py     title normalization, similarity, the confidence score and threshold
* ratelimit.py    the per-service blocking rate limiter, Backoff, Retry-After parsing
* http.py         the httpx client factory (User-Agent, timeouts, body limit), error translation
* tmdb.py         TmdbEnricher: movies and TV (tmdbsimple over our httpx client)
* anilist.py      AnilistEnricher: anime (GraphQL)
* musicbrainz.py  MusicBrainzEnricher: music release groups (1 request/s)
* worker.py       the background worker that feeds queued torrents to the enrichers
* setup.py        builds the worker and its services from settings (for `Core`)

The service clients are imported from their modules, not from here, so importing the
package does not load tmdbsimple (and the `requests` it depends on but never uses).
"""

from engine.classify.credits import split_credit
from engine.enrich.base import Enricher, LookupRequest, Match

__all__ = ["Enricher", "LookupRequest", "Match", "split_credit"]
