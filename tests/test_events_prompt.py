"""An ``astream_events`` consumer sees each event while the producer keeps working.

The producer does 2 ms of work (on the event loop, as a CPU-bound step does) before each custom
event; the consumer notes how long each event took to reach it. Before, every event arrived
once the producer had finished (a median of half the run). The bounds are generous: this
checks a few hundred microseconds against milliseconds, not the machine's speed.
"""

from __future__ import annotations

import statistics
import time
import types
from typing import Any

import pytest

import otel_runnables

ITEMS = 500  # the probe of the issue: 500 items of 2 ms of work
WORK_S = 0.002


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _latencies(lib: Any) -> tuple[list[float], float, float]:
    """(latency of each event, when the first arrived, when the stream ended) in seconds."""

    async def step(x: int) -> int:
        for i in range(ITEMS):
            _busy(WORK_S)
            await lib.adispatch_custom_event("item", {"i": i, "sent": time.perf_counter()})
        return x

    start = time.perf_counter()
    latencies, first = [], None
    async for event in lib.RunnableLambda(step).astream_events(1, version="v2"):
        if event["event"] == "on_custom_event":
            now = time.perf_counter()
            first = first if first is not None else now - start
            latencies.append(now - event["data"]["sent"])
    assert len(latencies) == ITEMS and first is not None
    return latencies, first, time.perf_counter() - start


async def test_events_reach_the_consumer_while_the_producer_works() -> None:
    latencies, first, total = await _latencies(otel_runnables)
    median = statistics.median(latencies)
    # Each event arrives before the producer starts its next 2 ms of work (before: ~500 ms).
    assert median < WORK_S / 2, f"median latency {median * 1e3:.2f} ms"
    assert first < total / 10, (first, total)


async def test_latency_close_to_langchain_core() -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.callbacks import adispatch_custom_event
    from langchain_core.runnables import RunnableLambda

    lc = types.SimpleNamespace(
        RunnableLambda=RunnableLambda, adispatch_custom_event=adispatch_custom_event
    )
    ours = statistics.median((await _latencies(otel_runnables))[0])
    theirs = statistics.median((await _latencies(lc))[0])
    # Within 2x of langchain-core's median, with 0.2 ms of slack for a noisy machine.
    assert ours <= 2 * theirs + 0.0002, f"ours {ours * 1e3:.3f} ms, lc {theirs * 1e3:.3f} ms"
