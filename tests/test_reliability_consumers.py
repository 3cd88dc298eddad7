"""Consumers that stop early never leak spans, tasks, contexts or per-run state.

Each scenario stops a consumer in a different way (break, an exception in the loop body, task
cancellation, ``asyncio.wait_for`` timeout) and then checks, after letting the loop run the
async-generator finalizers for a bounded number of iterations:

* every span that started also ended (an SDK span processor counts ``on_start`` / ``on_end``);
* no other task is pending (``asyncio.all_tasks``);
* no ``Task was destroyed but it is pending`` / ``Failed to detach context`` (or any other
  WARNING+ record of the ``opentelemetry`` and ``asyncio`` loggers), and no warning;
* no ``Run`` or ``EventStreamSink`` object is still alive after a garbage collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from _support import (
    Recorder,
    Traced,
    live_run_objects,
    problems,
    run_object_ids,
    settle,
)

from otel_runnables import (
    RunnableGenerator,
    RunnableLambda,
    adispatch_custom_event,
    dispatch_custom_event,
)

CANCELLED = "runnable.cancelled"


async def _forever(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
    async for _ in chunks:
        pass
    i = 0
    while True:
        await adispatch_custom_event("tick", i)
        yield i
        i += 1
        await asyncio.sleep(0)


async def _relay(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
    async for chunk in chunks:
        yield chunk


def _sync_forever(chunks: Iterator[int]) -> Iterator[int]:
    for _ in chunks:
        pass
    i = 0
    while True:
        dispatch_custom_event("tick", i)
        yield i
        i += 1


def _sync_relay(chunks: Iterator[int]) -> Iterator[int]:
    yield from chunks


def _async_chain() -> Any:
    return (
        RunnableLambda(lambda x: x, name="prep")
        | RunnableGenerator(_forever, name="forever")
        | RunnableGenerator(_relay, name="relay")
    )


async def _blocked(x: int) -> int:
    await adispatch_custom_event("blocked", x)
    await asyncio.Event().wait()  # never set
    return x


def _blocking_chain() -> Any:
    return RunnableLambda(lambda x: x, name="prep") | RunnableLambda(_blocked, name="blocked")


async def _check_clean(
    traced: Traced, caplog: pytest.LogCaptureFixture, warned: list[Any], baseline: set[int]
) -> None:
    pending = await settle(collect=True)
    assert not pending, f"tasks still pending: {pending}"
    traced.assert_all_ended()
    found = problems(caplog.records, [str(w.message) for w in warned])
    assert not found, found
    alive = live_run_objects(baseline)
    assert not alive, f"per-run objects still alive: {alive}"


async def _scenario(
    traced: Traced,
    caplog: pytest.LogCaptureFixture,
    body: Callable[[], Awaitable[None]],
) -> None:
    caplog.set_level(logging.WARNING)
    baseline = run_object_ids()
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        await body()
        await _check_clean(traced, caplog, warned, baseline)
    assert traced.counter.started >= 3, "the scenario started the pipeline's runs"


def _root_cancelled(traced: Traced, name: str = "RunnableSequence") -> None:
    (root,) = traced.by_name(name)
    assert root.attributes.get(CANCELLED) is True, dict(root.attributes or {})
    assert root.status.status_code.name != "ERROR", root.status


async def test_break_out_of_astream_events(traced: Traced, caplog: pytest.LogCaptureFixture):
    seen = []

    async def body() -> None:
        async for event in _async_chain().astream_events(1, version="v2"):
            seen.append(event["event"])
            if event["event"] == "on_custom_event" and event["data"] == 3:
                break

    await _scenario(traced, caplog, body)
    assert seen.count("on_custom_event") == 4
    _root_cancelled(traced)


async def test_break_out_of_astream_events_with_aclosing(
    traced: Traced, caplog: pytest.LogCaptureFixture
):
    async def body() -> None:
        stream = _async_chain().astream_events(1, version="v2")
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for event in stream:
                if event["event"] == "on_custom_event":
                    break

    await _scenario(traced, caplog, body)
    _root_cancelled(traced)


async def test_break_out_of_astream(traced: Traced, caplog: pytest.LogCaptureFixture):
    got = []

    async def body() -> None:
        async for chunk in _async_chain().astream(1):
            got.append(chunk)
            if len(got) == 3:
                break

    await _scenario(traced, caplog, body)
    assert got == [0, 1, 2]
    _root_cancelled(traced)


def test_break_out_of_stream(traced: Traced, caplog: pytest.LogCaptureFixture):
    chain = (
        RunnableLambda(lambda x: x, name="prep")
        | RunnableGenerator(_sync_forever, name="forever")
        | RunnableGenerator(_sync_relay, name="relay")
    )
    handler = Recorder()
    caplog.set_level(logging.WARNING)
    baseline = run_object_ids()
    got = []
    for chunk in chain.stream(1, {"callbacks": [handler]}):
        got.append(chunk)
        if len(got) == 3:
            break
    assert got == [0, 1, 2]
    traced.assert_all_ended()
    assert not problems(caplog.records), problems(caplog.records)
    assert not live_run_objects(baseline), live_run_objects(baseline)
    _root_cancelled(traced)
    hooks = handler.hooks()
    assert hooks.count("start") == hooks.count("end") + hooks.count("error") == 4, hooks


async def test_consumer_raises_inside_astream_events_loop(
    traced: Traced, caplog: pytest.LogCaptureFixture
):
    class Stop(Exception):
        pass

    async def body() -> None:
        with pytest.raises(Stop):
            async for event in _async_chain().astream_events(1, version="v2"):
                if event["event"] == "on_custom_event":
                    raise Stop

    await _scenario(traced, caplog, body)
    _root_cancelled(traced)


async def test_consumer_raises_inside_astream_loop(
    traced: Traced, caplog: pytest.LogCaptureFixture
):
    async def body() -> None:
        with pytest.raises(KeyError):
            async for chunk in _async_chain().astream(1):
                if chunk == 2:
                    raise KeyError(chunk)

    await _scenario(traced, caplog, body)
    _root_cancelled(traced)


async def test_cancel_task_consuming_astream_events(
    traced: Traced, caplog: pytest.LogCaptureFixture
):
    async def body() -> None:
        started = asyncio.Event()

        async def consume() -> None:
            async for event in _blocking_chain().astream_events(1, version="v2"):
                if event["event"] == "on_custom_event":
                    started.set()

        task = asyncio.ensure_future(consume())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    await _scenario(traced, caplog, body)
    _root_cancelled(traced)


async def test_cancel_task_running_ainvoke(traced: Traced, caplog: pytest.LogCaptureFixture):
    async def body() -> None:
        handler = Recorder()
        task = asyncio.ensure_future(_blocking_chain().ainvoke(1, {"callbacks": [handler]}))
        for _ in range(100):
            await asyncio.sleep(0)
            if "custom" in handler.hooks():
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    await _scenario(traced, caplog, body)
    _root_cancelled(traced)


async def test_wait_for_timeout_on_ainvoke(traced: Traced, caplog: pytest.LogCaptureFixture):
    async def body() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(_blocking_chain().ainvoke(1), timeout=0.05)

    await _scenario(traced, caplog, body)
    _root_cancelled(traced)


async def test_wait_for_timeout_on_astream_events(traced: Traced, caplog: pytest.LogCaptureFixture):
    async def body() -> None:
        async def consume() -> list[str]:
            return [e["event"] async for e in _blocking_chain().astream_events(1, version="v2")]

        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(consume(), timeout=0.05)

    await _scenario(traced, caplog, body)
    _root_cancelled(traced)


async def test_many_stopped_consumers_leave_nothing(
    traced: Traced, caplog: pytest.LogCaptureFixture
):
    """50 concurrent consumers, each stopped a different way, then one clean check."""

    async def stop_by_break(i: int) -> None:
        async for event in _async_chain().astream_events(i, version="v2"):
            if event["event"] == "on_custom_event" and event["data"] >= i % 5:
                break

    async def stop_by_timeout(i: int) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_blocking_chain().ainvoke(i), timeout=0.01)

    async def stop_by_cancel(i: int) -> None:
        task = asyncio.ensure_future(_async_chain().ainvoke(i))
        for _ in range(i % 7 + 1):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    kinds = [stop_by_break, stop_by_timeout, stop_by_cancel]

    async def body() -> None:
        await asyncio.gather(*(kinds[i % 3](i) for i in range(50)))

    await _scenario(traced, caplog, body)
