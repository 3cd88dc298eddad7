"""Custom events of langchain-core runs as log records: the native mapping, on bridged runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.runnables import RunnableLambda

import otel_runnables as native
from otel_runnables.testing import LogRecorder, SpanRecorder
from otel_runnables.tracing import reset_tracing_options, set_tracing_options

DATA: dict[str, Any] = {"step": "fetch", "meta": {"tries": 2}, "ids": [1, 2], "mixed": [1, "a"]}


@pytest.fixture(autouse=True)
def _log_mode() -> Iterator[None]:
    set_tracing_options(custom_events="log")
    yield
    reset_tracing_options()


def _only(spans: SpanRecorder, name: str) -> Any:
    (span,) = spans.by_name(name)
    return span


def _records(logs: LogRecorder) -> list[Any]:
    return [r.log_record for r in logs.records()]


def test_sync_events_of_a_langchain_step_are_records_of_its_span(
    bridge: SpanRecorder, otel_logs: LogRecorder
) -> None:
    def step(x: int) -> int:
        dispatch_custom_event("progress", DATA)
        dispatch_custom_event("note", "plain text")
        return x

    RunnableLambda(step).invoke(1)
    span = _only(bridge, "step")
    assert span.events == ()
    lc_records = _records(otel_logs)
    assert [r.span_id for r in lc_records] == [span.context.span_id] * 2
    assert [r.trace_id for r in lc_records] == [span.context.trace_id] * 2
    for record in lc_records:
        assert span.start_time <= record.timestamp <= span.end_time
    bridge.clear()
    otel_logs.clear()

    def native_step(x: int) -> int:
        native.dispatch_custom_event("progress", DATA)
        native.dispatch_custom_event("note", "plain text")
        return x

    native.RunnableLambda(native_step, name="step").invoke(1)
    native_records = _records(otel_logs)
    mapped = [(r.event_name, dict(r.attributes or {})) for r in lc_records]
    assert mapped == [(r.event_name, dict(r.attributes or {})) for r in native_records]
    assert mapped == [
        ("progress", {"step": "fetch", "meta.tries": 2, "ids": (1, 2), "mixed": '[1, "a"]'}),
        ("note", {"data": "plain text"}),
    ]


async def test_async_events_in_a_tool_are_records_of_the_tool_span(
    bridge: SpanRecorder, otel_logs: LogRecorder
) -> None:
    from langchain_core.tools import tool

    @tool
    async def lookup(city: str) -> str:
        """Look a city up."""
        await adispatch_custom_event("progress", {"city": city})
        return f"{city}: sunny"

    set_tracing_options(custom_events="both")
    assert await lookup.ainvoke({"city": "Oslo"}) == "Oslo: sunny"
    span = _only(bridge, "execute_tool lookup")
    (event,) = span.events
    (record,) = _records(otel_logs)
    assert (record.event_name, dict(record.attributes or {})) == ("progress", {"city": "Oslo"})
    assert (event.name, dict(event.attributes or {})) == ("progress", {"city": "Oslo"})
    assert record.timestamp == event.timestamp
    assert (record.trace_id, record.span_id) == (span.context.trace_id, span.context.span_id)
