"""The in-process OTLP receivers, checked with the real OTel SDK and OTLP exporters only.

Exporters are configured the way users configure them: through ``OTEL_*`` environment variables
(endpoint, protocol, service name, compression, timeout), never through constructor arguments.
"""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Iterator

import pytest
from _otlp.fixtures import otlp_blackhole, otlp_grpc_receiver, otlp_http_receiver
from _otlp.receiver import BlackHoleServer, OtlpReceiver
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

__all__ = ["otlp_blackhole", "otlp_grpc_receiver", "otlp_http_receiver"]  # fixtures in use

PROTOCOLS = ["grpc", "http/protobuf"]
_RECEIVER_FIXTURE = {"grpc": "otlp_grpc_receiver", "http/protobuf": "otlp_http_receiver"}


def _exporter_from_env() -> SpanExporter:
    """Pick the exporter the way SDK auto-configuration does: by OTEL_EXPORTER_OTLP_PROTOCOL."""
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    return {"grpc": GrpcSpanExporter, "http/protobuf": HttpSpanExporter}[protocol]()


@pytest.fixture(autouse=True)
def _clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


@pytest.fixture(params=PROTOCOLS)
def receiver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> OtlpReceiver:
    """A receiver for the parametrised protocol, with the environment pointing at it."""
    receiver: OtlpReceiver = request.getfixturevalue(_RECEIVER_FIXTURE[request.param])
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", request.param)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "receiver-test-service")
    return receiver


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    provider = TracerProvider(resource=Resource.create())  # reads OTEL_SERVICE_NAME & co.
    provider.add_span_processor(BatchSpanProcessor(_exporter_from_env()))
    try:
        yield provider
    finally:
        provider.shutdown()


def _finished_span(name: str = "probe") -> ReadableSpan:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.get_tracer("probe").start_span(name, attributes={"k": "v"}).end()
    provider.shutdown()
    (span,) = memory.get_finished_spans()
    return span


def test_parent_child_types_events_resource_scope(
    receiver: OtlpReceiver, provider: TracerProvider
) -> None:
    tracer = provider.get_tracer("receiver.test.scope", "1.2.3")
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        parent.set_attributes(
            {
                "a.str": "hello",
                "a.bool": True,
                "a.int": 42,
                "a.float": 2.5,
                "a.strs": ["x", "y"],
                "a.ints": [1, 2, 3],
                "a.floats": [0.5, 1.5],
                "a.bools": [True, False],
            }
        )
        with tracer.start_as_current_span("child") as child:
            child.add_event("progress", {"step": 3, "label": "half", "ok": True, "ratio": 0.5})
            child.set_status(Status(StatusCode.ERROR, "ValueError: boom"))
    assert provider.force_flush(timeout_millis=5_000)

    spans = receiver.wait_for_spans(2, timeout=5.0)
    assert sorted(s.name for s in spans) == ["child", "parent"]
    p, c = receiver.span("parent"), receiver.span("child")

    assert p.parent_span_id is None
    assert c.parent_span_id == p.span_id
    assert c.trace_id == p.trace_id
    assert len(p.trace_id) == 32 and len(p.span_id) == 16
    assert p.kind == "SERVER" and c.kind == "INTERNAL"
    assert p.start_time_unix_nano <= c.start_time_unix_nano <= c.end_time_unix_nano
    assert c.end_time_unix_nano <= p.end_time_unix_nano

    assert p.attributes == {
        "a.str": "hello",
        "a.bool": True,
        "a.int": 42,
        "a.float": 2.5,
        "a.strs": ("x", "y"),
        "a.ints": (1, 2, 3),
        "a.floats": (0.5, 1.5),
        "a.bools": (True, False),
    }
    assert p.attribute_types == {
        "a.str": "string_value",
        "a.bool": "bool_value",
        "a.int": "int_value",
        "a.float": "double_value",
        "a.strs": "array_value",
        "a.ints": "array_value",
        "a.floats": "array_value",
        "a.bools": "array_value",
    }
    assert p.array_item_types == {
        "a.strs": {"string_value"},
        "a.ints": {"int_value"},
        "a.floats": {"double_value"},
        "a.bools": {"bool_value"},
    }

    (event,) = c.events
    name, attrs, types = event
    assert name == "progress"
    assert attrs == {"step": 3, "label": "half", "ok": True, "ratio": 0.5}
    assert types == {
        "step": "int_value",
        "label": "string_value",
        "ok": "bool_value",
        "ratio": "double_value",
    }
    assert c.event("progress") is event
    assert c.start_time_unix_nano <= c.event_times_unix_nano[0] <= c.end_time_unix_nano
    assert (c.status_code, c.status_message) == ("ERROR", "ValueError: boom")
    assert p.status_code == "UNSET"

    for span in (p, c):
        assert span.resource_attributes["service.name"] == "receiver-test-service"
        assert span.resource_attributes["telemetry.sdk.language"] == "python"
        assert (span.scope_name, span.scope_version) == ("receiver.test.scope", "1.2.3")

    exported = [
        span.name
        for request in receiver.requests()
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    assert sorted(exported) == ["child", "parent"]


def test_resource_attributes_from_env(
    receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test,team=obs")
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(_exporter_from_env()))
    try:
        provider.get_tracer("t").start_span("only").end()
        assert provider.force_flush(timeout_millis=5_000)
    finally:
        provider.shutdown()
    (span,) = receiver.wait_for_spans(1)
    assert span.resource_attributes["deployment.environment"] == "test"
    assert span.resource_attributes["team"] == "obs"
    assert span.resource_attributes["service.name"] == "receiver-test-service"


def test_gzip_compression_from_env(receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    exporter = _exporter_from_env()
    try:
        assert exporter.export([_finished_span("zipped")]) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    (span,) = receiver.wait_for_spans(1)
    assert span.name == "zipped"
    if receiver.protocol == "http/protobuf":  # grpcio decompresses before metadata is visible
        (headers,) = receiver.request_headers()
        assert headers.get("content-encoding") == "gzip"
    assert b"zipped" in receiver.raw_bytes()  # stored decompressed, ready for scans


def test_raw_bytes_and_clear(receiver: OtlpReceiver) -> None:
    exporter = _exporter_from_env()
    try:
        assert exporter.export([_finished_span("needle-in-payload")]) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    receiver.wait_for_spans(1)
    assert b"needle-in-payload" in receiver.raw_bytes()
    assert b"receiver-test-service" in receiver.raw_bytes()
    assert len(receiver.raw_payloads()) == receiver.attempts == 1

    receiver.clear()
    assert receiver.spans() == [] and receiver.requests() == []
    assert receiver.raw_bytes() == b"" and receiver.attempts == 0


def test_fail_next_rejects_then_accepts(receiver: OtlpReceiver) -> None:
    receiver.fail_next(1)  # non-retryable default: HTTP 400 / gRPC INVALID_ARGUMENT
    exporter = _exporter_from_env()
    try:
        assert exporter.export([_finished_span("rejected")]) is SpanExportResult.FAILURE
        assert receiver.attempts == 1 and receiver.spans() == []
        assert b"rejected" in receiver.raw_bytes()  # it did leave the process
        assert exporter.export([_finished_span("accepted")]) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    assert [s.name for s in receiver.wait_for_spans(1)] == ["accepted"]
    assert receiver.attempts == 2


def test_wait_for_spans_times_out_with_names(receiver: OtlpReceiver) -> None:
    with pytest.raises(TimeoutError, match="expected >= 1 spans"):
        receiver.wait_for_spans(1, timeout=0.05)


def test_span_lookup_requires_exactly_one(receiver: OtlpReceiver) -> None:
    with pytest.raises(AssertionError, match="expected one span 'missing'"):
        receiver.span("missing")


def test_stop_is_idempotent() -> None:
    from _otlp.receiver import GrpcOtlpReceiver, HttpOtlpReceiver

    for cls in (GrpcOtlpReceiver, HttpOtlpReceiver):
        with cls() as started:
            assert started.port > 0
        started.stop()
    hole = BlackHoleServer().start()
    hole.stop()
    hole.stop()


@pytest.mark.parametrize(
    ("method", "path", "content_type", "expected"),
    [
        ("POST", "/v1/profiles", "application/x-protobuf", 404),
        ("POST", "/v1/metrics", "application/x-protobuf", 400),
        ("POST", "/v1/traces", "application/json", 415),
        ("POST", "/v1/traces", "application/x-protobuf", 400),
        ("GET", "/v1/traces", "application/x-protobuf", 501),
    ],
)
def test_http_receiver_rejects_what_it_does_not_speak(
    otlp_http_receiver: OtlpReceiver, method: str, path: str, content_type: str, expected: int
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", otlp_http_receiver.port, timeout=5)
    try:
        conn.request(
            method, path, body=b"\xff\xff not protobuf", headers={"Content-Type": content_type}
        )
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert response.status == expected
    assert otlp_http_receiver.spans() == []
    assert otlp_http_receiver.metrics.points() == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_blackhole_makes_exporters_time_out(
    otlp_blackhole: BlackHoleServer, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    for key, value in otlp_blackhole.env(protocol).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "0.3")  # seconds, as the python SDK reads it
    exporter = _exporter_from_env()
    started = time.monotonic()
    try:
        assert exporter.export([_finished_span("lost")]) is SpanExportResult.FAILURE
    finally:
        exporter.shutdown()
    assert otlp_blackhole.connections >= 1
    assert time.monotonic() - started < 10  # bounded: the exporter gave up, nothing hung
