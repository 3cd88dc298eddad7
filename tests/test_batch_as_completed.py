"""batch_as_completed / abatch_as_completed: ``(index, output)`` pairs as each input finishes,
one run per input, ``return_exceptions`` and ``max_concurrency`` as in ``batch``."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from _support import Traced

from otel_runnables import RunnableLambda


def test_pairs_and_runs(traced: Traced) -> None:
    double = RunnableLambda(lambda x: x * 2, name="double")
    assert sorted(double.batch_as_completed([1, 2, 3])) == [(0, 2), (1, 4), (2, 6)]
    assert len(traced.by_name("double")) == 3
    assert list(double.batch_as_completed([])) == []
    assert list(double.batch_as_completed([5])) == [(0, 10)]


def test_yields_in_completion_order() -> None:
    released = threading.Event()

    def slow_first(x: int) -> int:
        if x == 0:
            assert released.wait(5)
        return x

    results = RunnableLambda(slow_first).batch_as_completed([0, 1])
    first = next(results)
    released.set()
    assert first == (1, 1)
    assert list(results) == [(0, 0)]


def test_return_exceptions() -> None:
    def check(x: int) -> int:
        if x == 1:
            raise ValueError("one")
        return x

    pairs = dict(RunnableLambda(check).batch_as_completed([0, 1], return_exceptions=True))
    assert pairs[0] == 0 and isinstance(pairs[1], ValueError)
    with pytest.raises(ValueError, match="one"):
        list(RunnableLambda(check).batch_as_completed([0, 1]))


def test_max_concurrency() -> None:
    active: list[int] = []
    peak: list[int] = []
    lock = threading.Lock()

    def work(x: int) -> int:
        with lock:
            active.append(x)
            peak.append(len(active))
        time.sleep(0.01)
        with lock:
            active.remove(x)
        return x

    config: Any = {"max_concurrency": 2}
    assert sorted(RunnableLambda(work).batch_as_completed(range(6), config)) == [
        (i, i) for i in range(6)
    ]
    assert max(peak) <= 2


async def test_async_pairs_in_completion_order() -> None:
    async def wait(x: float) -> float:
        await asyncio.sleep(x)
        return x

    pairs = [p async for p in RunnableLambda(wait).abatch_as_completed([0.05, 0.0])]
    assert pairs == [(1, 0.0), (0, 0.05)]


async def test_async_return_exceptions_and_max_concurrency() -> None:
    active = 0
    peak = 0

    async def work(x: int) -> int:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.001)
        active -= 1
        if x == 3:
            raise KeyError(x)
        return x

    config: Any = {"max_concurrency": 2}
    stream = RunnableLambda(work).abatch_as_completed(range(5), config, return_exceptions=True)
    pairs = dict([p async for p in stream])
    assert peak <= 2
    assert isinstance(pairs.pop(3), KeyError) and pairs == {0: 0, 1: 1, 2: 2, 4: 4}


async def test_async_consumer_stopping_early_cancels_the_rest() -> None:
    started: list[int] = []

    async def work(x: int) -> int:
        started.append(x)
        await asyncio.sleep(0 if x == 0 else 5)
        return x

    stream = RunnableLambda(work).abatch_as_completed([0, 1, 2])
    assert await anext(stream) == (0, 0)
    await stream.aclose()  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    assert all(task.done() for task in asyncio.all_tasks() if task is not asyncio.current_task())
