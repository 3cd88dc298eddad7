"""In async runs, sync handler hooks run off the event loop (as in langchain-core).

A sync hook that blocks must not stall the loop: it runs in the loop's default executor, while
``run_inline`` handlers (and async handlers) run on the loop thread. The run waits for each
hook, so every handler still sees a run's events in the order they happened.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any
from uuid import UUID

import pytest

from otel_runnables import (
    AsyncCallbackHandler,
    BaseCallbackHandler,
    RunnableLambda,
    adispatch_custom_event,
    ensure_config,
)

BLOCK_S = 0.3


class Blocking(BaseCallbackHandler):
    """Blocks on every custom event; notes what it saw per run."""

    def __init__(self) -> None:
        self.seen: dict[UUID, list[Any]] = {}
        self.threads: set[int] = set()

    def _note(self, run_id: UUID, what: Any) -> None:
        self.seen.setdefault(run_id, []).append(what)
        self.threads.add(threading.get_ident())

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._note(run_id, "start")

    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kw: Any) -> None:
        time.sleep(BLOCK_S)
        self._note(run_id, data)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._note(run_id, "end")


async def step(x: int) -> int:
    for i in range(3):
        await adispatch_custom_event("progress", i)
    return x


async def test_a_blocking_sync_handler_does_not_stall_the_loop() -> None:
    handler = Blocking()
    stall, done = [0.0], asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            stall[0] = max(stall[0], now - last - 0.01)
            last = now

    ticking = asyncio.ensure_future(ticker())
    runnable = RunnableLambda(step)
    await asyncio.gather(*(runnable.ainvoke(i, {"callbacks": [handler]}) for i in range(6)))
    done.set()
    await ticking
    # On the loop, each blocking call would stall it for BLOCK_S (18 of them: over 5 s).
    assert stall[0] < BLOCK_S * 0.8, f"the loop stalled for {stall[0] * 1e3:.0f} ms"
    assert threading.get_ident() not in handler.threads
    assert len(handler.seen) == 6
    for events in handler.seen.values():  # each run's events, in order
        assert events == ["start", 0, 1, 2, "end"]


async def test_run_inline_and_async_handlers_stay_on_the_loop() -> None:
    loop_thread = threading.get_ident()
    threads: dict[str, set[int]] = {"inline": set(), "sync": set(), "async": set()}
    order: list[str] = []

    class Inline(BaseCallbackHandler):
        run_inline = True

        def on_custom_event(self, name: str, data: Any, **kw: Any) -> None:
            threads["inline"].add(threading.get_ident())
            order.append(f"inline {data}")

    class Sync(BaseCallbackHandler):
        def on_custom_event(self, name: str, data: Any, **kw: Any) -> None:
            threads["sync"].add(threading.get_ident())
            order.append(f"sync {data}")

    class Async(AsyncCallbackHandler):
        async def on_custom_event(self, name: str, data: Any, **kw: Any) -> None:
            threads["async"].add(threading.get_ident())
            order.append(f"async {data}")

    handlers = [Sync(), Async(), Inline()]
    await RunnableLambda(step).ainvoke(1, {"callbacks": handlers})
    assert threads["inline"] == {loop_thread}
    assert threads["async"] == {loop_thread}
    assert threads["sync"] and loop_thread not in threads["sync"]
    # run_inline first, then the others in the order they were given, event after event
    assert order == [f"{who} {i}" for i in range(3) for who in ("inline", "sync", "async")]


async def test_a_raising_sync_handler_off_the_loop_keeps_the_error_policy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Raising(BaseCallbackHandler):
        def on_custom_event(self, name: str, data: Any, **kw: Any) -> None:
            raise RuntimeError(f"handler failed on {data}")

    class Strict(Raising):
        raise_error = True

    assert await RunnableLambda(step).ainvoke(7, {"callbacks": [Raising()]}) == 7
    assert "Error in Raising.on_custom_event callback" in caplog.text
    with pytest.raises(RuntimeError, match="handler failed on 0"):
        await RunnableLambda(step).ainvoke(7, {"callbacks": [Strict()]})


async def test_the_hook_sees_the_run_context() -> None:
    seen: list[Any] = []

    class Looking(BaseCallbackHandler):
        def on_custom_event(self, name: str, data: Any, **kw: Any) -> None:
            seen.append(ensure_config()["metadata"].get("who"))

    await RunnableLambda(step).ainvoke(1, {"callbacks": [Looking()], "metadata": {"who": "me"}})
    assert seen == ["me"] * 3
