"""In-process OTLP trace receivers for the test suite (gRPC, HTTP/protobuf, a black hole).

Import the pytest fixtures from ``_otlp.fixtures`` in ``tests/conftest.py``. The classes live in
``receiver`` (the receivers), ``decode`` (decoded spans) and ``blackhole`` (the broken backend);
``receiver`` re-exports them all.
"""

from .receiver import (
    BlackHoleServer,
    GrpcOtlpReceiver,
    HttpOtlpReceiver,
    OtlpReceiver,
    ReceivedEvent,
    ReceivedSpan,
)

__all__ = [
    "BlackHoleServer",
    "GrpcOtlpReceiver",
    "HttpOtlpReceiver",
    "OtlpReceiver",
    "ReceivedEvent",
    "ReceivedSpan",
]
