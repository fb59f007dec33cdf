"""Writing the settings file: comments kept, the result validated before writing, atomic 0600.

Every refusal must name the dotted key and leave the file byte for byte as it was.
"""

from __future__ import annotations

import logging
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from engine.config import Settings, load_settings
from engine.errors import ConfigError
from engine.settings_file import MAX_STRING_CHARS, read_values, save_changes

USER_FILE = """\
# My Minato settings -- hand written
[server]
# the port Sonarr talks to
port = 9800  # keep in sync with sonarr
host = "127.0.0.1"

[dht]
enabled = true  # yes, on purpose
listen = "0.0.0.0:6991"

# proxies I use
[[proxies]]
name = "tor"
url = "socks5h://127.0.0.1:9050"

[live]
min_results = 5
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(USER_FILE, "utf-8")
    return path


def refused(path: Path, changes: dict[str, Any], env: dict[str, str] | None = None) -> str:
    """Save `changes`, expecting a refusal that leaves the file untouched; its message."""
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(ConfigError) as caught:
        save_changes(path, changes, env or {})
    after = path.read_bytes() if path.exists() else None
    assert after == before
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp
    return caught.value.user_message


def test_a_change_keeps_comments_layout_and_unrelated_keys(config: Path) -> None:
    written = save_changes(config, {"server": {"port": 9900}, "desktop": {"theme": "dark"}}, {})
    text = config.read_text("utf-8")
    assert written.changed == ("server.port", "desktop.theme")
    assert text.startswith(USER_FILE.replace("port = 9800", "port = 9900"))  # all of it, in place
    assert "port = 9900  # keep in sync with sonarr" in text
    assert text.endswith('[desktop]\ntheme = "dark"\n')
    settings = load_settings(config, {})
    assert (settings.server.port, settings.desktop.theme) == (9900, "dark")
    assert (settings.dht.enabled, settings.dht.listen, settings.live.min_results) == (
        True, "0.0.0.0:6991", 5,
    )  # fmt: skip
    assert written.settings == settings


def test_the_result_reads_back_as_saved(config: Path) -> None:
    changes = {
        "server": {"host": "::1"},
        "enrich": {"tmdb_api_key": "0123456789abcdef0123456789abcdef", "batch": 50},
        "pipeline": {"classify": False},
        "sites": {"1337x": {"enabled": False, "mirrors": ["https://1337x.example"], "depth": 7}},
        "desktop": {"start_minimized": True, "close_to_tray": False},
    }
    save_changes(config, changes, {})
    values = read_values(config)
    for section, keys in changes.items():
        if section != "sites":
            assert {k: values[section][k] for k in keys} == keys
    assert values["sites"] == changes["sites"]
    assert "[sites.1337x]" in config.read_text("utf-8")  # no empty [sites] header


def test_a_missing_file_and_directory_are_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    written = save_changes(path, {"enrich": {"tmdb_api_key": "k" * 32}}, {})
    assert written.changed == ("enrich.tmdb_api_key",)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text("utf-8")
    assert text.startswith("# Minato settings.")
    assert tomllib.loads(text) == {"enrich": {"tmdb_api_key": "k" * 32}}


def test_an_existing_world_readable_file_becomes_owner_only(config: Path) -> None:
    config.chmod(0o644)
    save_changes(config, {"server": {"port": 9901}}, {})
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_nothing_changed_writes_nothing(config: Path, tmp_path: Path) -> None:
    before = config.stat().st_mtime_ns
    written = save_changes(config, {"server": {"port": 9800, "host": "127.0.0.1"}}, {})
    assert written.changed == ()
    assert config.stat().st_mtime_ns == before
    absent = tmp_path / "absent.toml"
    assert save_changes(absent, {"server": {"port": None}}, {}).changed == ()
    assert not absent.exists()


def test_none_removes_a_key_a_site_and_a_list(config: Path) -> None:
    save_changes(config, {"sites": {"yts": {"depth": 4}, "eztv": {"enabled": False}}}, {})
    written = save_changes(
        config,
        {"server": {"port": None}, "sites": {"yts": {"depth": None}, "eztv": None},
         "proxies": None},
        {},
    )  # fmt: skip
    assert set(written.changed) == {"server.port", "sites.yts.depth", "sites.eztv", "proxies"}
    values = read_values(config)
    assert "port" not in values["server"]
    assert "sites" not in values  # emptied tables are dropped
    assert "proxies" not in values
    assert "# proxies I use" in config.read_text("utf-8")
    assert load_settings(config, {}).server.port == 9797


def test_a_list_is_replaced_where_it_stood(config: Path) -> None:
    proxies = [
        {"name": "a", "url": "http://127.0.0.1:8080"},
        {"name": "b", "url": "socks5h://user:pw@127.0.0.1:1080"},
    ]
    assert save_changes(config, {"proxies": proxies}, {}).changed == ("proxies",)
    text = config.read_text("utf-8")
    assert text.index("# proxies I use") < text.index('name = "a"') < text.index("[live]")
    assert read_values(config)["proxies"] == proxies
    assert save_changes(config, {"proxies": proxies}, {}).changed == ()


@pytest.mark.parametrize(
    ("changes", "key", "fix"),
    [
        ({"server": {"port": 70000}}, "server.port", "use a number no larger than 65535"),
        ({"server": {"port": "ninety"}}, "server.port", "fix:"),
        ({"server": {"host": "not a host!"}}, "server.host", "must be an IP address"),
        ({"server": {"host": "http://127.0.0.1"}}, "server.host", "must be an IP address"),
        ({"search": {"backend": "elastic"}}, "search.backend", "use one of"),
        ({"desktop": {"theme": "purple"}}, "desktop.theme", "use one of"),
        ({"server": {"prot": 1}}, "server.prot", "remove this key or check its spelling"),
        ({"proxies": [{"url": "socks5h://127.0.0.1:9050"}]}, "proxies.0.name", "add this key"),
        ({"servr": {"port": 1}}, "'servr'", "not a settings section"),
        ({"server": {"port": object()}}, "server.port", "cannot be stored"),
        ({"server": ["port"]}, "server", "expected a table"),
        ({"proxies": "tor"}, "proxies", "expected a list of tables"),
    ],
)
def test_invalid_values_are_refused_naming_the_key(
    config: Path, changes: dict[str, Any], key: str, fix: str
) -> None:
    message = refused(config, changes)
    assert key in message
    assert fix in message


def test_a_variable_cannot_hide_a_bad_value_in_the_file(config: Path) -> None:
    # loading would take 9001 from the variable, but the next start without it would fail
    message = refused(config, {"server": {"port": 70000}}, {"MINATO_SERVER__PORT": "9001"})
    assert "server.port" in message


def test_the_environment_takes_part_as_in_loading(config: Path) -> None:
    written = save_changes(config, {"server": {"port": 9902}}, {"MINATO_SERVER__PORT": "9001"})
    assert written.settings.server.port == 9001  # what the next start runs with
    assert read_values(config)["server"]["port"] == 9902  # what the file says


def test_a_refusing_check_leaves_the_file_untouched(config: Path) -> None:
    seen: list[Settings] = []

    def check(settings: Settings) -> None:
        seen.append(settings)
        raise ConfigError("sites.yts.mirrors: no good (fix: another)")

    before = config.read_bytes()
    with pytest.raises(ConfigError, match=r"sites\.yts\.mirrors"):
        save_changes(config, {"server": {"port": 9903}}, {}, check=check)
    assert config.read_bytes() == before
    assert seen[0].server.port == 9903  # the check saw the changed settings


def test_a_megabyte_string_is_refused(config: Path) -> None:
    message = refused(config, {"enrich": {"musicbrainz_contact": "x" * 1_000_000}})
    assert "enrich.musicbrainz_contact" in message
    assert f"at most {MAX_STRING_CHARS}" in message
    assert len(message) < 300


@pytest.mark.parametrize(
    "value",
    ['a"\n[server]\nport=1', "tab\there", "nul\x00", "esc\x1b[31m", "cr\rx", "\ud800"],
)
def test_control_characters_and_line_breaks_are_refused(config: Path, value: str) -> None:
    message = refused(config, {"enrich": {"musicbrainz_contact": value}})
    assert "enrich.musicbrainz_contact: contains control characters" in message


@pytest.mark.parametrize(
    "value",
    [
        'a" [server] port = 1 #',
        "x''' y \"\"\" z",
        ']] [[proxies]] name = "evil"',
        "\\u0000 \\n literal backslashes",
        "ünïcødé 東京 🚀",
    ],
)
def test_toml_syntax_in_a_value_is_stored_as_data(config: Path, value: str) -> None:
    save_changes(config, {"enrich": {"musicbrainz_contact": value}}, {})
    values = tomllib.loads(config.read_text("utf-8"))
    assert values["enrich"]["musicbrainz_contact"] == value
    assert values["server"] == {"port": 9800, "host": "127.0.0.1"}
    assert values["proxies"] == [{"name": "tor", "url": "socks5h://127.0.0.1:9050"}]


def test_a_hostile_site_id_or_key_is_refused(config: Path) -> None:
    assert "not a usable key" in refused(config, {"sites": {"a\nb": {"enabled": True}}})
    assert "not a usable key" in refused(config, {"sites": {"x" * 200: {"enabled": True}}})
    assert "not a usable key" in refused(config, {"server": {"": 1}})


def test_a_broken_file_is_reported_and_never_overwritten(config: Path) -> None:
    config.write_text("[server\nport = 1\n", "utf-8")
    message = refused(config, {"server": {"port": 9904}})
    assert str(config) in message
    assert "not valid TOML" in message


def test_a_section_that_is_not_a_table_is_refused(config: Path) -> None:
    config.write_text("server = 5\n", "utf-8")
    assert "[server] must be a table" in refused(config, {"server": {"port": 9905}})


def test_a_symlinked_file_stays_a_symlink(tmp_path: Path, config: Path) -> None:
    link = tmp_path / "link.toml"
    link.symlink_to(config)
    save_changes(link, {"server": {"port": 9906}}, {})
    assert link.is_symlink()
    assert read_values(config)["server"]["port"] == 9906


def test_an_unwritable_place_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the config directory should be", "utf-8")
    with pytest.raises(ConfigError, match="cannot write the settings file"):
        save_changes(blocker / "config.toml", {"server": {"port": 9907}}, {})
    assert blocker.read_text("utf-8").startswith("a file")


def test_a_directory_in_the_way_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.mkdir()
    with pytest.raises(ConfigError, match="cannot read the config file"):
        save_changes(path, {"server": {"port": 9908}}, {})


def test_values_are_never_logged(config: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = "f00dfeedf00dfeedf00dfeedf00dfeed"  # noqa: S105 - must never reach a log
    with caplog.at_level(logging.DEBUG):
        save_changes(config, {"enrich": {"tmdb_api_key": secret}}, {})
    assert "enrich.tmdb_api_key" in caplog.text
    assert secret not in caplog.text


ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a value to store, nothing binds here


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "::1", "::", ALL_INTERFACES, "localhost", "nas.lan", "my-host", "fe80::1"]
)
def test_addresses_and_host_names_are_accepted(config: Path, host: str) -> None:
    save_changes(config, {"server": {"host": host}}, {})
    assert load_settings(config, {}).server.host == host


@pytest.mark.parametrize("host", ["", " 127.0.0.1", "-bad.example", "a..b", "[::1]", "h_st"])
def test_malformed_hosts_are_refused(config: Path, host: str) -> None:
    assert "server.host" in refused(config, {"server": {"host": host}})


def test_the_desktop_section_defaults_and_choices(tmp_path: Path) -> None:
    desktop = load_settings(tmp_path / "absent.toml", {}).desktop
    assert (desktop.start_minimized, desktop.close_to_tray, desktop.theme) == (
        False, True, "system",
    )  # fmt: skip
    assert all(field.description for field in type(desktop).model_fields.values())
    env = {"MINATO_DESKTOP__THEME": "dark", "MINATO_DESKTOP__START_MINIMIZED": "true"}
    overridden = load_settings(tmp_path / "absent.toml", env).desktop
    assert (overridden.theme, overridden.start_minimized) == ("dark", True)
