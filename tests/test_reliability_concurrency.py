"""Threads and tasks mixed: every custom event arrives exactly once, in dispatch order per run.

Sync steps run in worker threads (``run_in_executor`` in async runs, the thread pool of
``batch``) and dispatch events while async handlers run on the event loop; async steps dispatch
with ``adispatch_custom_event`` between scheduling points. Each event carries its run's label
and a sequence number; every sink (sync handler, async handler, ``astream_events``, span events)
must see, per run, exactly ``0 .. K-1`` in order.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from _support import AsyncRecorder, Recorder, Traced

from otel_runnables import (
    RunnableLambda,
    RunnableParallel,
    adispatch_custom_event,
    dispatch_custom_event,
)

K = 25


def _sync_branch(x: int) -> str:
    for i in range(K):
        dispatch_custom_event("seq", {"seq": i, "kind": "sync"})
    return f"sync{x}"


async def _async_branch(x: int) -> str:
    for i in range(K):
        await adispatch_custom_event("seq", {"seq": i, "kind": "async"})
        await asyncio.sleep(0)
    return f"async{x}"


def _pipeline() -> Any:
    return RunnableParallel(
        a=RunnableLambda(_sync_branch, name="sync_branch"),
        b=RunnableLambda(_async_branch, name="async_branch"),
        c=RunnableLambda(_sync_branch, name="sync_branch") | RunnableLambda(_sync_branch),
    )


def _by_run(pairs: list[tuple[Any, Any]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for run_id, data in pairs:
        out[str(run_id)].append(data["seq"])
    return dict(out)


def _assert_ordered(where: str, per_run: dict[str, list[int]], runs: int) -> None:
    assert len(per_run) == runs, f"{where}: events from {len(per_run)} runs, expected {runs}"
    bad = {r: seqs for r, seqs in per_run.items() if seqs != list(range(K))}
    assert not bad, f"{where}: out of order / lost / duplicated: {bad}"


def _span_events(traced: Traced) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for span in traced.spans():
        seqs = [e.attributes["seq"] for e in span.events if e.name == "seq"]  # type: ignore[index]
        if seqs:
            out[str(span.attributes["runnable.run_id"])] = seqs  # type: ignore[index]
    return out


async def test_threads_and_tasks_mixed(traced: Traced) -> None:
    roots = 8
    sync_h, async_h = Recorder(), AsyncRecorder()
    config: Any = {"callbacks": [sync_h, async_h]}
    stream_events: list[dict[str, Any]] = []

    async def via_events(i: int) -> Any:
        out = None
        async for event in _pipeline().astream_events(i, config, version="v2"):
            if event["event"] == "on_custom_event":
                stream_events.append(event)
            out = event
        return out

    results = await asyncio.gather(
        *(_pipeline().ainvoke(i, config) for i in range(roots)),
        *(via_events(i) for i in range(roots)),
    )
    assert results[0] == {"a": "sync0", "b": "async0", "c": "syncsync0"}
    runs_with_events = roots * 2 * 4  # 4 event-dispatching steps per root
    for name, handler in (("sync handler", sync_h), ("async handler", async_h)):
        pairs = [(c.run_id, c.data) for c in handler.custom_events()]
        assert len(pairs) == runs_with_events * K, f"{name}: {len(pairs)} events"
        _assert_ordered(name, _by_run(pairs), runs_with_events)
    _assert_ordered(
        "astream_events",
        _by_run([(e["run_id"], e["data"]) for e in stream_events]),
        roots * 4,
    )
    _assert_ordered("span events", _span_events(traced), runs_with_events)
    traced.assert_all_ended()


async def test_thread_pool_batch_with_async_handler(traced: Traced) -> None:
    inputs = list(range(16))
    sync_h, async_h = Recorder(), AsyncRecorder()
    chain = RunnableLambda(_sync_branch, name="sync_branch") | RunnableLambda(
        _sync_branch, name="again"
    )
    out = await asyncio.to_thread(
        chain.batch, inputs, {"callbacks": [sync_h, async_h], "max_concurrency": 4}
    )
    assert out == [f"syncsync{i}" for i in inputs]
    runs = len(inputs) * 2
    for name, handler in (("sync handler", sync_h), ("async handler", async_h)):
        pairs = [(c.run_id, c.data) for c in handler.custom_events()]
        _assert_ordered(name, _by_run(pairs), runs)
    _assert_ordered("span events", _span_events(traced), runs)
    traced.assert_all_ended()


async def test_batch_inside_async_step(traced: Traced) -> None:
    """A sync step in a worker thread of an async run that itself uses ``batch``: the async
    handler's hooks run on the run's loop (home loop) while the loop keeps serving others."""
    async_h = AsyncRecorder()
    inner = RunnableLambda(_sync_branch, name="inner")

    def fan_out(x: int) -> list[str]:
        return inner.batch([x, x + 1, x + 2])

    chain = RunnableLambda(fan_out, name="fan_out")
    results = await asyncio.gather(*(chain.ainvoke(i, {"callbacks": [async_h]}) for i in range(4)))
    assert results[1] == ["sync1", "sync2", "sync3"]
    pairs = [(c.run_id, c.data) for c in async_h.custom_events()]
    _assert_ordered("async handler", _by_run(pairs), 12)
    _assert_ordered("span events", _span_events(traced), 12)
    traced.assert_all_ended()
