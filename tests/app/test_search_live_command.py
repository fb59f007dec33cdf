"""`minato search QUERY --live`: each site's answer as it arrives, then the results.

The sites are real servers on 127.0.0.1 (the saved 1337x pages; a dead port for a
failing site), the command a real `minato` process; with a `minato serve` running (which owns the
search index), the server indexes what the command's live search stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.cli_support import run_minato
from tests.crawl_support import BUILTIN_IDS, closed_url, free_port
from tests.server.conftest import ServerProcess
from tests.site_server import SiteServer, ThreadedSite

pytestmark = pytest.mark.slow


@pytest.fixture
def leetx() -> Iterator[SiteServer]:
    with ThreadedSite(pages=1) as site:
        yield site


def config_with(home: Path, mirrors: dict[str, str]) -> Path:
    """Only `mirrors`' sites on (no wait between requests), every other built-in off."""
    lines = []
    for site in BUILTIN_IDS:
        if site in mirrors:
            lines.append(f'[sites.{site}]\nmirrors = ["{mirrors[site]}"]\nmin_interval_s = 0\n')
        else:
            lines.append(f"[sites.{site}]\nenabled = false\n")
    config = home / "config.toml"
    config.write_text("\n".join(lines), "utf-8")
    return config


def minato(home: Path, config: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """`minato ARGS` with crawling on and no server at the configured port (unless `env`)."""
    settings = {"MINATO_CRAWL__ENABLED": "true", "MINATO_SERVER__PORT": str(free_port())}
    return run_minato(home, config, *args, **{**settings, **env})


def test_live_search_shows_each_site_then_the_results_which_stay(
    tmp_path: Path, leetx: SiteServer
) -> None:
    config = config_with(tmp_path, {"1337x": leetx.url, "limetorrents": closed_url()})

    code, out, err = minato(tmp_path, config, "search", "lion", "king", "--live")

    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert lines["1337x"].split()[1:4] == ["answered", "20", "results"]
    assert lines["limetorrents"].split()[1] == "failed"
    assert "The Lion King" in out
    assert "1337x" in out.split("match(es)")[0]  # the sources column
    assert leetx.listing_paths() == ["/search/lion+king/1/"]

    # stored and indexed: the index alone answers now, and no site is asked
    code, out, err = minato(tmp_path, config, "search", "lion", "king", "--json")
    assert code == 0, err
    assert len(out.splitlines()) == 20
    assert leetx.listing_paths() == ["/search/lion+king/1/"]

    code, out, err = minato(tmp_path, config, "search", "lion", "king", "--live", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["live"]["query"] == "lion king"
    assert {s["source"]: s["status"] for s in body["live"]["sources"]} == {
        "1337x": "answered", "limetorrents": "failed",
    }  # fmt: skip
    assert body["total"] == 20


def test_live_search_without_words_or_with_crawling_off_says_why(
    tmp_path: Path, leetx: SiteServer
) -> None:
    config = config_with(tmp_path, {"1337x": leetx.url})
    code, _out, err = minato(tmp_path, config, "search", "--live")
    assert code == 2
    assert "--live needs words" in err

    code, out, err = minato(
        tmp_path, config, "search", "dune", "--live", MINATO_CRAWL__ENABLED="false"
    )
    assert code == 0, err
    assert "no site was asked" in out
    assert "[crawl] enabled = false" in out

    code, _out, err = minato(
        tmp_path, config, "search", "dune", "--live", MINATO_LIVE__ENABLED="false"
    )
    assert code == 2
    assert "[live] enabled = false" in err
    assert leetx.paths == []


def test_with_a_server_running_its_index_gets_the_results(
    tmp_path: Path, leetx: SiteServer
) -> None:
    config = config_with(tmp_path, {"1337x": leetx.url})
    server = ServerProcess(
        tmp_path / "data", config, MINATO_CRAWL__ENABLED="true", MINATO_PIPELINE__CLASSIFY="false"
    ).start()
    try:
        port = server.url.rstrip("/").rsplit(":", 1)[1]
        code, out, err = minato(tmp_path, config, "search", "lion", "king", "--live",
                                MINATO_SERVER__PORT=port)  # fmt: skip
    finally:
        server.close()
    assert code == 0, err
    assert "/search/lion+king/1/" in leetx.listing_paths()
    assert "answered" in out
    assert "The Lion King" in out  # the server indexed them, and the command saw it
