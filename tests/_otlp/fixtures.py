"""Pytest fixtures around the in-process OTLP receivers.

Make them available to the whole suite from ``tests/conftest.py``::

    from _otlp.fixtures import otlp_blackhole, otlp_grpc_receiver, otlp_http_receiver

    __all__ = ["otlp_blackhole", "otlp_grpc_receiver", "otlp_http_receiver"]

Each fixture is function-scoped: a fresh server on a free loopback port per test, stopped (and
every socket and thread it owns released) when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .receiver import BlackHoleServer, GrpcOtlpReceiver, HttpOtlpReceiver

__all__ = ["otlp_blackhole", "otlp_grpc_receiver", "otlp_http_receiver"]


@pytest.fixture
def otlp_grpc_receiver() -> Iterator[GrpcOtlpReceiver]:
    """A running OTLP/gRPC trace receiver; ``.endpoint`` is ``http://127.0.0.1:<port>``."""
    receiver = GrpcOtlpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def otlp_http_receiver() -> Iterator[HttpOtlpReceiver]:
    """A running OTLP/HTTP protobuf receiver; exporters POST to ``.endpoint + '/v1/traces'``."""
    receiver = HttpOtlpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def otlp_blackhole() -> Iterator[BlackHoleServer]:
    """A broken backend that accepts TCP connections and never answers them."""
    server = BlackHoleServer().start()
    try:
        yield server
    finally:
        server.stop()
