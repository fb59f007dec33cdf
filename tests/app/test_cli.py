"""The `minato` command line, run in-process with `main([...])`, plus a few real subprocesses.

Each test gets its own data dir and config file through MINATO_DATA_DIR and
MINATO_CONFIG; the database-backed commands run on SQLite and PostgreSQL
(MINATO_DATABASE_URL). Classification is off for speed (MINATO_PIPELINE__CLASSIFY
=false) except in the one test that checks an ingest classifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from app.cli import main
from engine import __version__
from engine.config import load_settings
from engine.core import Core
from engine.scheduler import CrawlerState, CrawlerStatus
from tests.site_server import Override

TORRENTS = Path(__file__).resolve().parent.parent / "fixtures" / "torrents"
UBUNTU_HASH = "14ffe5dd23188fd5cb53a1d47f1289db70abf31e"  # flexget_test.torrent
SLACKWARE_HASH = "6f8cd699135b491513e65d967a052a7087750d9c"  # flexget_multi.torrent
MINATO = Path(sys.executable).with_name("minato")

MATRIX = {
    "source": "1337x",
    "title": "The.Matrix.1999.1080p.BluRay.x264-FGT",
    "info_hash": "c9e15763f722f23e98a29decdfae341b98d53056",
    "seeders": 1520,
    "leechers": 87,
    "size": 8_539_292_672,
}
OFFICE = {
    "source": "eztv",
    "title": "The.Office.US.S05E14.720p.WEB-DL.DD5.1.H.264-NTb",
    "magnet": "magnet:?xt=urn:btih:3F1A59CB2A1CD7E1A0BD7D2CE0F9A0E5F2B7A4C1&dn=The.Office",
    "seeders": 310,
}
DUNE = {
    "source": "yts",
    "title": "Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
    "info_hash": "8A19577FB5F690970CA43A57FF1011AE202244B8",
    "seeders": 4200,
}


@contextlib.contextmanager
def keep_logging() -> Iterator[None]:
    """`main` installs its own stderr handler on the root logger; put pytest's back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def call_main(*argv: str | Path) -> int:
    with keep_logging():
        return main([str(a) for a in argv])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment: data dir and config file in tmp_path, classification off."""
    for name in list(os.environ):
        if name.startswith("MINATO_") and name not in {
            "MINATO_TEST_DATABASE_URL",
            "MINATO_REQUIRE_POSTGRES",
        }:
            monkeypatch.delenv(name)
    monkeypatch.setenv("MINATO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MINATO_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("MINATO_PIPELINE__CLASSIFY", "false")
    monkeypatch.setenv("MINATO_CRAWL__ENABLED", "false")  # the built-in sites are public hosts
    monkeypatch.setenv("MINATO_ENRICH__ENABLED", "false")  # so are the metadata services
    return tmp_path


@pytest.fixture
def db_home(home: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`home`, on each database kind."""
    monkeypatch.setenv("MINATO_DATABASE_URL", database_url)
    return home


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = call_main(*argv)
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, content: Any) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


def search_json(capsys: pytest.CaptureFixture[str], *words: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "search", "--json", "--limit", "50", *words)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


# --- no database ---------------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        call_main("--version")
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"minato {__version__}"


def test_plain_minato_without_a_display_points_at_serve(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run(capsys)
    assert code == 1
    assert out == ""
    assert "no display to open the window on" in err
    assert "minato serve" in err
    assert not (home / "data").exists()  # nothing opened


def test_config_path_honours_minato_config(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "config", "path") == (0, f"{home / 'config.toml'}\n", "")
    other = home / "elsewhere.toml"
    assert run(capsys, "config", "path", "--config", other) == (0, f"{other}\n", "")


def test_config_path_default(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MINATO_CONFIG")
    code, out, _ = run(capsys, "config", "path")
    assert code == 0
    expected = Path(platformdirs.user_config_dir("minato", appauthor=False)) / "config.toml"
    assert out.strip() == str(expected)


def test_config_show_is_json_with_secrets_masked(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        home / "config.toml",
        '[server]\nport = 9800\ninternal_secret = "w0rker-s3cret"\n'
        '[enrich]\ntmdb_api_key = "tmdb-k3y-0123456789"\n',
    )
    monkeypatch.setenv("MINATO_DATABASE_URL", "postgresql+psycopg://minato:db-pa55@db.lan/minato")
    code, out, err = run(capsys, "config", "show")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["server"]["port"] == 9800
    assert shown["server"]["internal_secret"] == "***"  # noqa: S105
    assert shown["enrich"]["tmdb_api_key"] == "***"
    assert shown["storage"]["database_url"] == "postgresql+psycopg://minato:***@db.lan/minato"
    assert shown["storage"]["effective_data_dir"] == str(home / "data")
    assert shown["pipeline"]["classify"] is False
    for secret in ("w0rker-s3cret", "tmdb-k3y", "db-pa55"):
        assert secret not in out


def test_data_dir_flag_beats_the_environment(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "config", "show", "--data-dir", home / "flag-data")
    assert code == 0
    assert json.loads(out)["storage"]["effective_data_dir"] == str(home / "flag-data")


def test_global_options_before_the_command_are_honoured(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = home / "other.toml"
    assert run(capsys, "--config", other, "config", "path") == (0, f"{other}\n", "")
    code, out, _ = run(capsys, "--data-dir", home / "global-data", "config", "show")
    assert json.loads(out)["storage"]["effective_data_dir"] == str(home / "global-data")
    code, out, err = run(
        capsys, "--data-dir", home / "global-data", "ingest", TORRENTS / "flexget_test.torrent"
    )
    assert code == 0, err
    assert (home / "global-data" / "minato.sqlite3").is_file()
    assert not (home / "data").exists()
    # after the command name, the command's own option wins
    code, out, _ = run(
        capsys, "--data-dir", home / "ignored", "config", "show", "--data-dir", home / "wins"
    )
    assert json.loads(out)["storage"]["effective_data_dir"] == str(home / "wins")


def test_config_file_error_exits_2_naming_the_key(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(home / "config.toml", "[server]\nport = 99999\n")
    code, out, err = run(capsys, "keys", "list")
    assert code == 2
    assert out == ""
    assert err.startswith("minato: configuration error:")
    assert f"{home / 'config.toml'}: server.port:" in err
    assert "(fix: use a number no larger than 65535)" in err
    assert not (home / "data").exists()


def test_site_config_error_exits_2_before_anything_starts(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(home / "config.toml", '[sites.1337x]\nevery = "sometimes"\n')
    code, out, err = run(capsys, "keys", "list")
    assert code == 2
    assert out == ""
    assert f"{home / 'config.toml'}: sites.1337x.every: 'sometimes' is not an interval" in err
    assert "(fix: an interval such as" in err
    assert not (home / "data").exists()


def test_config_env_error_exits_2_naming_the_variable(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINATO_SEARCH__BACKEND", "elasticsearch")
    code, _, err = run(capsys, "search", "matrix")
    assert code == 2
    assert "environment variable MINATO_SEARCH__BACKEND: search.backend:" in err
    assert "'auto', 'embedded' or 'meilisearch'" in err


def test_bad_toml_exits_2(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(home / "config.toml", "[server\n")
    code, _, err = run(capsys, "config", "show")
    assert code == 2
    assert f"{home / 'config.toml'}: not valid TOML" in err


# --- keys ----------------------------------------------------------------------------------------


def test_keys_create_list_revoke(db_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets: dict[str, str] = {}
    for name in ("sonarr", "radarr", "lidarr"):
        code, out, err = run(capsys, "keys", "create", "--name", name)
        assert code == 0, err
        secrets[name] = out.splitlines()[-1]
        assert re.fullmatch(r"[0-9a-f]{32}", secrets[name])
        assert f"API key '{name}'" in out
    assert len(set(secrets.values())) == 3

    code, out, _ = run(capsys, "keys", "list")
    assert code == 0
    for name, secret in secrets.items():
        assert name in out
        assert f"{secret[:8]}…" in out
        assert secret not in out
    assert out.count("active") == 3

    settings = load_settings(db_home / "config.toml", os.environ)
    core = Core.open(settings, classify=False)
    try:
        assert asyncio.run(core.services.keys.verify(secrets["sonarr"])) is True
    finally:
        core.close()

    assert run(capsys, "keys", "revoke", "sonarr")[:2] == (0, "revoked key 1 (sonarr)\n")
    assert run(capsys, "keys", "revoke", secrets["radarr"][:8])[:2] == (
        0,
        "revoked key 2 (radarr)\n",
    )
    assert run(capsys, "keys", "revoke", "3")[:2] == (0, "revoked key 3 (lidarr)\n")

    code, out, err = run(capsys, "keys", "revoke", "prowlarr")
    assert code == 1
    assert out == ""
    assert err == "minato: no active key with id, name or prefix 'prowlarr'\n"
    code, _, err = run(capsys, "keys", "revoke", "sonarr")  # already revoked
    assert code == 1
    assert "no active key" in err

    code, out, _ = run(capsys, "keys", "list")
    assert out.count("revoked") == 3
    assert "active" not in out


def test_keys_create_needs_a_name(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        call_main("keys", "create")
    assert caught.value.code == 2
    assert "--name" in capsys.readouterr().err
    code, _, err = run(capsys, "keys", "create", "--name", "   ")
    assert code == 1
    assert "name: must be 1-128 characters" in err


# --- ingest, search, reindex ---------------------------------------------------------------------


def test_ingest_every_file_kind_then_search(
    db_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torrent = shutil.copy(TORRENTS / "flexget_test.torrent", db_home / "ubuntu.torrent")
    array = write(db_home / "releases.json", [MATRIX, {"source": "1337x", "title": "no hash"}])
    single = write(db_home / "one.json", DUNE)
    ndjson = write(
        db_home / "feed.ndjson",
        "\n".join([json.dumps(OFFICE), "", "{oops", json.dumps({**MATRIX, "source": "yts"})])
        + "\n",
    )
    code, out, err = run(capsys, "ingest", torrent, array, single, ndjson)
    assert code == 0, err
    lines = out.splitlines()
    assert f"{torrent}: 1 created, 0 updated, 0 rejected" in lines
    assert f"{array}: 1 created, 0 updated, 1 rejected" in lines
    assert "  record 1: info_hash: either info_hash or magnet is required" in lines
    assert f"{single}: 1 created, 0 updated, 0 rejected" in lines
    assert f"{ndjson}: 1 created, 1 updated, 1 rejected" in lines
    assert any(line.startswith("  record 1: line: 3: not valid JSON") for line in lines)
    assert lines[-1] == "search index updated (5 changes)"

    hits = {hit["info_hash"]: hit for hit in search_json(capsys)}
    assert set(hits) == {
        UBUNTU_HASH,
        MATRIX["info_hash"],
        "3f1a59cb2a1cd7e1a0bd7d2ce0f9a0e5f2b7a4c1",
        "8a19577fb5f690970ca43a57ff1011ae202244b8",
    }
    assert hits[UBUNTU_HASH]["title"] == "ubuntu-12.04.1-desktop-i386.iso"
    assert hits[UBUNTU_HASH]["size"] == 729067520
    assert hits[MATRIX["info_hash"]]["seeders"] == 1520
    assert [h["info_hash"] for h in search_json(capsys, "dune", "2160p")] == [
        "8a19577fb5f690970ca43a57ff1011ae202244b8"
    ]


def test_ingest_reports_failures_and_keeps_going(
    db_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = shutil.copy(TORRENTS / "libtorrent_invalid_info.torrent", db_home / "broken.torrent")
    missing = db_home / "missing.ndjson"
    bad_json = write(db_home / "bad.json", '{"source": "1337x", "title": ')
    refused = write(db_home / "refused.json", {"source": "1337x", "title": "x", "seeders": -1})
    good = shutil.copy(TORRENTS / "flexget_multi.torrent", db_home / "slackware.torrent")
    code, out, err = run(capsys, "ingest", broken, missing, bad_json, refused, good)
    assert code == 1
    assert f"{broken}: invalid torrent: missing or invalid 'info' section in torrent file" in err
    assert f"{missing}: " in err
    assert "No such file" in err
    assert f"{bad_json}: body: not valid JSON" in err
    assert f"{refused}: seeders: Input should be greater than or equal to 0" in err
    assert f"{good}: 1 created, 0 updated, 0 rejected" in out
    assert out.splitlines()[-1] == "search index updated (1 changes)"
    assert [h["info_hash"] for h in search_json(capsys, "slackware")] == [SLACKWARE_HASH]


def test_ingest_the_same_torrent_twice(db_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torrent = TORRENTS / "flexget_test.torrent"
    assert run(capsys, "ingest", torrent)[0] == 0
    code, out, _ = run(capsys, "ingest", "--source", "worker-2", torrent)
    assert code == 0
    assert f"{torrent}: 0 created, 1 updated, 0 rejected" in out
    assert len(search_json(capsys, "ubuntu")) == 1


def test_ingest_with_a_bad_source_name(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "ingest", "--source", "my uploads", TORRENTS / "flexget_test.torrent"
    )
    assert code == 1
    assert "source: must be 1-64 characters" in err


def test_ingest_classifies_when_classification_is_on(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINATO_PIPELINE__CLASSIFY", "true")
    monkeypatch.setenv("MINATO_PIPELINE__CLASSIFY_WORKERS", "1")
    batch = write(home / "batch.json", [MATRIX, OFFICE])
    code, out, err = run(capsys, "ingest", batch)
    assert code == 0, err
    assert f"{batch}: 2 created, 0 updated, 0 rejected" in out
    kinds = {hit["title"]: hit["kind"] for hit in search_json(capsys)}
    assert kinds == {MATRIX["title"]: "movie", OFFICE["title"]: "tv"}
    code, out, _ = run(capsys, "search", "--kind", "tv", "--json")
    assert [json.loads(line)["title"] for line in out.splitlines()] == [OFFICE["title"]]


def test_search_prints_a_table(db_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ingest", TORRENTS / "flexget_test.torrent", TORRENTS / "flexget_multi.torrent")
    code, out, err = run(capsys, "search", "ubuntu")
    assert code == 0, err
    header = out.splitlines()[1]
    for column in ("title", "size", "seeders", "leechers", "kind", "info hash"):
        assert column in header
    assert "ubuntu-12.04.1" in out
    assert "695.3 MiB" in out
    assert "slackware" not in out
    assert out.splitlines()[-1] == "1 match(es); showing 1"

    code, out, _ = run(capsys, "search", "ubun")  # the last word is a prefix
    assert out.splitlines()[-1] == "1 match(es); showing 1"
    code, out, _ = run(capsys, "search", "debian")
    assert code == 0
    assert out.splitlines()[-1] == "0 match(es); showing 0"
    code, out, _ = run(capsys, "search", "--sort", "size", "--limit", "1")
    assert out.splitlines()[-1] == "2 match(es); showing 1"
    assert "ubuntu-12.04.1" in out  # 729 MB beats Slackware's 702 MB


def test_search_refuses_bad_parameters(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "search", "--sort", "fastest", "ubuntu")
    assert code == 1
    assert "sort: unknown order 'fastest'" in err
    code, _, err = run(capsys, "search", "--limit", "many", "ubuntu")
    assert code == 1
    assert "limit: must be an integer" in err


def test_reindex_rebuilds_a_lost_index(db_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(
        capsys,
        "ingest",
        TORRENTS / "flexget_test.torrent",
        TORRENTS / "flexget_multi.torrent",
        write(db_home / "m.json", MATRIX),
    )
    assert code == 0
    shutil.rmtree(db_home / "data" / "index")  # the derived index is gone
    assert search_json(capsys, "ubuntu") == []
    code, out, err = run(capsys, "reindex")
    assert code == 0, err
    assert out.splitlines()[-1] == "reindexed 3 torrents"
    assert [h["info_hash"] for h in search_json(capsys, "ubuntu")] == [UBUNTU_HASH]
    assert len(search_json(capsys)) == 3


def test_reindex_of_an_empty_install(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reindex")
    assert code == 0
    assert out.splitlines()[-1] == "reindexed 0 torrents"


# --- real processes ------------------------------------------------------------------------------


def cli(home: Path, *argv: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MINATO_")}
    environ.update(
        MINATO_DATA_DIR=str(home / "data"),
        MINATO_CONFIG=str(home / "config.toml"),
        MINATO_PIPELINE__CLASSIFY="false",
        MINATO_CRAWL__ENABLED="false",
        MINATO_ENRICH__ENABLED="false",
    )
    environ.update(env)
    return subprocess.run(
        [str(MINATO), *map(str, argv)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_console_script_version_and_bare_run(tmp_path: Path) -> None:
    done = cli(tmp_path, "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"minato {__version__}")
    done = cli(tmp_path, DISPLAY="", WAYLAND_DISPLAY="", QT_QPA_PLATFORM="")
    assert done.returncode == 1
    assert "no display" in done.stderr
    assert "minato serve" in done.stderr


@pytest.mark.slow
def test_console_script_ingest_search_keys(tmp_path: Path) -> None:
    done = cli(tmp_path, "ingest", TORRENTS / "flexget_test.torrent", tmp_path / "nope.json")
    assert done.returncode == 1
    assert "1 created" in done.stdout
    assert "nope.json" in done.stderr
    assert "Traceback" not in done.stderr

    done = cli(tmp_path, "search", "--json", "ubuntu")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["info_hash"] for line in done.stdout.splitlines()] == [UBUNTU_HASH]

    done = cli(tmp_path, "keys", "create", "--name", "prowlarr")
    assert done.returncode == 0, done.stderr
    secret = done.stdout.splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{32}", secret)

    done = cli(tmp_path, "config", "show", MINATO_SERVER__PORT="70000")
    assert done.returncode == 2
    assert "MINATO_SERVER__PORT: server.port" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_second_serve_on_one_data_dir_stops_at_start(home: Path, capsys) -> None:
    settings = load_settings(home / "config.toml", os.environ)
    first = Core.open(settings, classify=False)
    try:
        first.index.ensure_writable()  # what a running `minato serve` holds
        code, _out, err = run(capsys, "serve", "--port", "0")
    finally:
        first.close()
    assert code == 1
    assert "used by another Minato process" in err


def test_reclassify_classifies_what_was_ingested_without_it(home: Path, capsys) -> None:
    path = home / "records.json"
    path.write_text(json.dumps([MATRIX, DUNE]), "utf-8")
    assert run(capsys, "ingest", path)[0] == 0  # MINATO_PIPELINE__CLASSIFY=false in `home`
    code, out, _err = run(capsys, "search", "--kind", "movie", "matrix")
    assert "0 match(es)" in out
    code, out, _err = run(capsys, "reclassify")
    assert code == 0
    assert "reclassified 2 torrents: 2 changed" in out
    code, out, _err = run(capsys, "search", "--kind", "movie", "matrix")
    assert "1 match(es)" in out


# --- crawlers ----------------------------------------------------------------------------------


def test_crawlers_before_any_run_says_how_they_run(
    db_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "crawlers")
    assert code == 0, err
    assert "No crawler has saved a status yet" in out
    assert "POST /api/crawlers/ID/start" in out
    code, out, err = run(capsys, "crawlers", "--json")
    assert (code, out) == (0, "")


def test_crawlers_shows_what_the_database_holds(
    db_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    at = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    settings = load_settings(db_home / "config.toml", os.environ)
    core = Core.open(settings, classify=False)
    try:
        assert core.crawling is not None
        store = core.crawling.status_store
        asyncio.run(
            store.save(
                CrawlerStatus(
                    source="yts",
                    state=CrawlerState.IDLE,
                    finished_at=at,
                    last_duration_s=12.34,
                    items_seen=50,
                    items_new=7,
                    items_total=1234,
                    runs=9,
                    next_run_at=at + timedelta(hours=1),
                )
            )
        )
        asyncio.run(
            store.save(
                CrawlerStatus(
                    source="eztv",
                    state=CrawlerState.BACKING_OFF,
                    consecutive_failures=2,
                    last_error="AllMirrorsDown: eztv: no mirror answered",
                )
            )
        )
    finally:
        core.close()

    code, out, err = run(capsys, "crawlers")
    assert code == 0, err
    lines = out.splitlines()
    yts = next(line for line in lines if " yts " in line)
    for shown in ("idle", "2026-11-26 09:30", "12.3 s", "50/7", "1234", "9", "2026-11-26 10:30"):
        assert shown in yts, (shown, yts)
    eztv = next(line for line in lines if " eztv " in line)
    assert "backing_off" in eztv
    assert "AllMirrorsDown" in eztv
    assert lines.index(eztv) < lines.index(yts)  # by id

    code, out, err = run(capsys, "crawlers", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["state"], r["items_total"]) for r in rows] == [
        ("eztv", "backing_off", 0),
        ("yts", "idle", 1234),
    ]
    assert rows[1]["finished_at"] == "2026-11-26T09:30:00+00:00"


def test_crawlers_help_points_at_the_api_for_start_and_stop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        call_main("crawlers", "--help")
    assert "POST /api/crawlers/ID/start" in capsys.readouterr().out


# --- crawl ------------------------------------------------------------------------------------


def _leetx_config(home: Path, url: str) -> None:
    from tests.crawl_support import BUILTIN_IDS

    lines = [f'[sites.1337x]\nmirrors = ["{url}"]\nmin_interval_s = 0\ndepth = 1\n']
    lines += [f"[sites.{site}]\nenabled = false\n" for site in BUILTIN_IDS if site != "1337x"]
    write(home / "config.toml", "\n".join(lines))


def test_crawl_reads_a_site_and_prints_a_summary(
    db_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.site_server import LEETX_LISTINGS, ROWS_PER_PAGE, ThreadedSite

    with ThreadedSite(pages=2) as site:
        _leetx_config(db_home, site.url)
        code, out, err = run(capsys, "crawl", "1337x", "--depth", "2")
        assert code == 0, err
    rows = 2 * ROWS_PER_PAGE * len(LEETX_LISTINGS)
    assert f"1337x latest: 4 pages, {rows} rows, {rows} new, 0 updated, 0 errors" in out
    assert "search index updated" in out
    assert len(search_json(capsys, "lion", "king")) == 50  # --limit 50 of the 80 found


def test_crawl_search_mode_and_its_errors(
    db_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.site_server import ThreadedSite

    with ThreadedSite(pages=1) as site:
        _leetx_config(db_home, site.url)
        code, out, err = run(capsys, "crawl", "1337x", "--mode", "search", "--query", "lion king")
        assert code == 0, err
        assert site.listing_paths() == ["/search/lion+king/1/"]
        assert "20 new" in out
        assert run(capsys, "crawl", "1337x", "--mode", "search")[0] == 2
        assert run(capsys, "crawl", "1337x", "--depth", "0")[0] == 2
        code, _, err = run(capsys, "crawl", "nosuchsite")
        assert code == 1
        assert "no site 'nosuchsite' to crawl" in err
        code, _, err = run(capsys, "crawl", "thepiratebay")
        assert code == 1
        assert "disabled" in err
        site.override_all = Override(body="")
        code, _, err = run(capsys, "crawl", "1337x")
        assert code == 1
        assert "layout changed on 1337x" in err


def test_a_site_definition_in_the_config_dir_adds_a_site_without_python(
    db_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.site_server import ROWS_PER_PAGE, ThreadedSite

    builtin = Path(__file__).resolve().parents[2] / "engine/sources/html/definitions/1337x.yml"
    text = builtin.read_text("utf-8").replace("id: 1337x", "id: leetmirror")
    with ThreadedSite(pages=1) as site:
        _leetx_config(db_home, site.url)
        (db_home / "sites").mkdir()
        defaults = f'defaults:\n  mirrors: ["{site.url}"]\n  min_interval_s: 0\n  depth: 1\n'
        write(db_home / "sites" / "leetmirror.yml", text + "\n" + defaults)
        code, out, err = run(capsys, "crawl", "leetmirror", "--mode", "search", "--query", "x")
        assert code == 0, err
        assert f"{ROWS_PER_PAGE} new" in out
    write(db_home / "sites" / "leetmirror.yml", text.replace("then: [int]", "then: [integer]"))
    code, _, err = run(capsys, "crawlers")
    assert code == 2
    assert "leetmirror.yml: listing.fields.seeders.then[0]: unknown filter 'integer'" in err


# --- feeds ------------------------------------------------------------------------------------


def test_feeds_are_added_listed_and_removed(
    db_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "feeds", "list")
    assert code == 0
    assert "No feeds yet" in out
    url = "https://showrss.example/feeds/all.rss"
    code, out, err = run(capsys, "feeds", "add", url, "--name", "showrss", "--every", "30m")
    assert code == 0, err
    assert "added feed showrss (feed:showrss), polled every 30m" in out
    code, out, _ = run(capsys, "feeds", "list")
    assert "showrss" in out
    assert "30m" in out
    code, _, err = run(capsys, "feeds", "add", url, "--name", "showrss")
    assert code == 1
    assert "exists" in err
    code, _, err = run(capsys, "feeds", "add", "ftp://x.example/rss", "--name", "other")
    assert code == 1
    assert "http:// or https://" in err
    assert run(capsys, "feeds", "remove", "showrss")[0] == 0
    code, _, err = run(capsys, "feeds", "remove", "showrss")
    assert code == 1
    assert "no feed named 'showrss'" in err
