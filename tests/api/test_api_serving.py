"""api.serving: the shared listening socket of several workers gets TCP_NODELAY, and so does every
connection accepted on it (no 40 ms Nagle / delayed-ACK stall per response)."""

from __future__ import annotations

import socket

from api.serving import set_nodelay


def _nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_accepted_connections_inherit_nodelay_from_the_listening_socket() -> None:
    for wanted in (False, True):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:  # as uvicorn binds it: proto 0
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            assert not _nodelay(listener)
            if wanted:
                assert set_nodelay(listener)
            with socket.create_connection(listener.getsockname()):
                accepted, _ = listener.accept()
                with accepted:
                    assert _nodelay(accepted) is wanted


def test_non_tcp_sockets_are_left_alone() -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
        assert set_nodelay(unix) is False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        assert set_nodelay(udp) is False
