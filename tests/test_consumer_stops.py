"""A consumer that stops early leaks no span, task, context or per-run object.

Each scenario stops a consumer one way -- ``break`` (the stream is abandoned), an explicit
``close()`` / ``aclose()``, an exception in the loop body, task cancellation, an
``asyncio.wait_for`` timeout -- for ``stream``, ``astream``, ``astream_events`` and ``ainvoke``,
with no handler, a sync and an async handler. Then, with the garbage collector off from the
start of the scenario (whatever must be finished is finished by reference counting and the event
loop, never left to the collector), after a bounded number of scheduling points:

* every span that started has ended, exactly once (an SDK span processor counts);
* the runs still going when the consumer stopped are marked ``runnable.cancelled=true``, the
  ones that had finished are not, and no span has an error status, ``error.type`` or an
  ``exception`` event;
* every run a handler saw start got exactly one end or error, and the errors are cancellations
  (no ``Exception``); a stopped sync stream ends its runs (as langchain-core does);
* no other task is pending;

and, after a garbage collection: nothing more happened (no span ended, no hook called), no
``Run`` / ``EventStreamSink`` object is still alive, and there is no WARNING+ log record, no
``Failed to detach context`` / ``Task was destroyed`` / ``Error in`` message at any level and
no warning.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from _support import AsyncRecorder, Recorder, Traced, settle
from _support.stops import CHUNKS, Expect, astop, chunks_reported, stop

from otel_runnables import (
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    adispatch_custom_event,
    dispatch_custom_event,
)

pytestmark = pytest.mark.slow

ROOT = "RunnableSequence"
STREAMED = frozenset({"ticks", "relay"})
"""The steps of the endless pipelines that are still streaming when the consumer stops."""
ROOT_AND_STREAMED = STREAMED | {ROOT}
JUST_ROOT = frozenset({ROOT})
PREP = frozenset({"prep"})
"""The plain first step, finished before anything streams."""


class Stop(Exception):
    """Raised by a consumer in its loop body."""


@pytest.fixture(params=[None, Recorder, AsyncRecorder], ids=["no-handler", "sync-h", "async-h"])
def handler(request: pytest.FixtureRequest) -> Recorder | None:
    """No handler (runs nobody observes take a shorter path), a sync or an async recorder."""
    return None if request.param is None else request.param()


def _config(handler: Recorder | None) -> Any:
    return {"callbacks": [handler]} if handler is not None else {}


# -- pipelines -----------------------------------------------------------------------------
# prep (a plain step, finished before anything streams) | ticks (an endless generator lambda
# dispatching "tick" i before yielding i) | relay (a RunnableGenerator) [| last: a step that
# waits for its whole, endless, input]


async def _ticks(x: int) -> AsyncIterator[int]:
    i = 0
    while True:
        await adispatch_custom_event("tick", i)
        yield i
        i += 1
        await asyncio.sleep(0)


async def _relay(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
    async for chunk in chunks:
        yield chunk


def _sync_ticks(x: int) -> Iterator[int]:
    i = 0
    while True:
        dispatch_custom_event("tick", i)
        yield i
        i += 1


def _sync_relay(chunks: Iterator[int]) -> Iterator[int]:
    yield from chunks


def _endless(*, tail: bool = False, prep: bool = True) -> Any:
    chain = RunnableLambda(_ticks, name="ticks") | RunnableGenerator(_relay, name="relay")
    if prep:
        chain = RunnableLambda(lambda x: x, name="prep") | chain
    return chain | RunnableLambda(lambda x: x, name="last") if tail else chain


def _sync_endless() -> Any:
    return (
        RunnableLambda(lambda x: x, name="prep")
        | RunnableLambda(_sync_ticks, name="ticks")
        | RunnableGenerator(_sync_relay, name="relay")
    )


def _blocking() -> tuple[Any, asyncio.Event]:
    """prep | two parallel branches that dispatch "blocked" and then wait forever; the event
    is set once both branches wait."""
    both_waiting = asyncio.Event()
    waiting = 0

    async def blocked(x: int) -> int:
        nonlocal waiting
        await adispatch_custom_event("blocked", x)
        waiting += 1
        if waiting == 2:
            both_waiting.set()
        await asyncio.Event().wait()  # never set
        return x

    branches = RunnableParallel(
        a=RunnableLambda(blocked, name="blocked"), b=RunnableLambda(blocked, name="blocked")
    )
    return RunnableLambda(lambda x: x, name="prep") | branches, both_waiting


BLOCKING_CANCELLED = frozenset({ROOT, "RunnableParallel<a,b>", "blocked"})

ENDLESS = Expect(cancelled=ROOT_AND_STREAMED, finished=PREP)
"""Stopped while streaming: every run but prep's is still going."""
BLOCKING = Expect(cancelled=BLOCKING_CANCELLED, finished=PREP)
"""Stopped while both branches wait: every run but prep's is still going."""

# -- stream (sync) ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["break", "close", "raise"])
def test_stop_consuming_stream(
    traced: Traced, handler: Recorder | None, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    got: list[int] = []

    def consume() -> None:
        stream = _sync_endless().stream(1, _config(handler))
        if how == "close":
            got.extend(next(stream) for _ in range(3))
            stream.close()  # type: ignore[attr-defined]
        elif how == "break":
            for chunk in stream:
                got.append(chunk)
                if len(got) == 3:
                    break
        else:
            with pytest.raises(Stop):
                for chunk in stream:
                    got.append(chunk)
                    if len(got) == 3:
                        raise Stop

    def then() -> None:
        if handler is not None:
            assert handler.errors() == []  # as in langchain-core, a stopped stream ends its runs
            assert [c.data for c in handler.custom_events()][:3] == [0, 1, 2]

    stop(traced, handler, caplog, consume, ENDLESS, then)
    assert got == [0, 1, 2]
    assert len(traced.spans()) == 4
    chunks_reported(traced, ROOT_AND_STREAMED)


# -- astream ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["break", "aclose", "raise"])
async def test_stop_consuming_astream(
    traced: Traced, handler: Recorder | None, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    got: list[int] = []

    async def consume() -> None:
        stream = _endless().astream(1, _config(handler))
        if how == "aclose":
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for chunk in stream:
                    got.append(chunk)
                    if len(got) == 3:
                        break
            # closing the stream ends its runs at once, before the loop runs anything else
            assert traced.counter.open == [], traced.counter.open
            assert len(traced.spans()) == 4
            return
        if how == "break":
            async for chunk in stream:
                got.append(chunk)
                if len(got) == 3:
                    break
            return
        with pytest.raises(Stop):
            async for chunk in stream:
                got.append(chunk)
                if len(got) == 3:
                    raise Stop

    await astop(traced, handler, caplog, consume, ENDLESS)
    assert got == [0, 1, 2]
    assert len(traced.spans()) == 4
    chunks_reported(traced, ROOT_AND_STREAMED)


async def test_stop_consuming_astream_of_a_parallel(
    traced: Traced, handler: Recorder | None, caplog: pytest.LogCaptureFixture
) -> None:
    parallel = RunnableParallel(a=_endless(prep=False), b=_endless(prep=False))

    async def consume() -> None:
        async for chunk in parallel.astream(0, _config(handler)):
            assert set(chunk) <= {"a", "b"}
            break

    # The branches' runs are left in reference cycles (freed by the collector, after every span
    # and handler call has finished).
    expect = Expect(
        cancelled=frozenset({"RunnableParallel<a,b>", ROOT}), finished=frozenset(), cycles=True
    )
    await astop(traced, handler, caplog, consume, expect)


# -- astream_events --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "tail"),
    [("break", False), ("break", True), ("aclose", False), ("raise", False)],
    ids=["break", "break-accumulating-tail", "aclose", "raise"],
)
async def test_stop_consuming_astream_events(
    traced: Traced,
    handler: Recorder | None,
    caplog: pytest.LogCaptureFixture,
    how: str,
    tail: bool,
) -> None:
    """Stopped at the fourth custom event; with ``tail`` the last step waits for its whole
    (endless) input, so it never starts work and the root never streams."""
    seen: list[str] = []

    def last_wanted(event: Any) -> bool:
        seen.append(event["event"])
        return event["event"] == "on_custom_event" and event["data"] == 3

    async def consume() -> None:
        events = _endless(tail=tail).astream_events(1, _config(handler), version="v2")
        if how == "aclose":
            async with contextlib.aclosing(events):  # type: ignore[type-var]
                async for event in events:
                    if last_wanted(event):
                        break
        elif how == "break":
            async for event in events:
                if last_wanted(event):
                    break
        else:
            with pytest.raises(Stop):
                async for event in events:
                    if last_wanted(event):
                        raise Stop

    cancelled = ROOT_AND_STREAMED | {"last"} if tail else ROOT_AND_STREAMED
    await astop(traced, handler, caplog, consume, Expect(cancelled=cancelled, finished=PREP))
    assert seen.count("on_custom_event") == 4
    assert len(traced.spans()) == (5 if tail else 4)
    chunks_reported(traced, STREAMED if tail else ROOT_AND_STREAMED)


async def test_close_astream_events_after_its_first_event(
    traced: Traced, handler: Recorder | None, caplog: pytest.LogCaptureFixture
) -> None:
    """Closed while the root run may still be announcing its start: a handler that saw
    on_chain_start still gets the run's end (langchain-core leaves it open), the span ends.
    An async handler's hook that is suspended when the run is cancelled is cancelled with it:
    that handler may see nothing of the run."""

    async def consume() -> None:
        events = _endless(tail=True).astream_events(0, _config(handler), version="v2")
        first = await events.__anext__()
        assert first["event"] == "on_chain_start"
        await events.aclose()  # type: ignore[attr-defined]

    expect = Expect(
        cancelled=JUST_ROOT, min_spans=1, allow_no_start=isinstance(handler, AsyncRecorder)
    )
    await astop(traced, handler, caplog, consume, expect)


async def test_cancel_the_task_consuming_astream_events(
    traced: Traced, handler: Recorder | None, caplog: pytest.LogCaptureFixture
) -> None:
    async def consume() -> None:
        chain, both_waiting = _blocking()

        async def events() -> None:
            async for _ in chain.astream_events(1, _config(handler), version="v2"):
                pass

        task = asyncio.ensure_future(events())
        await both_waiting.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    await astop(traced, handler, caplog, consume, BLOCKING)
    assert len(traced.by_name("blocked")) == 2


# -- ainvoke ---------------------------------------------------------------------------------


async def test_cancel_the_task_running_ainvoke(
    traced: Traced, handler: Recorder | None, caplog: pytest.LogCaptureFixture
) -> None:
    async def consume() -> None:
        chain, both_waiting = _blocking()
        task = asyncio.ensure_future(chain.ainvoke(1, _config(handler)))
        await both_waiting.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    def then() -> None:
        if handler is None:
            return
        # every run still going got on_chain_error with the cancellation
        errors = handler.errors()
        assert sorted(handler.name_of(c.run_id) or "" for c in errors) == sorted(
            [ROOT, "RunnableParallel<a,b>", "blocked", "blocked"]
        )
        assert all(isinstance(c.error, asyncio.CancelledError) for c in errors)
        assert [c.data for c in handler.custom_events()] == [1, 1]

    await astop(traced, handler, caplog, consume, BLOCKING, then)
    assert len(traced.by_name("blocked")) == 2


@pytest.mark.parametrize("what", ["ainvoke", "astream_events"])
async def test_wait_for_times_out(
    traced: Traced, handler: Recorder | None, caplog: pytest.LogCaptureFixture, what: str
) -> None:
    async def consume() -> None:
        chain, _ = _blocking()

        async def events() -> list[str]:
            stream = chain.astream_events(1, _config(handler), version="v2")
            return [e["event"] async for e in stream]

        call = chain.ainvoke(1, _config(handler)) if what == "ainvoke" else events()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(call, timeout=0.05)

    expect = Expect(cancelled=JUST_ROOT, one_span_per_start=False)
    await astop(traced, handler, caplog, consume, expect)


# -- a fallbacks stream ----------------------------------------------------------------------


class _Candidate:
    """The fallback of a failing primary: a long stream that counts how often it was closed
    (its ``finally`` ran)."""

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


FALLBACKS = Expect(
    cancelled=frozenset({"RunnableWithFallbacks", "candidate"}),
    finished=frozenset(),
    failed=frozenset({"primary"}),
)


def _fallbacks_chunks(traced: Traced) -> Any:
    (span,) = traced.by_name("RunnableWithFallbacks")
    return (span.attributes or {}).get(CHUNKS)


@pytest.mark.parametrize("how", ["close", "break"])
def test_stop_consuming_a_fallbacks_stream(
    traced: Traced, handler: Recorder | None, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    candidate = _Candidate()
    chain = RunnableLambda(_broken, name="primary").with_fallbacks([candidate.sync()])

    def consume() -> None:
        stream = chain.stream(0, _config(handler))
        if how == "close":
            assert [next(stream) for _ in range(3)] == [0, 1, 2]
            stream.close()  # type: ignore[attr-defined]
            assert candidate.closed == 1  # at once
        else:
            for chunk in stream:
                if chunk == 2:
                    break

    def then() -> None:
        # not whenever the garbage collector finalises the candidate (it is off)
        assert candidate.closed == 1

    stop(traced, handler, caplog, consume, FALLBACKS, then)
    assert _fallbacks_chunks(traced) == 3


@pytest.mark.parametrize("how", ["aclose", "break"])
async def test_stop_consuming_a_fallbacks_astream(
    traced: Traced, handler: Recorder | None, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    candidate = _Candidate()
    chain = RunnableLambda(_broken, name="primary").with_fallbacks([candidate.asynchronous()])

    async def consume() -> None:
        stream = chain.astream(0, _config(handler))
        if how == "aclose":
            assert [await anext(stream), await anext(stream)] == [0, 1]  # type: ignore[arg-type]
            await stream.aclose()  # type: ignore[attr-defined]
            assert candidate.closed == 1  # at once
        else:
            async for chunk in stream:
                if chunk == 1:
                    break

    await astop(traced, handler, caplog, consume, FALLBACKS)
    assert candidate.closed == 1
    assert _fallbacks_chunks(traced) == 2


# -- many at once ----------------------------------------------------------------------------


async def test_many_stopped_consumers_leave_nothing(
    traced: Traced, caplog: pytest.LogCaptureFixture
) -> None:
    """60 concurrent consumers, each stopped one of the ways above, then one check (no
    handler: see test_a_run_cancelled_as_it_ends_still_ends_for_handlers)."""
    config: Any = {}

    async def stop_by_break(i: int) -> None:
        async for event in _endless().astream_events(i, config, version="v2"):
            if event["event"] == "on_custom_event" and event["data"] >= i % 5:
                break

    async def stop_by_aclose(i: int) -> None:
        stream = _endless().astream(i, config)
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for chunk in stream:
                if chunk >= i % 3:
                    break

    async def stop_by_timeout(i: int) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_blocking()[0].ainvoke(i, config), timeout=0.01)

    async def stop_by_cancel(i: int) -> None:
        task = asyncio.ensure_future(_endless().ainvoke(i, config))
        for _ in range(i % 7 + 1):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    kinds = [stop_by_break, stop_by_aclose, stop_by_timeout, stop_by_cancel]

    async def consume() -> None:
        await asyncio.gather(*(kinds[i % 4](i) for i in range(60)))

    # (Some of the many runs may be left in reference cycles, as in the parallel case.)
    expect = Expect(one_root=False, cycles=True)
    await astop(traced, None, caplog, consume, expect)
    assert len([s for s in traced.spans() if s.parent is None]) == 60


async def test_a_run_cancelled_as_it_ends_still_ends_for_handlers(traced: Traced) -> None:
    """Cancel ``ainvoke`` after 0, 1, 2, ... scheduling points: whatever the point, a handler
    that saw a run start gets its end or error."""

    async def first(x: int) -> int:
        return x

    async def forever(x: int) -> int:
        await asyncio.Event().wait()
        return x

    chain = RunnableLambda(first, name="first") | RunnableLambda(forever, name="forever")
    for points in range(40):
        handler = Recorder()
        task = asyncio.ensure_future(chain.ainvoke(1, {"callbacks": [handler]}))
        for _ in range(points):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await settle(until=lambda: not handler.unfinished())  # noqa: B023
        assert not handler.unfinished(), (points, handler.log())
        traced.assert_all_ended()
