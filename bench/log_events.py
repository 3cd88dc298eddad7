"""The cost of one custom event with custom_events span, log and both, beside a raw Logger.emit.

    python bench/log_events.py            # about 20 s
    python bench/log_events.py --rounds 5 # quicker, noisier

One process, one SDK set-up for every row: a ``TracerProvider`` and a ``LoggerProvider`` whose
processors only count what reaches them (no export, no queue), so the figures are the cost of
recording. A row's cost of one event is ``(t(step dispatching 100 events) - t(step dispatching
none)) / 100`` per invoke, i.e. only what the events add to the run. The rows are sampled one
after the other in each round (the order rotating), and the figures are medians over rounds.

Rows:
    raw emit    ``Logger.emit(LogRecord(...))`` of the equivalent record (event name, the same
                attributes dict, a span's context, INFO, a timestamp): the floor of ``log``
    raw event   ``span.add_event(name, attributes)``: the floor of ``span``
    span        ``dispatch_custom_event`` with ``custom_events="span"`` (the default)
    log         with ``custom_events="log"``: one log record, no span event
    both        with ``custom_events="both"``: the log record and the span event
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from otel_runnables import RunnableLambda, dispatch_custom_event
from otel_runnables.tracing import (
    reset_tracing_options,
    set_tracing_options,
    use_logger_provider,
    use_tracer_provider,
)

EVENTS = 100
DATA: dict[str, Any] = {"step": 3, "of": 10, "stage": "rank", "score": 0.75, "ok": True}


class CountingSpans(SpanProcessor):
    def __init__(self) -> None:
        self.ended = 0

    def on_end(self, span: Any) -> None:
        self.ended += 1


class CountingLogs(LogRecordProcessor):
    def __init__(self) -> None:
        self.emitted = 0

    def on_emit(self, log_record: Any) -> None:
        self.emitted += 1

    emit = on_emit

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _step(events: int) -> Any:
    def step(x: int) -> int:
        for _ in range(events):
            dispatch_custom_event("progress", DATA)
        return x

    return RunnableLambda(step, name="step")


def _time(call: Callable[[], Any], calls: int) -> float:
    """Seconds per call, the cyclic collector off while timing (as timeit does)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            call()
        return (time.perf_counter() - start) / calls
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200, help="invokes per sample")
    args = parser.parse_args()

    spans, logs = CountingSpans(), CountingLogs()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(spans)
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(logs)
    use_tracer_provider(tracer_provider)
    use_logger_provider(logger_provider)
    tracer = tracer_provider.get_tracer("bench")
    logger = logger_provider.get_logger("bench")
    span = tracer.start_span("raw")
    context = trace.set_span_in_context(span)

    def raw_emit() -> None:
        for _ in range(EVENTS):
            now = time.time_ns()
            logger.emit(
                LogRecord(
                    timestamp=now,
                    observed_timestamp=now,
                    context=context,
                    severity_text="INFO",
                    severity_number=SeverityNumber.INFO,
                    attributes=DATA,
                    event_name="progress",
                )
            )

    def raw_event() -> None:
        for _ in range(EVENTS):
            span.add_event("progress", DATA)  # beyond 128 events the oldest is dropped

    empty, busy = _step(0), _step(EVENTS)

    def mode_row(mode: str) -> Callable[[], float]:
        def sample() -> float:
            set_tracing_options(custom_events=mode)
            try:
                with_events = _time(lambda: busy.invoke(1), args.calls)
                without = _time(lambda: empty.invoke(1), args.calls)
            finally:
                reset_tracing_options()
            return (with_events - without) / EVENTS

        return sample

    rows: dict[str, Callable[[], float]] = {
        "raw emit": lambda: _time(raw_emit, args.calls) / EVENTS,
        "raw event": lambda: _time(raw_event, args.calls) / EVENTS,
        "span": mode_row("span"),
        "log": mode_row("log"),
        "both": mode_row("both"),
    }
    for sample in rows.values():  # warm-up: imports, caches
        sample()
    samples: dict[str, list[float]] = {name: [] for name in rows}
    names = list(rows)
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            samples[name].append(rows[name]())
    span.end()
    use_tracer_provider(None)
    use_logger_provider(None)
    assert logs.emitted > 0 and spans.ended > 0  # the rows recorded what they claim

    median = {name: statistics.median(values) for name, values in samples.items()}
    floor = median["raw emit"]
    print(f"one custom event ({len(DATA)} attributes), median of {args.rounds} rounds")
    print(f"{'row':<10} {'µs/event':>9} {'x raw emit':>11}")
    for name in names:
        print(f"{name:<10} {median[name] * 1e6:>9.2f} {median[name] / floor:>10.2f}x")


if __name__ == "__main__":
    main()
