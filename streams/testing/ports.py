"""Free loopback ports for the services tests start."""

from __future__ import annotations

import socket


def free_port(pairs: int = 1) -> int:
    """A free TCP port on loopback whose next ``pairs - 1`` ports are free too."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + pairs > 65535:
            continue
        if all(_is_free(port + i) for i in range(1, pairs)):
            return port
    raise RuntimeError("no free port pair on 127.0.0.1")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
