"""Free loopback ports and waiting for a child to listen on one."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

LOOPBACK = "127.0.0.1"


class StartupError(RuntimeError):
    """A child process did not come up (it exited, or never listened in time)."""


def free_port(
    host: str = LOOPBACK, exclude: set[int] | None = None, preferred: int | None = None
) -> int:
    """``preferred`` when it is free, else a port the OS reports free right now."""
    exclude = exclude or set()
    if preferred is not None and preferred not in exclude and not port_open(host, preferred):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, preferred))
                return preferred
            except OSError:
                pass
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in exclude:
            return port
    raise StartupError("no free TCP port found")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str,
    port: int,
    *,
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
    what: str = "service",
) -> None:
    """Block until ``host:port`` accepts connections; fail early when ``alive()`` turns false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if not alive():
            raise StartupError(f"{what} exited before listening on {host}:{port}")
        time.sleep(0.1)
    raise StartupError(f"{what} did not listen on {host}:{port} within {timeout:.0f}s")
