"""Config propagation: a runnable invoked without ``config`` inside a step becomes that step's
child (handlers, tags, metadata inherited), on every supported Python, in worker threads and in
asyncio tasks the user creates; an explicit ``config`` still works and wins."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from _support import Recorder

from otel_runnables import (
    RunnableConfig,
    RunnableLambda,
    RunnableParallel,
    ensure_config,
)

CONFIG: dict[str, Any] = {"tags": ["foo", "bar"], "metadata": {"user": "ada"}}
inner = RunnableLambda(lambda x: x * 2, name="inner")


def _check_inner_is_child_of(tree: Recorder, parent: str) -> None:
    assert tree.parent("inner") == parent
    assert tree.tags_of("inner") == ["foo", "bar"]  # inherited, without the parent's own tags
    assert tree.metadata_of("inner") == {"user": "ada"}


# -- no config passed: the context carries it ----------------------------------------------


def test_nested_invoke_without_config_sync() -> None:
    def outer(x: int) -> int:
        return inner.invoke(x) + 1

    tree = Recorder()
    assert RunnableLambda(outer).invoke(1, {**CONFIG, "callbacks": [tree]}) == 3
    _check_inner_is_child_of(tree, "outer")


async def test_nested_ainvoke_without_config() -> None:
    async def outer(x: int) -> int:
        return await inner.ainvoke(x) + 1

    tree = Recorder()
    assert await RunnableLambda(outer).ainvoke(1, {**CONFIG, "callbacks": [tree]}) == 3
    _check_inner_is_child_of(tree, "outer")


async def test_nested_invoke_in_a_sync_step_of_an_async_run() -> None:
    def outer(x: int) -> int:  # runs in a worker thread
        return inner.invoke(x) + 1

    tree = Recorder()
    assert await RunnableLambda(outer).ainvoke(1, {**CONFIG, "callbacks": [tree]}) == 3
    _check_inner_is_child_of(tree, "outer")


async def test_nested_ainvoke_in_user_tasks() -> None:
    async def outer(x: int) -> list[int]:
        task = asyncio.create_task(inner.ainvoke(x))
        gathered = await asyncio.gather(
            RunnableLambda(lambda y: y, name="g1").ainvoke(x),
            RunnableLambda(lambda y: y, name="g2").ainvoke(x),
        )
        return [await task, *gathered]

    tree = Recorder()
    assert await RunnableLambda(outer).ainvoke(5, {**CONFIG, "callbacks": [tree]}) == [10, 5, 5]
    _check_inner_is_child_of(tree, "outer")
    assert tree.parent("g1") == tree.parent("g2") == "outer"


async def test_nested_invoke_in_to_thread() -> None:
    async def outer(x: int) -> int:
        return await asyncio.to_thread(inner.invoke, x)

    tree = Recorder()
    assert await RunnableLambda(outer).ainvoke(2, {**CONFIG, "callbacks": [tree]}) == 4
    _check_inner_is_child_of(tree, "outer")


def test_parallel_branches_in_threads_are_children() -> None:
    def branch(x: int) -> int:
        return inner.invoke(x)

    tree = Recorder()
    par = RunnableParallel(a=RunnableLambda(branch, name="branch"), b=lambda x: x)
    assert par.invoke(3, {**CONFIG, "callbacks": [tree]}) == {"a": 6, "b": 3}

    assert tree.parent("branch") == "RunnableParallel<a,b>"
    assert tree.tags_of("branch") == ["map:key:a", "foo", "bar"]
    _check_inner_is_child_of(tree, "branch")


def test_deep_nesting_keeps_the_chain_of_parents() -> None:
    def level(name: str, below: Any) -> Any:
        def fn(x: int) -> int:
            return below.invoke(x) if below is not None else x

        return RunnableLambda(fn, name=name)

    runnable = level("l1", level("l2", level("l3", None)))
    tree = Recorder()
    runnable.invoke(0, {"callbacks": [tree], "tags": ["t"]})

    assert tree.parent("l1") is None
    assert tree.parent("l2") == "l1"
    assert tree.parent("l3") == "l2"
    assert tree.tags_of("l3") == ["t"]


async def test_deep_nesting_parent_ids_in_astream_events() -> None:
    async def l3(x: int) -> int:
        return x

    async def l2(x: int) -> int:
        return await RunnableLambda(l3).ainvoke(x)

    async def l1(x: int) -> int:
        return await RunnableLambda(l2).ainvoke(x)

    events = [e async for e in RunnableLambda(l1).astream_events(0, version="v2")]
    ids = {e["name"]: e["run_id"] for e in events if e["event"] == "on_chain_start"}
    parents = {e["name"]: e["parent_ids"] for e in events if e["event"] == "on_chain_start"}
    assert parents == {"l1": [], "l2": [ids["l1"]], "l3": [ids["l1"], ids["l2"]]}


# -- ensure_config inside a step -----------------------------------------------------------


def test_ensure_config_inside_a_step_returns_the_run_config() -> None:
    seen: list[RunnableConfig] = []

    def step(x: int, config: RunnableConfig) -> int:
        seen.append(ensure_config())
        seen.append(config)
        return x

    RunnableLambda(step).invoke(
        1, {"tags": ["t"], "metadata": {"m": 1}, "configurable": {"model": "m1"}}
    )
    current, passed = seen
    for config in (current, passed):
        assert config["tags"] == ["t"]
        assert config["metadata"]["m"] == 1
        assert config["configurable"] == {"model": "m1"}
        assert config["callbacks"] is not None  # the step's children scope
    assert ensure_config()["callbacks"] is None  # nothing leaks out of the run


async def test_ensure_config_inside_an_async_step() -> None:
    seen: list[RunnableConfig] = []

    async def step(x: int) -> int:
        seen.append(ensure_config())
        return x

    await RunnableLambda(step).ainvoke(1, {"tags": ["t"], "max_concurrency": 3})
    assert seen[0]["tags"] == ["t"]
    assert seen[0]["max_concurrency"] == 3
    assert ensure_config()["tags"] == []


def test_unknown_config_keys_move_to_configurable() -> None:
    seen: list[RunnableConfig] = []

    def step(x: int, config: RunnableConfig) -> int:
        seen.append(config)
        return x

    RunnableLambda(step).invoke(1, {"session": "abc"})  # type: ignore[typeddict-unknown-key]
    assert seen[0]["configurable"] == {"session": "abc"}


# -- run_name / run_id apply to one run only -----------------------------------------------


def test_run_name_and_run_id_name_the_root_only() -> None:
    run_id = uuid.uuid4()

    def outer(x: int) -> int:
        return inner.invoke(x)

    tree = Recorder()
    RunnableLambda(outer).invoke(1, {"callbacks": [tree], "run_name": "renamed", "run_id": run_id})

    assert set(tree.names()) == {"renamed", "inner"}
    assert tree.run_id("renamed") == run_id
    assert tree.run_id("inner") != run_id
    assert tree.parent("inner") == "renamed"


async def test_run_name_and_run_id_name_the_root_only_async() -> None:
    run_id = uuid.uuid4()

    async def outer(x: int) -> int:
        return await inner.ainvoke(x)

    tree = Recorder()
    await RunnableLambda(outer).ainvoke(
        1, {"callbacks": [tree], "run_name": "renamed", "run_id": run_id}
    )
    assert tree.run_id("renamed") == run_id
    assert tree.parent("inner") == "renamed"


# -- explicit config -----------------------------------------------------------------------


def test_explicit_tags_and_metadata_add_to_inherited_ones() -> None:
    def outer(x: int) -> int:
        return inner.invoke(x, {"tags": ["z"], "metadata": {"k": 2}})

    tree = Recorder()
    RunnableLambda(outer).invoke(1, {**CONFIG, "callbacks": [tree]})

    assert tree.parent("inner") == "outer"
    assert tree.tags_of("inner") == ["foo", "bar", "z"]
    assert tree.metadata_of("inner") == {"user": "ada", "k": 2}
    assert tree.tags_of("outer") == ["foo", "bar"]  # nothing flows upwards


async def test_explicit_child_config_from_the_config_argument() -> None:
    # The guide's manual propagation: pass the step's config on explicitly.
    async def outer(x: int, config: RunnableConfig) -> int:
        return await inner.ainvoke(x, config)

    tree = Recorder()
    await RunnableLambda(outer).ainvoke(1, {**CONFIG, "callbacks": [tree]})
    _check_inner_is_child_of(tree, "outer")


def test_explicit_callbacks_start_a_new_root() -> None:
    other = Recorder()

    def outer(x: int) -> int:
        return inner.invoke(x, {"callbacks": [other]})

    tree = Recorder()
    RunnableLambda(outer).invoke(1, {"callbacks": [tree]})

    assert tree.names() == ["outer"]
    assert other.names() == ["inner"]
    assert other.start_of("inner").parent_run_id is None


def test_with_config_metadata_is_merged_for_that_step_only() -> None:
    step = RunnableLambda(lambda x: x, name="step").with_config(metadata={"b": 2}, tags=["mine"])
    seq = RunnableLambda(lambda x: x, name="first") | step
    tree = Recorder()
    seq.invoke(1, {"callbacks": [tree], "metadata": {"a": 1}})

    assert tree.metadata_of("RunnableSequence") == {"a": 1}
    assert tree.metadata_of("first") == {"a": 1}
    assert tree.metadata_of("step") == {"a": 1, "b": 2}
    assert "mine" in tree.tags_of("step") and "mine" not in tree.tags_of("first")


def test_configurable_reaches_nested_steps() -> None:
    seen: list[Any] = []

    def leaf(x: int, config: RunnableConfig) -> int:
        seen.append(config["configurable"].get("user_id"))
        return x

    def outer(x: int) -> int:
        return RunnableLambda(leaf).invoke(x)

    (RunnableLambda(outer) | RunnableLambda(leaf)).invoke(1, {"configurable": {"user_id": "u1"}})
    assert seen == ["u1", "u1"]


@pytest.mark.parametrize("n", [2, 5])
def test_nothing_leaks_between_calls(n: int) -> None:
    trees = [Recorder() for _ in range(n)]
    for i, tree in enumerate(trees):
        RunnableLambda(lambda x: inner.invoke(x), name="outer").invoke(
            i, {"callbacks": [tree], "tags": [f"t{i}"]}
        )
    for i, tree in enumerate(trees):
        assert tree.parent("inner") == "outer"
        assert tree.tags_of("inner") == [f"t{i}"]
