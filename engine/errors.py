"""Minato's exceptions: one tree, a safe `user_message` on each, `str()` for logs.

* MinatoError                 base; `user_message` is safe to show to people
  + ConfigError               bad settings file or environment (names file, key and fix)
  + InvalidRecord             a record refused by normalization ("field: reason")
  + InvalidTorrent            a .torrent that libtorrent cannot parse (carries its reason)
  + StoreError                the database failed or is unreachable
  + SearchIndexError          the search backend failed
    - IndexBusy               another process holds the embedded index for writing
    - RebuildCancelled        a re-index was cancelled before the end
  + NotFound                  an info hash or key that does not exist
  + EnrichmentError           TMDb, AniList or MusicBrainz failed; carries `service`
    - ServiceUnavailable      offline, DNS, timeout, refused, 5xx, not JSON: pause, retry later
    - RateLimited             the service said slow down; carries `retry_after` (seconds)
    - ServiceNotConfigured    missing or rejected key / contact: off until the settings change
    - UnexpectedResponse      JSON of the wrong shape, or too large: this lookup cannot work
  + NetworkError              a site, mirror or proxy failed; carries `site` (may be "")
    - NoProxyAvailable        every proxy the policy allows is cooling down or none is set
    - BlockedByChallenge      a Cloudflare (or similar) challenge page answered, not the site
    - CircuitOpen             the site's breaker is open; carries `retry_after` (seconds)
    - AllMirrorsDown          no mirror of the site answered
    - ResponseTooLarge        the body passed the size limit
    - RequestFailed           transport error or bad status after the retries
  + LayoutChanged             a site's page no longer has the shape its definition describes
  + InvalidFeed               a feed to add has a bad name, URL or interval, or a taken name
  + ApiError                  raised by server handlers; carries an HTTP status
    - Unauthorized  BadRequest  PayloadTooLarge  UnsupportedMediaType
"""

from __future__ import annotations

from typing import ClassVar


class MinatoError(Exception):
    """Base of every error Minato raises on purpose."""

    http_status: ClassVar[int] = 500
    error_type: ClassVar[str] = "error"

    @property
    def user_message(self) -> str:
        """A message fit to show a person (no secrets, no stack)."""
        return str(self)


class ConfigError(MinatoError):
    """The settings file or an environment variable holds a bad value."""

    error_type = "config"


class InvalidRecord(MinatoError):
    """A record that normalization refuses; `field` names the culprit."""

    http_status = 400
    error_type = "invalid_record"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidTorrent(MinatoError):
    """A .torrent file that cannot be parsed; the message carries libtorrent's reason."""

    http_status = 400
    error_type = "invalid_torrent"


class StoreError(MinatoError):
    """The database failed."""

    error_type = "store"


class SearchIndexError(MinatoError):
    """The search backend failed."""

    error_type = "search_index"


class IndexBusy(SearchIndexError):
    """Another process (usually `minato serve`) holds the embedded index for writing."""

    http_status = 409
    error_type = "index_busy"


class RebuildCancelled(SearchIndexError):
    """A re-index was cancelled: the index holds part of the torrents until the next one.

    The index stays marked for rebuilding, so the next start (or re-index) completes it.
    """

    error_type = "rebuild_cancelled"
    http_status = 409


class DisabledBySettings(ConfigError):
    """Something the settings turn off was asked for (start the DHT when it is forbidden)."""

    error_type = "disabled"
    http_status = 409


class NotFound(MinatoError):
    """The thing asked for does not exist."""

    http_status = 404
    error_type = "not_found"


class EnrichmentError(MinatoError):
    """A metadata service failed; `service` names it ("tmdb", "anilist", "musicbrainz").

    Enrichment is optional: the caller pauses or skips it while ingestion goes on.
    Messages name the service and the fix, and never quote an API key.
    """

    http_status = 502
    error_type = "enrichment"

    def __init__(self, service: str, message: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service


class ServiceUnavailable(EnrichmentError):
    """The service cannot be reached or failed on its side; try again later."""

    http_status = 503
    error_type = "service_unavailable"


class RateLimited(EnrichmentError):
    """The service asked us to slow down; wait `retry_after` seconds before the next request."""

    http_status = 429
    error_type = "rate_limited"

    def __init__(self, service: str, retry_after: float, message: str | None = None) -> None:
        super().__init__(
            service, message or f"rate limited by the service; retry in {retry_after:.0f} s"
        )
        self.retry_after = retry_after


class ServiceNotConfigured(EnrichmentError):
    """The service needs a setting we lack or it refused (API key, contact); fix the settings."""

    error_type = "service_not_configured"


class UnexpectedResponse(EnrichmentError):
    """The service answered JSON we cannot use (wrong shape, too large) for this lookup.

    Not a `ServiceUnavailable`: the service is up, so waiting will not help this lookup.
    """

    error_type = "unexpected_response"


class NetworkError(MinatoError):
    """A request to a site (or through a proxy) failed; `site` names the source when known.

    Messages name the site, the mirror host and what to do, never a proxy's
    credentials (URLs in messages are redacted by the code that raises).
    """

    http_status = 502
    error_type = "network"

    def __init__(self, site: str, message: str) -> None:
        super().__init__(f"{site}: {message}" if site else message)
        self.site = site


class NoProxyAvailable(NetworkError):
    """Every proxy the site's policy allows is cooling down (or none is configured)."""

    error_type = "no_proxy_available"


class BlockedByChallenge(NetworkError):
    """The answer was a challenge page (Cloudflare "Just a moment..."), not the site's content."""

    error_type = "blocked_by_challenge"


class CircuitOpen(NetworkError):
    """The site failed too often in a row; no request is sent for `retry_after` seconds."""

    http_status = 503
    error_type = "circuit_open"

    def __init__(self, site: str, retry_after: float) -> None:
        super().__init__(site, f"paused after repeated failures; next try in {retry_after:.0f} s")
        self.retry_after = retry_after


class AllMirrorsDown(NetworkError):
    """No mirror of the site is reachable."""

    error_type = "all_mirrors_down"


class ResponseTooLarge(NetworkError):
    """The answer's body passed the size limit; it was not read further."""

    error_type = "response_too_large"


class RequestFailed(NetworkError):
    """A transport error or an unusable status remained after the retries."""

    error_type = "request_failed"


class LayoutChanged(MinatoError):
    """A page yielded no rows where it should, or most of its rows failed to parse.

    Raised instead of ingesting what would be junk; the crawler status shows the
    message ("layout changed on 1337x (https://...): ...") until a crawl succeeds.
    """

    error_type = "layout_changed"

    def __init__(self, site: str, url: str, reason: str) -> None:
        super().__init__(f"layout changed on {site} ({url}): {reason}")
        self.site = site
        self.url = url
        self.reason = reason


class InvalidFeed(MinatoError):
    """A feed cannot be added or removed as asked; the message names the field and the fix."""

    http_status = 400
    error_type = "invalid_feed"


class ApiError(MinatoError):
    """An HTTP request the server refuses; subclasses set the status."""

    http_status = 400
    error_type = "bad_request"


class BadRequest(ApiError):
    """Malformed request: names the parameter or field."""


class Unauthorized(ApiError):
    """Missing or wrong API key / internal secret."""

    http_status = 401
    error_type = "unauthorized"


class PayloadTooLarge(ApiError):
    """The body is over the configured limit."""

    http_status = 413
    error_type = "payload_too_large"


class UnsupportedMediaType(ApiError):
    """The Content-Type is not one this route accepts."""

    http_status = 415
    error_type = "unsupported_media_type"
