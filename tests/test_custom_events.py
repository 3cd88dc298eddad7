"""Custom events: who receives them, with which run id, tags and metadata, and in which order.

langchain-core semantics: a custom event belongs to the run that is executing when it is
dispatched (its ``run_id``), carries that run's *inheritable* tags (config tags, never the
``seq:step:N`` / ``map:key:K`` tag of the step itself) and metadata, and appears in
``astream_events`` with ``parent_ids`` listing the ancestors root first. The data object is
delivered in-process unchanged.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from _support import AsyncRecorder, Call, Recorder

from otel_runnables import (
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    adispatch_custom_event,
    dispatch_custom_event,
)

CONFIG_TAGS: dict[str, Any] = {"tags": ["t"], "metadata": {"m": 1}}


# -- the event belongs to the dispatching run ----------------------------------------------


def _sync_pipeline() -> Any:
    def emit(x: int) -> int:
        dispatch_custom_event("inner", {"x": x})
        return x * 2

    return RunnableLambda(lambda x: x + 1, name="first") | RunnableLambda(emit, name="emit")


def _async_pipeline() -> Any:
    async def emit(x: int) -> int:
        await adispatch_custom_event("inner", {"x": x})
        return x * 2

    return RunnableLambda(lambda x: x + 1, name="first") | RunnableLambda(emit, name="emit")


def _check_nested(rec: Recorder) -> None:
    # inherited config tags only: the step's own seq:step:2 tag is not inherited
    assert rec.custom_events() == [
        Call("custom", rec.run_id("emit"), None, "inner", ["t"], {"m": 1}, data={"x": 2})
    ]
    assert rec.log() == [
        ("start", "RunnableSequence"),
        ("start", "first"),
        ("end", "first"),
        ("start", "emit"),
        ("custom", "inner"),
        ("end", "emit"),
        ("end", "RunnableSequence"),
    ]


def test_event_run_id_is_the_dispatching_step_sync() -> None:
    rec = Recorder()
    assert _sync_pipeline().invoke(1, {**CONFIG_TAGS, "callbacks": [rec]}) == 4
    _check_nested(rec)


@pytest.mark.parametrize("make", [_sync_pipeline, _async_pipeline], ids=["sync-step", "async-step"])
async def test_event_run_id_is_the_dispatching_step_async(make: Any) -> None:
    rec = Recorder()
    assert await make().ainvoke(1, {**CONFIG_TAGS, "callbacks": [rec]}) == 4
    _check_nested(rec)


@pytest.mark.parametrize("make", [_sync_pipeline, _async_pipeline], ids=["sync-step", "async-step"])
async def test_event_in_astream_events_has_parent_ids_root_first(make: Any) -> None:
    events = [e async for e in make().astream_events(1, CONFIG_TAGS, version="v2")]

    starts = {e["name"]: e["run_id"] for e in events if e["event"] == "on_chain_start"}
    (custom,) = [e for e in events if e["event"] == "on_custom_event"]
    assert custom == {
        "event": "on_custom_event",
        "name": "inner",
        "run_id": starts["emit"],
        "tags": ["t"],
        "metadata": {"m": 1},
        "data": {"x": 2},
        "parent_ids": [starts["RunnableSequence"]],
    }
    # between the start and the end of the step that dispatched it
    kinds = [(e["event"], e["name"]) for e in events]
    i = kinds.index(("on_custom_event", "inner"))
    assert kinds.index(("on_chain_start", "emit")) < i < kinds.index(("on_chain_end", "emit"))


def test_event_from_a_parallel_branch_belongs_to_that_branch() -> None:
    def branch(name: str) -> Any:
        def fn(x: int) -> str:
            dispatch_custom_event("from", name)
            return name

        return RunnableLambda(fn, name=name)

    rec = Recorder()
    out = RunnableParallel(a=branch("a"), b=branch("b")).invoke(0, {"callbacks": [rec]})

    assert out == {"a": "a", "b": "b"}
    by_data = {e.data: e for e in rec.custom_events()}
    assert by_data["a"].run_id == rec.run_id("a")
    assert by_data["b"].run_id == rec.run_id("b")
    assert by_data["a"].tags == by_data["b"].tags == []


# -- asyncio tasks created by user code ----------------------------------------------------


def _tasks_step() -> Any:
    async def worker(i: int) -> int:
        await asyncio.sleep(0)
        await adispatch_custom_event("work", {"i": i})
        return i

    def sync_worker_in_task(i: int) -> None:
        dispatch_custom_event("work", {"i": i})

    async def fan_out(x: str) -> str:
        tasks = [asyncio.create_task(worker(i)) for i in range(3)]
        assert await asyncio.gather(*tasks) == [0, 1, 2]
        await asyncio.gather(worker(3), worker(4))  # gather wraps coroutines in tasks

        async def sync_in_task() -> None:
            sync_worker_in_task(5)

        await asyncio.ensure_future(sync_in_task())
        return x

    return RunnableLambda(fan_out)


async def test_events_from_user_tasks_reach_handlers(any_recorder: Recorder) -> None:
    rec = any_recorder
    assert await _tasks_step().ainvoke("go", {"callbacks": [rec], "tags": ["foo", "bar"]}) == "go"

    assert sorted(e.data["i"] for e in rec.custom_events()) == [0, 1, 2, 3, 4, 5]
    for event in rec.custom_events():
        assert event.run_id == rec.run_id("fan_out")
        assert event.tags == ["foo", "bar"]
    assert rec.log()[0] == ("start", "fan_out")
    assert rec.log()[-1] == ("end", "fan_out")


async def test_events_from_user_tasks_reach_astream_events() -> None:
    events = [e async for e in _tasks_step().astream_events("go", version="v2")]

    assert events[0]["event"] == "on_chain_start"
    assert events[-1]["event"] == "on_chain_end"
    run_id = events[0]["run_id"]
    customs = [e for e in events if e["event"] == "on_custom_event"]
    assert sorted(e["data"]["i"] for e in customs) == [0, 1, 2, 3, 4, 5]
    assert all(e["run_id"] == run_id and e["parent_ids"] == [] for e in customs)


async def test_events_from_to_thread_inside_a_step() -> None:
    # asyncio.to_thread copies the context, so a plain function run there is still in the run.
    def blocking(x: int) -> int:
        dispatch_custom_event("blocking", x)
        return x

    async def step(x: int) -> int:
        return await asyncio.to_thread(blocking, x)

    rec = Recorder()
    events = [
        e async for e in RunnableLambda(step).astream_events(7, {"callbacks": [rec]}, version="v2")
    ]

    assert [(e["event"], e["name"]) for e in events] == [
        ("on_chain_start", "step"),
        ("on_custom_event", "blocking"),
        ("on_chain_stream", "step"),
        ("on_chain_end", "step"),
    ]
    assert events[1]["data"] == 7
    assert events[1]["run_id"] == events[0]["run_id"] == str(rec.run_id("step"))
    assert rec.log() == [("start", "step"), ("custom", "blocking"), ("end", "step")]


# -- a sync step inside an async pipeline (worker thread) ----------------------------------


def _mixed_pipeline(threads: list[int]) -> Any:
    async def before(x: int) -> int:
        return x + 1

    def sync_step(x: int) -> int:
        threads.append(threading.get_ident())
        dispatch_custom_event("s1", x)
        dispatch_custom_event("s2", x * 10)
        return x

    async def after(x: int) -> int:
        await adispatch_custom_event("a1", x)
        return x

    return RunnableLambda(before) | RunnableLambda(sync_step) | RunnableLambda(after)


async def test_sync_step_in_async_pipeline_reaches_async_handler_in_order() -> None:
    threads: list[int] = []
    rec = AsyncRecorder()

    assert await _mixed_pipeline(threads).ainvoke(1, {"callbacks": [rec]}) == 2

    loop_thread = threading.get_ident()
    assert threads and threads[0] != loop_thread  # the sync step ran in a worker thread
    assert {c.thread for c in rec.calls} == {loop_thread}  # ... and the async hooks on the loop
    assert rec.log() == [
        ("start", "RunnableSequence"),
        ("start", "before"),
        ("end", "before"),
        ("start", "sync_step"),
        ("custom", "s1"),
        ("custom", "s2"),
        ("end", "sync_step"),
        ("start", "after"),
        ("custom", "a1"),
        ("end", "after"),
        ("end", "RunnableSequence"),
    ]
    assert [(e.name, e.data, e.run_id) for e in rec.custom_events()] == [
        ("s1", 2, rec.run_id("sync_step")),
        ("s2", 20, rec.run_id("sync_step")),
        ("a1", 2, rec.run_id("after")),
    ]


async def test_sync_step_in_async_pipeline_reaches_astream_events_in_order() -> None:
    threads: list[int] = []
    rec = AsyncRecorder()
    events = [
        e
        async for e in _mixed_pipeline(threads).astream_events(
            1, {"callbacks": [rec]}, version="v2"
        )
    ]

    assert threads and threads[0] != threading.get_ident()
    ids = {e["name"]: e["run_id"] for e in events if e["event"] == "on_chain_start"}
    customs = [
        (e["name"], e["data"], e["run_id"], e["parent_ids"])
        for e in events
        if e["event"] == "on_custom_event"
    ]
    root = ids["RunnableSequence"]
    assert customs == [
        ("s1", 2, ids["sync_step"], [root]),
        ("s2", 20, ids["sync_step"], [root]),
        ("a1", 2, ids["after"], [root]),
    ]
    # each event lies within its own step's events
    step_events = [e["event"] for e in events if e["run_id"] == ids["sync_step"]]
    assert step_events == [
        "on_chain_start",
        "on_custom_event",
        "on_custom_event",
        "on_chain_stream",
        "on_chain_end",
    ]
    # the async handler saw the same custom events in the same order
    assert [(e.name, str(e.run_id)) for e in rec.custom_events()] == [c[:3:2] for c in customs]


# -- data is delivered unchanged -----------------------------------------------------------


class Opaque:
    """Not JSON-serialisable (holds a lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()


def test_non_serialisable_data_is_the_same_object_sync() -> None:
    payloads = [Opaque(), {1, 2}, {"obj": Opaque(), "bytes": b"\x00"}]

    def step(x: int) -> int:
        for payload in payloads:
            dispatch_custom_event("opaque", payload)
        return x

    rec = Recorder()
    RunnableLambda(step).invoke(1, {"callbacks": [rec]})

    assert len(rec.custom_events()) == len(payloads)
    assert all(e.data is p for e, p in zip(rec.custom_events(), payloads, strict=True))


async def test_non_serialisable_data_is_the_same_object_async() -> None:
    payloads = [Opaque(), {1, 2}, [Opaque(), object()]]

    async def step(x: int) -> int:
        for payload in payloads:
            await adispatch_custom_event("opaque", payload)
        return x

    rec = AsyncRecorder()
    events = [
        e
        async for e in RunnableLambda(step).astream_events(1, {"callbacks": [rec]}, version="v2")
        if e["event"] == "on_custom_event"
    ]

    assert all(e["data"] is p for e, p in zip(events, payloads, strict=True))
    assert all(e.data is p for e, p in zip(rec.custom_events(), payloads, strict=True))
    assert len(events) == len(rec.custom_events()) == len(payloads)


# -- generators: events interleave with chunks ---------------------------------------------


async def test_events_interleave_with_stream_chunks() -> None:
    async def numbers(x: int) -> Any:
        for i in range(x):
            yield i

    async def tens(chunks: Any) -> Any:
        async for c in chunks:
            await adispatch_custom_event("seen", c)
            yield c * 10

    seq = RunnableLambda(numbers) | RunnableGenerator(tens)
    events = [e async for e in seq.astream_events(2, version="v2")]

    tens_id = next(e["run_id"] for e in events if e["name"] == "tens")
    assert [(e["event"], e["data"]) for e in events if e["run_id"] == tens_id] == [
        ("on_chain_start", {}),
        ("on_custom_event", 0),
        ("on_chain_stream", {"chunk": 0}),
        ("on_custom_event", 1),
        ("on_chain_stream", {"chunk": 10}),
        ("on_chain_end", {"output": 10, "input": 1}),  # inputs and outputs added with +
    ]


def test_events_interleave_with_stream_chunks_sync() -> None:
    def tens(chunks: Any) -> Any:
        for c in chunks:
            dispatch_custom_event("seen", c)
            yield c * 10

    rec = Recorder()
    calls_before: dict[Any, int] = {}  # chunk -> how many hook calls preceded it
    seq = RunnableLambda(lambda x: x, name="first") | RunnableGenerator(tens)
    for chunk in seq.stream(3, {"callbacks": [rec]}):
        calls_before[chunk] = len(rec.calls)

    assert list(calls_before) == [30]
    assert rec.hooks().index("custom") < calls_before[30]
    assert rec.custom_events()[0].run_id == rec.run_id("tens")


# -- explicit config -----------------------------------------------------------------------


def test_explicit_config_works_from_a_thread_without_context() -> None:
    # A thread the user starts by hand does not inherit the context: passing config works.
    errors: list[BaseException] = []

    def step(x: int, config: RunnableConfig) -> int:
        def work() -> None:
            dispatch_custom_event("explicit", x, config=config)
            try:
                dispatch_custom_event("implicit", x)
            except RuntimeError as exc:
                errors.append(exc)

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return x

    rec = Recorder()
    RunnableLambda(step).invoke(3, {"callbacks": [rec], "tags": ["foo", "bar"]})

    assert [(e.name, e.run_id, e.tags) for e in rec.custom_events()] == [
        ("explicit", rec.run_id("step"), ["foo", "bar"])
    ]
    assert len(errors) == 1
