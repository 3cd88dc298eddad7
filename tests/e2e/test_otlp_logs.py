"""Custom events as log records on the wire: env-only configuration, gRPC and HTTP.

``emit_pipeline.py`` runs with ``OTEL_RUNNABLES_CUSTOM_EVENTS=both`` and nothing but ``OTEL_*``
variables (``configure_tracing()`` sets up the logger provider too); the receiver decodes the
log records and the spans, and each record must match its span event and its span's ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _otlp.receiver import GrpcOtlpReceiver, HttpOtlpReceiver

import otel_runnables

from .conftest import RETRIEVED_ATTRIBUTES, clean_env, run_emitter

INFO = 9


@pytest.fixture(scope="module", params=["grpc", "http/protobuf"])
def exported(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[list[Any], list[Any], dict[str, Any]]]:
    """The received spans and log records, and the emitter's output, once per protocol."""
    receiver = GrpcOtlpReceiver() if request.param == "grpc" else HttpOtlpReceiver()
    with receiver.start():
        env = clean_env(
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL=request.param,
            OTEL_SERVICE_NAME="logs-svc",
            OTEL_RUNNABLES_CUSTOM_EVENTS="both",
        )
        result = run_emitter(env)
        spans = receiver.wait_for_spans(8, timeout=10)
        logs = receiver.wait_for_logs(5, timeout=10)
        yield spans, logs, result


def _span(spans: list[Any], name: str) -> Any:
    (span,) = [s for s in spans if s.name == name]
    return span


def test_every_custom_event_is_one_record_with_its_span_event(
    exported: tuple[list[Any], list[Any], dict[str, Any]],
) -> None:
    spans, logs, result = exported
    assert result["flushed"] == "8 of 8 spans delivered; 5 of 5 log records delivered"
    by_span = {s.span_id: s for s in spans}
    events = sorted((r.event_name, by_span[r.span_id].name) for r in logs)
    assert events == [
        ("about_to_fail", "explode"),
        ("progress", "rank"),
        ("progress", "rank"),
        ("retrieved", "retrieve"),
        ("retrieved", "retrieve"),
    ]
    span_events = sorted(e.name for s in spans for e in s.events if e.name != "exception")
    assert span_events == sorted(r.event_name for r in logs)  # both: each event twice


def test_records_carry_the_span_event_attributes_with_their_types(
    exported: tuple[list[Any], list[Any], dict[str, Any]],
) -> None:
    spans, logs, _ = exported
    for record in logs:
        span = next(s for s in spans if s.span_id == record.span_id)
        assert record.trace_id == span.trace_id
        index = span.event_times_unix_nano.index(record.time_unix_nano)
        event = span.events[index]
        assert event.name == record.event_name
        assert record.attributes == event.attributes
        assert record.attribute_types == event.types
        assert span.start_time_unix_nano <= record.time_unix_nano <= span.end_time_unix_nano
    fidelity = _span(spans, "fidelity").trace_id
    (retrieved,) = [r for r in logs if r.event_name == "retrieved" and r.trace_id == fidelity]
    assert retrieved.attributes == RETRIEVED_ATTRIBUTES
    assert retrieved.attribute_types["ids"] == "array_value"
    assert retrieved.attribute_types["count"] == "int_value"


def test_records_have_severity_scope_resource_and_no_body(
    exported: tuple[list[Any], list[Any], dict[str, Any]],
) -> None:
    _, logs, _ = exported
    for record in logs:
        assert (record.severity_number, record.severity_text) == (INFO, "INFO")
        assert (record.scope_name, record.scope_version) == (
            "otel_runnables",
            otel_runnables.__version__,
        )
        assert record.resource_attributes["service.name"] == "logs-svc"
        assert record.body is None
        assert record.observed_time_unix_nano == record.time_unix_nano > 0
        assert record.flags & 0x01  # sampled, as the span
