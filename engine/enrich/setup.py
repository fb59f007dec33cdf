"""Build the enrichment worker from settings: which services run, and why the others do not.

A service that lacks what it needs (TMDb without a key, MusicBrainz without a
contact) is not built at all; its reason is reported as "off" in status views,
and its torrents simply wait in the queue until it is configured.
"""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from engine.config import EnrichSettings
from engine.enrich.base import Enricher
from engine.enrich.http import make_client
from engine.enrich.worker import EnrichmentWorker
from engine.models import EnricherStatus
from engine.store.writer import Writer


def build_enrichers(
    settings: EnrichSettings, client: httpx.Client
) -> tuple[list[Enricher], list[EnricherStatus]]:
    """The services the settings allow, and an "off" status for each one they do not."""
    # Imported here: the clients load tmdbsimple, which a disabled setup never needs.
    from engine.enrich.anilist import AnilistEnricher
    from engine.enrich.musicbrainz import MusicBrainzEnricher
    from engine.enrich.tmdb import TmdbEnricher

    enrichers: list[Enricher] = []
    off: list[EnricherStatus] = []
    if settings.tmdb_api_key.strip():
        enrichers.append(
            TmdbEnricher(settings.tmdb_api_key, client=client, base_url=settings.tmdb_url)
        )
    else:
        off.append(EnricherStatus("tmdb", "off", "no API key (set enrich.tmdb_api_key)"))
    if settings.anilist:
        enrichers.append(AnilistEnricher(client=client, url=settings.anilist_url))
    else:
        off.append(EnricherStatus("anilist", "off", "turned off (enrich.anilist = false)"))
    if settings.musicbrainz_contact.strip():
        enrichers.append(
            MusicBrainzEnricher(
                client=client,
                base_url=settings.musicbrainz_url,
                contact=settings.musicbrainz_contact,
            )
        )
    else:
        off.append(
            EnricherStatus(
                "musicbrainz",
                "off",
                "no contact (set enrich.musicbrainz_contact to an e-mail or URL; "
                "MusicBrainz asks every client for one)",
            )
        )
    return enrichers, off


class Enrichment:
    """The worker, its HTTP client and the services left off, as one unit for `Core`."""

    def __init__(self, settings: EnrichSettings, reader: Engine, writer: Writer) -> None:
        self.client = make_client(contact=settings.musicbrainz_contact)
        enrichers, self._off = build_enrichers(settings, self.client)
        self.worker = EnrichmentWorker(
            reader,
            writer,
            enrichers,
            batch=settings.batch,
            idle_seconds=settings.idle_seconds,
        )

    def status(self) -> list[EnricherStatus]:
        """Every service: the running ones as the worker sees them, then those left off."""
        return [*self.worker.status(), *self._off]

    def close(self) -> None:
        """Close the HTTP client (the worker stops with its task)."""
        self.client.close()
