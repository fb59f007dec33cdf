"""`minato dht start|stop|status`: asking a running server, and printing the answer.

With a server running (`minato serve` or the window) the command asks it over
its HTTP API, authenticated by the internal secret in the data dir (whoever can
read the data dir owns this Minato). With none running, `status` shows what the
last run saved and `start`/`stop` record the choice that the next server start
follows. Either way the answer says which of the two happened.
"""

from __future__ import annotations

from typing import Any

import httpx

ASK_TIMEOUT_S = 5.0
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - reached through loopback


def ask_server(host: str, port: int, secret: str, action: str) -> tuple[int, dict[str, Any]] | None:
    """(HTTP status, JSON body) from the server at host:port, or None when none answers."""
    host = "127.0.0.1" if host in _ANY_ADDRESS else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    url = f"http://{host}:{port}/api/dht"
    headers = {"X-Internal-Secret": secret}
    try:
        with httpx.Client(timeout=ASK_TIMEOUT_S, trust_env=False) as client:
            if action == "status":
                response = client.get(url, headers=headers)
            else:
                response = client.post(f"{url}/{action}", headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout):
        return None
    except httpx.HTTPError as exc:  # something listens there but does not answer as Minato
        return 502, {"error": {"message": f"no usable answer from {url}: {exc}"}}
    try:
        body = response.json()
    except ValueError:
        body = {"error": {"message": f"not a Minato server answered at {url}"}}
        return 502, body
    return response.status_code, body if isinstance(body, dict) else {}


def describe(data: dict[str, Any], where: str) -> str:
    """The report as a few lines a person reads at a glance."""
    crawler, figures = data.get("crawler", {}), data.get("figures", {})
    state = crawler.get("state", "?")
    note = crawler.get("message") or crawler.get("last_error") or ""
    lines = [f"DHT crawler: {state}{f' ({note})' if note else ''}  [{where}]"]
    if not figures.get("started_at"):
        lines.append("  no run yet: `minato dht start` turns it on")
        return "\n".join(lines)
    port = figures.get("listen_port")
    lines += [
        f"  port {port}, routing table {figures.get('routing_table', 0):,} nodes, "
        f"{figures.get('nodes_known', 0):,} nodes known for sampling "
        f"({figures.get('sample_replies', 0):,}/{figures.get('sample_queries', 0):,} "
        "BEP 51 queries answered)",
        f"  discovered {figures.get('discovered', 0):,} hashes "
        f"({figures.get('from_samples', 0):,} from samples, "
        f"{figures.get('from_traffic', 0):,} from traffic), "
        f"{figures.get('discovered_per_min', 0.0):,.1f}/min",
        f"  metadata fetched {figures.get('fetched', 0):,} "
        f"({figures.get('stored_new', 0):,} new to the index), "
        f"{figures.get('fetched_per_min', 0.0):,.1f}/min",
        f"  failures {figures.get('failures', 0):,}: no peers {figures.get('no_peers', 0):,}, "
        f"timed out {figures.get('timed_out', 0):,}, "
        f"bad metadata {figures.get('bad_metadata', 0):,} "
        f"({figures.get('failed_per_min', 0.0):,.1f}/min)",
        f"  queued {figures.get('queued', 0):,}, fetching {figures.get('fetching', 0):,}, "
        f"waiting to retry {figures.get('retries', 0):,}, "
        f"already indexed {figures.get('already_indexed', 0):,}, "
        f"dropped (queue full) {figures.get('dropped', 0):,}",
    ]
    if figures.get("last_error"):
        lines.append(f"  last error: {figures['last_error']}")
    return "\n".join(lines)
