"""The span sink: the only module that talks to the OpenTelemetry tracer.

One span per run, started when the run starts and always ended exactly once, when the run ends,
fails or is cancelled. A run's span is the parent of its children's spans; a root run's span is
a child of whatever span is current when it starts. Attribute values are computed only when the
span is recording, so with no SDK installed (the API's no-op tracer) a run costs one no-op call.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import _attributes as attrs
from ._sink import Sink
from ._version import __version__

if TYPE_CHECKING:
    from ._run import Run

__all__ = ["SPAN_SINK", "SpanSink", "TracingOptions"]

_CANCELLATIONS = (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class TracingOptions:
    """What the span sink records; defaults come from ``OTEL_RUNNABLES_*`` variables."""

    __slots__ = ("hide_event_data", "hide_io", "record_chunks", "tracer_provider")

    def __init__(self) -> None:
        self.hide_io = _env_flag("OTEL_RUNNABLES_HIDE_IO")
        self.hide_event_data = _env_flag("OTEL_RUNNABLES_HIDE_EVENT_DATA")
        self.record_chunks = _env_flag("OTEL_RUNNABLES_RECORD_CHUNKS")
        self.tracer_provider: trace.TracerProvider | None = None


class SpanSink(Sink):
    """Turns runs into spans and custom events into span events."""

    __slots__ = ("_tracer", "options")

    def __init__(self) -> None:
        self.options = TracingOptions()
        self._tracer: trace.Tracer | None = None

    def use_tracer_provider(self, provider: trace.TracerProvider | None) -> None:
        """Use ``provider`` instead of the global one (None: back to the global provider)."""
        self.options.tracer_provider = provider
        self._tracer = None

    @property
    def tracer(self) -> trace.Tracer:
        tracer = self._tracer
        if tracer is None:
            tracer = trace.get_tracer(
                "otel_runnables", __version__, tracer_provider=self.options.tracer_provider
            )
            self._tracer = tracer
        return tracer

    def on_start(self, run: Run) -> None:
        parent = run.parent
        context = None
        if parent is not None and parent.otel_context is not None:
            context = parent.otel_context
        span = self.tracer.start_span(
            run.name, context=context, kind=SpanKind.INTERNAL, start_time=run.start_ns
        )
        run.span = span
        if span.get_span_context().is_valid:
            run.otel_context = trace.set_span_in_context(span, context)
        if span.is_recording():
            span.set_attributes(self._start_attributes(run))

    def _start_attributes(self, run: Run) -> dict[str, Any]:
        limit = attrs.value_length_limit()
        out: dict[str, Any] = {
            attrs.RUN_ID: str(run.run_id),
            attrs.RUN_TYPE: run.run_type,
            attrs.OPENINFERENCE_SPAN_KIND: attrs.SPAN_KIND_BY_RUN_TYPE.get(run.run_type, "CHAIN"),
        }
        if run.parent is not None:
            out[attrs.PARENT_RUN_ID] = str(run.parent.run_id)
        if run.tags:
            out[attrs.TAGS] = list(run.tags)
        if run.metadata:
            out.update(attrs.metadata_attributes(run.metadata, limit))
        if not self.options.hide_io and run.inputs != {"input": ""}:
            out[attrs.INPUT_VALUE], out[attrs.INPUT_MIME_TYPE] = attrs.value_and_mime(
                run.inputs, limit
            )
        return out

    def on_chunk(self, run: Run, chunk: Any) -> None:
        span = run.span
        if self.options.record_chunks and span is not None and span.is_recording():
            limit = attrs.value_length_limit()
            span.add_event("chunk", {"chunk": attrs.value_and_mime(chunk, limit)[0]})

    def on_custom_event(
        self, run: Run, name: str, data: Any, tags: list[str], metadata: dict[str, Any]
    ) -> None:
        span = run.span
        if span is None or not span.is_recording():
            return
        if self.options.hide_event_data:
            span.add_event(name)
        else:
            span.add_event(name, attrs.event_attributes(data, attrs.value_length_limit()))

    def _finish(self, run: Run, inputs: Any) -> None:
        span = run.span
        if run.chunks:
            span.set_attribute(attrs.STREAM_CHUNKS, run.chunks)
            span.set_attribute(
                attrs.STREAM_FIRST_CHUNK_MS, (run.first_chunk_ns - run.start_ns) / 1e6
            )
        if not self.options.hide_io and inputs is not run.inputs and run.inputs == {"input": ""}:
            limit = attrs.value_length_limit()
            span.set_attributes(
                dict(
                    zip(
                        (attrs.INPUT_VALUE, attrs.INPUT_MIME_TYPE),
                        attrs.value_and_mime(inputs, limit),
                        strict=True,
                    )
                )
            )

    def on_end(self, run: Run, outputs: Any, inputs: Any) -> None:
        span = run.span
        if span is None:
            return
        try:
            if span.is_recording():
                self._finish(run, inputs)
                if not self.options.hide_io:
                    value, mime = attrs.value_and_mime(outputs, attrs.value_length_limit())
                    span.set_attributes({attrs.OUTPUT_VALUE: value, attrs.OUTPUT_MIME_TYPE: mime})
                if run.cancelled:
                    span.set_attribute(attrs.CANCELLED, True)
        finally:
            span.end()

    def on_error(self, run: Run, error: BaseException, inputs: Any) -> None:
        span = run.span
        if span is None:
            return
        try:
            if span.is_recording():
                self._finish(run, inputs)
                if isinstance(error, _CANCELLATIONS):
                    span.set_attribute(attrs.CANCELLED, True)
                else:
                    span.set_attribute(attrs.ERROR_TYPE, type(error).__qualname__)
                    span.record_exception(error)
                    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        finally:
            span.end()


SPAN_SINK = SpanSink()
"""The process-wide span sink (configured through ``otel_runnables.tracing``)."""
