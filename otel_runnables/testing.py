"""Test helpers for users' own tests: record finished spans (log records, metrics) in memory.

Installed as a pytest plugin (entry point ``pytest11``), so the fixtures are available in any
project that has otel_runnables and ``opentelemetry-sdk`` installed:

Example:
    >>> def test_pipeline(otel_spans):                       # doctest: +SKIP
    ...     my_chain.invoke("hi")
    ...     assert otel_spans.tree() == [("RunnableSequence", [("step", [])])]

The ``otel_spans`` fixture gives the span sink a private ``TracerProvider`` (it never touches
the global provider) and restores the previous one afterwards. ``otel_logs`` does the same with
a private ``LoggerProvider`` for the log records of custom events (``custom_events`` ``log`` or
``both``), and ``otel_metrics`` for run metrics with a private ``MeterProvider`` read by an
in-memory reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import pytest

from ._metrics import RUN_METRICS
from ._otel import SPAN_SINK

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = [
    "LogRecorder",
    "MetricPoint",
    "MetricRecorder",
    "SpanRecorder",
    "otel_logs",
    "otel_metrics",
    "otel_spans",
]

SpanTree = list[tuple[str, "SpanTree"]]


def _needs_sdk(fixture: str, recorder: str, what: str) -> str:
    """The message of a recorder made without the SDK installed."""
    return (
        f"the {fixture} fixture (otel_runnables.testing.{recorder}) records {what} with the "
        'OpenTelemetry SDK, which is not installed: pip install "otel-runnables[otlp]" '
        "(or opentelemetry-sdk)"
    )


_R = TypeVar("_R", bound="_Recorder")


class _Recorder:
    """A private SDK provider of one signal that otel_runnables uses while it is installed."""

    provider: Any
    _previous: Any = None

    def _use(self, provider: Any) -> Any:
        """Make otel_runnables use ``provider`` (None: the global one); return the previous."""
        raise NotImplementedError

    def install(self: _R) -> _R:
        """Route otel_runnables' spans, log records or metrics (the recorder's signal) here."""
        self._previous = self._use(self.provider)
        return self

    def uninstall(self) -> None:
        """Restore the previous provider and shut this one down."""
        self._use(self._previous)
        self.provider.shutdown()


def _for_one_test(install: Callable[[], _R]) -> Iterator[_R]:
    """A fixture's body: the recorder ``install`` makes, uninstalled after the test; without
    the SDK, the test fails with the recorder's message (no traceback into this module)."""
    try:
        recorder = install()
    except ImportError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield recorder
    finally:
        recorder.uninstall()


class SpanRecorder(_Recorder):
    """Finished spans of the runs made while it is installed, with tree helpers."""

    def __init__(self) -> None:
        try:
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )
        except ImportError as exc:
            raise ImportError(_needs_sdk("otel_spans", "SpanRecorder", "spans")) from exc

        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def _use(self, provider: Any) -> Any:
        previous = SPAN_SINK.tracer_provider
        SPAN_SINK.use_tracer_provider(provider)
        return previous

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
    yield from _for_one_test(lambda: SpanRecorder().install())


# -- log records ----------------------------------------------------------------------------


class LogRecorder(_Recorder):
    """Log records of the custom events dispatched while it is installed.

    Custom events become log records with ``custom_events`` set to ``log`` or ``both``
    (``set_tracing_options`` or ``OTEL_RUNNABLES_CUSTOM_EVENTS``); the recorder does not
    change that option.
    """

    def __init__(self) -> None:
        try:
            from opentelemetry.sdk._logs import LoggerProvider
            from opentelemetry.sdk._logs import export as log_export
        except ImportError as exc:
            raise ImportError(_needs_sdk("otel_logs", "LogRecorder", "log records")) from exc

        # Older SDKs call the exporter InMemoryLogExporter.
        exporter_class = getattr(log_export, "InMemoryLogRecordExporter", None)
        self.exporter = (exporter_class or log_export.InMemoryLogExporter)()
        self.provider = LoggerProvider(shutdown_on_exit=False)
        self.provider.add_log_record_processor(log_export.SimpleLogRecordProcessor(self.exporter))

    def _use(self, provider: Any) -> Any:
        previous = SPAN_SINK.event_log.logger_provider
        SPAN_SINK.event_log.use_logger_provider(provider)
        return previous

    def records(self) -> list[Any]:
        """The SDK's finished log records (``.log_record`` holds ``event_name``,
        ``attributes``, ``trace_id`` ...), in the order they were emitted."""
        return list(self.exporter.get_finished_logs())

    def clear(self) -> None:
        """Forget the records so far."""
        self.exporter.clear()

    def events(self) -> list[tuple[str | None, dict[str, Any]]]:
        """``(event_name, attributes)`` of each record, in the order they were emitted."""
        return [
            (r.log_record.event_name, dict(r.log_record.attributes or {})) for r in self.records()
        ]


@pytest.fixture
def otel_logs() -> Iterator[LogRecorder]:
    """A :class:`LogRecorder` installed for the duration of one test."""
    yield from _for_one_test(lambda: LogRecorder().install())


# -- metrics ----------------------------------------------------------------------------------


class MetricPoint(NamedTuple):
    """One recorded data point: its metric's name and unit, its attributes, and the point
    (``count``, ``sum``, ``bucket_counts``, ``explicit_bounds`` for a histogram)."""

    name: str
    unit: str
    attributes: dict[str, Any]
    point: Any


class MetricRecorder(_Recorder):
    """Metrics recorded while it is installed (an in-memory reader, cumulative), with helpers.

    Example:
        >>> def test_durations(otel_metrics):                 # doctest: +SKIP
        ...     my_chain.invoke("hi")
        ...     where = {"runnable.run_name": "step"}
        ...     (point,) = otel_metrics.points("runnable.run.duration", where)
        ...     assert point.point.count == 1
    """

    def __init__(self) -> None:
        try:
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        except ImportError as exc:
            raise ImportError(_needs_sdk("otel_metrics", "MetricRecorder", "metrics")) from exc

        self.reader = InMemoryMetricReader()
        self.provider = MeterProvider(metric_readers=[self.reader])

    def _use(self, provider: Any) -> Any:
        previous = RUN_METRICS.meter_provider
        RUN_METRICS.use_meter_provider(provider)
        return previous

    def points(
        self, name: str | None = None, where: dict[str, Any] | None = None
    ) -> list[MetricPoint]:
        """The data points recorded so far (of metric ``name``, with the attributes ``where``
        holds, when given), in the SDK's order."""
        found: list[MetricPoint] = []
        data = self.reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data is not None else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if name is not None and metric.name != name:
                        continue
                    for point in metric.data.data_points:
                        attributes = dict(point.attributes or {})
                        if where and any(attributes.get(k, _ABSENT) != v for k, v in where.items()):
                            continue
                        found.append(MetricPoint(metric.name, metric.unit or "", attributes, point))
        return found

    def names(self) -> set[str]:
        """The names of the metrics recorded so far."""
        return {p.name for p in self.points()}


_ABSENT = object()


@pytest.fixture
def otel_metrics() -> Iterator[MetricRecorder]:
    """A :class:`MetricRecorder` installed for the duration of one test."""
    yield from _for_one_test(lambda: MetricRecorder().install())
