"""Runs are freed by reference counting as soon as they end.

No reference cycle may keep a run (and its inputs, outputs and span) alive until the cyclic
garbage collector happens to run: services that tune or freeze the collector would otherwise
hold every run that dispatched an event or started a child. Each scenario runs with the
collector disabled and counts the ``Run`` objects still alive afterwards.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _support import Recorder

from otel_runnables import (
    RunnableLambda,
    RunnableParallel,
    adispatch_custom_event,
    dispatch_custom_event,
)
from otel_runnables._run import Run


def _runs_alive() -> int:
    return sum(isinstance(o, Run) for o in gc.get_objects())


def _sync_step(x: int, config: dict[str, Any]) -> int:
    dispatch_custom_event("progress", {"x": x})
    return int(RunnableLambda(lambda y: y + 1).invoke(x))


async def _async_step(x: int, config: dict[str, Any]) -> int:
    await adispatch_custom_event("progress", {"x": x})
    return int(await RunnableLambda(lambda y: y + 1).ainvoke(x))


def _generator_step(chunks: Iterator[int]) -> Iterator[int]:
    for chunk in chunks:
        dispatch_custom_event("chunk", {"value": chunk})
        yield chunk


async def _stream_events() -> int:
    step = RunnableLambda(_async_step) | {"a": RunnableLambda(lambda x: x)}
    return len([e async for e in step.astream_events(1, version="v2")])


def _invoke_failing() -> None:
    def fail(x: int) -> int:
        dispatch_custom_event("before-failure", {})
        raise ValueError("boom")

    recorder = Recorder()
    with pytest.raises(ValueError):
        RunnableLambda(fail).invoke(1, {"callbacks": [recorder]})
    assert recorder.hooks() == ["start", "custom", "error"]
    # The recorded exception's traceback leads back to the recorder: a cycle of the test's
    # own making, which it breaks.
    recorder.clear()


def _fallbacks() -> Any:
    def primary(x: int) -> int:
        raise ValueError("primary down")

    return RunnableLambda(primary).with_fallbacks([RunnableLambda(_sync_step)])


SCENARIOS: dict[str, Callable[[], Any]] = {
    "invoke, dispatch, child": lambda: RunnableLambda(_sync_step).invoke(1),
    "invoke with a handler": lambda: RunnableLambda(_sync_step).invoke(
        1, {"callbacks": [Recorder()]}
    ),
    "ainvoke, adispatch, child": lambda: asyncio.run(RunnableLambda(_async_step).ainvoke(1)),
    "ainvoke with a handler": lambda: asyncio.run(
        RunnableLambda(_async_step).ainvoke(1, {"callbacks": [Recorder()]})
    ),
    "stream of a sequence": lambda: list((RunnableLambda(lambda x: x) | _generator_step).stream(1)),
    "parallel": lambda: RunnableParallel(a=_sync_step, b=_sync_step).invoke(1),
    "stream of a parallel": lambda: list(
        RunnableParallel(a=_generator_step, b=_generator_step).stream(1)
    ),
    "astream_events": lambda: asyncio.run(_stream_events()),
    "failing run": _invoke_failing,
    "fallbacks after a failing primary": lambda: _fallbacks().invoke(1),
    "fallbacks after a failing primary, async": lambda: asyncio.run(_fallbacks().ainvoke(1)),
    "fallbacks after a failing primary, streamed": lambda: list(_fallbacks().stream(1)),
}

KNOWN_CYCLES: dict[str, str] = {}


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=KNOWN_CYCLES[s]))
        if s in KNOWN_CYCLES
        else s
        for s in SCENARIOS
    ],
)
def test_runs_are_freed_without_the_garbage_collector(scenario: str) -> None:
    call = SCENARIOS[scenario]
    call()  # first use: caches, thread pools, imports
    gc.collect()
    before = _runs_alive()
    gc.disable()
    try:
        for _ in range(5):
            call()
        alive = _runs_alive() - before
    finally:
        gc.enable()
    assert alive == 0, f"{alive} runs of {scenario!r} kept alive by reference cycles"
