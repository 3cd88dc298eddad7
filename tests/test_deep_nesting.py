"""Runs nested 900 deep work in every mode, as async runs do in langchain-core.

Each level is a nested run of the same runnable that dispatches one event; 900 levels is what
langchain-core completes for ``ainvoke`` and ``astream_events`` at the default recursion limit
(its async steps run as separate tasks). Here a run whose stack is a quarter full goes on with
a fresh one (a task, or a thread for sync code), so every mode gets there: the spans, events,
errors and cancellation are those of any nested run.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from otel_runnables import (
    BaseCallbackHandler,
    RunnableLambda,
    adispatch_custom_event,
    dispatch_custom_event,
)
from otel_runnables._attributes import CANCELLED, ERROR_TYPE, PARENT_RUN_ID, RUN_ID
from otel_runnables.testing import SpanRecorder

DEPTH = 900


class Levels(BaseCallbackHandler):
    """The ``level`` of every custom event, in the order they were dispatched."""

    run_inline = True

    def __init__(self) -> None:
        self.levels: list[int] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.levels.append(data["level"])


def check_chain(recorder: SpanRecorder, depth: int = DEPTH) -> None:
    """One span per level, each the child of the level above it."""
    spans = recorder.spans()
    assert len(spans) == depth + 1
    by_run = {span.attributes[RUN_ID]: span for span in spans}
    roots = [s for s in spans if PARENT_RUN_ID not in s.attributes]
    assert len(roots) == 1
    levels, span = 0, roots[0]
    children = {s.attributes[PARENT_RUN_ID]: s for s in spans if PARENT_RUN_ID in s.attributes}
    while span.attributes[RUN_ID] in children:
        child = children[span.attributes[RUN_ID]]
        assert child.parent is not None and child.parent.span_id == span.context.span_id
        span, levels = child, levels + 1
    assert levels == depth and len(by_run) == depth + 1


def level(n: int) -> int:
    dispatch_custom_event("level", {"level": n})
    return n if n == 0 else nested.invoke(n - 1) + 1


async def alevel(n: int) -> int:
    await adispatch_custom_event("level", {"level": n})
    return n if n == 0 else await anested.ainvoke(n - 1) + 1


def slevel(n: int) -> Iterator[int]:
    dispatch_custom_event("level", {"level": n})
    if n == 0:
        yield 0
    else:
        yield from streamed.stream(n - 1)


async def aslevel(n: int) -> AsyncIterator[int]:
    await adispatch_custom_event("level", {"level": n})
    if n == 0:
        yield 0
    else:
        async for chunk in astreamed.astream(n - 1):
            yield chunk


nested = RunnableLambda(level)
anested = RunnableLambda(alevel)
streamed = RunnableLambda(slevel)
astreamed = RunnableLambda(aslevel)


def test_invoke_900_deep(otel_spans: SpanRecorder) -> None:
    handler = Levels()
    assert nested.invoke(DEPTH, {"callbacks": [handler]}) == DEPTH
    assert handler.levels == list(range(DEPTH, -1, -1))
    check_chain(otel_spans)


async def test_ainvoke_900_deep(otel_spans: SpanRecorder) -> None:
    handler = Levels()
    assert await anested.ainvoke(DEPTH, {"callbacks": [handler]}) == DEPTH
    assert handler.levels == list(range(DEPTH, -1, -1))
    check_chain(otel_spans)


def test_stream_900_deep(otel_spans: SpanRecorder) -> None:
    handler = Levels()
    assert list(streamed.stream(DEPTH, {"callbacks": [handler]})) == [0]
    assert handler.levels == list(range(DEPTH, -1, -1))
    check_chain(otel_spans)


async def test_astream_900_deep(otel_spans: SpanRecorder) -> None:
    handler = Levels()
    assert [c async for c in astreamed.astream(DEPTH, {"callbacks": [handler]})] == [0]
    assert handler.levels == list(range(DEPTH, -1, -1))
    check_chain(otel_spans)


@pytest.mark.parametrize("runnable", [anested, astreamed], ids=["ainvoke", "astream"])
async def test_astream_events_900_deep(otel_spans: SpanRecorder, runnable: Any) -> None:
    custom = []
    async for event in runnable.astream_events(DEPTH, version="v2"):
        if event["event"] == "on_custom_event":
            custom.append(event)
    assert [e["data"]["level"] for e in custom] == list(range(DEPTH, -1, -1))
    # Each event names all its ancestors, root first.
    assert [len(e["parent_ids"]) for e in custom] == list(range(DEPTH + 1))
    assert custom[-1]["parent_ids"][0] == custom[0]["run_id"]
    check_chain(otel_spans)


def test_an_error_900_deep_propagates(otel_spans: SpanRecorder) -> None:
    failure = ValueError("at the bottom")

    def fail(n: int) -> int:
        if n == 0:
            raise failure
        return failing.invoke(n - 1)

    failing = RunnableLambda(fail)
    with pytest.raises(ValueError) as raised:
        failing.invoke(DEPTH)
    assert raised.value is failure
    assert len(otel_spans.spans()) == DEPTH + 1


async def test_cancelling_900_deep_ends_every_run(otel_spans: SpanRecorder) -> None:
    reached = asyncio.Event()

    async def wait(n: int) -> int:
        if n == 0:
            reached.set()
            await asyncio.sleep(30)
        return await waiting.ainvoke(n - 1) if n else 0

    waiting = RunnableLambda(wait)
    task = asyncio.ensure_future(waiting.ainvoke(DEPTH))
    await asyncio.wait_for(reached.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    spans = otel_spans.spans()
    assert len(spans) == DEPTH + 1
    assert all(span.attributes[CANCELLED] is True for span in spans)


async def test_cancelling_astream_events_900_deep_ends_every_run(otel_spans: SpanRecorder) -> None:
    bottom = asyncio.Event()

    async def wait(n: int) -> int:
        await adispatch_custom_event("level", {"level": n})
        if n == 0:
            bottom.set()
            await asyncio.sleep(30)
        return await waiting.ainvoke(n - 1) if n else 0

    waiting = RunnableLambda(wait)
    levels: list[int] = []

    async def consume() -> None:
        async for event in waiting.astream_events(DEPTH, version="v2"):
            if event["event"] == "on_custom_event":
                levels.append(event["data"]["level"])

    task = asyncio.ensure_future(consume())
    await asyncio.wait_for(bottom.wait(), 30)
    for _ in range(100):  # the consumer takes the last events
        if len(levels) == DEPTH + 1:
            break
        await asyncio.sleep(0.01)
    assert levels == list(range(DEPTH, -1, -1))
    task.cancel()
    await asyncio.wait({task}, timeout=10)  # (a consumer that is never woken cannot stop)
    assert task.cancelled()
    spans = otel_spans.spans()
    assert len(spans) == DEPTH + 1
    assert all(span.attributes[CANCELLED] is True for span in spans)


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_a_consumer_that_stops_a_stream_900_deep_ends_every_run(
    otel_spans: SpanRecorder, mode: str
) -> None:
    def slevel(n: int) -> Iterator[int]:
        if n == 0:
            yield from (1, 2, 3)
        else:
            yield from sstreamed.stream(n - 1)

    async def aslevel(n: int) -> AsyncIterator[int]:
        if n == 0:
            for chunk in (1, 2, 3):
                yield chunk
        else:  # (`async for` alone would leave the inner stream to the garbage collector)
            async with contextlib.aclosing(astreamed.astream(n - 1)) as inner:  # type: ignore[type-var]
                async for chunk in inner:
                    yield chunk

    sstreamed, astreamed = RunnableLambda(slevel), RunnableLambda(aslevel)
    if mode == "stream":
        stream = sstreamed.stream(DEPTH)
        assert next(stream) == 1
        stream.close()
    else:
        astream = astreamed.astream(DEPTH)
        assert await anext(astream) == 1
        await astream.aclose()  # type: ignore[attr-defined]
    spans = otel_spans.spans()
    assert len(spans) == DEPTH + 1
    assert all(span.attributes[CANCELLED] is True for span in spans)
    check_chain(otel_spans)


def test_the_recursion_limit_is_the_users(otel_spans: SpanRecorder) -> None:
    # User code that recurses by itself still meets the recursion limit.
    def forever(n: int) -> int:
        return forever(n + 1)

    with pytest.raises(RecursionError):
        RunnableLambda(forever).invoke(0)
    assert sys.getrecursionlimit() >= 100


class Runaway(Exception):
    """Raised by the test itself far beyond the recursion limit (where it would go on)."""


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream", "astream"])
async def test_runaway_recursion_of_runs_meets_the_recursion_limit(
    otel_spans: SpanRecorder, mode: str
) -> None:
    # A runnable that invokes itself without end: each run counts as a frame, so it ends in
    # RecursionError a little past the recursion limit, rather than taking a fresh stack (a
    # thread, a task) every few levels for as long as memory lasts.
    limit = sys.getrecursionlimit()
    deepest = [0]

    def note(n: int) -> None:
        deepest[0] = n
        if n > 3 * limit:
            raise Runaway(n)

    def level(n: int) -> int:
        note(n)
        return runnables["invoke"].invoke(n + 1)

    async def alevel(n: int) -> int:
        note(n)
        return await runnables["ainvoke"].ainvoke(n + 1)

    def slevel(n: int) -> Iterator[int]:
        note(n)
        yield from runnables["stream"].stream(n + 1)

    async def aslevel(n: int) -> AsyncIterator[int]:
        note(n)
        async for chunk in runnables["astream"].astream(n + 1):
            yield chunk

    runnables = {
        "invoke": RunnableLambda(level),
        "ainvoke": RunnableLambda(alevel),
        "stream": RunnableLambda(slevel),
        "astream": RunnableLambda(aslevel),
    }
    threads = threading.active_count()
    with pytest.raises(RecursionError):
        if mode == "invoke":
            runnables[mode].invoke(0)
        elif mode == "ainvoke":
            await runnables[mode].ainvoke(0)
        elif mode == "stream":
            list(runnables[mode].stream(0))
        else:
            [c async for c in runnables[mode].astream(0)]
    assert limit <= deepest[0] <= 2 * limit, deepest[0]
    assert threading.active_count() == threads  # the fresh stacks' threads are gone
    spans = otel_spans.spans()
    assert len(spans) >= deepest[0] + 1  # every run's span ended, as failed
    assert {span.attributes[ERROR_TYPE] for span in spans} == {"RecursionError"}
