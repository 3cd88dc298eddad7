"""Errors, cancellation, and every started span ends (counted by a span processor)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from otel_runnables import (
    BaseCallbackHandler,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    dispatch_custom_event,
)
from otel_runnables import _attributes as attrs
from otel_runnables.testing import SpanRecorder


class Counter(SpanProcessor):
    def __init__(self) -> None:
        self.started: list[int] = []
        self.ended: list[int] = []

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        self.started.append(span.context.span_id)

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span.context.span_id)

    def balanced(self) -> bool:
        return sorted(self.started) == sorted(self.ended) and len(set(self.ended)) == len(
            self.ended
        )


@pytest.fixture
def counter(otel_spans: SpanRecorder) -> Any:
    counting = Counter()
    otel_spans.provider.add_span_processor(counting)
    yield counting
    assert counting.balanced(), "a span was started and never ended (or ended twice)"


class Boom(ValueError):
    pass


def fail(x: Any) -> Any:
    raise Boom(f"bad input {x}")


async def afail(x: Any) -> Any:
    raise Boom(f"bad input {x}")


def check_error_span(span: ReadableSpan) -> None:
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "Boom: bad input 1"
    assert span.attributes[attrs.ERROR_TYPE] == "Boom"
    assert attrs.CANCELLED not in span.attributes
    assert attrs.OUTPUT_VALUE not in span.attributes
    exception_events = [e for e in span.events if e.name == "exception"]
    assert len(exception_events) == 1
    assert exception_events[0].attributes["exception.type"].endswith("Boom")
    assert exception_events[0].attributes["exception.message"] == "bad input 1"


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream", "batch", "abatch"])
async def test_error_spans_and_the_exception_propagates(
    otel_spans: SpanRecorder, counter: Counter, how: str
) -> None:
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
    (failing,) = otel_spans.by_name("fail")
    check_error_span(failing)
    (root,) = otel_spans.by_name("RunnableSequence")
    check_error_span(root)
    (ok,) = otel_spans.by_name("RunnableLambda")
    assert ok.status.status_code is StatusCode.UNSET


def test_batch_return_exceptions_marks_only_the_failing_item(
    otel_spans: SpanRecorder, counter: Counter
) -> None:
    runnable = RunnableLambda(lambda x: fail(x) if x == 1 else x, name="maybe")
    out = runnable.batch([0, 1], return_exceptions=True)
    assert out[0] == 0 and isinstance(out[1], Boom)
    statuses = sorted(s.status.status_code.name for s in otel_spans.spans())
    assert statuses == ["ERROR", "UNSET"]


def test_error_with_unprintable_message(otel_spans: SpanRecorder, counter: Counter) -> None:
    class Weird(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    def step(x: Any) -> Any:
        raise Weird()

    with pytest.raises(Weird):
        RunnableLambda(step).invoke(1)
    (span,) = otel_spans.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description.startswith("Weird: ")
    assert span.attributes[attrs.ERROR_TYPE] == "test_error_with_unprintable_message.<locals>.Weird"


async def test_cancelled_task(otel_spans: SpanRecorder, counter: Counter) -> None:
    started = asyncio.Event()

    async def slow(x: Any) -> Any:
        started.set()
        await asyncio.Event().wait()  # forever

    chain = RunnableLambda(lambda x: x) | RunnableParallel(a=slow, b=slow)
    task = asyncio.ensure_future(chain.ainvoke(1))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    spans = otel_spans.spans()
    assert [s.name for s in spans].count("slow") == 2
    for span in spans:
        if span.name == "RunnableLambda":
            assert attrs.CANCELLED not in span.attributes
            continue
        assert span.attributes[attrs.CANCELLED] is True, span.name
        assert span.status.status_code is not StatusCode.ERROR
        assert attrs.ERROR_TYPE not in span.attributes
        assert not [e for e in span.events if e.name == "exception"]


def words(chunks: Any) -> Any:
    for text in chunks:
        yield from text.split()


async def awords(chunks: Any) -> Any:
    async for text in chunks:
        for word in text.split():
            yield word


def check_cancelled_stream(recorder: SpanRecorder) -> None:
    spans = recorder.spans()
    assert spans
    for span in spans:
        assert span.attributes[attrs.CANCELLED] is True, span.name
        assert span.status.status_code is not StatusCode.ERROR
        assert span.attributes[attrs.STREAM_CHUNKS] >= 1


def test_consumer_breaks_out_of_stream(otel_spans: SpanRecorder, counter: Counter) -> None:
    chain = RunnableGenerator(words) | RunnableGenerator(words, name="again")
    stream = chain.stream("a b c d")
    assert next(stream) == "a"
    stream.close()
    check_cancelled_stream(otel_spans)
    assert len(otel_spans.spans()) == 3


async def settle(recorder: SpanRecorder, count: int) -> None:
    """Let the loop run the async-generator finaliser (bounded; no timing involved)."""
    gc.collect()
    for _ in range(200):
        if len(recorder.spans()) >= count:
            return
        await asyncio.sleep(0)


async def test_consumer_breaks_out_of_astream(otel_spans: SpanRecorder, counter: Counter) -> None:
    chain = RunnableGenerator(awords) | RunnableGenerator(awords, name="again")
    stream = chain.astream("a b c d")
    async with contextlib.aclosing(stream):  # type: ignore[type-var]
        async for chunk in stream:
            assert chunk == "a"
            break
    await settle(otel_spans, 3)
    check_cancelled_stream(otel_spans)
    assert len(otel_spans.spans()) == 3


async def test_astream_aclose_ends_spans_at_once(otel_spans: SpanRecorder) -> None:
    chain = RunnableGenerator(awords) | RunnableGenerator(awords, name="again")
    stream = chain.astream("a b c d")
    async with contextlib.aclosing(stream):  # type: ignore[type-var]
        async for _ in stream:
            break
    assert len(otel_spans.spans()) == 3


async def test_consumer_breaks_out_of_astream_events(
    otel_spans: SpanRecorder, counter: Counter
) -> None:
    chain = RunnableGenerator(awords) | RunnableGenerator(awords, name="again")
    events = chain.astream_events("a b c d", version="v2")
    async with contextlib.aclosing(events):  # type: ignore[type-var]
        async for event in events:
            if event["event"] == "on_chain_stream":
                break
    await settle(otel_spans, 3)  # see test_astream_aclose_ends_spans_at_once
    spans = otel_spans.spans()
    assert len(spans) == 3
    for span in spans:
        assert span.attributes[attrs.CANCELLED] is True, span.name
        assert span.status.status_code is not StatusCode.ERROR


async def test_abandoned_astream_events_is_finalised(
    otel_spans: SpanRecorder, counter: Counter
) -> None:
    chain = RunnableGenerator(awords) | RunnableGenerator(awords, name="again")
    async for event in chain.astream_events("a b c d", version="v2"):
        if event["event"] == "on_chain_stream":
            break
    await settle(otel_spans, 3)  # the loop's async-generator finaliser runs aclose()
    assert len(otel_spans.spans()) == 3
    assert all(s.attributes[attrs.CANCELLED] is True for s in otel_spans.spans())


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
    otel_spans: SpanRecorder, counter: Counter, hook: str, how: str, caplog: Any
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
    assert counter.started
    assert counter.balanced()


def test_sink_ends_span_when_attribute_conversion_fails(
    otel_spans: SpanRecorder, counter: Counter, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("conversion bug")

    monkeypatch.setattr(attrs, "value_and_mime", broken)
    assert RunnableLambda(lambda x: x + 1).invoke(1) == 2
    assert len(otel_spans.spans()) == 1
    assert "otel_runnables sink SpanSink" in caplog.text
