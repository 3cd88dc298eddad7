"""One oversized event, list or metadata value never makes an export fail or lose other spans.

The real OTLP/gRPC exporter behind the SDK ``BatchSpanProcessor`` sends to the in-process gRPC
receiver, whose message limit is gRPC's default 4 MiB: a single span above it used to make the
receiver answer ``RESOURCE_EXHAUSTED`` for the whole batch, and every span of it was lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from otel_runnables import RunnableLambda, dispatch_custom_event
from otel_runnables import _attributes as attrs
from otel_runnables.tracing import use_tracer_provider

ORDINARY_RUNS = 100


@pytest.fixture
def grpc_provider(otlp_grpc_receiver: Any) -> Iterator[TracerProvider]:
    exporter = OTLPSpanExporter(endpoint=otlp_grpc_receiver.endpoint, insecure=True, timeout=10)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=50))
    use_tracer_provider(provider)
    try:
        yield provider
    finally:
        use_tracer_provider(None)
        provider.shutdown()


def _event_step(data: Any) -> Any:
    def step(x: int) -> int:
        dispatch_custom_event("big", data)
        return x

    return RunnableLambda(step, name="big")


HUGE = {  # built in the test: parametrize arguments would stay alive for the whole session
    "6MB-of-docs": lambda: {"docs": ["d" * 10_000] * 600},
    "million-ints": lambda: {"scores": list(range(1_000_000))},
    "bare-list": lambda: ["e" * 20_000] * 400,
}


@pytest.mark.parametrize("shape", list(HUGE))
def test_one_huge_event_loses_no_span(
    grpc_provider: TracerProvider, otlp_grpc_receiver: Any, shape: str
) -> None:
    assert _event_step(HUGE[shape]()).invoke(1) == 1
    for i in range(ORDINARY_RUNS):
        assert RunnableLambda(lambda x: x + 1, name="small").invoke(i) == i + 1
    assert grpc_provider.force_flush()
    spans = otlp_grpc_receiver.wait_for_spans(ORDINARY_RUNS + 1, timeout=20)
    assert len(spans) == ORDINARY_RUNS + 1
    big = otlp_grpc_receiver.span("big")
    (event,) = big.events
    size = sum(len(k) + len(str(v)) for k, v in event.attributes.items())
    assert size <= 40_000, f"the event kept {size} characters"
    assert event.attributes[attrs.DROPPED_ITEMS] > 0  # what was left out is counted
    assert len(otlp_grpc_receiver.raw_bytes()) < 1_000_000


def test_huge_metadata_is_capped_on_every_span(
    grpc_provider: TracerProvider, otlp_grpc_receiver: Any
) -> None:
    """A 200,000-int list in metadata is copied to every span of the tree: capped on each."""
    chain = RunnableLambda(lambda x: x, name="a") | RunnableLambda(lambda x: x, name="b")
    assert chain.invoke(1, {"metadata": {"ids": list(range(200_000)), "user": "u1"}}) == 1
    assert grpc_provider.force_flush()
    spans = otlp_grpc_receiver.wait_for_spans(3, timeout=20)
    assert len(spans) == 3
    for span in spans:
        ids = span.attributes["runnable.metadata.ids"]
        assert ids == tuple(range(128))
        assert span.attributes[attrs.DROPPED_ITEMS] == 200_000 - 128
        assert span.attributes["runnable.metadata.user"] == "u1"
        assert attrs.RUN_ID in span.attributes
    assert len(otlp_grpc_receiver.raw_bytes()) < 100_000
