"""One window per data dir: a second `minato` brings the running window forward and exits.

The running window listens on a local socket (a Unix socket in the user's runtime dir,
a named pipe on Windows) whose name is derived from the user and the data dir, so two
data dirs can each have their window. A second launch connects, says `show`, waits for
`ok` and exits; when nobody answers, it is the first, and it removes a stale socket a
crashed run may have left before listening. Only the same user may connect, and a
peer may send at most `MAX_REQUEST_BYTES`: anything else is ignored and hung up on.
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path
from typing import Final

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

SHOW: Final = b"show\n"
OK: Final = b"ok\n"
MAX_REQUEST_BYTES: Final = 64
CONNECT_TIMEOUT_MS: Final = 1000
_RECEIVED: Final = "minato_received"  # a peer's bytes so far, kept on the socket itself


def instance_name(data_dir: Path) -> str:
    """The socket name for this user and data dir (short: Unix socket paths are limited)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = "?"
    key = f"{user}\0{data_dir.expanduser().resolve()}".encode()
    return "minato-" + hashlib.sha256(key).hexdigest()[:16]


def ask_running_to_show(name: str, timeout_ms: int = CONNECT_TIMEOUT_MS) -> bool:
    """True when a running Minato answered and brought its window forward."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    try:
        socket.write(SHOW)
        if not socket.waitForBytesWritten(timeout_ms):
            return False
        answer = b""
        while len(answer) < len(OK) and socket.waitForReadyRead(timeout_ms):
            answer += bytes(socket.readAll().data())
        return answer == OK
    finally:
        socket.abort()


class InstanceServer(QObject):
    """Listens for later launches; emits `show_requested` when one asks for the window."""

    show_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Start listening, replacing a stale socket; False (and why in `error`) if it cannot."""
        if self._server.listen(self.name):
            return True
        # A crashed run leaves its socket file behind; nobody answered on it (we asked first).
        QLocalServer.removeServer(self.name)
        return self._server.listen(self.name)

    @property
    def error(self) -> str:
        """Why listening failed (Qt's words)."""
        return self._server.errorString()

    def close(self) -> None:
        """Stop listening (at quit)."""
        self._server.close()

    def _accept(self) -> None:
        while (peer := self._server.nextPendingConnection()) is not None:
            peer.setProperty(_RECEIVED, b"")
            peer.readyRead.connect(self._read)  # a slot of ours: gone with us, never dangling
            peer.disconnected.connect(peer.deleteLater)

    def _read(self) -> None:
        peer = self.sender()
        if not isinstance(peer, QLocalSocket):
            return
        received = bytes(peer.property(_RECEIVED) or b"")
        received += bytes(peer.read(MAX_REQUEST_BYTES + 1 - len(received)).data())
        peer.setProperty(_RECEIVED, received)
        if received == SHOW:
            peer.write(OK)
            peer.flush()
            peer.disconnectFromServer()
            self.show_requested.emit()
        elif len(received) > MAX_REQUEST_BYTES or b"\n" in received:
            peer.abort()  # not one of ours: say nothing, do nothing
