"""A console run-tree renderer: each finished trace printed as an indented tree.

Needs the OpenTelemetry SDK (``pip install "otel-runnables[otlp]"``).

Each run shows its name, duration and status (and a model run its token usage); its custom
events are listed under it with their attributes, whether they are span events or log records
(``custom_events`` ``log`` / ``both``: see ``RunTreePrinter.log_record_processor``); errors show
their type and message. It is an SDK ``SpanProcessor``,
so it works with any tracer provider and beside any exporter.

Example:
    >>> from otel_runnables.console import show_run_trees
    >>> provider = show_run_trees()          # doctest: +SKIP
    >>> my_chain.invoke("hi")                # doctest: +SKIP
    pipeline  12.3 ms  ok
    ├─ retrieve  4.1 ms  ok
    │    • progress  step=1
    ...
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, Sequence
from typing import IO, Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

from . import _attributes as attrs

__all__ = ["RunTreePrinter", "render_run_tree", "show_run_trees"]

_HIDDEN_EVENT_ATTRIBUTES = ("exception.stacktrace",)

Event = tuple[int, str, Any]
"""A custom event to show under its run: ``(time in ns, name, attributes)``."""


def _duration(span: ReadableSpan) -> str:
    if span.start_time is None or span.end_time is None:
        return "?"
    ms = (span.end_time - span.start_time) / 1e6
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _status(span: ReadableSpan) -> str:
    from opentelemetry.trace import StatusCode

    span_attributes = span.attributes or {}
    if span_attributes.get(attrs.CANCELLED):
        return "cancelled"
    if span.status.status_code is StatusCode.ERROR:
        return f"ERROR {span.status.description or ''}".rstrip()
    return "ok"


def _format_value(value: Any, width: int = 60) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _tokens(span: ReadableSpan) -> str:
    """The token usage of a model run, when it reported some."""
    attributes = span.attributes or {}
    prompt = attributes.get(attrs.GEN_AI_USAGE_INPUT_TOKENS)
    completion = attributes.get(attrs.GEN_AI_USAGE_OUTPUT_TOKENS)
    if prompt is None and completion is None:
        return ""
    return f"  tokens in={prompt} out={completion}"


def _events(span: ReadableSpan, logged: Sequence[Event]) -> list[Event]:
    """The span's events and the events logged in its context, in time order, each once (a
    span event and a log record of the same name and time are one event, ``both``)."""
    events: list[Event] = [(e.timestamp, e.name, e.attributes) for e in span.events]
    if logged:
        seen = {(time, name) for time, name, _ in events}
        events += [event for event in logged if (event[0], event[1]) not in seen]
        events.sort(key=lambda event: event[0])
    return events


def render_run_tree(
    spans: Sequence[ReadableSpan], logged: Mapping[int, Sequence[Event]] | None = None
) -> str:
    """The spans of one or more traces as text trees (children in start order).

    ``logged`` maps a span id to the custom events logged as records in that span's context;
    they are shown as its span events are.
    """
    ids = {s.context.span_id for s in spans if s.context is not None}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent if parent in ids else None, []).append(span)
    lines: list[str] = []

    def walk(span: ReadableSpan, prefix: str, branch: str, last: bool) -> None:
        line = f"{prefix}{branch}{span.name}  {_duration(span)}  {_status(span)}{_tokens(span)}"
        lines.append(line)
        below = prefix + ("" if not branch else ("   " if last else "│  "))
        kids = children.get(span.context.span_id if span.context else None, [])
        span_id = span.context.span_id if span.context else None
        for _, name, attributes in _events(span, (logged or {}).get(span_id or 0, ())):
            shown = {
                k: v for k, v in (attributes or {}).items() if k not in _HIDDEN_EVENT_ATTRIBUTES
            }
            detail = "  ".join(f"{k}={_format_value(v)}" for k, v in shown.items())
            bar = "│    " if kids else "     "
            lines.append(f"{below}{bar}• {name}  {detail}".rstrip())
        for index, kid in enumerate(kids):
            is_last = index == len(kids) - 1
            walk(kid, below, "└─ " if is_last else "├─ ", is_last)

    for root in children.get(None, []):
        walk(root, "", "", True)
    return "\n".join(lines)


class RunTreePrinter(SpanProcessor):
    """SDK span processor that prints each trace's tree when its root span ends.

    Must not block or raise (SDK processor contract): it only buffers spans and writes text.
    Custom events written as log records are shown too when :attr:`log_record_processor` is
    added to the logger provider that receives them (``show_run_trees`` does it).
    """

    def __init__(self, file: IO[str] | None = None) -> None:
        self._file = file
        self._lock = threading.Lock()
        self._pending: dict[int, list[ReadableSpan]] = {}
        self._logged: dict[int, dict[int, list[Event]]] = {}  # trace id → span id → events
        self._log_processor: Any = None

    @property
    def log_record_processor(self) -> Any:
        """An SDK ``LogRecordProcessor`` that hands this printer the log records of custom
        events (those with an ``event_name``, of sampled traces), to show under their runs."""
        if self._log_processor is None:
            self._log_processor = _event_collector(self)
        return self._log_processor

    def _logged_event(self, trace_id: int, span_id: int, event: Event) -> None:
        with self._lock:
            self._logged.setdefault(trace_id, {}).setdefault(span_id, []).append(event)

    def on_end(self, span: ReadableSpan) -> None:
        """Buffer ``span``; print its trace when it is a local root."""
        context = span.context
        if context is None:
            return
        with self._lock:
            self._pending.setdefault(context.trace_id, []).append(span)
            is_root = span.parent is None or span.parent.is_remote
            if not is_root:
                return
            spans = self._pending.pop(context.trace_id)
            logged = self._logged.pop(context.trace_id, None)
        try:
            out = self._file or sys.stdout
            out.write(render_run_tree(spans, logged) + "\n")
            out.flush()
        except Exception:  # a closed stream must not break the application
            pass

    def shutdown(self) -> None:
        """Drop buffered spans and events of unfinished traces."""
        with self._lock:
            self._pending.clear()
            self._logged.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered that could be flushed early."""
        return True


def _event_collector(printer: RunTreePrinter) -> Any:
    from opentelemetry.sdk._logs import LogRecordProcessor

    class EventCollector(LogRecordProcessor):
        """Hands the printer each custom event logged in a sampled span's context."""

        def on_emit(self, log_data: Any) -> None:
            record = log_data.log_record
            name = getattr(record, "event_name", None)
            flags = record.trace_flags
            if name and record.span_id and flags is not None and flags.sampled:
                event = (record.timestamp or 0, name, record.attributes)
                printer._logged_event(record.trace_id, record.span_id, event)

        emit = on_emit  # the name of this hook in older SDKs

        def shutdown(self) -> None:
            """Nothing to release."""

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            """Nothing is buffered here."""
            return True

    return EventCollector()


def show_run_trees(
    provider: TracerProvider | None = None,
    file: IO[str] | None = None,
    logger_provider: Any = None,
) -> TracerProvider:
    """Print run trees to ``file`` (stdout): the embedded, server-less default.

    With no ``provider``, a private SDK provider is created and given to otel_runnables
    (the global provider is left alone); pass the application's provider to add the printer
    beside its exporters. Custom events written as log records (``custom_events`` ``log`` /
    ``both``) are shown from ``logger_provider``, else from the SDK logger provider
    otel_runnables writes to, else (with no ``provider``) from a private one given to it.
    """
    from opentelemetry import _logs

    from ._otel import SPAN_SINK
    from .tracing import use_logger_provider, use_tracer_provider

    private = provider is None
    if provider is None:
        provider = TracerProvider()
        use_tracer_provider(provider)
    printer = RunTreePrinter(file)
    provider.add_span_processor(printer)
    if logger_provider is None:
        current = SPAN_SINK.event_log.logger_provider or _logs.get_logger_provider()
        if hasattr(current, "add_log_record_processor"):
            logger_provider = current
        elif private:
            from opentelemetry.sdk._logs import LoggerProvider

            logger_provider = LoggerProvider(shutdown_on_exit=False)
            use_logger_provider(logger_provider)
    if logger_provider is not None:
        logger_provider.add_log_record_processor(printer.log_record_processor)
    return provider
