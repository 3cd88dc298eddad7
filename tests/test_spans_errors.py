"""Errors, and every started span ends (counted by a span processor); a consumer that stops
early is in test_consumer_stops.py."""

from __future__ import annotations

from typing import Any

import pytest
from _support import Traced
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from otel_runnables import (
    BaseCallbackHandler,
    RunnableLambda,
    dispatch_custom_event,
)
from otel_runnables import _attributes as attrs
from otel_runnables import _convert as convert


class Boom(ValueError):
    pass


def fail(x: Any) -> Any:
    raise Boom(f"bad input {x}")


async def afail(x: Any) -> Any:
    raise Boom(f"bad input {x}")


def check_error_span(span: ReadableSpan, raised_in: ReadableSpan | None = None) -> None:
    """An error span; ``raised_in``: the span that recorded the exception, which this one
    links to (recorded here when None)."""
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "Boom: bad input 1"
    assert span.attributes[attrs.ERROR_TYPE] == "Boom"
    assert attrs.CANCELLED not in span.attributes
    assert attrs.OUTPUT_VALUE not in span.attributes
    exception_events = [e for e in span.events if e.name == "exception"]
    if raised_in is not None:
        assert not exception_events
        origin = span.attributes[attrs.ERROR_ORIGIN_RUN_ID]
        assert origin == raised_in.attributes[attrs.RUN_ID]
        return
    assert attrs.ERROR_ORIGIN_RUN_ID not in span.attributes
    assert len(exception_events) == 1
    assert exception_events[0].attributes["exception.type"].endswith("Boom")
    assert exception_events[0].attributes["exception.message"] == "bad input 1"


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream", "batch", "abatch"])
async def test_error_spans_and_the_exception_propagates(traced: Traced, how: str) -> None:
    chain = RunnableLambda(lambda x: x) | RunnableLambda(fail, afunc=afail, name="fail")
    with pytest.raises(Boom, match="bad input 1"):
        if how == "invoke":
            chain.invoke(1)
        elif how == "ainvoke":
            await chain.ainvoke(1)
        elif how == "stream":
            list(chain.stream(1))
        elif how == "astream":
            [c async for c in chain.astream(1)]
        elif how == "batch":
            chain.batch([1])
        else:
            await chain.abatch([1])
    (failing,) = traced.by_name("fail")
    check_error_span(failing)
    (root,) = traced.by_name("RunnableSequence")
    check_error_span(root, raised_in=failing)
    (ok,) = traced.by_name("RunnableLambda")
    assert ok.status.status_code is StatusCode.UNSET


def test_batch_return_exceptions_marks_only_the_failing_item(traced: Traced) -> None:
    runnable = RunnableLambda(lambda x: fail(x) if x == 1 else x, name="maybe")
    out = runnable.batch([0, 1], return_exceptions=True)
    assert out[0] == 0 and isinstance(out[1], Boom)
    statuses = sorted(s.status.status_code.name for s in traced.spans())
    assert statuses == ["ERROR", "UNSET"]


def test_error_with_unprintable_message(traced: Traced) -> None:
    class Weird(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    def step(x: Any) -> Any:
        raise Weird()

    with pytest.raises(Weird):
        RunnableLambda(step).invoke(1)
    (span,) = traced.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description.startswith("Weird: ")
    assert span.attributes[attrs.ERROR_TYPE] == "test_error_with_unprintable_message.<locals>.Weird"


class Raising(BaseCallbackHandler):
    raise_error = True

    def __init__(self, hook: str) -> None:
        self.hook = hook

    def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
        if self.hook == "start":
            raise RuntimeError("handler start")

    def on_chain_end(self, *args: Any, **kwargs: Any) -> None:
        if self.hook == "end":
            raise RuntimeError("handler end")

    def on_chain_error(self, *args: Any, **kwargs: Any) -> None:
        if self.hook == "error":
            raise RuntimeError("handler error")

    def on_custom_event(self, *args: Any, **kwargs: Any) -> None:
        if self.hook == "custom":
            raise RuntimeError("handler custom")


def step_with_event(x: Any) -> Any:
    dispatch_custom_event("ev", {"x": x})
    return 1 / x


@pytest.mark.parametrize("hook", ["start", "end", "error", "custom"])
@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
async def test_raising_handler_never_leaks_a_span(
    traced: Traced, hook: str, how: str, caplog: Any
) -> None:
    chain = RunnableLambda(step_with_event) | RunnableLambda(lambda y: y)
    config: Any = {"callbacks": [Raising(hook)]}
    value = 0 if hook == "error" else 1
    with pytest.raises(RuntimeError, match=f"handler {hook}"):
        if how == "invoke":
            chain.invoke(value, config)
        elif how == "ainvoke":
            await chain.ainvoke(value, config)
        elif how == "stream":
            list(chain.stream(value, config))
        else:
            [c async for c in chain.astream(value, config)]
    assert traced.counter.started
    traced.assert_all_ended()


def test_sink_ends_span_when_attribute_conversion_fails(
    traced: Traced, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("conversion bug")

    monkeypatch.setattr(convert, "value_and_mime", broken)
    assert RunnableLambda(lambda x: x + 1).invoke(1) == 2
    assert len(traced.spans()) == 1
    assert "otel_runnables sink SpanSink" in caplog.text
