"""Load (bounded): thousands of concurrent runs lose, duplicate and retain nothing.

The figures (runs, events, lost) are printed and repeated in the assertion messages so they can
be quoted without ``-s``. The whole module is marked ``slow`` (``-m "not slow"`` skips it).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import tracemalloc
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest
from _support import AsyncRecorder, Recorder, Traced, using_provider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_runnables import RunnableLambda, adispatch_custom_event, dispatch_custom_event

pytestmark = pytest.mark.slow

RUNS = 2000
EVENTS = 20
BATCH = 200
MEMORY_SLACK = 256 * 1024  # bytes
MEMORY_RUNS = 500


class OrderChecker:
    """Counts events per run and checks their order (keeps one int per run)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next: dict[Any, int] = defaultdict(int)
        self.count = 0
        self.bad: list[Any] = []

    def see(self, run_id: Any, seq: int) -> None:
        with self.lock:
            self.count += 1
            if self.next[run_id] != seq:
                self.bad.append((run_id, seq, self.next[run_id]))
            self.next[run_id] = seq + 1

    def complete_runs(self) -> int:
        return sum(1 for v in self.next.values() if v == EVENTS)


def _checked(pairs: Iterable[tuple[Any, Any]]) -> OrderChecker:
    """An order check of ``(run, sequence number)`` pairs, in arrival order."""
    check = OrderChecker()
    for run, seq in pairs:
        check.see(run, seq)
    return check


def _handler_check(handler: Recorder) -> OrderChecker:
    return _checked((c.run_id, c.data) for c in handler.custom_events())


def _span_check(traced: Traced) -> OrderChecker:
    return _checked(
        (span.context.span_id, event.attributes["data"])  # type: ignore[index,union-attr]
        for span in traced.spans()
        for event in span.events
    )


async def _astep(x: int) -> int:
    for i in range(EVENTS):
        await adispatch_custom_event("tick", i)
        if i % 5 == 0:
            await asyncio.sleep(0)
    return x + 1


def _step(x: int) -> int:
    for i in range(EVENTS):
        dispatch_custom_event("tick", i)
    return x + 1


def _figures(name: str, dispatched: int, check: OrderChecker) -> str:
    return (
        f"{name}: runs={check.complete_runs()} events={check.count} "
        f"dispatched={dispatched} lost={dispatched - check.count} out_of_order={len(check.bad)}"
    )


async def test_load_no_loss_no_dup_order_and_memory(traced: Traced) -> None:
    sync_h, async_h = Recorder(), AsyncRecorder()
    config: Any = {"callbacks": [sync_h, async_h]}
    arunnable = RunnableLambda(_astep, name="astep")
    runnable = RunnableLambda(_step, name="step")
    await arunnable.ainvoke(0, config)  # warm-up: lazily created objects exist before
    await asyncio.to_thread(runnable.batch, [0, 1], config)
    for recorded in (sync_h, async_h, traced):
        recorded.clear()
    started0 = traced.counter.started

    results = await asyncio.gather(*(arunnable.ainvoke(i, config) for i in range(RUNS)))
    batch_results = await asyncio.to_thread(runnable.batch, list(range(BATCH)), config)
    assert list(results) == [i + 1 for i in range(RUNS)]
    assert batch_results == [i + 1 for i in range(BATCH)]
    del results, batch_results

    dispatched = (RUNS + BATCH) * EVENTS
    checks = {
        "sync handler": _handler_check(sync_h),
        "async handler": _handler_check(async_h),
        "span events": _span_check(traced),
    }
    figures = [_figures(name, dispatched, check) for name, check in checks.items()]
    print("\nLOAD FIGURES:\n  " + "\n  ".join(figures))
    for check in checks.values():
        assert check.count == dispatched and not check.bad, figures
        assert check.complete_runs() == RUNS + BATCH, figures
    started = traced.counter.started - started0
    assert started == RUNS + BATCH and traced.counter.open == [], figures
    del checks

    # Memory: a further round of MEMORY_RUNS runs under tracemalloc returns to its baseline
    # once the test's own records (handler calls, finished spans) are dropped.
    for recorded in (sync_h, async_h, traced):
        recorded.clear()
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        await asyncio.gather(*(arunnable.ainvoke(i, config) for i in range(MEMORY_RUNS)))
        await asyncio.to_thread(runnable.batch, list(range(BATCH // 4)), config)
        assert len(async_h.custom_events()) == (MEMORY_RUNS + BATCH // 4) * EVENTS
        for recorded in (sync_h, async_h, traced):
            recorded.clear()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        # A leak of runs shows as many small blocks. A single block of a mebibyte or more is an
        # interpreter table reallocated once (on 3.10, the interned strings' dict, whose resize
        # point depends on how many strings the whole session interned): tracemalloc sees the
        # new table but not the free of the old one, which predates tracing.
        one_off = sum(
            stat.size
            for stat in tracemalloc.take_snapshot().statistics("traceback")
            if stat.count == 1 and stat.size >= 1 << 20
        )
        grown = after - baseline - one_off
        assert grown < MEMORY_SLACK, (
            f"memory grew by {grown} bytes after {MEMORY_RUNS} more runs (slack {MEMORY_SLACK}); "
            f"{figures}; top: {tracemalloc.take_snapshot().statistics('lineno')[:5]}"
        )
        print(f"  memory: baseline={baseline} after={after} grown={grown} bytes")
    finally:
        tracemalloc.stop()


async def test_load_astream_events_no_loss() -> None:
    streams = 100
    arunnable = RunnableLambda(_astep, name="astep")
    checks = [OrderChecker() for _ in range(streams)]

    async def consume(i: int) -> None:
        async for event in arunnable.astream_events(i, version="v2"):
            if event["event"] == "on_custom_event":
                checks[i].see(event["run_id"], event["data"])

    await asyncio.gather(*(consume(i) for i in range(streams)))
    total = sum(c.count for c in checks)
    msg = f"astream_events: streams={streams} events={total} lost={streams * EVENTS - total}"
    print("\n" + msg)
    assert total == streams * EVENTS and not any(c.bad for c in checks), msg


async def test_batch_processor_exports_every_span() -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_queue_size=RUNS * 4, schedule_delay_millis=50)
    )
    with using_provider(provider):
        arunnable = RunnableLambda(_astep, name="astep")
        await asyncio.gather(*(arunnable.ainvoke(i) for i in range(RUNS)))
        assert provider.force_flush(10_000)
        exported = len(exporter.get_finished_spans())
        msg = f"BatchSpanProcessor: runs={RUNS} exported={exported} lost={RUNS - exported}"
        print("\n" + msg)
        assert exported == RUNS, msg
        events = sum(len(s.events) for s in exporter.get_finished_spans())
        assert events == RUNS * EVENTS, f"{msg} span events={events}"


class BlockedExporter(SpanExporter):
    """Blocks its first export until released, so the processor's queue overflows for sure."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.exported = 0

    def export(self, spans: Any) -> SpanExportResult:
        self.entered.set()
        self.release.wait(10)
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()


async def test_batch_processor_queue_overflow_is_surfaced(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With a tiny queue the SDK drops spans: it logs ``Queue full, dropping Span.`` (once per
    20 s window, through its duplicate filter -- not once per span) and, with
    ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED=true``, counts each drop in the
    ``otel.sdk.processor.span.processed`` metric with ``error.type=queue_full``."""
    caplog.set_level(logging.WARNING)
    for log_filter in logging.getLogger("opentelemetry.sdk._shared_internal").filters:
        if hasattr(log_filter, "last_log"):
            del log_filter.last_log
    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    exporter = BlockedExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter,
            max_queue_size=16,
            max_export_batch_size=8,
            schedule_delay_millis=10,
            meter_provider=meters,
        )
    )
    runs = 300
    with using_provider(provider):
        arunnable = RunnableLambda(_astep, name="astep")
        await arunnable.ainvoke(-1)
        assert await asyncio.to_thread(exporter.entered.wait, 10)
        results = await asyncio.gather(*(arunnable.ainvoke(i) for i in range(runs)))
        assert list(results) == [i + 1 for i in range(runs)]  # the run never notices
        exporter.release.set()
        provider.force_flush(10_000)
    dropped = 0
    data = reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name == "otel.sdk.processor.span.processed":
                    for point in metric.data.data_points:
                        if point.attributes.get("error.type") == "queue_full":
                            dropped += point.value
    meters.shutdown()
    created = runs + 1
    logs = [r.getMessage() for r in caplog.records if "Queue full" in r.getMessage()]
    msg = (
        f"tiny queue: spans={created} exported={exporter.exported} "
        f"dropped(metric)={dropped} lost={created - exporter.exported} queue_full_logs={len(logs)}"
    )
    print("\n" + msg)
    assert exporter.exported < created, msg
    assert dropped == created - exporter.exported, msg
    assert 1 <= len(logs) <= 2, msg
