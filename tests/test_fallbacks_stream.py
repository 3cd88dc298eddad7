"""Streaming with fallbacks: the fallbacks run reports the chunks of the candidate that streamed
on its span (sync and async). A consumer that stops early (the candidate stream is closed at
once) is in test_consumer_stops.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from otel_runnables import RunnableGenerator, RunnableLambda
from otel_runnables.testing import SpanRecorder


def _broken(x: Any) -> Any:
    raise ValueError("primary down")


def _fallbacks_span(otel_spans: SpanRecorder) -> Any:
    (span,) = otel_spans.by_name("RunnableWithFallbacks")
    return span


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
