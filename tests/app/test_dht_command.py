"""`minato dht start|stop|status`: against a running server, and with none running.

The running server is a real `minato serve` process whose DHT node listens on a
loopback address with no bootstrap nodes, so starting it sends nothing anywhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.cli_support import run_minato
from tests.crawl_support import BUILTIN_IDS, free_port
from tests.server.conftest import ServerProcess

pytestmark = pytest.mark.slow


def only_the_dht(home: Path) -> Path:
    """A config with every site off and a DHT node that talks to nobody."""
    lines = [f"[sites.{site}]\nenabled = false\n" for site in BUILTIN_IDS if site != "dht"]
    lines.append('[dht]\nlisten = "127.0.0.1:0"\nbootstrap = []\n')
    config = home / "config.toml"
    config.write_text("\n".join(lines), "utf-8")
    return config


def minato(home: Path, config: Path, *args: str, **env: str) -> tuple[int, str, str]:
    return run_minato(home, config, *args, **env)


def test_without_a_server_the_choice_waits_for_the_next_start(tmp_path: Path) -> None:
    config = only_the_dht(tmp_path)
    port = str(free_port())
    code, out, err = minato(tmp_path, config, "dht", "status", MINATO_SERVER__PORT=port)
    assert code == 0, err
    assert "DHT crawler: disabled (off until started)" in out
    assert "no server running: last saved figures" in out
    assert "no run yet" in out

    code, out, err = minato(tmp_path, config, "dht", "start", MINATO_SERVER__PORT=port)
    assert code == 0, err
    assert "takes effect at the next start" in out
    code, out, err = minato(tmp_path, config, "dht", "status", "--json", MINATO_SERVER__PORT=port)
    body = json.loads(out)
    assert (body["crawler"]["enabled"], body["live"]) == (True, False)

    code, out, err = minato(
        tmp_path, config, "dht", "start", MINATO_SERVER__PORT=port, MINATO_CRAWL__ENABLED="false"
    )
    assert code == 2
    assert "[crawl] enabled = false" in err


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServerProcess, Path]]:
    config = only_the_dht(tmp_path)
    proc = ServerProcess(tmp_path / "data", config, MINATO_CRAWL__ENABLED="true")
    yield proc.start(), config
    proc.close()


def ask(home: Path, config: Path, server: ServerProcess, action: str) -> dict[str, Any]:
    port = server.url.rsplit(":", 1)[1]
    code, out, err = minato(home, config, "dht", action, "--json", MINATO_SERVER__PORT=port)
    assert code == 0, err
    body: dict[str, Any] = json.loads(out)
    assert body["from"] == "running server"
    return body


def test_a_running_server_starts_and_stops_its_node(
    tmp_path: Path, server: tuple[ServerProcess, Path]
) -> None:
    proc, config = server
    body = ask(tmp_path, config, proc, "status")
    assert body["crawler"]["state"] == "disabled"
    ask(tmp_path, config, proc, "start")
    deadline = time.monotonic() + 30
    while not (body := ask(tmp_path, config, proc, "status"))["live"]:
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert body["crawler"]["state"] == "running"
    assert body["figures"]["running"] is True
    assert 0 < body["figures"]["listen_port"] < 65536

    port = proc.url.rsplit(":", 1)[1]
    code, out, err = minato(tmp_path, config, "dht", "status", MINATO_SERVER__PORT=port)
    assert code == 0, err
    assert "DHT crawler: running" in out
    assert f"port {body['figures']['listen_port']}" in out

    stopped = ask(tmp_path, config, proc, "stop")
    assert stopped["crawler"]["state"] == "disabled"
    assert stopped["live"] is False  # the node has left: figures are the last saved ones
    assert stopped["figures"]["listen_port"] == body["figures"]["listen_port"]
    assert proc.stop() == 0
