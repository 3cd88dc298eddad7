"""An exporter that is down never makes a pipeline fail, hang or log per span.

The SDK ``BatchSpanProcessor`` with the real OTLP exporters (gRPC and HTTP/protobuf) is pointed
at a closed port (connection refused) and at a black hole (accepts TCP, never answers), with a
0.5 s exporter timeout and a 20 ms schedule delay.

What the SDK (1.45) does, observed here: each failed *export call* (one batch of up to 512 spans)
logs one ERROR record -- gRPC: ``Failed to export traces to <endpoint>, error code: ...`` from
``opentelemetry.exporter.otlp.proto.grpc.exporter`` (which also carries a duplicate filter);
HTTP: ``Failed to export spans batch due to timeout, max retries or shutdown.`` from
``opentelemetry.exporter.otlp.proto.http.trace_exporter``. Nothing is logged per span.
``force_flush`` ignores its own timeout (SDK issue #4568) but each export is bounded by the
exporter timeout, and ``shutdown`` waits at most its timeout for the worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _support import CountingProcessor
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from otel_runnables import RunnableLambda, adispatch_custom_event, dispatch_custom_event
from otel_runnables.tracing import use_tracer_provider

EXPORT_TIMEOUT_S = 0.5
RUNS = 40
SPANS_PER_RUN = 3
BOUND_S = 30.0  # a generous bound: we assert that calls return, not how fast


def _closed_port_endpoint() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more: connection refused
    return f"http://127.0.0.1:{port}"


def _exporter(protocol: str, endpoint: str) -> Any:
    if protocol == "grpc":
        return GrpcExporter(endpoint=endpoint, insecure=True, timeout=EXPORT_TIMEOUT_S)
    return HttpExporter(endpoint=endpoint + "/v1/traces", timeout=EXPORT_TIMEOUT_S)


def _step(x: int) -> int:
    dispatch_custom_event("progress", {"x": x})
    return x + 1


async def _astep(x: int) -> int:
    await adispatch_custom_event("aprogress", {"x": x})
    return x * 2


def _returns(call: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``call`` in a daemon thread; (returned within BOUND_S, its result)."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    thread.join(BOUND_S)
    return (not thread.is_alive(), box[0] if box else None)


@pytest.fixture(params=["grpc", "http/protobuf"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["closed-port", "black-hole"])
def dead_endpoint(request: pytest.FixtureRequest, otlp_blackhole: Any) -> str:
    if request.param == "closed-port":
        return _closed_port_endpoint()
    return str(otlp_blackhole.endpoint)


@pytest.fixture
def dead_provider(protocol: str, dead_endpoint: str) -> Iterator[tuple[TracerProvider, Any]]:
    provider = TracerProvider()
    counter = CountingProcessor()
    provider.add_span_processor(counter)
    provider.add_span_processor(
        BatchSpanProcessor(
            _exporter(protocol, dead_endpoint),
            schedule_delay_millis=20,
            export_timeout_millis=EXPORT_TIMEOUT_S * 1000,
        )
    )
    use_tracer_provider(provider)
    try:
        yield provider, counter
    finally:
        use_tracer_provider(None)
        _returns(provider.shutdown)


@pytest.fixture(autouse=True)
def _fresh_duplicate_filters() -> None:
    """The SDK's ``DuplicateFilter`` drops a record equal to the previous one within a 20 s
    window, process-wide; forget the previous record so each test sees its own first one."""
    for name in (
        "opentelemetry.exporter.otlp.proto.grpc.exporter",
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        "opentelemetry.sdk._shared_internal",
    ):
        for log_filter in logging.getLogger(name).filters:
            if hasattr(log_filter, "last_log"):
                del log_filter.last_log


def _export_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.name.startswith("opentelemetry") and r.levelno >= logging.WARNING
    ]


async def test_exporter_down_pipelines_unaffected(
    dead_provider: tuple[TracerProvider, Any],
    caplog: pytest.LogCaptureFixture,
    protocol: str,
) -> None:
    caplog.set_level(logging.WARNING)
    provider, counter = dead_provider
    chain = RunnableLambda(_step, name="step") | RunnableLambda(_astep, name="astep")
    sync_chain = RunnableLambda(_step, name="step") | RunnableLambda(lambda y: y * 2, name="x2")

    sync_results = [sync_chain.invoke(i) for i in range(RUNS // 2)]
    async_results = await asyncio.gather(*(chain.ainvoke(i) for i in range(RUNS // 2)))
    expected = [(i + 1) * 2 for i in range(RUNS // 2)]
    assert sync_results == expected and list(async_results) == expected

    flushed, _ = await asyncio.to_thread(_returns, lambda: provider.force_flush(5000))
    assert flushed, "force_flush did not return"
    shut, _ = await asyncio.to_thread(_returns, lambda: provider.shutdown())
    assert shut, "provider.shutdown did not return"

    spans = RUNS * SPANS_PER_RUN
    assert counter.started == counter.ended == spans
    errors = _export_errors(caplog)
    # Drops are reported per failed export call (a batch), not per span.
    assert 1 <= len(errors) <= spans // 10, (
        f"{protocol}: {len(errors)} export error records for {spans} spans: {errors}"
    )
    assert all("Failed to export" in e for e in errors), errors


def test_exporter_down_env_timeout_configured(
    monkeypatch: pytest.MonkeyPatch,
    otlp_blackhole: Any,
    caplog: pytest.LogCaptureFixture,
    protocol: str,
) -> None:
    """The exporter picks its timeout from ``OTEL_EXPORTER_OTLP_TIMEOUT`` (seconds)."""
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", str(EXPORT_TIMEOUT_S))
    endpoint = otlp_blackhole.endpoint
    exporter = (
        GrpcExporter(endpoint=endpoint, insecure=True)
        if protocol == "grpc"
        else HttpExporter(endpoint=endpoint + "/v1/traces")
    )
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=20))
    use_tracer_provider(provider)
    try:
        assert RunnableLambda(_step).batch(list(range(10))) == list(range(1, 11))
        flushed, _ = _returns(lambda: provider.force_flush(2000))
        assert flushed
    finally:
        use_tracer_provider(None)
        shut, _ = _returns(provider.shutdown)
    assert shut
    otlp_blackhole.wait_for_connection(timeout=5.0)
    assert 1 <= len(_export_errors(caplog)) <= 3, _export_errors(caplog)
