"""The ``astream_events`` channel is bounded: a slow consumer holds producers back.

An async producer waits for the consumer, a producer in a worker thread blocks; nothing is
dropped, events keep their order, and the memory held stays near the bound (1000 events by
default, ``OTEL_RUNNABLES_EVENT_BUFFER`` to change it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import tracemalloc
from typing import Any

import pytest

from otel_runnables import (
    RunnableLambda,
    RunnableParallel,
    adispatch_custom_event,
    dispatch_custom_event,
)

KIB = 1024
EVENT_BUFFER_VARIABLE = "OTEL_RUNNABLES_EVENT_BUFFER"
DEFAULT_EVENT_BUFFER = 1000  # as documented


class Lead:
    """How far the producer got ahead of the consumer (dispatched, not yet received)."""

    def __init__(self) -> None:
        self.dispatched = 0
        self.received = 0
        self.most = 0

    def sent(self) -> None:
        self.dispatched += 1
        self.most = max(self.most, self.dispatched - self.received)


def _payload(i: int) -> dict[str, Any]:
    return {"i": i, "blob": bytes(KIB // 2).hex() + str(i)[:0]}  # a fresh 1 KiB string


async def _consume(runnable: Any, lead: Lead, pause_at: int, pause_s: float) -> list[int]:
    """Take the events; after ``pause_at`` custom events, stop taking them for ``pause_s``."""
    order = []
    async for event in runnable.astream_events(0, version="v2"):
        if event["event"] == "on_custom_event":
            lead.received += 1
            order.append(event["data"]["i"])
            if lead.received == pause_at:
                await asyncio.sleep(pause_s)
    return order


def _producer(kind: str, lead: Lead, count: int) -> RunnableLambda[int, int]:
    """A step dispatching ``count`` items, from the event loop (``async``) or from a worker
    thread of it (``thread``), telling ``lead`` of each one sent."""

    async def aemit(x: int) -> int:
        for i in range(count):
            await adispatch_custom_event("item", _payload(i))
            lead.sent()
        return x

    def emit(x: int) -> int:
        for i in range(count):
            dispatch_custom_event("item", _payload(i))
            lead.sent()
        return x

    return RunnableLambda(aemit if kind == "async" else emit)


@pytest.mark.parametrize("producer", ["async", "thread"])
async def test_slow_consumer_holds_the_producer_back(
    producer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EVENT_BUFFER_VARIABLE, "100")
    lead, count = Lead(), 2000
    runnable = _producer(producer, lead, count)
    order = await _consume(runnable, lead, pause_at=1, pause_s=0.3)
    assert order == list(range(count))  # nothing dropped, nothing reordered
    # The producer waited at the bound while the consumer paused (unbounded: ~2000).
    assert lead.most <= 100 + 5, lead.most


@pytest.mark.parametrize("producer", ["async", "thread"])
async def test_memory_stays_near_the_default_bound(producer: str) -> None:
    lead, count = Lead(), 20_000
    runnable = _producer(producer, lead, count)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        order = await _consume(runnable, lead, pause_at=1, pause_s=0.5)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert order == list(range(count))
    assert lead.most <= DEFAULT_EVENT_BUFFER + 5, lead.most
    # 20,000 events of 1 KiB held at once would be over 20 MB; the bound holds ~1000.
    assert peak < 4 * 1024 * KIB, f"peak {peak / 1e6:.1f} MB"


async def test_cancelling_a_consumer_frees_a_waiting_producer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(EVENT_BUFFER_VARIABLE, "10")
    finished = []

    async def aemit(x: int) -> int:
        try:
            for i in range(1000):
                await adispatch_custom_event("item", {"i": i})
        finally:
            finished.append(True)
        return x

    async def consume_one() -> None:
        events = RunnableLambda(aemit).astream_events(0, version="v2")
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for event in events:
                if event["event"] == "on_custom_event":
                    await asyncio.sleep(10)  # the producer fills the channel and waits

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(consume_one(), 0.5)
    assert finished == [True]  # the producer was cancelled while it waited


async def test_a_thread_producer_the_loop_waits_for_does_not_deadlock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A step blocks the event loop in a sync invoke whose branches (worker threads) dispatch
    # more events than the channel holds: the consumer cannot run until they finish, so they
    # go on past the bound instead of waiting for it forever.
    monkeypatch.setenv(EVENT_BUFFER_VARIABLE, "10")

    def emit(x: int) -> int:
        for i in range(50):
            dispatch_custom_event("item", {"i": i})
        return x

    branches = RunnableParallel(a=RunnableLambda(emit), b=RunnableLambda(emit))

    async def blocking_step(x: int) -> Any:
        return branches.invoke(x)  # (blocks the loop until both branches are done)

    async def consume() -> int:
        got = 0
        async for event in RunnableLambda(blocking_step).astream_events(0, version="v2"):
            got += event["event"] == "on_custom_event"
        return got

    started = time.perf_counter()
    assert await asyncio.wait_for(consume(), 30) == 100
    assert time.perf_counter() - started < 20


@pytest.mark.parametrize("value", ["0", "-3", "lots", "1.5"])
def test_a_bad_buffer_setting_is_named(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EVENT_BUFFER_VARIABLE, value)
    with pytest.raises(ValueError, match=f"{EVENT_BUFFER_VARIABLE} must be a positive integer"):
        RunnableLambda(lambda x: x).astream_events(0, version="v2")
