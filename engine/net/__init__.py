"""The network layer every source goes through: proxies, mirrors, politeness, breakers.

Modules, one job each:

* proxies.py     ProxyManager: the pool of SOCKS5/HTTP(S) proxies from settings,
                 round-robin or sticky per crawl, cool-down with growing backoff,
                 credentials redacted everywhere (`redact_url`)
* clients.py     ClientPool: one httpx.AsyncClient per proxy (or direct), with the
                 stack's timeouts, limits, User-Agent and decompression
* politeness.py  HostRateLimiter (min interval per host, Retry-After pushes it back),
                 `parse_retry_after`, `backoff_delay` (exponential with full jitter)
* breaker.py     CircuitBreaker: closed -> open after N consecutive failures ->
                 half-open probe after a cool-down
* challenge.py   `detect_block`: Cloudflare challenge and parked-domain pages
* mirrors.py     MirrorResolver: health checks, fastest live mirror, failover;
                 state and history persisted in the database
* health.py      MirrorHealthWorker: re-checks every site's mirrors on a schedule
* flaresolverr.py  FlareSolverr: an optional service that passes challenge pages
* site_client.py SiteClient: all of the above composed for one site's requests
* submitter.py   IngestSubmitter: a worker's spooled, breaker-guarded link to the
                 central ingest API

Everything here raises the `NetworkError` family of `engine.errors`.
"""
