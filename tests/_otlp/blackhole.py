"""A broken OTLP backend for reliability tests: it accepts TCP and never answers."""

from __future__ import annotations

import socket
import threading
import time

__all__ = ["BlackHoleServer"]

_LOOPBACK = "127.0.0.1"


class BlackHoleServer:
    """A backend that accepts TCP connections and then never reads, writes or closes them.

    Exporters pointed at it connect successfully and then wait for an answer that never comes,
    which exercises their timeouts. :attr:`connections` counts accepted connections. Everything
    is closed by :meth:`stop`.
    """

    def __init__(self) -> None:
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._accepted: list[socket.socket] = []
        self._lock = threading.Lock()
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("BlackHoleServer is not started")
        return self._port

    @property
    def endpoint(self) -> str:
        return f"http://{_LOOPBACK}:{self.port}"

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._accepted)

    def env(self, protocol: str = "grpc") -> dict[str, str]:
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
        }

    def wait_for_connection(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.connections == 0:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no connection to the black hole within {timeout}s")
            time.sleep(0.01)

    def start(self) -> BlackHoleServer:
        if self._listener is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((_LOOPBACK, 0))
            listener.listen(64)
            listener.settimeout(0.05)
        except OSError:
            listener.close()
            raise
        self._listener, self._port = listener, listener.getsockname()[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._accept_loop, name="otlp-black-hole", daemon=True
        )
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._accepted.append(conn)  # held open, never read

    def stop(self) -> None:
        listener, thread = self._listener, self._thread
        self._listener = self._thread = None
        self._stopping.set()
        if thread is not None:
            thread.join(timeout=5.0)
        if listener is not None:
            listener.close()
        with self._lock:
            accepted, self._accepted = self._accepted, []
        for conn in accepted:
            conn.close()

    def __enter__(self) -> BlackHoleServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
