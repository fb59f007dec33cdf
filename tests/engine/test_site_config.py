"""Site configuration: built-in sources merged with the user's `[sites.<id>]` tables.

What a user depends on: every built-in source works with no config at all; a key
they set wins and the others keep the built-in values; a typo is reported at start
with the file, the dotted key and the fix, all problems at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import load_settings
from engine.errors import ConfigError
from engine.site_config import (
    BUILTIN_SITES,
    DEFAULT_USER_AGENT,
    SiteConfig,
    load_site_configs,
    parse_every,
)


def configs(tmp_path: Path, text: str = "") -> dict[str, SiteConfig]:
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    return load_site_configs(load_settings(path, {}), config_path=path)


def problem(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        configs(tmp_path, text)
    return caught.value.user_message


def test_builtin_sources_need_no_config(tmp_path: Path) -> None:
    sites = configs(tmp_path)
    assert {"1337x", "thepiratebay", "limetorrents", "torrentdownloads"} <= set(sites)
    assert {"eztv", "yts", "knaben", "apibay", "dht", "bitmagnet"} <= set(sites)
    x = sites["1337x"]
    assert (x.kind, x.enabled, x.proxy, x.depth, x.every_s) == ("html", True, "none", 3, 1800.0)
    assert x.mirrors[0] == "https://1337x.to"
    assert all(not m.endswith("/") for m in x.mirrors)
    assert x.user_agent == DEFAULT_USER_AGENT
    assert sites["dht"].every_s is None  # continuous
    # the DHT is allowed (off until started, [dht]); the bridge needs a Bitmagnet URL first
    assert (sites["dht"].enabled, sites["bitmagnet"].enabled) == (True, False)


def test_user_keys_win_and_the_rest_stay_builtin(tmp_path: Path) -> None:
    sites = configs(
        tmp_path,
        """
[[proxies]]
name = "tor"
url = "socks5h://127.0.0.1:9050"

[sites.1337x]
mirrors = ["https://1337x.st/", "https://1337x.st"]
proxy = ["tor"]
every = "2h"
user_agent = "MyCrawler/1.0"

[sites.yts]
enabled = false
""",
    )
    x = sites["1337x"]
    assert x.mirrors == ("https://1337x.st",)  # replaced, trailing slash and repeat gone
    assert (x.proxy, x.every_s, x.user_agent) == (("tor",), 7200.0, "MyCrawler/1.0")
    assert (x.depth, x.min_interval_s, x.health_path) == (3, 2.0, "/")  # built-in values
    assert sites["yts"].enabled is False
    assert sites["yts"].mirrors[0] == "https://yts.gg"


def test_every_problem_names_file_key_and_fix(tmp_path: Path) -> None:
    message = problem(
        tmp_path,
        """
[sites.1337x]
mirrors = ["ftp://1337x.to", "https://user:pw@1337x.st"]
every = "often"
proxy = "pool"

[sites.thepiratebay]
proxy = ["tor"]

[sites.nosuchsite]
enabled = true
""",
    )
    path = str(tmp_path / "config.toml")
    assert f"{path}: sites.nosuchsite: unknown source (fix: use one of" in message
    assert f"{path}: sites.1337x.mirrors: 'ftp://1337x.to' is not an http(s) base URL" in message
    assert "sites.1337x.mirrors: 'https://***@1337x.st' has credentials" in message
    assert "pw" not in message
    assert f"{path}: sites.1337x.every: 'often' is not an interval (fix:" in message
    assert 'sites.1337x.proxy: "pool" but no [[proxies]] are configured' in message
    assert "sites.thepiratebay.proxy: unknown proxies ['tor']" in message


def test_an_enabled_site_without_mirrors_is_refused(tmp_path: Path) -> None:
    message = problem(tmp_path, "[sites.eztv]\nmirrors = []\n")
    assert "sites.eztv.mirrors: no mirror to crawl" in message
    assert configs(tmp_path, "[sites.eztv]\nmirrors = []\nenabled = false\n")["eztv"].mirrors == ()


def test_duplicate_or_reserved_proxy_names(tmp_path: Path) -> None:
    proxies = '[[proxies]]\nname = "{0}"\nurl = "socks5://127.0.0.1:1"\n'
    assert "used twice or is reserved" in problem(tmp_path, proxies.format("a") * 2)
    assert "used twice or is reserved" in problem(tmp_path, proxies.format("pool"))


def test_a_broken_builtin_file_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "sites.toml"
    broken.write_text("[sites.x]\nkind = 'html'\nshape = 1\n", "utf-8")
    config = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match=r"sites\.x: unknown keys \['shape'\]"):
        load_site_configs(load_settings(config, {}), config_path=config, builtin_path=broken)
    broken.write_text("[sites", "utf-8")
    with pytest.raises(ConfigError, match="cannot read the built-in sites file"):
        load_site_configs(load_settings(config, {}), config_path=config, builtin_path=broken)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90.0), ("30m", 1800.0), ("6H", 21600.0), ("1d", 86400.0), ("1.5h", 5400.0),
     ("continuous", None), (" 15m ", 900.0)],
)  # fmt: skip
def test_parse_every(text: str, seconds: float | None) -> None:
    assert parse_every(text) == seconds


@pytest.mark.parametrize("text", ["", "5s", "31d", "-1m", "1w", "m", "1e9s", "forever"])
def test_parse_every_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_every(text)


def test_the_builtin_file_ships_in_resources() -> None:
    assert BUILTIN_SITES.is_file()
    assert BUILTIN_SITES.parent.name == "resources"
