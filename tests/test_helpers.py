"""The helpers of ``langchain_core.runnables`` with its signatures: ``run_in_executor``
(executor or config first), ``coerce_to_runnable``, ``get_config_list``, ``add`` / ``aadd``,
``RunnableMap``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from typing_extensions import TypedDict  # (pydantic needs this one before Python 3.12)

from otel_runnables import (
    RunnableGenerator,
    RunnableLambda,
    RunnableMap,
    RunnableParallel,
    aadd,
    add,
    coerce_to_runnable,
    get_config_list,
    run_in_executor,
)


class Args(TypedDict):
    a: int
    b: int


async def test_run_in_executor_keeps_the_current_run() -> None:
    seen: list[Any] = []

    async def step(x: int, config: Any) -> int:
        def work(y: int) -> int:
            from otel_runnables import ensure_config

            seen.append((threading.current_thread() is not threading.main_thread(), y))
            seen.append(ensure_config()["tags"])
            return y + 1

        return await run_in_executor(config, work, x)

    assert await RunnableLambda(step).ainvoke(1, {"tags": ["t"]}) == 2
    assert seen == [(True, 1), ["t"]]


async def test_run_in_executor_with_an_executor_and_stop_iteration() -> None:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mine") as pool:
        name = await run_in_executor(pool, lambda: threading.current_thread().name)
        assert name.startswith("mine")
        with pytest.raises(RuntimeError):
            await run_in_executor(pool, next, iter(()))
    assert await run_in_executor(None, sum, [1, 2]) == 3


def test_coerce_to_runnable() -> None:
    def gen(chunks: Any) -> Any:
        yield from chunks

    assert isinstance(coerce_to_runnable(lambda x: x), RunnableLambda)
    assert isinstance(coerce_to_runnable(gen), RunnableGenerator)
    assert isinstance(coerce_to_runnable({"a": lambda x: x}), RunnableParallel)
    runnable = RunnableLambda(lambda x: x)
    assert coerce_to_runnable(runnable) is runnable
    with pytest.raises(TypeError, match="Expected a Runnable, callable or dict"):
        coerce_to_runnable(5)


def test_get_config_list() -> None:
    configs = get_config_list({"tags": ["t"], "run_id": "6f1b3b2e-0b7e-4b8e-9d3e-3c2f5f3f9a10"}, 2)
    assert [c["tags"] for c in configs] == [["t"], ["t"]]
    assert "run_id" in configs[0] and "run_id" not in configs[1]  # (the first input's)
    with pytest.raises(ValueError, match="a list of 2 configs"):
        get_config_list([{}], 2)


def test_add_and_aadd() -> None:
    assert add([1, 2, 3]) == 6 and add([]) is None

    async def chunks() -> AsyncIterator[str]:
        for chunk in ("a", "b"):
            yield chunk

    assert asyncio.run(aadd(chunks())) == "ab"


def test_runnable_map_is_runnable_parallel() -> None:
    assert RunnableMap is RunnableParallel
    assert RunnableMap(a=lambda x: x + 1).invoke(1) == {"a": 2}


def test_as_tool_makes_a_langchain_tool() -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.tools import BaseTool

    def total(d: Args) -> int:
        return d["a"] + d["b"]

    tool = RunnableLambda(total).as_tool(name="total", description="adds a and b")
    assert isinstance(tool, BaseTool)
    assert tool.invoke({"a": 1, "b": 2}) == 3
    integer = {"type": "integer"}
    assert tool.args == {"a": {"title": "A", **integer}, "b": {"title": "B", **integer}}
