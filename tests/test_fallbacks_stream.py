"""Streaming with fallbacks: the candidate stream is closed when the consumer stops early, and the
fallbacks run reports its chunks on its span (sync and async)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from otel_runnables import RunnableGenerator, RunnableLambda
from otel_runnables.testing import SpanRecorder


class Tracks:
    """A candidate stream that records whether it was closed (finally ran)."""

    def __init__(self) -> None:
        self.closed = 0

    def sync(self) -> RunnableGenerator[Any, Any]:
        def numbers(chunks: Iterator[Any]) -> Iterator[int]:
            try:
                yield from range(100)
            finally:
                self.closed += 1

        return RunnableGenerator(numbers, name="candidate")

    def asynchronous(self) -> RunnableGenerator[Any, Any]:
        async def numbers(chunks: AsyncIterator[Any]) -> AsyncIterator[int]:
            try:
                for i in range(100):
                    yield i
            finally:
                self.closed += 1

        return RunnableGenerator(numbers, name="candidate")


def _broken(x: Any) -> Any:
    raise ValueError("primary down")


def _fallbacks_span(otel_spans: SpanRecorder) -> Any:
    (span,) = otel_spans.by_name("RunnableWithFallbacks")
    return span


def test_sync_stream_closes_candidate_when_consumer_stops(otel_spans: SpanRecorder) -> None:
    tracks = Tracks()
    chain = RunnableLambda(_broken).with_fallbacks([tracks.sync()])
    stream = chain.stream(0)
    assert [next(stream), next(stream), next(stream)] == [0, 1, 2]
    stream.close()  # type: ignore[attr-defined]
    # Closed at once, not whenever the garbage collector finalises the candidate generator.
    assert tracks.closed == 1
    span = _fallbacks_span(otel_spans)
    assert span.attributes["runnable.cancelled"] is True
    assert span.attributes["runnable.stream.chunks"] == 3
    (candidate,) = otel_spans.by_name("candidate")
    assert candidate.end_time is not None
    assert candidate.attributes["runnable.cancelled"] is True


async def test_async_stream_closes_candidate_when_consumer_stops(
    otel_spans: SpanRecorder,
) -> None:
    tracks = Tracks()
    chain = RunnableLambda(_broken).with_fallbacks([tracks.asynchronous()])
    stream = chain.astream(0)
    assert [await anext(stream), await anext(stream)] == [0, 1]
    await stream.aclose()  # type: ignore[attr-defined]
    assert tracks.closed == 1
    span = _fallbacks_span(otel_spans)
    assert span.attributes["runnable.cancelled"] is True
    assert span.attributes["runnable.stream.chunks"] == 2


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_stream_reports_chunks_of_the_candidate_that_streamed(
    otel_spans: SpanRecorder, mode: str
) -> None:
    def words(chunks: Iterator[Any]) -> Iterator[str]:
        yield from ("a", "b", "c")

    async def awords(chunks: AsyncIterator[Any]) -> AsyncIterator[str]:
        for word in ("a", "b", "c"):
            yield word

    chain = RunnableLambda(_broken).with_fallbacks([RunnableGenerator(words, awords)])
    if mode == "sync":
        assert list(chain.stream(0)) == ["a", "b", "c"]
    else:
        assert [c async for c in chain.astream(0)] == ["a", "b", "c"]
    span = _fallbacks_span(otel_spans)
    assert span.attributes["runnable.stream.chunks"] == 3
    assert span.attributes["runnable.stream.first_chunk_ms"] >= 0
    assert span.attributes["output.value"] == "abc"
    assert "runnable.cancelled" not in span.attributes


async def test_fallbacks_chunks_are_not_stream_events_of_a_nested_run() -> None:
    """langchain-core's event stream shows chunks of runs that transform a stream; a nested
    fallbacks run streams a known input, so only its candidate's chunks appear."""

    def words(chunks: Iterator[Any]) -> Iterator[str]:
        yield from ("a", "b")

    async def awords(chunks: AsyncIterator[Any]) -> AsyncIterator[str]:
        for word in ("a", "b"):
            yield word

    inner = RunnableLambda(_broken).with_fallbacks([RunnableGenerator(words, awords)])
    chain = RunnableLambda(lambda x: x) | inner
    streams = [
        e["name"]
        async for e in chain.astream_events(0, version="v2")
        if e["event"] == "on_chain_stream"
    ]
    assert "RunnableWithFallbacks" not in streams
    assert streams.count("words") == 2
