"""The batch span processor ``configure_tracing()`` builds: it knows what it delivered.

Like the SDK's ``BatchSpanProcessor`` it queues ended spans and exports them from a worker
thread, in batches. Unlike it, it counts what the exporter accepted and what it did not, so a
flush can say so (:class:`~._flush.FlushResult`); its flush honours its timeout (the SDK's
``force_flush`` waits for every pending export, however long); its shutdown, which runs at
interpreter exit, waits at most ``OTEL_RUNNABLES_FLUSH_TIMEOUT`` (3 s) instead of 30 s; and it
cuts a batch into requests of at most 2 MiB, so that one request never approaches a receiver's
message limit (gRPC's default is 4 MiB, and a request above it loses every span it carries).

Needs the OpenTelemetry SDK (``pip install "otel-runnables[otlp]"``).
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from . import _flush

__all__ = ["MAX_REQUEST_BYTES", "Delivery", "DeliveryProcessor", "attributes_size", "span_size"]

logger = logging.getLogger("otel_runnables")

MAX_REQUEST_BYTES = 2 * 1024 * 1024
"""The most (estimated) bytes of spans one export call carries; a larger span goes alone."""
_SPAN_OVERHEAD = 160
_SUPPRESS = getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY", "suppress_instrumentation")


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8", "replace"))
    if isinstance(value, (list, tuple)):
        return 2 + sum(_value_size(item) + 2 for item in value)
    return 10


def attributes_size(attributes: Any) -> int:
    """An estimate of the bytes ``attributes`` take in an OTLP request."""
    if not attributes:
        return 0
    return sum(len(key) + 4 + _value_size(value) for key, value in attributes.items())


def span_size(span: ReadableSpan) -> int:
    """An estimate of the bytes ``span`` takes in an OTLP request."""
    size = _SPAN_OVERHEAD + len(span.name) + attributes_size(span.attributes)
    for event in span.events:
        size += 24 + len(event.name) + attributes_size(event.attributes)
    for link in span.links:
        size += 48 + attributes_size(link.attributes)
    status = span.status.description
    return size + (len(status) if status else 0)


def _requests(batch: list[Any], limit: int, size_of: Any) -> list[list[Any]]:
    """``batch`` cut into runs of items of at most ``limit`` estimated bytes each."""
    requests: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for span in batch:
        cost = size_of(span)
        if current and size + cost > limit:
            requests.append(current)
            current, size = [], 0
        current.append(span)
        size += cost
    if current:
        requests.append(current)
    return requests


_D = TypeVar("_D", bound="Delivery")


class Delivery:
    """Batches items (spans, log records) to ``exporter`` and counts what was delivered.

    A processor of one signal adds the SDK hook that calls :meth:`_enqueue`, on the thread that
    ended the span or emitted the record: it only appends to a queue (under a lock) and never
    blocks on the exporter. The class attributes name the signal in messages.
    """

    signal = "spans"
    """What is delivered, in messages and in ``FlushResult`` (``spans``, ``log records``)."""
    _queue_variable = "OTEL_BSP_MAX_QUEUE_SIZE"
    _exporter_variable = "OTEL_TRACES_EXPORTER"

    @classmethod
    def for_exporters(
        cls: type[_D], exporters: list[tuple[Any, str]], settings: dict[str, int]
    ) -> list[_D]:
        """A processor for each ``(exporter, description)``, with the batch settings of its
        signal's variables (``settings``: ``OTEL_BSP_*`` for spans, ``OTEL_BLRP_*`` for logs)."""
        prefix = cls._queue_variable.removesuffix("MAX_QUEUE_SIZE")
        return [
            cls(
                exporter,
                description=description,
                max_queue_size=settings[cls._queue_variable],
                schedule_delay_s=settings[prefix + "SCHEDULE_DELAY"] / 1000,
                max_export_batch_size=settings[prefix + "MAX_EXPORT_BATCH_SIZE"],
            )
            for exporter, description in exporters
        ]

    def __init__(
        self,
        exporter: Any,
        *,
        description: str = "",
        max_queue_size: int = 2048,
        schedule_delay_s: float = 5.0,
        max_export_batch_size: int = 512,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self._exporter = exporter
        self._description = description or type(exporter).__name__
        self._max_queue = max_queue_size
        self._delay = schedule_delay_s
        self._batch = max_export_batch_size
        self._request_bytes = max_request_bytes
        self._shut = False
        self._abandoned = False  # shutdown gave up waiting: export nothing more
        self._reset()
        if hasattr(os, "register_at_fork"):
            me = weakref.WeakMethod(self._reset)

            def after_in_child() -> None:
                reset = me()
                if reset is not None:
                    reset()

            os.register_at_fork(after_in_child=after_in_child)
        _flush.register(self)

    def _reset(self) -> None:
        """Fresh state (at creation, and in a forked child: the parent delivers its own)."""
        self._lock = threading.Lock()
        self._settle = threading.Condition(self._lock)  # counters and queue share one lock
        self._wake = threading.Event()
        self._queue: collections.deque[Any] = collections.deque()
        self._worker: threading.Thread | None = None
        self._ended = 0  # spans queued, ever (their sequence numbers)
        self._dropped = 0
        self._delivered = 0
        self._failed = 0
        self._settled = 0  # queued spans whose export is over (delivered or failed)
        self._reported = (0, 0, 0)  # delivered, failed, dropped at the previous flush
        self._healthy = True
        self._stalled = -1  # settled count when a flush last gave up waiting

    def _size(self, item: Any) -> int:
        """An estimate of the bytes ``item`` takes in an OTLP request."""
        return span_size(item)

    def _succeeded(self, result: Any) -> bool:
        return result is SpanExportResult.SUCCESS

    def _enqueue(self, span: Any) -> None:
        """Queue ``span`` (an item) for export, or count it dropped when the queue is full."""
        with self._lock:
            if self._shut:  # ended after the shutdown (at exit): nowhere to go
                self._dropped += 1
                return
            if len(self._queue) >= self._max_queue:
                first = self._dropped == 0
                self._dropped += 1
            else:
                first = False
                self._queue.append(span)
                self._ended += 1
                if len(self._queue) >= self._batch:
                    self._wake.set()
            start = self._worker is None and not self._shut
            if start:
                self._worker = threading.Thread(
                    target=self._work, name="otel-runnables-export", daemon=True
                )
        if start:
            self._start_worker()
        if first:
            logger.warning(
                "otel_runnables: the export queue (%d %s, %s) is full, %s are dropped; "
                "flush_tracing() counts them",
                self._max_queue,
                self.signal,
                self._queue_variable,
                self.signal,
            )

    def _start_worker(self) -> None:
        worker = self._worker
        try:
            worker.start()  # type: ignore[union-attr]
        except RuntimeError:  # "can't create new thread at interpreter shutdown"
            with self._lock:
                if self._worker is worker:
                    self._worker = None  # flushes then export from the calling thread

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export what is queued; False when some were not delivered (logged with counts)."""
        result = self.flush(timeout_millis / 1000)
        if not result.ok:
            logger.warning("otel_runnables: flush: %s to %s", result.describe(), self._description)
        return result.ok

    def shutdown(self) -> None:
        """Deliver what is queued within ``OTEL_RUNNABLES_FLUSH_TIMEOUT``, then stop."""
        if self._shut:
            return
        timeout = _flush.flush_timeout_s()
        stuck = self._stalled == self._settled  # a flush gave up, and nothing moved since
        if stuck:
            timeout = 0.0
        deadline = time.monotonic() + timeout
        result = self.flush(timeout)
        with self._lock:
            self._shut = True
            self._abandoned = not result.ok
        self._wake.set()
        _flush.unregister(self)
        if not result.ok:
            why = (
                "the exporter has not answered since an earlier flush gave up waiting"
                if stuck
                else f"waited {timeout:.1f} s, {_flush.ENV_FLUSH_TIMEOUT}"
            )
            logger.warning(
                "otel_runnables: at shutdown, %s to %s (%s)",
                result.describe(),
                self._description,
                why,
            )
        left = max(0.0, deadline - time.monotonic()) + 0.1
        stopper = threading.Thread(target=self._stop_exporter, args=(left,), daemon=True)
        try:
            stopper.start()
        except RuntimeError:  # at interpreter shutdown (Python 3.12+): stop it from here
            self._stop_exporter(left)
        else:
            stopper.join(left)

    def _stop_exporter(self, timeout_s: float) -> None:
        try:
            try:
                self._exporter.shutdown(timeout_millis=timeout_s * 1000)
            except TypeError:  # an exporter whose shutdown takes no timeout
                self._exporter.shutdown()
        except Exception:
            logger.exception("otel_runnables: the exporter's shutdown failed")

    # -- flushing ----------------------------------------------------------------------
    def flush(self, timeout_s: float, *, patient: bool = True) -> _flush.FlushResult:
        """Export everything queued now and wait for it (at most ``timeout_s``).

        ``patient=False`` does not wait while the exporter is failing.
        """
        wait = timeout_s if (patient or self._healthy) else 0.0
        worker = self._worker
        if self._queue and (worker is None or not worker.is_alive()):
            self._drain()  # no worker thread (it could not be started): export from here
        with self._settle:
            target = self._ended
            if self._queue:
                self._wake.set()
            self._settle.wait_for(lambda: self._settled >= target, wait)
            delivered, failed, dropped = self._delivered, self._failed, self._dropped
            before = self._reported
            self._reported = (delivered, failed, dropped)
            pending = max(0, target - self._settled)
            self._stalled = self._settled if pending else -1
        return _flush.FlushResult(
            delivered - before[0],
            failed - before[1],
            dropped - before[2],
            pending,
            unit=self.signal,
        )

    # -- the worker thread -------------------------------------------------------------
    def _work(self) -> None:
        while True:
            self._wake.wait(self._delay)
            self._wake.clear()
            self._drain()
            if self._shut:
                self._drain()
                return

    def _drain(self) -> None:
        while True:
            with self._lock:
                count = min(self._batch, len(self._queue))
                batch = [self._queue.popleft() for _ in range(count)]
            if not batch:
                return
            for request in _requests(batch, self._request_bytes, self._size):
                self._export(request)

    def _export(self, spans: Sequence[Any]) -> None:
        ok = False
        if not self._abandoned:
            token = otel_context.attach(otel_context.set_value(_SUPPRESS, True))
            try:
                ok = self._succeeded(self._exporter.export(spans))
            except Exception:
                logger.exception("otel_runnables: the exporter %s raised", self._description)
            finally:
                otel_context.detach(token)
        if not ok and self._healthy and not self._abandoned:
            logger.warning(
                "otel_runnables: could not deliver %d %s to %s. Is the backend running? "
                "They are counted (flush_tracing() reports them); set "
                "OTEL_EXPORTER_OTLP_ENDPOINT, or %s=console to print them",
                len(spans),
                self.signal,
                self._description,
                self._exporter_variable,
            )
        self._healthy = ok
        with self._settle:
            if ok:
                self._delivered += len(spans)
            else:
                self._failed += len(spans)
            self._settled += len(spans)
            self._settle.notify_all()


class DeliveryProcessor(Delivery, SpanProcessor):
    """The span processor: batches ended spans to ``exporter``, counts what was delivered."""

    @property
    def span_exporter(self) -> SpanExporter:
        """The exporter (as on the SDK's ``BatchSpanProcessor``)."""
        return self._exporter  # type: ignore[no-any-return]

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Queue ``span`` for export, if sampled (called on the thread that ended it)."""
        context = span.context
        if context is None or not context.trace_flags.sampled:
            return
        self._enqueue(span)
