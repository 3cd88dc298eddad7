"""RunnableBranch: the first true condition's branch runs, else the default; conditions and the
branch are child runs (spans) tagged ``condition:N`` / ``branch:N`` / ``branch:default``;
streaming streams the chosen branch; construction errors are langchain-core's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from _support import Traced

from otel_runnables import RunnableBranch, RunnableGenerator, RunnableLambda
from otel_runnables import _attributes as attrs


def branch() -> RunnableBranch[Any, Any]:
    return RunnableBranch(
        (RunnableLambda(lambda x: isinstance(x, str), name="is_str"), lambda x: x.upper()),
        (RunnableLambda(lambda x: isinstance(x, int), name="is_int"), lambda x: x + 1),
        RunnableLambda(lambda x: "other", name="fallback"),
    )


def tags_by_name(recorder: Traced) -> dict[str, tuple[str, ...]]:
    return {s.name: tuple(s.attributes.get(attrs.TAGS, ())) for s in recorder.spans()}


def test_outputs() -> None:
    assert [branch().invoke(v) for v in ("a", 1, None)] == ["A", 2, "other"]
    assert branch().batch(["a", 1, None]) == ["A", 2, "other"]


async def test_outputs_async() -> None:
    assert [await branch().ainvoke(v) for v in ("a", 1, None)] == ["A", 2, "other"]


def test_runs_and_tags(traced: Traced) -> None:
    branch().invoke(1)
    assert traced.tree() == [
        ("RunnableBranch", [("is_str", []), ("is_int", []), ("RunnableLambda", [])])
    ]
    tags = tags_by_name(traced)
    assert tags["is_str"] == ("condition:1",)
    assert tags["is_int"] == ("condition:2",)
    assert tags["RunnableLambda"] == ("branch:2",)


def test_default_branch_tag(traced: Traced) -> None:
    branch().invoke(None)
    assert tags_by_name(traced)["fallback"] == ("branch:default",)


async def test_runs_and_tags_async(traced: Traced) -> None:
    await branch().ainvoke("x")
    assert traced.tree() == [("RunnableBranch", [("is_str", []), ("RunnableLambda", [])])]
    assert tags_by_name(traced)["RunnableLambda"] == ("branch:1",)


def test_a_failing_condition_fails_the_branch(traced: Traced) -> None:
    def broken(x: Any) -> bool:
        raise KeyError("no")

    with pytest.raises(KeyError):
        RunnableBranch((broken, lambda x: x), lambda x: x).invoke(1)
    failed = {s.name for s in traced.spans() if not s.status.is_ok}
    assert failed == {"broken", "RunnableBranch"}


def words(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield from chunk.split()


async def awords(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for chunk in chunks:
        for word in chunk.split():
            yield word


def test_stream_streams_the_chosen_branch(traced: Traced) -> None:
    streaming = RunnableBranch((lambda x: True, RunnableGenerator(words)), lambda x: x)
    assert list(streaming.stream("a b c")) == ["a", "b", "c"]
    (root,) = traced.by_name("RunnableBranch")
    assert root.attributes[attrs.OUTPUT_VALUE] == "abc"  # the chunks added up


async def test_astream_streams_the_chosen_branch() -> None:
    streaming = RunnableBranch((lambda x: True, RunnableGenerator(awords)), lambda x: x)
    assert [c async for c in streaming.astream("a b")] == ["a", "b"]


def test_kwargs_reach_the_chosen_branch() -> None:
    chosen = RunnableBranch((lambda x: True, RunnableLambda(lambda x, **kw: kw)), lambda x: x)
    assert chosen.bind(k=1).invoke(0) == {"k": 1}


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((lambda x: x,), ValueError, "requires at least two branches"),
        (((lambda x: True, lambda x: x), 5), TypeError, "default must be Runnable"),
        ((5, lambda x: x), TypeError, "must be tuples or lists"),
        (((lambda x: True,), lambda x: x), ValueError, "of length 2, not 1"),
    ],
)
def test_construction_errors(args: tuple[Any, ...], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        RunnableBranch(*args)
