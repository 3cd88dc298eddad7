"""An error anywhere in delivering events reaches the ``astream_events`` consumer; no hang.

A step whose stack is nearly exhausted dispatches an event: wherever the ``RecursionError``
strikes on the way to the consumer (converting the event, queueing it, waking the consumer),
the consumer either gets the event or raises the error. The scenarios run in a thread with a
deadline, because a consumer that is never woken cannot be cancelled either (the bug this
guards against: a ``RecursionError`` inside ``asyncio.Queue.put_nowait`` completed the
consumer's waiter without scheduling its wake-up).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from otel_runnables import RunnableLambda, adispatch_custom_event
from otel_runnables._events import EventStreamSink
from otel_runnables.testing import SpanRecorder

DEADLINE_S = 60.0


def _in_thread(func: Any) -> Any:
    """Run ``func()`` in a daemon thread; fail the test if it does not finish in time."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # pragma: no cover - reported below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    if thread.is_alive():
        pytest.fail(f"the event stream hung (no outcome within {DEADLINE_S:.0f} s)")
    if "error" in box:
        raise box["error"]
    return box["value"]


async def _deepest(level: int = 0) -> int:
    """How many nested coroutine calls fit from here."""
    try:
        return await _deepest(level + 1)
    except RecursionError:
        return level


async def _dive(level: int, bottom: int) -> None:
    if level < bottom:
        await _dive(level + 1, bottom)
    else:
        await adispatch_custom_event("deep", {"level": level})


async def _near_the_limit(frames_left: int) -> str:
    """One ``astream_events`` whose step dispatches ``frames_left`` frames from the limit."""

    async def step(x: int) -> int:
        await asyncio.sleep(0)  # the consumer takes the start events and waits again
        bottom = await _deepest()
        await _dive(0, max(0, bottom - frames_left))
        return x

    got = 0
    try:
        async for event in RunnableLambda(step).astream_events(1, version="v2"):
            got += event["event"] == "on_custom_event"
    except RecursionError:
        return "raised"
    return "delivered" if got == 1 else f"lost ({got} events)"


def test_recursion_error_anywhere_on_the_way_reaches_the_consumer() -> None:
    def scan() -> dict[int, str]:
        return {left: asyncio.run(_near_the_limit(left)) for left in range(0, 90, 1)}

    outcomes = _in_thread(scan)
    wrong = {left: what for left, what in outcomes.items() if what not in ("raised", "delivered")}
    assert not wrong, wrong
    kinds = set(outcomes.values())
    assert kinds == {"raised", "delivered"}, outcomes  # both paths were exercised


async def test_a_failing_event_stream_raises_in_the_consumer(
    otel_spans: SpanRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    convert = EventStreamSink._parent_ids
    calls: dict[str, int] = {}

    def failing(self: EventStreamSink, run_id: str) -> list[str]:
        calls[run_id] = calls.get(run_id, 0) + 1
        if run_id != self.root_id and calls[run_id] == 2:  # the child's custom event
            raise MemoryError("no room for the event")
        return convert(self, run_id)

    monkeypatch.setattr(EventStreamSink, "_parent_ids", failing)

    async def child(x: int) -> int:
        await adispatch_custom_event("progress", x)
        return x

    async def root(x: int) -> int:
        return await RunnableLambda(child).ainvoke(x)

    seen = []
    with pytest.raises(MemoryError, match="no room for the event"):
        async for event in RunnableLambda(root).astream_events(1, version="v2"):
            seen.append(event["event"])
    assert seen == ["on_chain_start", "on_chain_start"]  # the events before it came through
    for _ in range(20):  # the producer is cancelled: its spans end, marked cancelled
        if len(otel_spans.spans()) == 2:
            break
        await asyncio.sleep(0)
    assert sorted(s.name for s in otel_spans.spans()) == ["child", "root"]
