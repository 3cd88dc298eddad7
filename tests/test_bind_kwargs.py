"""Keyword arguments of ``bind`` and of a call reach the user's function, as in langchain-core:
a lambda, a generator and a passthrough's side effect get them on every path (invoke, ainvoke,
batch, stream, astream); a sequence hands them to its first step only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from otel_runnables import RunnableGenerator, RunnableLambda, RunnablePassthrough


def echo(x: Any, **kw: Any) -> tuple[Any, dict[str, Any]]:
    return (x, kw)


async def aecho(x: Any, **kw: Any) -> tuple[Any, dict[str, Any]]:
    return (x, kw)


def test_bound_kwargs_reach_the_function() -> None:
    assert RunnableLambda(lambda x, **kw: (x, kw)).bind(k=1).invoke(0) == (0, {"k": 1})


def test_call_kwargs_reach_the_function_and_win_over_bound_ones() -> None:
    bound = RunnableLambda(echo).bind(k=1, j=2)
    assert RunnableLambda(echo).invoke(0, k=2) == (0, {"k": 2})
    assert bound.invoke(0, k=3) == (0, {"k": 3, "j": 2})


def test_every_sync_path() -> None:
    bound = RunnableLambda(echo).bind(k=1)
    assert bound.batch([0, 1]) == [(0, {"k": 1}), (1, {"k": 1})]
    assert list(bound.stream(0)) == [(0, {"k": 1})]


async def test_every_async_path() -> None:
    for func in (echo, aecho):
        bound = RunnableLambda(func).bind(k=1)
        assert await bound.ainvoke(0) == (0, {"k": 1})
        assert await bound.abatch([0]) == [(0, {"k": 1})]
        assert [c async for c in bound.astream(0)] == [(0, {"k": 1})]


def test_a_function_taking_config_gets_both() -> None:
    def step(x: int, config: Any, **kw: Any) -> tuple[int, list[str], dict[str, Any]]:
        return (x, config["tags"], kw)

    assert RunnableLambda(step).bind(k=1).invoke(0, {"tags": ["t"]}) == (0, ["t"], {"k": 1})


def test_generator_functions_get_them() -> None:
    def gen(chunks: Iterator[int], **kw: Any) -> Iterator[tuple[int, dict[str, Any]]]:
        for chunk in chunks:
            yield (chunk, kw)

    assert list(RunnableGenerator(gen).bind(k=1).stream(5)) == [(5, {"k": 1})]


async def test_async_generator_functions_get_them() -> None:
    async def agen(
        chunks: AsyncIterator[int], **kw: Any
    ) -> AsyncIterator[tuple[int, dict[str, Any]]]:
        async for chunk in chunks:
            yield (chunk, kw)

    stream = RunnableGenerator(agen).bind(k=1).astream(5)
    assert [c async for c in stream] == [(5, {"k": 1})]


def test_passthrough_side_effect_gets_them() -> None:
    seen: list[dict[str, Any]] = []
    assert RunnablePassthrough(lambda x, **kw: seen.append(kw)).bind(k=3).invoke(1) == 1
    assert seen == [{"k": 3}]


def test_a_sequence_hands_them_to_its_first_step_only() -> None:
    seq = (RunnableLambda(echo) | RunnableLambda(echo)).bind(k=1)
    expected = ((0, {"k": 1}), {})
    assert seq.invoke(0) == expected
    assert seq.batch([0]) == [expected]
    assert list(seq.stream(0)) == [expected]


async def test_a_sequence_hands_them_to_its_first_step_only_async() -> None:
    seq = (RunnableLambda(aecho) | RunnableLambda(aecho)).bind(k=1)
    expected = ((0, {"k": 1}), {})
    assert await seq.ainvoke(0) == expected
    assert await seq.abatch([0]) == [expected]
    assert [c async for c in seq.astream(0)] == [expected]
