"""The settings service: secrets never leave it, saves are checked as a start checks them.

It reads and writes a real file in tmp_path; the environment is passed in, as loading
takes it. `Core.open` wires it to the file the settings came from.
"""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from engine.config import Settings, load_settings
from engine.core import Core
from engine.errors import ConfigError
from engine.services.settings import NOT_SET, SET, SaveReport, SettingsService
from engine.settings_file import read_values
from tests.conftest import SettingsFactory

TMDB = "0123456789abcdef0123456789abcdef"
SECRET = "9f2c1d0b7a6e5f4c3b2a1908f7e6d5c4"  # noqa: S105 - test secrets, never to be shown
PROXY_PASSWORD = "hunter2-proxy"  # noqa: S105
FILE = f"""\
# hand written
[server]
port = 9800
internal_secret = "{SECRET}"

[enrich]
tmdb_api_key = "{TMDB}"  # my key

[sites.yts]
depth = 4

[[proxies]]
name = "tor"
url = "socks5h://me:{PROXY_PASSWORD}@127.0.0.1:9050"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(FILE, "utf-8")
    return path


def service(config: Path, env: dict[str, str] | None = None) -> SettingsService:
    env = env or {}
    return SettingsService(load_settings(config, env), config, env)


def bytes_of(path: Path) -> bytes:
    return path.read_bytes()


def text_of(path: Path) -> str:
    return path.read_text("utf-8")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_current_shows_secrets_only_as_set_or_not_set(config: Path) -> None:
    current = await service(config).current()
    assert current["enrich"]["tmdb_api_key"] == SET
    assert current["server"]["internal_secret"] == SET
    assert current["proxies"] == [{"name": "tor", "url": "socks5h://me:***@127.0.0.1:9050"}]
    assert current["server"]["port"] == 9800
    shown = json.dumps(current)
    for secret in (TMDB, SECRET, PROXY_PASSWORD):
        assert secret not in shown
    empty = await SettingsService(Settings(), config, {}).current()
    assert empty["enrich"]["tmdb_api_key"] == NOT_SET


async def test_file_values_are_the_file_with_secrets_concealed(config: Path) -> None:
    values = await service(config).file_values()
    assert values == {
        "server": {"port": 9800, "internal_secret": SET},
        "enrich": {"tmdb_api_key": SET},
        "sites": {"yts": {"depth": 4}},
        "proxies": [{"name": "tor", "url": "socks5h://me:***@127.0.0.1:9050"}],
    }
    assert await SettingsService(Settings(), config.with_name("none.toml")).file_values() == {}


async def test_current_is_what_runs_file_values_what_is_saved(config: Path) -> None:
    settings = service(config)
    await settings.save({"server": {"port": 9801}})
    assert (await settings.current())["server"]["port"] == 9800  # no hot reload
    assert (await settings.file_values())["server"]["port"] == 9801


async def test_the_form_is_the_next_start_with_the_environment_on_top(config: Path) -> None:
    env = {"MINATO_SERVER__HOST": "127.0.0.2", "MINATO_DATA_DIR": "/srv/minato"}
    form = await service(config, env).form()
    assert form.path == config
    assert form.values["server"]["host"] == "127.0.0.2"
    assert form.values["enrich"]["tmdb_api_key"] == SET
    assert form.env == {"server.host": "MINATO_SERVER__HOST", "storage.data_dir": "MINATO_DATA_DIR"}
    sites = {site.id: site for site in form.sites}
    assert sites["yts"].depth == 4  # the file's value over the built-in one
    assert sites["yts"].mirrors
    assert all(m.startswith("https://") for m in sites["yts"].mirrors)
    assert sites["dht"].has_mirrors is False
    assert "embedded" in form.backends
    assert "meilisearch" not in form.backends  # not available in this version
    assert "TCP port" in form.help["server.port"]
    assert "tray" in form.help["desktop.close_to_tray"]
    assert form.help["sites.depth"]
    assert TMDB not in repr(form)


async def test_a_save_reports_changes_restart_and_overriding_variables(config: Path) -> None:
    settings = service(config, {"MINATO_SERVER__PORT": "9001", "MINATO_SITES__YTS": "{}"})
    report = await settings.save(
        {"server": {"port": 9802}, "sites": {"yts": {"depth": 6}}, "desktop": {"theme": "light"}}
    )
    assert report.path == config
    assert report.changed == ("server.port", "sites.yts.depth", "desktop.theme")
    assert report.restart_needed == report.changed
    assert report.overridden == {
        "server.port": "MINATO_SERVER__PORT",
        "sites.yts.depth": "MINATO_SITES__YTS",
    }
    summary = report.summary()
    assert "Takes effect at the next start: server.port, sites.yts.depth, desktop.theme." in summary
    assert "MINATO_SERVER__PORT is set and wins" in summary
    assert "Applied now: desktop.theme." in report.summary(applied=["desktop.theme"])
    assert "desktop.theme" not in report.summary(applied=["desktop.theme"]).split("\n")[1]
    assert mode_of(config) == 0o600
    text = text_of(config)
    assert "# hand written" in text
    assert f'tmdb_api_key = "{TMDB}"  # my key' in text


async def test_nothing_to_save_says_so(config: Path) -> None:
    report = await service(config).save({"server": {"port": 9800}, "sites": {"yts": {"depth": 4}}})
    assert report == SaveReport(path=config, changed=(), overridden={}, restart_needed=())
    assert "Nothing to save" in report.summary()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"server": {"port": -1}}, "server.port"),
        ({"server": {"host": "bad host"}}, "server.host"),
        ({"sites": {"yts": {"mirrors": ["ftp://yts.example"]}}}, "sites.yts.mirrors"),
        ({"sites": {"yts": {"mirrors": ["https://u:p@yts.example"]}}}, "sites.yts.mirrors"),
        ({"sites": {"yts": {"proxy": ["nosuchproxy"]}}}, "sites.yts.proxy"),
        ({"sites": {"yts": {"every": "sometimes"}}}, "sites.yts.every"),
        ({"sites": {"notasite": {"enabled": True}}}, "sites.notasite"),
        ({"search": {"backend": "meilisearch"}}, "search.backend"),
        ({"search": {"backend": "solr"}}, "search.backend"),
        ({"storage": {"data_dir": "relative/dir"}}, "storage.data_dir"),
        ({"proxies": [{"name": "p", "url": "ftp://127.0.0.1:21"}]}, "proxies"),
        ({"proxies": [{"name": "p", "url": "http://h:1"}, {"name": "p", "url": "http://h:2"}]},
         "proxies"),
        ({"feeds": [{"name": "f", "url": "gopher://x"}]}, "feeds[0]"),
        ({"feeds": [{"name": "f", "url": "https://a.example/rss"},
                    {"name": "f", "url": "https://b.example/rss"}]}, "feeds[1]"),
    ],
)  # fmt: skip
async def test_a_save_a_start_would_refuse_is_refused(
    config: Path, changes: dict[str, Any], expected: str
) -> None:
    settings = service(config)
    before = bytes_of(config)
    with pytest.raises(ConfigError) as caught:
        await settings.save(changes)
    assert expected in caught.value.user_message
    assert "fix" in caught.value.user_message or "use one of" in caught.value.user_message
    assert bytes_of(config) == before


async def test_a_data_dir_that_is_a_file_is_refused(config: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "plain-file"
    a_file.write_text("x", "utf-8")
    with pytest.raises(ConfigError, match=r"storage\.data_dir: .* is a file"):
        await service(config).save({"storage": {"data_dir": str(a_file)}})
    report = await service(config).save({"storage": {"data_dir": str(tmp_path / "data")}})
    assert report.changed == ("storage.data_dir",)


async def test_a_concealed_proxy_url_keeps_its_stored_password(config: Path) -> None:
    settings = service(config)
    shown = (await settings.file_values())["proxies"]
    report = await settings.save(
        {"proxies": [*shown, {"name": "http", "url": "http://127.0.0.1:8080"}]}
    )
    assert report.changed == ("proxies",)
    assert read_values(config)["proxies"] == [
        {"name": "tor", "url": f"socks5h://me:{PROXY_PASSWORD}@127.0.0.1:9050"},
        {"name": "http", "url": "http://127.0.0.1:8080"},
    ]


async def test_a_concealed_url_that_matches_nothing_is_refused(config: Path) -> None:
    settings = service(config)
    before = bytes_of(config)
    with pytest.raises(ConfigError, match=r"proxies\[0\]\.url: its password shows as \*\*\*"):
        await settings.save({"proxies": [{"name": "tor", "url": "socks5h://me:***@10.9.9.9:1"}]})
    assert bytes_of(config) == before


async def test_a_concealed_secret_sent_back_is_no_change(config: Path) -> None:
    settings = service(config)
    report = await settings.save(
        {"enrich": {"tmdb_api_key": SET}, "server": {"internal_secret": SET}}
    )
    assert report.changed == ()
    assert read_values(config)["enrich"]["tmdb_api_key"] == TMDB
    report = await settings.save({"enrich": {"tmdb_api_key": None}})
    assert report.changed == ("enrich.tmdb_api_key",)
    assert (await settings.file_values())["enrich"] == {}


async def test_secrets_are_never_logged(config: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = service(config)
    new_key = "cafebabecafebabecafebabecafebabe"
    with caplog.at_level(logging.DEBUG):
        await settings.save({"enrich": {"tmdb_api_key": new_key}})
        await settings.current()
        await settings.file_values()
        with pytest.raises(ConfigError):
            await settings.save({"enrich": {"tmdb_api_key": new_key + "\n"}})
    assert "enrich.tmdb_api_key" in caplog.text
    for secret in (TMDB, new_key, SECRET, PROXY_PASSWORD):
        assert secret not in caplog.text


def test_core_open_saves_to_the_file_the_settings_came_from(
    make_settings: SettingsFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "chosen" / "config.toml"
    core = Core.open(make_settings(**{"pipeline.classify": False}), config_path=chosen)
    try:
        assert core.services.settings.config_path == chosen
    finally:
        core.close()
    from_env = tmp_path / "from-env.toml"
    monkeypatch.setenv("MINATO_CONFIG", str(from_env))
    core = Core.open(make_settings(**{"pipeline.classify": False}))
    try:
        assert core.services.settings.config_path == from_env
    finally:
        core.close()
