"""Streaming: stream/astream chunks, end-to-end streaming through sequences, astream_events
order and filters (a consumer that stops early is in test_consumer_stops.py)."""

from __future__ import annotations

import uuid
from typing import Any

from otel_runnables import (
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    adispatch_custom_event,
)

# -- chunks --------------------------------------------------------------------------------


def count_to(x: int) -> Any:
    yield from range(x)


async def acount_to(x: int) -> Any:
    for i in range(x):
        yield i


def test_generator_lambda_streams_and_invoke_adds_chunks() -> None:
    runnable = RunnableLambda(count_to)
    assert list(runnable.stream(4)) == [0, 1, 2, 3]
    assert runnable.invoke(4) == 6  # 0 + 1 + 2 + 3


async def test_async_generator_lambda_streams_and_ainvoke_adds_chunks() -> None:
    runnable = RunnableLambda(acount_to)
    assert [c async for c in runnable.astream(4)] == [0, 1, 2, 3]
    assert await runnable.ainvoke(4) == 6


def test_runnable_generator_sync() -> None:
    def words(chunks: Any) -> Any:
        for text in chunks:
            yield from (w + " " for w in text.split())

    gen = RunnableGenerator(words)
    assert gen.name == "words"
    assert list(gen.stream("a b c")) == ["a ", "b ", "c "]
    assert gen.invoke("a b c") == "a b c "
    assert gen.batch(["x", "y z"]) == ["x ", "y z "]


async def test_runnable_generator_async_and_both() -> None:
    def upper(chunks: Any) -> Any:
        for c in chunks:
            yield c.upper()

    async def aupper(chunks: Any) -> Any:
        async for c in chunks:
            yield c.upper() + "!"

    both = RunnableGenerator(upper, aupper)
    assert list(both.stream("hi")) == ["HI"]
    assert [c async for c in both.astream("hi")] == ["HI!"]
    assert await both.ainvoke("hi") == "HI!"

    only_async = RunnableGenerator(aupper)
    assert await only_async.ainvoke("x") == "X!"


def test_parallel_stream_chunks_add_up_to_invoke() -> None:
    par = RunnableParallel(a=RunnableLambda(count_to), b=lambda x: x * 10)
    chunks = list(par.stream(3))

    assert sorted(chunks, key=repr) == sorted([{"a": 0}, {"a": 1}, {"a": 2}, {"b": 30}], key=repr)
    total: Any = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total == par.invoke(3) == {"a": 3, "b": 30}


# -- end-to-end streaming through a sequence -----------------------------------------------


def test_sequence_streams_end_to_end_sync() -> None:
    log: list[str] = []

    def produce(x: int) -> Any:
        for i in range(3):
            log.append(f"produce {i}")
            yield i

    def double(chunks: Any) -> Any:
        for c in chunks:
            log.append(f"double {c}")
            yield c * 2

    for chunk in (RunnableLambda(produce) | RunnableGenerator(double)).stream(0):
        log.append(f"got {chunk}")

    assert log == [
        "produce 0", "double 0", "got 0",
        "produce 1", "double 1", "got 2",
        "produce 2", "double 2", "got 4",
    ]  # fmt: skip


async def test_sequence_streams_end_to_end_async() -> None:
    log: list[str] = []

    async def produce(x: int) -> Any:
        for i in range(3):
            log.append(f"produce {i}")
            yield i

    async def double(chunks: Any) -> Any:
        async for c in chunks:
            log.append(f"double {c}")
            yield c * 2

    async for chunk in (RunnableLambda(produce) | RunnableGenerator(double)).astream(0):
        log.append(f"got {chunk}")

    assert log == [
        "produce 0", "double 0", "got 0",
        "produce 1", "double 1", "got 2",
        "produce 2", "double 2", "got 4",
    ]  # fmt: skip


def test_non_generator_step_adds_up_its_input_stream() -> None:
    seq = RunnableLambda(count_to) | (lambda total: total * 10)
    assert list(seq.stream(3)) == [30]  # (0 + 1 + 2) * 10, one chunk


# -- astream_events: order and content -----------------------------------------------------


async def test_astream_events_order_of_a_streamed_sequence() -> None:
    async def tens(chunks: Any) -> Any:
        async for c in chunks:
            yield c * 10

    seq = RunnableLambda(acount_to) | RunnableGenerator(tens)
    events = [e async for e in seq.astream_events(2, version="v2")]

    ids = {e["name"]: e["run_id"] for e in events if e["event"] == "on_chain_start"}
    root, first, second = ids["RunnableSequence"], ids["acount_to"], ids["tens"]
    assert len({root, first, second}) == 3
    got = [(e["event"], e["run_id"], e["data"], e["parent_ids"], e["tags"]) for e in events]
    step1, step2 = ["seq:step:1"], ["seq:step:2"]
    assert got == [
        ("on_chain_start", root, {"input": 2}, [], []),
        # inner steps of a stream receive their input as a stream: unknown at start
        ("on_chain_start", first, {}, [root], step1),
        ("on_chain_stream", first, {"chunk": 0}, [root], step1),
        ("on_chain_start", second, {}, [root], step2),
        ("on_chain_stream", second, {"chunk": 0}, [root], step2),
        ("on_chain_stream", root, {"chunk": 0}, [], []),
        ("on_chain_stream", first, {"chunk": 1}, [root], step1),
        ("on_chain_stream", second, {"chunk": 10}, [root], step2),
        ("on_chain_stream", root, {"chunk": 10}, [], []),
        # ends carry the added-up input and output; the root's input was in its start
        ("on_chain_end", first, {"output": 1, "input": 2}, [root], step1),
        ("on_chain_end", second, {"output": 10, "input": 1}, [root], step2),
        ("on_chain_end", root, {"output": 10}, [], []),
    ]
    assert all(e["metadata"] == {} for e in events)
    assert {tuple(sorted(e)) for e in events} == {
        ("data", "event", "metadata", "name", "parent_ids", "run_id", "tags")
    }


async def test_astream_events_run_id_from_config_names_the_root() -> None:
    run_id = uuid.uuid4()
    seq = RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x * 2)
    events = [e async for e in seq.astream_events(1, {"run_id": run_id}, version="v2")]

    assert events[0]["run_id"] == events[-1]["run_id"] == str(run_id)
    assert events[-1]["data"] == {"output": 4}
    children = {e["run_id"] for e in events[1:-1] if e["run_id"] != str(run_id)}
    assert len(children) == 2 and str(run_id) not in children


def _filtered_pipeline() -> Any:
    async def emit(x: int) -> int:
        await adispatch_custom_event("progress", x)
        await adispatch_custom_event("other", x)
        return x

    one = RunnableLambda(emit, name="one").with_config(tags=["keep"])
    two = RunnableLambda(lambda x: x, name="two").with_config(tags=["drop"])
    return one | two


async def _names(**filters: Any) -> list[tuple[str, str]]:
    seq = _filtered_pipeline()
    return [(e["event"], e["name"]) async for e in seq.astream_events(1, version="v2", **filters)]


async def test_astream_events_include_names() -> None:
    assert await _names(include_names=["two"]) == [
        ("on_chain_start", "two"),
        ("on_chain_stream", "two"),
        ("on_chain_end", "two"),
    ]


async def test_astream_events_include_types_selects_custom_events_by_name() -> None:
    # For custom events the "type" is the event name (as in langchain-core).
    assert await _names(include_types=["progress"]) == [("on_custom_event", "progress")]


async def test_astream_events_include_tags_follows_inherited_tags() -> None:
    # Custom events carry the inherited tags of their run: "keep" comes from with_config.
    assert await _names(include_tags=["keep"]) == [
        ("on_chain_start", "one"),
        ("on_custom_event", "progress"),
        ("on_custom_event", "other"),
        ("on_chain_stream", "one"),
        ("on_chain_end", "one"),
    ]


async def test_astream_events_excludes() -> None:
    everything = await _names()
    assert await _names(exclude_names=["two", "other"]) == [
        e for e in everything if e[1] not in ("two", "other")
    ]
    assert await _names(exclude_tags=["drop"]) == [e for e in everything if e[1] != "two"]
    assert await _names(exclude_types=["chain"]) == [
        ("on_custom_event", "progress"),
        ("on_custom_event", "other"),
    ]
    # include and exclude together: excludes win
    assert await _names(include_tags=["keep"], exclude_names=["progress"]) == [
        ("on_chain_start", "one"),
        ("on_custom_event", "other"),
        ("on_chain_stream", "one"),
        ("on_chain_end", "one"),
    ]
