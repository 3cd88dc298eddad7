"""Span recording for the suite: the public ``otel_spans`` recorder plus a span counter.

* :class:`CountingProcessor` -- an SDK span processor counting ``on_start`` / ``on_end`` and
  remembering which spans are open, so a test can prove no span was leaked or ended twice.
* :class:`Traced` -- :class:`otel_runnables.testing.SpanRecorder` (what the ``otel_spans``
  fixture gives) with a :class:`CountingProcessor` on its provider; ``tests/conftest.py`` makes
  it the ``traced`` fixture. It is also a context manager, for code that cannot take a fixture
  (hypothesis examples).
* :func:`using_provider` -- route otel_runnables' spans to a provider a test built itself (an
  exporter, a sampler, span limits), restore the default afterwards and shut it down.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from otel_runnables.testing import SpanRecorder
from otel_runnables.tracing import use_tracer_provider

__all__ = ["CountingProcessor", "Traced", "using_provider"]


class CountingProcessor(SpanProcessor):
    """Counts span starts and ends. ``open`` names the spans that started and never ended;
    ``unexpected`` the ends of spans that were not open (ended twice, or never started)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = 0
        self.ended = 0
        self._open: dict[int, str] = {}
        self.unexpected: list[str] = []

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        with self._lock:
            self.started += 1
            self._open[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.ended += 1
            span_id = span.context.span_id  # type: ignore[union-attr]
            if self._open.pop(span_id, None) is None:
                self.unexpected.append(span.name)

    @property
    def open(self) -> list[str]:
        with self._lock:
            return sorted(self._open.values())

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class Traced(SpanRecorder):
    """Finished spans (``spans()``, ``by_name()``, ``tree()``, ``clear()``) and a span count."""

    def __init__(self) -> None:
        super().__init__()
        self.counter = CountingProcessor()
        self.provider.add_span_processor(self.counter)

    def __enter__(self) -> Traced:
        return self.install()  # type: ignore[return-value]

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def assert_all_ended(self) -> None:
        """Every span that started has ended, exactly once."""
        counter = self.counter
        assert counter.started == counter.ended and not counter.open, (
            f"spans started={counter.started} ended={counter.ended}, open={counter.open}"
        )
        assert not counter.unexpected, f"spans ended twice: {counter.unexpected}"


@contextmanager
def using_provider(
    provider: trace.TracerProvider, *, restore: trace.TracerProvider | None = None
) -> Iterator[trace.TracerProvider]:
    """otel_runnables uses ``provider`` inside the block; afterwards ``restore`` (default: the
    global provider), and ``provider`` is shut down if it can be."""
    use_tracer_provider(provider)
    try:
        yield provider
    finally:
        use_tracer_provider(restore)
        shutdown = getattr(provider, "shutdown", None)
        if shutdown is not None:
            shutdown()
