"""Composition: ``|`` and coercion, sequences, parallel maps, passthrough/assign/pick, the
``chain`` decorator, functions returning runnables, and how composed runs are named, tagged
(``seq:step:N``, ``map:key:K``) and parented."""

from __future__ import annotations

from typing import Any

from _support import Recorder

from otel_runnables import (
    Runnable,
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
    chain,
)


def named(name: str, fn: Any = None) -> RunnableLambda[Any, Any]:
    return RunnableLambda(fn or (lambda x: x), name=name)


# -- | and coercion ------------------------------------------------------------------------


def test_pipe_coerces_callables_dicts_and_generators() -> None:
    def words(chunks: Any) -> Any:
        for text in chunks:
            yield from text.split()

    seq = (
        named("start")
        | (lambda x: x + " world")
        | RunnableGenerator(words)
        | {"n": lambda w: len(w)}
    )
    assert isinstance(seq, RunnableSequence)
    assert isinstance(seq.steps[1], RunnableLambda)
    assert isinstance(seq.steps[-1], RunnableParallel)
    assert seq.invoke("hello") == {"n": len("helloworld")}

    gen_seq = named("s") | words  # a generator function becomes a RunnableGenerator
    assert isinstance(gen_seq.steps[-1], RunnableGenerator)
    assert list(gen_seq.stream("a b")) == ["a", "b"]


def test_callable_and_dict_on_the_left() -> None:
    seq = (lambda x: x * 2) | named("after", lambda x: x + 1)
    assert seq.invoke(3) == 7
    par_first = {"a": lambda x: x, "b": lambda x: -x} | named("keys", lambda d: sorted(d))
    assert par_first.invoke(1) == ["a", "b"]


def test_sequences_flatten_and_tag_each_step() -> None:
    left = named("s1") | named("s2")
    right = named("s3") | named("s4")
    seq = left | right
    assert isinstance(seq, RunnableSequence)
    assert [s.get_name() for s in seq.steps] == ["s1", "s2", "s3", "s4"]
    assert seq.first.get_name() == "s1" and seq.last.get_name() == "s4"
    assert [s.get_name() for s in seq.middle] == ["s2", "s3"]

    runs = Recorder()
    seq.invoke(0, {"callbacks": [runs]})
    assert runs.names() == ["RunnableSequence", "s1", "s2", "s3", "s4"]
    assert {c.name: c.tags for c in runs.starts()} == {
        "RunnableSequence": [],
        "s1": ["seq:step:1"],
        "s2": ["seq:step:2"],
        "s3": ["seq:step:3"],
        "s4": ["seq:step:4"],
    }
    assert all(runs.parent(f"s{i}") == "RunnableSequence" for i in range(1, 5))


def test_pipe_method_and_name() -> None:
    seq = named("a", lambda x: x + 1).pipe(lambda x: x * 3, name="my_seq")
    runs = Recorder()
    assert seq.invoke(1, {"callbacks": [runs]}) == 6
    assert runs.names()[0] == "my_seq"


# -- sequences -----------------------------------------------------------------------------


async def test_sequence_invoke_ainvoke_stream_agree() -> None:
    seq = named("inc", lambda x: x + 1) | named("double", lambda x: x * 2)
    assert seq.invoke(1) == 4
    assert await seq.ainvoke(1) == 4
    assert list(seq.stream(1)) == [4]
    assert [c async for c in seq.astream(1)] == [4]


# -- parallel --------------------------------------------------------------------------------


def test_parallel_tags_names_and_parents() -> None:
    par = RunnableParallel(a=named("fa", lambda x: x + 1), b=named("fb", lambda x: x * 10))
    runs = Recorder()
    assert par.invoke(2, {"callbacks": [runs], "tags": ["t"]}) == {"a": 3, "b": 20}

    assert runs.names()[0] == "RunnableParallel<a,b>"
    tags = {c.name: c.tags for c in runs.starts()}
    assert tags["fa"] == ["map:key:a", "t"]
    assert tags["fb"] == ["map:key:b", "t"]
    assert runs.parent("fa") == runs.parent("fb") == "RunnableParallel<a,b>"


async def test_parallel_async_branches_run_concurrently() -> None:
    import asyncio

    gate = asyncio.Event()

    async def waits(x: int) -> str:
        await asyncio.wait_for(gate.wait(), 5)
        return "waited"

    async def opens(x: int) -> str:
        gate.set()
        return "opened"

    par = RunnableParallel(w=waits, o=opens)
    assert await par.ainvoke(0) == {"w": "waited", "o": "opened"}


async def test_nested_parent_ids_root_first() -> None:
    inner_seq = RunnableSequence(named("deep1"), named("deep2"), name="inner_seq")
    outer = named("first") | {"branch": inner_seq, "other": named("other")}
    events = [e async for e in outer.astream_events(1, version="v2")]

    ids = {e["name"]: e["run_id"] for e in events if e["event"] == "on_chain_start"}
    parents = {e["name"]: e["parent_ids"] for e in events if e["event"] == "on_chain_start"}
    root = ids["RunnableSequence"]
    par = ids["RunnableParallel<branch,other>"]
    assert parents["first"] == [root]
    assert parents["other"] == [root, par]
    assert parents["inner_seq"] == [root, par]
    assert parents["deep1"] == parents["deep2"] == [root, par, ids["inner_seq"]]
    tags = {e["name"]: e["tags"] for e in events if e["event"] == "on_chain_start"}
    assert tags["deep1"] == ["seq:step:1"]
    assert tags["other"] == ["map:key:other"]
    assert tags["inner_seq"] == ["map:key:branch"]
    assert tags["RunnableParallel<branch,other>"] == ["seq:step:2"]


# -- passthrough, assign, pick -------------------------------------------------------------


def test_passthrough_returns_its_input_and_calls_func() -> None:
    seen: list[Any] = []
    passthrough = RunnablePassthrough(seen.append)
    assert passthrough.invoke({"k": 1}) == {"k": 1}
    assert seen == [{"k": 1}]
    par = RunnableParallel(orig=RunnablePassthrough(), n=lambda x: x + 1)
    assert par.invoke(1) == {"orig": 1, "n": 2}


async def test_passthrough_async() -> None:
    seen: list[Any] = []

    async def record(x: Any) -> None:
        seen.append(x)

    assert await RunnablePassthrough(afunc=record).ainvoke(5) == 5
    assert seen == [5]
    assert [c async for c in RunnablePassthrough().astream("x")] == ["x"]


def test_assign_adds_keys() -> None:
    assign = RunnablePassthrough.assign(total=lambda d: d["a"] + d["b"], n=lambda d: len(d))
    assert assign.invoke({"a": 1, "b": 2}) == {"a": 1, "b": 2, "total": 3, "n": 2}

    runs = Recorder()
    assign.invoke({"a": 1, "b": 2}, {"callbacks": [runs]})
    names = runs.names()
    assert names[:2] == ["RunnableAssign<total,n>", "RunnableParallel<total,n>"]
    assert runs.parent("RunnableParallel<total,n>") == "RunnableAssign<total,n>"


def test_assign_streams_input_keys_first() -> None:
    assign = RunnablePassthrough.assign(total=lambda d: d["a"] + 1)
    assert list(assign.stream({"a": 1})) == [{"a": 1}, {"total": 2}]


async def test_assign_async() -> None:
    async def total(d: dict[str, int]) -> int:
        return d["a"] * 2

    assign = RunnablePassthrough.assign(total=total)
    assert await assign.ainvoke({"a": 4}) == {"a": 4, "total": 8}
    assert [c async for c in assign.astream({"a": 4})] == [{"a": 4}, {"total": 8}]


def test_assign_and_pick_methods() -> None:
    seq = named("make", lambda x: {"a": x, "b": x + 1}).assign(c=lambda d: d["a"] + d["b"])
    assert seq.invoke(1) == {"a": 1, "b": 2, "c": 3}
    assert seq.pick("c").invoke(1) == 3
    assert seq.pick(["a", "c"]).invoke(1) == {"a": 1, "c": 3}


# -- the chain decorator ---------------------------------------------------------------------


@chain
def shout(text: str) -> str:
    """Upper-case the text."""
    return text.upper()


@chain
async def ashout(text: str) -> str:
    return text.upper() + "!"


async def test_chain_decorator() -> None:
    assert isinstance(shout, Runnable)
    assert shout.invoke("hi") == "HI"
    assert (shout | (lambda s: s + "?")).invoke("hi") == "HI?"
    assert await ashout.ainvoke("hi") == "HI!"
    events = [e async for e in ashout.astream_events("hi", version="v2")]
    assert {e["name"] for e in events} == {"ashout"}
    runs = Recorder()
    shout.invoke("x", {"callbacks": [runs]})
    assert runs.names()[0] == "shout"


# -- functions returning runnables ---------------------------------------------------------


def test_lambda_returning_a_runnable_invokes_it_on_the_same_input() -> None:
    limits: list[int] = []

    def route(x: int) -> Runnable[Any, Any]:
        def target(y: int, config: RunnableConfig) -> int:
            limits.append(config["recursion_limit"])
            return y * 100

        return RunnableLambda(target)

    runs = Recorder()
    assert RunnableLambda(route).invoke(3, {"callbacks": [runs], "recursion_limit": 10}) == 300
    assert runs.names() == ["route", "target"]
    assert runs.parent("target") == "route"
    assert limits == [9]  # one level used


async def test_lambda_returning_a_runnable_async() -> None:
    async def route(x: int) -> Runnable[Any, Any]:
        return named("target", lambda y: y + 1)

    runs = Recorder()
    assert await RunnableLambda(route).ainvoke(1, {"callbacks": [runs]}) == 2
    assert runs.parent("target") == "route"
    assert [c async for c in RunnableLambda(route).astream(1)] == [2]


def test_recursion_within_the_limit_succeeds() -> None:
    def countdown(x: int, config: RunnableConfig) -> Any:
        depth = 5 - config["recursion_limit"]
        return RunnableLambda(countdown) if depth < 3 else depth

    assert RunnableLambda(countdown).invoke(0, {"recursion_limit": 5}) == 3


# -- naming and configuration of composed runnables ----------------------------------------


def test_with_config_run_name_and_lambda_names() -> None:
    def my_func(x: int) -> int:
        return x

    assert RunnableLambda(my_func).get_name() == "my_func"
    assert RunnableLambda(lambda x: x).get_name() == "RunnableLambda"
    runs = Recorder()
    renamed = RunnableLambda(my_func).with_config(run_name="renamed")
    (named("first") | renamed).invoke(1, {"callbacks": [runs]})
    assert runs.names() == ["RunnableSequence", "first", "renamed"]


def test_lambda_with_sync_and_async_functions() -> None:
    async def afunc(x: int) -> str:
        return "async"

    both = RunnableLambda(lambda x: "sync", afunc=afunc)
    assert both.invoke(1) == "sync"

    import asyncio

    assert asyncio.run(both.ainvoke(1)) == "async"
