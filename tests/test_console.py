"""The console run-tree renderer: names, durations, statuses, events with data, errors."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from otel_runnables import RunnableLambda, RunnableParallel, dispatch_custom_event
from otel_runnables.console import RunTreePrinter, render_run_tree, show_run_trees
from otel_runnables.testing import SpanRecorder
from otel_runnables.tracing import (
    reset_tracing_options,
    set_tracing_options,
    use_logger_provider,
    use_tracer_provider,
)

DURATION = r"\d+\.\d (ms|s)"


def split(text: str) -> list[str]:
    dispatch_custom_event("progress", {"step": "split", "words": ["a", "b"]})
    return text.split()


def explode(words: list[str]) -> int:
    raise KeyError("missing")


def test_render_names_durations_statuses_events_and_errors(otel_spans: SpanRecorder) -> None:
    chain = (RunnableLambda(split) | RunnableParallel(n=len, boom=explode)).with_config(
        run_name="pipeline"
    )
    with pytest.raises(KeyError):
        chain.invoke("a b")
    text = render_run_tree(otel_spans.spans())
    lines = text.splitlines()
    error = "ERROR KeyError: 'missing'"
    assert re.fullmatch(rf"pipeline  {DURATION}  {error}", lines[0])
    expected = [
        rf"├─ split  {DURATION}  ok",
        r"│\s+• progress  step=split  words=a,b",
        rf"└─ RunnableParallel<n,boom>  {DURATION}  {error}",
        rf"   [├└]─ len  {DURATION}  ok",
        rf"   [├└]─ explode  {DURATION}  {error}",
    ]
    for pattern in expected:
        assert any(re.fullmatch(pattern, line) for line in lines), (pattern, text)
    order = [next(i for i, line in enumerate(lines) if re.fullmatch(p, line)) for p in expected]
    assert order[:3] == sorted(order[:3])
    # The exception event is shown with its type and message, never its stack trace.
    assert any("• exception  exception.type=KeyError" in line for line in lines)
    assert "Traceback" not in text


async def test_cancelled_runs_are_shown_as_cancelled(otel_spans: SpanRecorder) -> None:
    started = asyncio.Event()

    async def wait(x: Any) -> Any:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.ensure_future(RunnableLambda(wait).ainvoke(1))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert re.fullmatch(rf"wait  {DURATION}  cancelled", render_run_tree(otel_spans.spans()))


def test_printer_prints_each_trace_when_its_root_ends() -> None:
    out = io.StringIO()
    provider = TracerProvider()
    previous = show_run_trees(provider, file=out)
    assert previous is provider
    use_tracer_provider(provider)
    try:
        RunnableLambda(split).invoke("x y")
        RunnableLambda(len, name="second").invoke("xyz")
    finally:
        use_tracer_provider(None)
        provider.shutdown()
    lines = out.getvalue().splitlines()
    assert re.fullmatch(rf"split  {DURATION}  ok", lines[0])
    assert lines[1].strip() == "• progress  step=split  words=a,b"
    assert re.fullmatch(rf"second  {DURATION}  ok", lines[2])


def test_printer_shutdown_and_flush() -> None:
    printer = RunTreePrinter(io.StringIO())
    printer.shutdown()
    assert printer.force_flush()


def test_show_run_trees_without_provider_uses_a_private_one() -> None:
    out = io.StringIO()
    provider = show_run_trees(file=out)
    try:
        RunnableLambda(lambda x: "v" * 200, name="long").invoke(1)

        def step(x: Any) -> Any:
            dispatch_custom_event("big", {"text": "w" * 200})
            return x

        RunnableLambda(step).invoke(1)
    finally:
        use_tracer_provider(None)
        use_logger_provider(None)
        provider.shutdown()
    text = out.getvalue()
    assert re.search(rf"^long  {DURATION}  ok$", text, re.M)
    (line,) = [line for line in text.splitlines() if "• big" in line]
    assert line.endswith("…") and len(line) < 120


# -- custom events written as log records ---------------------------------------------------


def _nested(x: str) -> int:
    dispatch_custom_event("counted", {"n": len(x), "tags": ["p", "q"]})
    return len(x)


def _printed_in_each_mode(modes: list[str], **show: Any) -> list[str]:
    """The printed trees of one pipeline run once per mode, durations masked."""
    out = io.StringIO()
    provider = show_run_trees(file=out, **show)
    chain = (
        RunnableLambda(split) | RunnableParallel(n=len, m=RunnableLambda(_nested))
    ).with_config(run_name="pipeline")
    texts = []
    try:
        for mode in modes:
            set_tracing_options(custom_events=mode)
            chain.invoke("a b")
            texts.append(re.sub(DURATION, "<t>", out.getvalue()))
            out.seek(0)
            out.truncate()
    finally:
        reset_tracing_options()
        use_tracer_provider(None)
        use_logger_provider(None)
        provider.shutdown()
    return texts


def test_log_records_of_custom_events_print_as_span_events_do() -> None:
    span, log, both = _printed_in_each_mode(["span", "log", "both"])
    assert "• progress  step=split  words=a,b" in span
    assert "• counted  n=2  tags=p,q" in span
    assert log == span
    assert both == span  # an event written both ways is shown once


def test_log_records_reach_the_printer_through_the_applications_providers() -> None:
    from opentelemetry.sdk._logs import LoggerProvider

    logger_provider = LoggerProvider(shutdown_on_exit=False)
    provider = TracerProvider()
    use_tracer_provider(provider)
    use_logger_provider(logger_provider)
    try:
        span, log = _printed_in_each_mode(["span", "log"], provider=provider)
    finally:
        logger_provider.shutdown()
    assert "• counted  n=2  tags=p,q" in span
    assert log == span


def test_the_printer_keeps_no_log_record_it_cannot_print() -> None:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    out = io.StringIO()
    provider = TracerProvider(sampler=ALWAYS_OFF)  # no span ends: no tree to print
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    printer = RunTreePrinter(out)
    provider.add_span_processor(printer)
    logger_provider.add_log_record_processor(printer.log_record_processor)
    use_tracer_provider(provider)
    use_logger_provider(logger_provider)
    set_tracing_options(custom_events="log")
    try:
        RunnableLambda(split).invoke("a b")
    finally:
        reset_tracing_options()
        use_tracer_provider(None)
        use_logger_provider(None)
        logger_provider.shutdown()
    assert out.getvalue() == ""
    assert printer._logged == {}
