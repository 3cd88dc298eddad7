"""Test helpers for users' own tests: record finished spans in memory and assert on the tree.

Installed as a pytest plugin (entry point ``pytest11``), so the fixture is available in any
project that has otel_runnables and ``opentelemetry-sdk`` installed:

Example:
    >>> def test_pipeline(otel_spans):                       # doctest: +SKIP
    ...     my_chain.invoke("hi")
    ...     assert otel_spans.tree() == [("RunnableSequence", [("step", [])])]

The fixture gives the span sink a private ``TracerProvider`` (it never touches the global
provider) and restores the previous one afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._otel import SPAN_SINK

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["SpanRecorder", "otel_spans"]

SpanTree = list[tuple[str, "SpanTree"]]
_NEEDS_SDK = (
    "the otel_spans fixture (otel_runnables.testing.SpanRecorder) records spans with the "
    'OpenTelemetry SDK, which is not installed: pip install "otel-runnables[otlp]" '
    "(or opentelemetry-sdk)"
)


class SpanRecorder:
    """Finished spans of the runs made while it is installed, with tree helpers."""

    def __init__(self) -> None:
        try:
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )
        except ImportError as exc:
            raise ImportError(_NEEDS_SDK) from exc

        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self._previous: Any = None

    def install(self) -> SpanRecorder:
        """Route otel_runnables' spans to this recorder."""
        self._previous = SPAN_SINK.tracer_provider
        SPAN_SINK.use_tracer_provider(self.provider)
        return self

    def uninstall(self) -> None:
        """Restore the previous tracer provider and shut this one down."""
        SPAN_SINK.use_tracer_provider(self._previous)
        self.provider.shutdown()

    def spans(self) -> list[ReadableSpan]:
        """Finished spans, in the order they ended."""
        return list(self.exporter.get_finished_spans())

    def clear(self) -> None:
        """Forget the spans recorded so far."""
        self.exporter.clear()

    def by_name(self, name: str) -> list[ReadableSpan]:
        """Finished spans called ``name``."""
        return [s for s in self.spans() if s.name == name]

    def tree(self) -> SpanTree:
        """The span tree as nested ``(name, children)`` tuples, children in start order."""
        spans = sorted(self.spans(), key=lambda s: s.start_time or 0)
        ids = {s.context.span_id for s in spans if s.context is not None}
        children: dict[int | None, list[ReadableSpan]] = {}
        for span in spans:
            parent = span.parent.span_id if span.parent is not None else None
            children.setdefault(parent if parent in ids else None, []).append(span)

        def build(parent: int | None) -> SpanTree:
            return [
                (s.name, build(s.context.span_id if s.context is not None else None))
                for s in children.get(parent, [])
            ]

        return build(None)


@pytest.fixture
def otel_spans() -> Iterator[SpanRecorder]:
    """A :class:`SpanRecorder` installed for the duration of one test."""
    try:
        recorder = SpanRecorder().install()
    except ImportError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield recorder
    finally:
        recorder.uninstall()
