"""Run an ASGI app with uvicorn in a background thread on 127.0.0.1 (browser tests, screenshots).

`background_server(app)` picks a free port, starts the server, waits until it answers and stops it on exit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 20.0
POLL_SECONDS = 0.05


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def background_server(app: Any, host: str = HOST, port: int | None = None,
                      timeout: float = STARTUP_TIMEOUT_SECONDS) -> Iterator[str]:
    """Serve `app` in a daemon thread; yields its base URL (http://host:port)."""
    import uvicorn

    port = port or free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on {host}:{port} did not start within {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
