"""``BadMetadataPeer``: a BitTorrent peer in Python that serves metadata a client must reject.

A threaded TCP server speaking the real wire protocol: the 68-byte handshake with the
BEP 10 bit, the BEP 10 extended handshake with ``ut_metadata`` and ``metadata_size``, and
BEP 9 requests answered in 16 KiB pieces. Modes: "wrong_hash" (a valid info dict whose
SHA-1 is not the hash), "malformed" (SHA-1 matches, the bytes are no valid info dict),
"oversized" (``metadata_size`` of 1 GiB), "silent" (handshakes, never answers a request),
and "honest" (correct metadata: the positive control that proves the peer itself works).
``counters()`` shows what the client did. Announce it with ``Swarm.announce_peer``.

libtorrent tries uTP before TCP; a peer with no uTP costs libtorrent a 3.5 s connect
timeout. So the peer also binds UDP on its port and answers a uTP SYN with ST_RESET, as a
TCP-only host would, and libtorrent switches to TCP within about 0.5 s.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, cast

from tests.dht_swarm.bencoding import Bencodable, bdecode_prefix, bencode
from tests.dht_swarm.sessions import Endpoint

PeerMode = Literal["honest", "wrong_hash", "malformed", "oversized", "silent"]


METADATA_PIECE = 16 * 1024  # BEP 9: metadata is exchanged in 16 KiB pieces


_PSTR = b"\x13BitTorrent protocol"
_RESERVED = bytes([0, 0, 0, 0, 0, 0x10, 0, 0])  # BEP 10: reserved[5] & 0x10 = extension protocol
_EXTENDED = 20  # BEP 10 message id
_OUR_UT_METADATA = 3  # the id we ask clients to use for ut_metadata messages to us
_UTP_SYN, _UTP_RESET = 4, 3  # BEP 29 packet types
_OVERSIZED_BYTES = 1 << 30


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerCounters:
    """What clients did with a `BadMetadataPeer` (a snapshot)."""

    connections: int = 0
    """TCP connections accepted."""
    handshakes: int = 0
    """Plaintext BitTorrent handshakes for our info hash (answered with ours)."""
    not_bittorrent: int = 0
    """Connections whose first 20 bytes were no plaintext handshake (e.g. encrypted)."""
    wrong_torrent: int = 0
    """Handshakes for another info hash (closed)."""
    extended_handshakes: int = 0
    """BEP 10 handshakes received from clients."""
    metadata_requests: int = 0
    """BEP 9 requests (msg_type 0) received, answered or not."""
    pieces_sent: int = 0
    """BEP 9 data messages sent."""
    rejects_sent: int = 0
    """BEP 9 reject messages sent (piece out of range)."""
    utp_resets: int = 0
    """uTP SYNs answered with ST_RESET (so the client falls back to TCP at once)."""


def _default_info(label: str) -> bytes:
    """A valid single-file v1 info dict of 24 KiB (1200 piece hashes): two metadata pieces."""
    pieces = b"".join(hashlib.sha1(b"%s:%d" % (label.encode(), i)).digest() for i in range(1200))  # noqa: S324
    return bencode(
        {
            "length": 1200 * METADATA_PIECE,
            "name": label,
            "piece length": METADATA_PIECE,
            "pieces": pieces,
        }
    )


# Bencoded, so a naive bdecode accepts it, but no info dict: no pieces, no length, no files.
_MALFORMED_INFO = b"d4:name16:minato-malformed12:piece lengthi16384ee"


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins the handler threads
    # Closed connections linger in TIME_WAIT on the listening port; let a later bind reuse it.
    allow_reuse_address = True

    def __init__(self, address: Endpoint, peer: BadMetadataPeer) -> None:
        self.peer = peer
        super().__init__(address, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        cast(_TcpServer, self.server).peer._serve(self.request)


class BadMetadataPeer:
    """A peer on ``ip`` whose metadata a correct client must reject (or, "honest", accept).

    Args:
        mode: See the module docstring.
        ip: The loopback address to bind (for the DHT, a swarm node's: ``swarm.node_ip(i)``).
        info_hash: The hash to pretend to have ("wrong_hash", "oversized", "silent";
            random by default). "honest" and "malformed" derive it from the metadata.
        metadata: The bytes to serve instead of the default ("honest", "wrong_hash",
            "malformed").
    """

    def __init__(
        self,
        mode: PeerMode,
        *,
        ip: str,
        info_hash: str | None = None,
        metadata: bytes | None = None,
    ) -> None:
        self.mode: PeerMode = mode
        self.metadata, self.metadata_size, hash_bytes = self._plan(mode, info_hash, metadata)
        self.info_hash = hash_bytes.hex()
        self._hash = hash_bytes
        self._peer_id = b"-MN0001-" + os.urandom(6).hex().encode()
        self._counts: dict[str, int] = dict.fromkeys(PeerCounters.__dataclass_fields__, 0)
        self._cond = threading.Condition()
        self._conns: set[socket.socket] = set()
        self._stop = threading.Event()
        self._tcp, self._udp = self._bind(ip)
        self.ip: str = ip
        self.port: int = self._tcp.server_address[1]
        self._threads = [
            threading.Thread(
                target=self._tcp.serve_forever, args=(0.05,), name=f"bad-peer-{mode}-tcp"
            ),
            threading.Thread(target=self._answer_utp, name=f"bad-peer-{mode}-utp"),
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _plan(
        mode: PeerMode, info_hash: str | None, metadata: bytes | None
    ) -> tuple[bytes, int, bytes]:
        """(metadata served, metadata_size announced, info hash) for ``mode``."""
        given = bytes.fromhex(info_hash) if info_hash else None
        if given is not None and len(given) != 20:
            raise ValueError("info_hash must be 40 hex characters")
        if mode in ("honest", "malformed"):
            if given is not None:
                raise ValueError(f"mode {mode!r} derives the info hash from the metadata")
            data = metadata or (
                _default_info("minato-honest") if mode == "honest" else _MALFORMED_INFO
            )
            return data, len(data), hashlib.sha1(data).digest()  # noqa: S324
        if mode == "wrong_hash":
            data = metadata or _default_info("minato-wrong-hash")
            wrong = given or hashlib.sha1(b"not " + data).digest()  # noqa: S324
            if wrong == hashlib.sha1(data).digest():  # noqa: S324
                raise ValueError("wrong_hash needs an info hash that is not the metadata's SHA-1")
            return data, len(data), wrong
        if mode == "oversized":
            return b"", _OVERSIZED_BYTES, given or os.urandom(20)
        if mode == "silent":
            data = _default_info("minato-silent")
            return data, len(data), given or os.urandom(20)
        raise ValueError(f"unknown mode {mode!r}")

    def _bind(self, ip: str) -> tuple[_TcpServer, socket.socket]:
        """TCP on an ephemeral port and UDP on the same number (for the uTP resets)."""
        for _ in range(50):
            tcp = _TcpServer((ip, 0), self)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind((ip, tcp.server_address[1]))
            except OSError:
                udp.close()
                tcp.server_close()
                continue
            udp.settimeout(0.05)
            return tcp, udp
        raise OSError(f"no port free for both TCP and UDP on {ip}")

    # counters

    def counters(self) -> PeerCounters:
        with self._cond:
            return PeerCounters(**self._counts)

    def wait_until(
        self, check: Callable[[PeerCounters], bool], timeout_s: float = 5.0
    ) -> PeerCounters:
        """Wait until ``check(counters)`` holds; return those counters.

        Raises:
            TimeoutError: with the counters at the deadline.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not check(counters := PeerCounters(**self._counts)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self.mode} peer: condition not met, {counters}")
                self._cond.wait(remaining)
            return counters

    @property
    def open_connections(self) -> int:
        """Client connections open right now."""
        with self._cond:
            return len(self._conns)

    def _bump(self, name: str) -> None:
        with self._cond:
            self._counts[name] += 1
            self._cond.notify_all()

    # the wire protocol

    def _serve(self, conn: socket.socket) -> None:
        with self._cond:
            if self._stop.is_set():
                conn.close()
                return
            self._conns.add(conn)
        self._bump("connections")
        try:
            self._talk(conn)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            # The client hung up (libtorrent drops peers whose metadata it rejects) or sent
            # something this small peer does not parse; either way the conversation is over.
            pass
        finally:
            with self._cond:
                self._conns.discard(conn)
            conn.close()

    def _talk(self, conn: socket.socket) -> None:
        handshake = _recv_exact(conn, 68)
        if handshake is None or handshake[:20] != _PSTR:
            self._bump("not_bittorrent")
            return
        if handshake[28:48] != self._hash:
            self._bump("wrong_torrent")
            return
        self._bump("handshakes")
        conn.sendall(_PSTR + _RESERVED + self._hash + self._peer_id)
        ours: dict[str, Bencodable] = {
            "m": {"ut_metadata": _OUR_UT_METADATA},
            "metadata_size": self.metadata_size,
            "reqq": 250,
            "v": "Minato test peer",
        }
        conn.sendall(_message(bytes([_EXTENDED, 0]) + bencode(ours)))
        their_ut: int | None = None
        while (head := _recv_exact(conn, 4)) is not None:
            length = int.from_bytes(head, "big")
            if length > 1 << 20:  # nothing this large belongs in a metadata exchange
                return
            body = _recv_exact(conn, length) if length else b""
            if body is None:
                return
            if len(body) < 2 or body[0] != _EXTENDED:
                continue  # bitfield, have_none, interested, keep-alive...: irrelevant here
            if body[1] == 0:
                self._bump("extended_handshakes")
                theirs, _ = bdecode_prefix(body[2:])
                names = cast(dict[bytes, object], theirs).get(b"m", {})
                their_ut = cast(int | None, cast(dict[bytes, object], names).get(b"ut_metadata"))
            elif body[1] == _OUR_UT_METADATA:
                self._on_metadata_message(conn, body[2:], their_ut)

    def _on_metadata_message(
        self, conn: socket.socket, payload: bytes, their_ut: int | None
    ) -> None:
        request, _ = bdecode_prefix(payload)
        request = cast(dict[bytes, int], request)
        if request.get(b"msg_type") != 0:
            return
        self._bump("metadata_requests")
        if self.mode == "silent" or not their_ut:
            return
        if self.mode == "oversized":
            # libtorrent 2.1.1 drops a too-large total_size without disconnecting and asks
            # for piece 0 again at once: pace the answers so the loop costs no CPU here.
            self._stop.wait(0.02)
        piece = request[b"piece"]
        start = piece * METADATA_PIECE
        if not 0 <= start < self.metadata_size:
            reply = bencode({"msg_type": 2, "piece": piece})
            counter = "rejects_sent"
        else:
            chunk_size = min(METADATA_PIECE, self.metadata_size - start)
            chunk = (
                bytes(chunk_size)
                if self.mode == "oversized"
                else self.metadata[start : start + chunk_size]
            )
            header = {"msg_type": 1, "piece": piece, "total_size": self.metadata_size}
            reply = bencode(header) + chunk
            counter = "pieces_sent"
        conn.sendall(_message(bytes([_EXTENDED, their_ut]) + reply))
        self._bump(counter)

    def _answer_utp(self) -> None:
        """Reset every uTP SYN, as a host whose peer has no uTP would (BEP 29 ST_RESET)."""
        while not self._stop.is_set():
            try:
                packet, sender = self._udp.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(packet) < 20 or packet[0] != (_UTP_SYN << 4 | 1):
                continue
            connection_id, seq_nr = struct.unpack_from(">H", packet, 2)[0], packet[16:18]
            reset = struct.pack(
                ">BBHIIIH", _UTP_RESET << 4 | 1, 0, connection_id, 0, 0, 0, random.randrange(65536)
            )
            self._udp.sendto(reset + seq_nr, sender)  # ack_nr = the SYN's seq_nr
            self._bump("utp_resets")

    # lifetime

    def close(self) -> None:
        """Stop serving: close the listener and every open connection, join all threads."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._tcp.shutdown()
        with self._cond:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)  # unblocks the handler's recv
        self._tcp.server_close()
        for thread in self._threads:
            thread.join()
        self._udp.close()

    def __enter__(self) -> BadMetadataPeer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _message(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    """``size`` bytes, or None when the connection ends first."""
    chunks: list[bytes] = []
    while size:
        chunk = conn.recv(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
