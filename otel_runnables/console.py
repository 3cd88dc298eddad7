"""A console run-tree renderer: each finished trace printed as an indented tree.

Needs the OpenTelemetry SDK (``pip install "otel-runnables[otlp]"``).

Each run shows its name, duration and status (and a model run its token usage); its custom
events (span events) are listed under it with their attributes; errors show their type and
message. It is an SDK ``SpanProcessor``,
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
from collections.abc import Sequence
from typing import IO, Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

from . import _attributes as attrs

__all__ = ["RunTreePrinter", "render_run_tree", "show_run_trees"]

_HIDDEN_EVENT_ATTRIBUTES = ("exception.stacktrace",)


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


def render_run_tree(spans: Sequence[ReadableSpan]) -> str:
    """The spans of one or more traces as text trees (children in start order)."""
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
        for event in span.events:
            shown = {
                k: v
                for k, v in (event.attributes or {}).items()
                if k not in _HIDDEN_EVENT_ATTRIBUTES
            }
            detail = "  ".join(f"{k}={_format_value(v)}" for k, v in shown.items())
            bar = "│    " if kids else "     "
            lines.append(f"{below}{bar}• {event.name}  {detail}".rstrip())
        for index, kid in enumerate(kids):
            is_last = index == len(kids) - 1
            walk(kid, below, "└─ " if is_last else "├─ ", is_last)

    for root in children.get(None, []):
        walk(root, "", "", True)
    return "\n".join(lines)


class RunTreePrinter(SpanProcessor):
    """SDK span processor that prints each trace's tree when its root span ends.

    Must not block or raise (SDK processor contract): it only buffers spans and writes text.
    """

    def __init__(self, file: IO[str] | None = None) -> None:
        self._file = file
        self._lock = threading.Lock()
        self._pending: dict[int, list[ReadableSpan]] = {}

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
        try:
            out = self._file or sys.stdout
            out.write(render_run_tree(spans) + "\n")
            out.flush()
        except Exception:  # a closed stream must not break the application
            pass

    def shutdown(self) -> None:
        """Drop buffered spans of unfinished traces."""
        with self._lock:
            self._pending.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered that could be flushed early."""
        return True


def show_run_trees(
    provider: TracerProvider | None = None, file: IO[str] | None = None
) -> TracerProvider:
    """Print run trees to ``file`` (stdout): the embedded, server-less default.

    With no ``provider``, a private SDK provider is created and given to otel_runnables
    (the global provider is left alone); pass the application's provider to add the printer
    beside its exporters.
    """
    from .tracing import use_tracer_provider

    if provider is None:
        provider = TracerProvider()
        use_tracer_provider(provider)
    provider.add_span_processor(RunTreePrinter(file))
    return provider
