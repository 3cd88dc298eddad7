"""An exception is recorded in full once, on the span of the run where it was raised.

Every ancestor that fails with the very same exception gets the error status, ``error.type``
and ``runnable.error.origin_run_id`` naming that run, but no exception event: its stack trace
would grow with each level, and recording it on every ancestor made a failure cost the square
of the depth. A run that raises an exception of its own records that one.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

from otel_runnables import RunnableLambda
from otel_runnables._attributes import ERROR_TYPE, RUN_ID
from otel_runnables.testing import SpanRecorder

ERROR_ORIGIN_RUN_ID = "runnable.error.origin_run_id"  # (documented in span-mapping.md)


def exception_events(span: Any) -> list[Any]:
    return [event for event in span.events if event.name == "exception"]


def nested(depth: int, fail: Callable[[], Any]) -> tuple[Any, Any]:
    """Sync and async runnables nested ``depth`` deep whose innermost level calls ``fail``."""

    def level(n: int) -> Any:
        return fail() if n == 0 else sync.invoke(n - 1)

    async def alevel(n: int) -> Any:
        return fail() if n == 0 else await asynchronous.ainvoke(n - 1)

    sync = RunnableLambda(level, name="level")
    asynchronous = RunnableLambda(alevel, name="level")
    return sync, asynchronous


def boom() -> Any:
    raise ValueError("boom at the bottom")


async def call(mode: str, runnables: tuple[Any, Any], depth: int) -> None:
    if mode == "sync":
        runnables[0].invoke(depth)
    else:
        await runnables[1].ainvoke(depth)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_recorded_where_raised_and_linked_above(otel_spans: SpanRecorder, mode: str) -> None:
    with pytest.raises(ValueError, match="boom at the bottom"):
        await call(mode, nested(4, boom), 4)
    spans = otel_spans.spans()
    assert len(spans) == 5
    innermost = [s for s in spans if exception_events(s)]
    assert len(innermost) == 1  # recorded once
    origin = innermost[0]
    assert exception_events(origin)[0].attributes["exception.type"] == "ValueError"
    assert ERROR_ORIGIN_RUN_ID not in origin.attributes
    for span in spans:
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "ValueError: boom at the bottom"
        assert span.attributes[ERROR_TYPE] == "ValueError"
        if span is not origin:
            assert span.attributes[ERROR_ORIGIN_RUN_ID] == origin.attributes[RUN_ID]


async def test_a_new_exception_is_recorded_by_the_run_that_raises_it(
    otel_spans: SpanRecorder,
) -> None:
    def inner(x: int) -> int:
        raise ValueError("inner")

    def wrapping(x: int) -> int:
        try:
            return RunnableLambda(inner).invoke(x)
        except ValueError as exc:
            raise RuntimeError("wrapped") from exc

    def outer(x: int) -> int:
        return RunnableLambda(wrapping).invoke(x)

    with pytest.raises(RuntimeError, match="wrapped"):
        RunnableLambda(outer).invoke(1)
    spans = {span.name: span for span in otel_spans.spans()}
    assert [e.attributes["exception.type"] for e in exception_events(spans["inner"])] == [
        "ValueError"
    ]
    assert [e.attributes["exception.type"] for e in exception_events(spans["wrapping"])] == [
        "RuntimeError"
    ]
    assert ERROR_ORIGIN_RUN_ID not in spans["wrapping"].attributes
    assert not exception_events(spans["outer"])
    assert spans["outer"].attributes[ERROR_ORIGIN_RUN_ID] == spans["wrapping"].attributes[RUN_ID]
    assert spans["outer"].attributes[ERROR_TYPE] == "RuntimeError"


async def test_a_caught_child_error_leaves_no_trace_on_the_parent(
    otel_spans: SpanRecorder,
) -> None:
    failure = ValueError("caught")

    def inner(x: int) -> int:
        raise failure

    def catching(x: int) -> int:
        with contextlib.suppress(ValueError):
            RunnableLambda(inner).invoke(x)
        return x

    def reraising(x: int) -> int:  # catches it, then raises the same object itself
        with contextlib.suppress(ValueError):
            RunnableLambda(inner).invoke(x)
        raise failure

    assert RunnableLambda(catching).invoke(1) == 1
    with pytest.raises(ValueError):
        RunnableLambda(reraising).invoke(1)
    spans = {span.name: span for span in otel_spans.spans()}
    assert spans["catching"].status.status_code is StatusCode.UNSET
    assert ERROR_ORIGIN_RUN_ID not in spans["catching"].attributes
    # The same object raised again by the parent was recorded by its child: linked.
    assert spans["reraising"].attributes[ERROR_ORIGIN_RUN_ID]


async def _timed(runner: Callable[[], Awaitable[None]]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        await runner()
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_an_error_400_deep_costs_about_a_success(otel_spans: SpanRecorder, mode: str) -> None:
    depth = 400
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 12 * depth))  # (runs nested this deep need the room)
    try:
        ok = nested(depth, lambda: 0)
        failing = nested(depth, boom)

        async def success() -> None:
            await call(mode, ok, depth)
            otel_spans.clear()

        async def failure() -> None:
            with pytest.raises(ValueError):
                await call(mode, failing, depth)
            otel_spans.clear()

        await success()  # warm-up
        succeeded, failed = await _timed(success), await _timed(failure)
    finally:
        sys.setrecursionlimit(limit)
    # Before: each of the 400 ancestors recorded the whole traceback (about 400x a success).
    assert failed <= 3 * succeeded, f"error {failed * 1e3:.1f} ms, success {succeeded * 1e3:.1f} ms"
