"""Shared helpers of the reliability tests (tests/test_reliability_*.py); no tests live here.

* :class:`CountingProcessor` -- an SDK span processor that counts ``on_start`` / ``on_end`` and
  remembers which spans are still open, so a test can prove that no span was leaked.
* :func:`traced` -- a fixture giving otel_runnables a fresh SDK ``TracerProvider`` (never the
  global one) with a counting processor and an in-memory exporter, restored afterwards.
* :class:`Recorder` / :class:`AsyncRecorder` -- callback handlers that record every hook call.
* :func:`problems` -- the log records and warnings that must never appear.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_runnables import AsyncCallbackHandler, BaseCallbackHandler
from otel_runnables._events import EventStreamSink
from otel_runnables._run import Run
from otel_runnables.tracing import use_tracer_provider

__all__ = [
    "AsyncRecorder",
    "CountingProcessor",
    "Recorder",
    "Traced",
    "live_run_objects",
    "run_object_ids",
    "other_tasks",
    "problems",
    "settle",
    "traced",
]


class CountingProcessor(SpanProcessor):
    """Counts span starts and ends; ``open`` names the spans that started and never ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = 0
        self.ended = 0
        self._open: dict[int, str] = {}

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        with self._lock:
            self.started += 1
            self._open[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.ended += 1
            self._open.pop(span.context.span_id, None)  # type: ignore[union-attr]

    @property
    def open(self) -> list[str]:
        with self._lock:
            return sorted(self._open.values())

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@dataclass
class Traced:
    provider: TracerProvider
    counter: CountingProcessor
    exporter: InMemorySpanExporter

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def by_name(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.name == name]

    def assert_all_ended(self) -> None:
        counter = self.counter
        assert counter.started == counter.ended and not counter.open, (
            f"spans started={counter.started} ended={counter.ended}, open={counter.open}"
        )


@pytest.fixture
def traced() -> Iterator[Traced]:
    """A fresh SDK provider for otel_runnables (counting processor + in-memory exporter)."""
    provider = TracerProvider()
    counter = CountingProcessor()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(counter)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    try:
        yield Traced(provider, counter, exporter)
    finally:
        use_tracer_provider(None)
        provider.shutdown()


@dataclass
class Calls:
    """Hook calls recorded by a handler: ``(hook, run_id, payload)`` in arrival order."""

    items: list[tuple[str, Any, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, hook: str, run_id: Any, payload: Any) -> None:
        with self.lock:
            self.items.append((hook, run_id, payload))

    def hooks(self) -> list[str]:
        return [hook for hook, _, _ in self.items]

    def custom(self) -> list[tuple[Any, str, Any]]:
        """``(run_id, name, data)`` of every custom event, in arrival order."""
        return [(run_id, p[0], p[1]) for hook, run_id, p in self.items if hook == "custom"]


class Recorder(BaseCallbackHandler):
    """A sync handler recording every hook call."""

    def __init__(self) -> None:
        self.calls = Calls()

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: Any, **kw: Any) -> None:
        self.calls.add("start", run_id, inputs)

    def on_chain_end(self, outputs: Any, *, run_id: Any, **kw: Any) -> None:
        self.calls.add("end", run_id, outputs)

    def on_chain_error(self, error: BaseException, *, run_id: Any, **kw: Any) -> None:
        self.calls.add("error", run_id, error)

    def on_custom_event(self, name: str, data: Any, *, run_id: Any, **kw: Any) -> None:
        self.calls.add("custom", run_id, (name, data))


class AsyncRecorder(AsyncCallbackHandler):
    """An async handler recording every hook call (after yielding to the loop once)."""

    def __init__(self) -> None:
        self.calls = Calls()

    async def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: Any, **kw: Any) -> None:
        await asyncio.sleep(0)
        self.calls.add("start", run_id, inputs)

    async def on_chain_end(self, outputs: Any, *, run_id: Any, **kw: Any) -> None:
        await asyncio.sleep(0)
        self.calls.add("end", run_id, outputs)

    async def on_chain_error(self, error: BaseException, *, run_id: Any, **kw: Any) -> None:
        await asyncio.sleep(0)
        self.calls.add("error", run_id, error)

    async def on_custom_event(self, name: str, data: Any, *, run_id: Any, **kw: Any) -> None:
        await asyncio.sleep(0)
        self.calls.add("custom", run_id, (name, data))


def other_tasks() -> set[asyncio.Task[Any]]:
    """Tasks of the running loop other than the current one that are not done."""
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


async def settle(rounds: int = 20) -> set[asyncio.Task[Any]]:
    """Let the loop run finalizers (async generator ``aclose`` tasks) for a bounded number of
    iterations; return the tasks still pending afterwards."""
    for _ in range(rounds):
        gc.collect()
        await asyncio.sleep(0)
        if _ >= 3 and not other_tasks():
            break
    return other_tasks()


def run_object_ids() -> set[int]:
    """Ids of the run-bus objects alive now (a baseline for :func:`live_run_objects`)."""
    gc.collect()
    return {id(o) for o in gc.get_objects() if isinstance(o, Run | EventStreamSink)}


def live_run_objects(baseline: set[int] = frozenset()) -> dict[str, int]:  # type: ignore[assignment]
    """How many run-bus objects (``Run``, ``EventStreamSink``) not in ``baseline`` are still
    alive after a GC. Earlier tests may legitimately keep some alive (an exception object kept
    at module level keeps its traceback's frames, and the runs in them), hence the baseline."""
    gc.collect()
    counts = {"Run": 0, "EventStreamSink": 0}
    for obj in gc.get_objects():
        if id(obj) in baseline:
            continue
        if isinstance(obj, Run):
            counts["Run"] += 1
        elif isinstance(obj, EventStreamSink):
            counts["EventStreamSink"] += 1
    return {k: v for k, v in counts.items() if v}


def problems(records: list[logging.LogRecord], warned: list[Any] = ()) -> list[str]:  # type: ignore[assignment]
    """Log records (WARNING+ from ``opentelemetry`` / ``asyncio``) and warnings that show a leak
    or a context mix-up."""
    out = []
    for record in records:
        if record.levelno < logging.WARNING:
            continue
        if not record.name.startswith(("opentelemetry", "asyncio")):
            continue
        out.append(f"{record.name}:{record.levelname}: {record.getMessage()}")
    for message in warned:
        out.append(f"warning: {message}")
    return out
