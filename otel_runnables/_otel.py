"""The span sink: the only module that talks to the OpenTelemetry tracer.

One span per run, started when the run starts and always ended exactly once, when the run ends,
fails or is cancelled. A run's span is the parent of its children's spans; a root run's span is
a child of whatever span is current when it starts. Attribute values are computed only when the
span is recording, so with no SDK installed (the API's no-op tracer) a run costs one no-op call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from . import _attributes as attrs
from . import _convert as convert
from . import _fork
from ._detail import SpanDetail
from ._limits import read_limits
from ._logs import EventLog
from ._metrics import RUN_METRICS, api_state
from ._options import TracingOptions
from ._redact import exception_attributes, status_description
from ._sink import Sink
from ._version import __version__

logger = logging.getLogger("otel_runnables")

if TYPE_CHECKING:
    from ._run import Run

__all__ = [
    "SPAN_SINK",
    "SpanDetail",
    "SpanSink",
    "TracingOptions",
    "error_type",
    "root_sampling",
]

_CANCELLATIONS = (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt)

_SPAN_OWN_KEYS = 13
"""Attributes a span may carry besides its tags and metadata (ids, kinds, input, output, ...)."""
_END_KEYS = 8
"""Attributes a span may get when it ends (output, stream figures, cancellation, error, counts)."""
_TALLY_MIN = 1024
"""Events at least this large (bytes) count toward their span's size limit."""


# How a root run's span will be sampled, judged from the SDK sampler's description (public
# API): the SDK's default and the standard always-on samplers decide from the parent alone.
_ALWAYS = "always"
_BY_PARENT = "by parent"
_UNKNOWN = "unknown"
_VERDICTS = {
    "AlwaysOnSampler": _ALWAYS,
    "ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,"
    "remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,"
    "localParentNotSampled:AlwaysOffSampler}": _BY_PARENT,
}


def root_sampling(tracer: trace.Tracer) -> str:
    """``always``: every root span records; ``by parent``: a root span records unless the
    current span is a sampled-out one; ``unknown``: only the started span can tell."""
    sampler = getattr(tracer, "sampler", None)  # the SDK's Tracer has one
    try:
        description = sampler.get_description() if sampler is not None else None
    except Exception:
        return _UNKNOWN
    return _VERDICTS.get(description, _UNKNOWN) if isinstance(description, str) else _UNKNOWN


class SpanSink(Sink):
    """Turns runs into spans and custom events into span events, log records, or both.

    ``options`` (what to record) may be shared with another sink; ``tracer_provider`` is the
    provider this sink's spans go to (None: the global one). Custom events that go to logs
    (``options.custom_events``: ``log`` or ``both``) are written by ``event_log``, with the
    attributes a span event gets.
    """

    __slots__ = (
        "_event_bytes",
        "_recording",
        "_root_sampling",
        "_tracer",
        "event_log",
        "options",
        "tracer_provider",
    )

    def __init__(
        self,
        options: TracingOptions | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.options = TracingOptions() if options is None else options
        self.tracer_provider = tracer_provider
        self.event_log = EventLog()
        self._tracer: trace.Tracer | None = None
        self._root_sampling = _UNKNOWN
        self._recording = False
        # Bytes of the larger events each open span carries (by id), for the span size limit.
        self._event_bytes: dict[int, int] = {}

    def use_tracer_provider(self, provider: trace.TracerProvider | None) -> None:
        """Use ``provider`` instead of the global one (None: back to the global provider)."""
        self.tracer_provider = provider
        self._tracer = None
        self._root_sampling = _UNKNOWN
        self._recording = False

    @property
    def tracer(self) -> trace.Tracer:
        """The tracer of the configured provider (the global one unless set)."""
        tracer = self._tracer
        if tracer is None:
            tracer = trace.get_tracer(
                "otel_runnables", __version__, tracer_provider=self.tracer_provider
            )
            self._tracer = tracer
            self._root_sampling = root_sampling(tracer)
            self.options.limits = read_limits()  # count limits: the SDK reads them per provider
        return tracer

    def on_start(self, run: Run) -> None:
        tracer = self._tracer or self.tracer
        parent = run.parent
        if parent is None:
            # The current context, read once (start_span and set_span_in_context would each
            # read it again when given None).
            context = otel_context.get_current()
            # Will the root record? Sure from the sampler when it decides by the parent (the
            # SDK default); else predicted by what the last root did.
            verdict = self._root_sampling
            if verdict is _ALWAYS:
                predicted = sure = True
            elif verdict is _BY_PARENT:
                if context:  # (an empty context holds no span: the root records)
                    ambient = trace.get_current_span(context).get_span_context()
                    predicted = sure = not ambient.is_valid or ambient.trace_flags.sampled
                else:
                    predicted = sure = True
            else:
                predicted, sure = self._recording, False
            if predicted:
                self.options.refresh()
        else:
            context = parent.otel_context
            # A child records when its parent does (the parent-based samplers' rule).
            parent_span = parent.span
            predicted = sure = parent_span is not None and parent_span.is_recording()
        # Known attributes go into start_span (one copy into the span); the input, the one
        # costly conversion, only once the run is sure to be recorded: a sampled-out run
        # converts nothing.
        attributes = None
        if predicted:
            try:
                attributes = self._start_attributes(run, sure)
            except Exception:  # never lose the span for an attribute
                logger.exception("otel_runnables sink SpanSink failed to convert attributes")
        detail = run.detail
        if detail is None:
            span = tracer.start_span(  # kind: INTERNAL, the default
                run.name, context=context, attributes=attributes, start_time=run.start_ns
            )
        else:
            span = tracer.start_span(
                detail.span_name,
                context=context,
                kind=detail.kind,
                attributes=attributes,
                start_time=run.start_ns,
            )
        run.span = span
        recording = span.is_recording()
        if recording or span.get_span_context().is_valid:
            run.otel_context = trace.set_span_in_context(span, context)
        if parent is None and recording is not self._recording:
            self._recording = recording
            if recording and not predicted:
                self.options.refresh()
        if not recording:
            return
        if not predicted:
            span.set_attributes(self._start_attributes(run, True))
        elif not sure and not self.options.hide_io and not run.input_pending:
            span.set_attributes(self._input_attributes(run.inputs))

    def _input_attributes(self, inputs: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out[attrs.INPUT_VALUE], out[attrs.INPUT_MIME_TYPE] = convert.value_and_mime(
            inputs, self.options.limits, out
        )
        return out

    def _start_attributes(self, run: Run, with_input: bool) -> dict[str, Any]:
        options = self.options
        limits = options.limits
        limit = limits.value_length
        run_type = run.run_type
        out: dict[str, Any] = {
            attrs.RUN_ID: run.run_id_text,
            attrs.RUN_TYPE: run_type,
            attrs.OPENINFERENCE_SPAN_KIND: attrs.SPAN_KIND_BY_RUN_TYPE.get(run_type, "CHAIN"),
        }
        if run.parent is not None:
            out[attrs.PARENT_RUN_ID] = run.parent.run_id_text
        tags, metadata = run.tags, run.metadata
        if tags or metadata:
            keys = limits.span_attribute_count - _SPAN_OWN_KEYS
            convert.run_attributes(out, tags, metadata, limits, keys)
            conversation = attrs.conversation_id(metadata) if metadata else None
            if conversation is not None:
                out[attrs.GEN_AI_CONVERSATION_ID] = attrs.truncate(conversation, limit)
        if with_input and not options.hide_io and not run.input_pending:
            out[attrs.INPUT_VALUE], out[attrs.INPUT_MIME_TYPE] = convert.value_and_mime(
                run.inputs, limits, out
            )
        if run.detail is not None:
            extra = run.detail.start_attributes(run, limit, options.hide_io)
            convert.add_within(out, extra, limits.span_attribute_count - _END_KEYS)
        return out

    def _spent(self, span: Any, size: int) -> None:
        """Count ``size`` bytes of events toward the span size limit of ``span``."""
        key = id(span)
        self._event_bytes[key] = self._event_bytes.get(key, 0) + size

    def on_chunk(self, run: Run, chunk: Any) -> None:
        if not self.options.record_chunks or self.options.hide_io:  # chunks are output
            return
        span = run.span
        if span is not None and span.is_recording():
            if run.detail is not None:
                chunk = run.detail.chunk_value(chunk)
            attributes: dict[str, Any] = {}
            text = convert.value_and_mime(chunk, self.options.limits, attributes)[0]
            attributes[attrs.CHUNK] = text
            if len(text) >= _TALLY_MIN:
                self._spent(span, len(text))
            span.add_event(attrs.CHUNK_EVENT, attributes)

    def on_custom_event(
        self, run: Run, name: str, data: Any, tags: list[str], metadata: dict[str, Any]
    ) -> None:
        span = run.span
        options = self.options
        now = converted = None
        if options.log_events:  # a log record (same time and attributes as the span event)
            now, converted = self.event_log.record(run.otel_context, name, data, options)
            if not options.span_events:
                return
        if span is None or not span.is_recording():
            return
        if options.hide_event_data:
            span.add_event(name, None, now)
        else:
            limits = options.limits
            room = limits.event_size
            if self._event_bytes:  # some span carries large events: is it this one?
                used = self._event_bytes.get(id(span))
                if used is not None and limits.span_size - used < room:
                    room = max(limits.span_size - used, 0)
                    attributes, size = convert.event_attributes(data, limits, room, "span")
                    self._spent(span, size)
                    span.add_event(name, attributes, now)
                    return
            if converted is None:
                converted = convert.event_attributes(data, limits, room)
            attributes, size = converted
            if size >= _TALLY_MIN:
                self._spent(span, size)
            span.add_event(name, attributes, now)

    def _end_attributes(self, run: Run, inputs: Any) -> dict[str, Any]:
        """Attributes known only at the end: stream figures, a streamed run's input."""
        out: dict[str, Any] = {}
        if run.cancelled:
            out[attrs.CANCELLED] = True
        if run.chunks:
            out[attrs.STREAM_CHUNKS] = run.chunks
            out[attrs.STREAM_FIRST_CHUNK_MS] = (run.first_chunk_ns - run.start_ns) / 1e6
        if run.input_pending and not self.options.hide_io:
            out[attrs.INPUT_VALUE], out[attrs.INPUT_MIME_TYPE] = convert.value_and_mime(
                inputs, self.options.limits, out
            )
        return out

    def on_end(self, run: Run, outputs: Any, inputs: Any) -> None:
        # Run metrics: two references read when no MeterProvider is installed (see _metrics).
        if api_state._METER_PROVIDER is not None or RUN_METRICS.meter_provider is not None:
            RUN_METRICS.ended(run, outputs, None)
        # Once per run: _own_span and _end written out here (two calls fewer on the hot path).
        span = run.span
        if span is None or (_fork.FORK_NS and _fork.started_before_fork(run)):
            return
        try:
            if span.is_recording():
                out = self._end_attributes(run, inputs)
                detail = run.detail
                if detail is not None:
                    extra = self._detail_end(detail, run, outputs)
                    outputs = detail.output_value(outputs)
                if not self.options.hide_io:
                    out[attrs.OUTPUT_VALUE], out[attrs.OUTPUT_MIME_TYPE] = convert.value_and_mime(
                        outputs, self.options.limits, out
                    )
                if detail is not None and extra:
                    existing = getattr(span, "attributes", None) or {}
                    keys = self.options.limits.span_attribute_count - len(existing)
                    convert.add_within(out, extra, keys, existing)
                if out:
                    if attrs.TRUNCATED_VALUES in out:
                        convert.merge_counts(out, getattr(span, "attributes", None))
                    span.set_attributes(out)
        finally:
            if self._event_bytes:
                self._event_bytes.pop(id(span), None)
            span.end()
            if _fork.FORK_NS:
                _fork.local_root_ended(run)

    def on_error(self, run: Run, error: BaseException, inputs: Any) -> None:
        if api_state._METER_PROVIDER is not None or RUN_METRICS.meter_provider is not None:
            RUN_METRICS.ended(run, None, error_type(error))
        span = _own_span(run)
        recorded, run.child_errors = run.child_errors, None
        if span is not None:
            try:
                if span.is_recording():
                    self._record_error(span, run, error, inputs, recorded)
            finally:
                self._end(run, span)

    def _end(self, run: Run, span: trace.Span) -> None:
        if self._event_bytes:
            self._event_bytes.pop(id(span), None)
        span.end()
        if _fork.FORK_NS:  # in a forked process: a worker flushes its own root runs
            _fork.local_root_ended(run)

    def _detail_end(self, detail: SpanDetail, run: Run, outputs: Any) -> dict[str, Any]:
        options = self.options
        try:
            return detail.end_attributes(run, outputs, options.value_length_limit, options.hide_io)
        except Exception:  # the span still gets the run mapping and ends
            logger.exception("otel_runnables sink SpanSink failed to convert attributes")
            return {}

    def _record_error(
        self,
        span: Any,
        run: Run,
        error: BaseException,
        inputs: Any,
        recorded: dict[int, tuple[BaseException, str]] | None,
    ) -> None:
        """Status, ``error.type`` and the exception, recorded in full only where it was raised:
        a run that fails because a child's span recorded the very same exception links to that
        run (``runnable.error.origin_run_id``) instead, so a failure costs the same at any
        depth."""
        out = self._end_attributes(run, inputs)
        if attrs.TRUNCATED_VALUES in out:
            convert.merge_counts(out, getattr(span, "attributes", None))
        if isinstance(error, _CANCELLATIONS):
            out[attrs.CANCELLED] = True
            span.set_attributes(out)
            return
        options = self.options
        redact = options.hide_io or options.hide_event_data  # error text may quote either
        if _is_control_flow(error):
            # LangGraph's interrupt() / Command raise GraphBubbleUp to pause or redirect a
            # graph: a step of the control flow, not a failure.
            span.set_attributes(out)
            event = {attrs.EXCEPTION_TYPE: _qualified_name(type(error))}
            if not redact:
                event[attrs.EXCEPTION_MESSAGE] = attrs.truncate(
                    attrs.safe_str(error), options.value_length_limit
                )
            span.add_event(attrs.CONTROL_FLOW_EVENT, event)
            return
        out[attrs.ERROR_TYPE] = type(error).__qualname__
        origin = None if recorded is None else recorded.get(id(error))
        if origin is not None and origin[0] is error:
            origin_id = out[attrs.ERROR_ORIGIN_RUN_ID] = origin[1]
        else:
            origin_id = None
        span.set_attributes(out)
        span.set_status(Status(StatusCode.ERROR, status_description(error, options.limits, redact)))
        if origin_id is None:
            origin_id = run.run_id_text
            event = exception_attributes(error, options.limits, redact)
            span.add_event(attrs.EXCEPTION_EVENT, event)
        parent = run.parent
        if parent is not None:  # the parent fails with it too, unless it catches it
            errors = parent.child_errors
            if errors is None:
                errors = parent.child_errors = {}
            errors[id(error)] = (error, origin_id)


_CONTROL_FLOW = "langgraph.errors.GraphBubbleUp"


def _qualified_name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _is_control_flow(error: BaseException) -> bool:
    """Whether ``error`` is a LangGraph control-flow exception (known by name: no import)."""
    return any(_qualified_name(kind) == _CONTROL_FLOW for kind in type(error).__mro__)


def error_type(error: BaseException) -> str | None:
    """The ``error.type`` of a run that raised ``error``: its class's qualified name; None for
    a cancellation and for LangGraph's control flow, which are not failures."""
    if isinstance(error, _CANCELLATIONS) or _is_control_flow(error):
        return None
    return type(error).__qualname__


SPAN_SINK = SpanSink()
"""The process-wide span sink (configured through ``otel_runnables.tracing``)."""


def _own_span(run: Run) -> Any:
    """The span of ``run`` for this process to end: None for a run without one, and for a span
    inherited at a fork (the parent process ends it)."""
    span = run.span
    if span is None or (_fork.FORK_NS and _fork.started_before_fork(run)):
        return None
    return span
