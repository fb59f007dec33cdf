"""Settings: defaults < TOML file < MINATO_* environment < command line; errors a user can act on.

Every error must say where the bad value came from (the file, or the
environment variable), which key (dotted) and how to fix it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from engine.config import (
    Settings,
    default_config_path,
    load_settings,
    masked,
)
from engine.errors import ConfigError


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def load(
    path: Path, text: str | None = None, env: dict[str, str] | None = None, **over: Any
) -> Settings:
    if text is not None:
        path.write_text(text, "utf-8")
    return load_settings(path, env or {}, {k.replace("__", "."): v for k, v in over.items()})


def error_of(path: Path, text: str | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(path, text, env)
    return caught.value.user_message


# --- defaults and sources ------------------------------------------------------------------------


def test_defaults_without_a_file(config: Path) -> None:
    settings = load(config)
    assert not config.exists()
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 9797)
    assert settings.server.internal_secret == ""
    assert (settings.storage.data_dir, settings.storage.database_url) == ("", "")
    assert settings.search.backend == "auto"
    assert settings.pipeline.classify is True
    assert settings.pipeline.batch_records == 2000
    assert (settings.proxies, settings.feeds, settings.sites) == ([], [], {})
    assert settings.dht.enabled is False
    assert settings.dht.bootstrap == ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881"]
    assert settings.enrich.tmdb_api_key == ""
    assert settings.data_path() == Path(platformdirs.user_data_dir("minato", appauthor=False))
    assert Settings() == settings


def test_the_design_documents_example_file_loads(config: Path) -> None:
    settings = load(
        config,
        """
[server]
host = "127.0.0.1"
port = 9797
internal_secret = ""

[storage]
data_dir = "~/minato-data"
database_url = ""

[search]
backend = "auto"
meilisearch_url = ""
meilisearch_binary = ""

[[proxies]]
name = "tor"
url = "socks5h://127.0.0.1:9050"

[sites.1337x]
enabled = true
mirrors = ["https://1337x.to", "https://1337x.st"]
proxy = "none"
min_interval_s = 2.0
depth = 3
every = "30m"

[sites.thepiratebay]
proxy = ["tor"]

[[feeds]]
name = "showrss"
url = "https://showrss.info/other/all.rss"
every = "15m"

[dht]
enabled = false
listen = "0.0.0.0:6881"
bootstrap = ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881"]

[enrich]
tmdb_api_key = ""
""",
    )
    assert settings.proxies[0].name == "tor"
    assert settings.sites["1337x"].mirrors == ["https://1337x.to", "https://1337x.st"]
    assert settings.sites["thepiratebay"].proxy == ["tor"]
    assert settings.sites["thepiratebay"].depth == 3  # defaults fill what a site leaves out
    assert settings.feeds[0].url == "https://showrss.info/other/all.rss"
    assert settings.data_path() == Path("~/minato-data").expanduser()


def test_environment_beats_the_file(config: Path) -> None:
    settings = load(
        config,
        '[server]\nport = 9000\nhost = "0.0.0.0"\n[pipeline]\nclassify = true\n',
        {
            "MINATO_SERVER__PORT": "9100",
            "MINATO_PIPELINE__CLASSIFY": "false",
            "MINATO_SEARCH__BACKEND": "embedded",
        },
    )
    assert settings.server.port == 9100
    assert settings.server.host == "0.0.0.0"  # noqa: S104 - from the file: not overridden
    assert settings.pipeline.classify is False
    assert settings.search.backend == "embedded"


def test_command_line_beats_the_environment(config: Path) -> None:
    settings = load(
        config, "[server]\nport = 9000\n", {"MINATO_SERVER__PORT": "9100"}, server__port=9200
    )
    assert settings.server.port == 9200


def test_env_aliases_for_data_dir_and_database_url(config: Path, tmp_path: Path) -> None:
    url = "postgresql+psycopg://minato:pw@db.lan/minato"
    settings = load(
        config,
        '[storage]\ndata_dir = "/srv/from-file"\n',
        {"MINATO_DATA_DIR": str(tmp_path / "env-data"), "MINATO_DATABASE_URL": url},
    )
    assert settings.storage.data_dir == str(tmp_path / "env-data")
    assert settings.data_path() == tmp_path / "env-data"
    assert settings.storage.database_url == url


def test_env_json_values_for_lists_and_tables(config: Path) -> None:
    settings = load(
        config,
        env={
            "MINATO_DHT__BOOTSTRAP": '["dht.libtorrent.org:25401"]',
            "MINATO_SITES__1337X": '{"enabled": false, "mirrors": ["https://1337x.st"]}',
        },
    )
    assert settings.dht.bootstrap == ["dht.libtorrent.org:25401"]
    assert settings.sites["1337x"].enabled is False
    assert settings.sites["1337x"].mirrors == ["https://1337x.st"]


def test_unrelated_environment_is_ignored(config: Path) -> None:
    settings = load(
        config,
        env={
            "MINATO_TEST_DATABASE_URL": "postgresql+psycopg://x@y/z",
            "MINATO_CONFIG": "/elsewhere.toml",
            "MINATO_REQUIRE_POSTGRES": "1",
            "PATH": "/usr/bin",
        },
    )
    assert settings == Settings()


def test_default_config_path(tmp_path: Path) -> None:
    assert default_config_path({"MINATO_CONFIG": str(tmp_path / "m.toml")}) == tmp_path / "m.toml"
    assert default_config_path({"MINATO_CONFIG": "~/m.toml"}) == Path("~/m.toml").expanduser()
    expected = Path(platformdirs.user_config_dir("minato", appauthor=False)) / "config.toml"
    assert default_config_path({}) == expected


def test_settings_are_frozen(config: Path) -> None:
    settings = load(config)
    with pytest.raises(Exception, match="frozen"):
        settings.server.port = 1  # type: ignore[misc]


# --- errors --------------------------------------------------------------------------------------


def test_bad_toml_syntax_names_the_file_and_the_fix(config: Path) -> None:
    message = error_of(config, "[server\nport = 9797\n")
    assert message.startswith(f"{config}: not valid TOML")
    assert "line 1" in message
    assert "fix the syntax" in message


def test_an_unreadable_file_is_a_config_error(config: Path) -> None:
    config.write_bytes(b'[server]\nhost = "\xff\xfe"\n')
    message = error_of(config)
    assert message.startswith(f"{config}: cannot read the config file")


def test_wrong_type_names_file_key_and_fix(config: Path) -> None:
    message = error_of(config, '[server]\nport = "ninety"\n')
    assert f"{config}: server.port: Input should be a valid integer" in message
    assert "(fix: " in message


def test_out_of_range_port(config: Path) -> None:
    message = error_of(config, "[server]\nport = 70000\n")
    assert f"{config}: server.port:" in message
    assert "(fix: use a number no larger than 65535)" in message
    message = error_of(config, "[server]\nport = -1\n")
    assert "(fix: use a number no smaller than 0)" in message


def test_unknown_key(config: Path) -> None:
    message = error_of(config, "[server]\nprot = 9797\n")
    assert f"{config}: server.prot: Extra inputs are not permitted" in message
    assert "(fix: remove this key or check its spelling)" in message


def test_unknown_section(config: Path) -> None:
    message = error_of(config, "[servr]\nport = 9797\n")
    assert f"{config}: servr: Extra inputs are not permitted" in message
    assert "(fix: remove this key or check its spelling)" in message


def test_bad_database_url_scheme(config: Path) -> None:
    message = error_of(config, '[storage]\ndatabase_url = "mysql://root@localhost/minato"\n')
    assert f"{config}: storage.database_url:" in message
    assert "must start with sqlite:// or postgresql+psycopg://" in message
    assert "(fix: " in message


def test_bad_choice_lists_the_choices(config: Path) -> None:
    message = error_of(config, '[search]\nbackend = "elasticsearch"\n')
    assert f"{config}: search.backend:" in message
    assert "(fix: use one of 'auto', 'embedded' or 'meilisearch')" in message


def test_nested_keys_are_dotted(config: Path) -> None:
    message = error_of(
        config, "[sites.1337x]\ndepth = 0\n[[proxies]]\nurl = 'socks5h://127.0.0.1:9050'\n"
    )
    assert f"{config}: sites.1337x.depth:" in message
    assert "(fix: use a number no smaller than 1)" in message
    assert f"{config}: proxies.0.name: Field required (fix: add this key)" in message


def test_every_error_is_reported_at_once(config: Path) -> None:
    message = error_of(config, '[server]\nport = 70000\nhost = 5\n[dht]\nenabled = "maybe"\n')
    for key in ("server.port", "server.host", "dht.enabled"):
        assert f"{config}: {key}:" in message


def test_env_errors_name_the_variable(config: Path) -> None:
    config.write_text("[server]\nport = 9000\n", "utf-8")
    message = error_of(config, env={"MINATO_SERVER__PORT": "99999"})
    assert "environment variable MINATO_SERVER__PORT: server.port:" in message
    assert str(config) not in message


def test_alias_errors_name_the_alias(config: Path) -> None:
    message = error_of(config, env={"MINATO_DATABASE_URL": "mysql://root@localhost/minato"})
    assert "environment variable MINATO_DATABASE_URL: storage.database_url:" in message


def test_env_unknown_key_names_the_variable(config: Path) -> None:
    message = error_of(config, env={"MINATO_SERVER__PROT": "9797"})
    assert "environment variable MINATO_SERVER__PROT: server.prot:" in message


def test_env_unknown_section_names_the_variable(config: Path) -> None:
    message = error_of(config, env={"MINATO_SERVR__PORT": "9797"})
    assert "environment variable MINATO_SERVR__PORT: servr:" in message
    assert "(fix: remove this key or check its spelling)" in message


def test_env_into_a_non_table_names_the_file(config: Path) -> None:
    message = error_of(config, "server = 5\n", env={"MINATO_SERVER__PORT": "9797"})
    assert message == f"{config}: [server] must be a table"


# --- masking -----------------------------------------------------------------------------------


def test_masked_hides_secrets_but_keeps_the_shape(config: Path) -> None:
    settings = load(
        config,
        """
[server]
internal_secret = "9f2c1d0b7a6e5f4c3b2a1908f7e6d5c4"
[storage]
database_url = "postgresql+psycopg://minato:hunter2@db.lan:5432/minato"
[[proxies]]
name = "residential"
url = "http://alice:pr0xy-pw@proxy.example.net:8080"
[[proxies]]
name = "tor"
url = "socks5h://127.0.0.1:9050"
[enrich]
tmdb_api_key = "0123456789abcdef0123456789abcdef"
""",
    )
    shown = masked(settings)
    text = json.dumps(shown)
    for secret in ("9f2c1d0b7a6e", "hunter2", "pr0xy-pw", "0123456789abcdef"):
        assert secret not in text
    assert shown["server"]["internal_secret"] == "***"  # noqa: S105
    assert shown["enrich"]["tmdb_api_key"] == "***"
    assert shown["storage"]["database_url"] == "postgresql+psycopg://minato:***@db.lan:5432/minato"
    assert shown["proxies"][0]["url"] == "http://alice:***@proxy.example.net:8080"
    assert shown["proxies"][1]["url"] == "socks5h://127.0.0.1:9050"
    assert shown["server"]["port"] == 9797
    assert set(shown) == set(Settings.model_fields)


def test_masked_keeps_empty_secrets_empty(config: Path) -> None:
    shown = masked(load(config))
    assert shown["server"]["internal_secret"] == ""
    assert shown["enrich"]["tmdb_api_key"] == ""
    assert shown["storage"]["database_url"] == ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg:///minato?host=/run/postgresql&password=hunter2",
            "postgresql+psycopg:///minato?host=/run/postgresql&password=***",
        ),
        (
            "postgresql+psycopg://minato@db.lan/minato?password=hunter2&sslmode=require",
            "postgresql+psycopg://minato:***@db.lan/minato?password=***&sslmode=require",
        ),
        ("sqlite:////var/lib/minato/minato.sqlite3", "sqlite:////var/lib/minato/minato.sqlite3"),
    ],
)
def test_masked_hides_a_password_in_the_query_string(config: Path, url: str, expected: str) -> None:
    shown = masked(load(config, env={"MINATO_DATABASE_URL": url}))
    assert shown["storage"]["database_url"] == expected
    assert "hunter2" not in json.dumps(shown)


def test_flaresolverr_url_must_be_http(config: Path) -> None:
    message = error_of(config, '[crawl]\nflaresolverr_url = "localhost:8191"\n')
    assert f"{config}: crawl.flaresolverr_url:" in message
    assert "http://127.0.0.1:8191" in message
    assert load(
        config, '[crawl]\nflaresolverr_url = "http://127.0.0.1:8191"\n'
    ).crawl.flaresolverr_url
