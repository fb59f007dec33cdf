"""Plain `minato`: the window and the server in one process, stopped cleanly by a signal.

A real `minato` process with Qt offscreen: while its window is open, its HTTP API and
Torznab endpoint answer (the engine runs on its own thread), and SIGTERM (or Ctrl+C)
closes the window and shuts the engine down with exit code 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.crawl_support import free_port
from tests.server.conftest import MINATO

pytestmark = pytest.mark.slow


def start_minato(home: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINATO_")}
    env.update(
        MINATO_DATA_DIR=str(home / "data"),
        MINATO_CONFIG=str(home / "config.toml"),
        MINATO_PIPELINE__CLASSIFY="false",
        MINATO_CRAWL__ENABLED="false",
        MINATO_ENRICH__ENABLED="false",
        MINATO_SERVER__PORT=str(port),
        QT_QPA_PLATFORM="offscreen",
        PYTHONUNBUFFERED="1",
    )
    return subprocess.Popen(
        [str(MINATO)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for_server(url: str, proc: subprocess.Popen[str], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail("the window's server never answered")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_window_serves_the_api_and_stops_on_a_signal(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_minato(tmp_path, port)
    try:
        wait_for_server(url, proc)
        caps = httpx.get(f"{url}/torznab/all/api", params={"t": "caps"}, timeout=5)
        assert caps.status_code == 200
        assert "<caps>" in caps.text
        assert httpx.get(f"{url}/api/search", timeout=5).status_code == 401  # keys still needed

        proc.send_signal(stop_signal)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    assert code == 0, stderr
    assert f"serving on http://127.0.0.1:{port}" in stderr
    assert "First start: created API key" in stderr
    assert "Traceback" not in stderr


def test_a_second_minato_brings_the_first_window_forward_and_exits(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = start_minato(tmp_path, port)
    try:
        wait_for_server(url, first)
        second = start_minato(tmp_path, free_port())
        code = second.wait(timeout=60)
        message = second.stderr.read() if second.stderr else ""
        if second.stderr:
            second.stderr.close()
        assert code == 0, message
        assert "already running" in message
        assert "brought forward" in message
        assert "Traceback" not in message
        assert first.poll() is None  # the first goes on serving
        assert httpx.get(f"{url}/api/health", timeout=5).status_code == 200
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        if first.stderr:
            first.stderr.close()
    log = (tmp_path / "data" / "logs" / "minato.log").read_text()
    assert "stopped" in log  # the window's log file, named by its crash dialog
