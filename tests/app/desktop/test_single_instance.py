"""One window per data dir: the listener answers `show`, and ignores anything else."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.desktop.single_instance import (
    MAX_REQUEST_BYTES,
    OK,
    SHOW,
    InstanceServer,
    instance_name,
)


def test_the_name_depends_on_the_data_dir_and_is_short(tmp_path: Path) -> None:
    first = instance_name(tmp_path / "a")
    assert first == instance_name(tmp_path / "a" / ".." / "a")  # the same dir, spelled otherwise
    assert first != instance_name(tmp_path / "b")
    assert first.startswith("minato-")
    assert len(first) < 40


class Peer:
    """A raw client on another thread (the listener's loop must keep running)."""

    def __init__(self, path: str, payload: bytes) -> None:
        self.answer = b""
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._talk, args=(path, payload), daemon=True)
        self._thread.start()

    def _talk(self, path: str, payload: bytes) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(5)
            client.connect(path)
            try:
                client.sendall(payload)
                while chunk := client.recv(64):
                    self.answer += chunk
            except OSError:
                pass  # hung up on
        self.closed.set()


@pytest.fixture
def server(qtbot: QtBot, tmp_path: Path) -> InstanceServer:
    listener = InstanceServer(instance_name(tmp_path))
    assert listener.listen(), listener.error
    yield listener
    listener.close()


def test_show_is_answered_and_brings_the_window(qtbot: QtBot, server: InstanceServer) -> None:
    with qtbot.waitSignal(server.show_requested, timeout=5000):
        peer = Peer(server._server.fullServerName(), SHOW)
    qtbot.waitUntil(peer.closed.is_set, timeout=5000)
    assert peer.answer == OK


@pytest.mark.parametrize(
    "payload",
    [b"quit\n", b"show now\n", b"\x00\xff\n", b"x" * (MAX_REQUEST_BYTES + 10), b""],
    ids=["other-command", "show-with-words", "binary", "oversized", "empty"],
)
def test_anything_else_is_ignored_and_hung_up_on(
    qtbot: QtBot, server: InstanceServer, payload: bytes
) -> None:
    shown: list[bool] = []
    server.show_requested.connect(lambda: shown.append(True))
    peer = Peer(server._server.fullServerName(), payload)
    if payload:
        qtbot.waitUntil(peer.closed.is_set, timeout=5000)
    else:
        qtbot.wait(300)  # an idle peer: nothing happens
    assert peer.answer == b""
    assert shown == []
    # The listener still works for a real request afterwards.
    with qtbot.waitSignal(server.show_requested, timeout=5000):
        Peer(server._server.fullServerName(), SHOW)


def test_a_stale_socket_left_by_a_crash_is_replaced(qtbot: QtBot, tmp_path: Path) -> None:
    name = instance_name(tmp_path)
    probe = InstanceServer(name)
    assert probe.listen()
    path = probe._server.fullServerName()
    probe.close()  # removes its socket file
    # A killed process leaves its socket file behind, with nobody listening on it.
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()
    assert Path(path).exists()

    fresh = InstanceServer(name)
    assert fresh.listen(), fresh.error
    with qtbot.waitSignal(fresh.show_requested, timeout=5000):
        Peer(fresh._server.fullServerName(), SHOW)
    fresh.close()
