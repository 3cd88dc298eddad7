"""RunnableEach / ``.map()``: the bound runnable on each element (its batch), one run named
``RunnableEach<name>`` with one child run per element; bind and with_config reach the elements;
and, better than langchain-core, it can be the root of ``astream_events``."""

from __future__ import annotations

from typing import Any

from _support import Traced

from otel_runnables import BaseCallbackHandler, RunnableEach, RunnableLambda
from otel_runnables import _attributes as attrs

inc = RunnableLambda(lambda x: x + 1, name="inc")


def test_outputs() -> None:
    assert inc.map().invoke([1, 2, 3]) == [2, 3, 4]
    assert RunnableEach(bound=inc).invoke((5,)) == [6]
    assert inc.map().batch([[1], [2, 3]]) == [[2], [3, 4]]
    assert list(inc.map().stream([1])) == [[2]]


async def test_outputs_async() -> None:
    assert await inc.map().ainvoke([1, 2]) == [2, 3]
    assert [c async for c in inc.map().astream([1])] == [[2]]


def test_one_run_with_a_child_per_element(traced: Traced) -> None:
    inc.map().invoke([1, 2], {"tags": ["t"]})
    (root,) = traced.by_name("RunnableEach<inc>")
    children = traced.by_name("inc")
    assert len(children) == 2
    assert all(c.parent is not None and c.parent.span_id == root.context.span_id for c in children)
    assert all(tuple(c.attributes[attrs.TAGS]) == ("t",) for c in children)  # untagged children


def test_with_config_and_bind_reach_each_element(traced: Traced) -> None:
    echo = RunnableLambda(lambda x, **kw: (x, kw), name="echo")
    assert echo.map().bind(k=1).invoke([0]) == [(0, {"k": 1})]
    assert echo.map().invoke([0], k=2) == [(0, {"k": 2})]
    traced.clear()
    echo.map().with_config(tags=["each"]).invoke([0, 1])
    (root,) = traced.by_name("RunnableEach<echo>")
    assert tuple(root.attributes.get(attrs.TAGS, ())) == ()
    assert {tuple(s.attributes[attrs.TAGS]) for s in traced.by_name("echo")} == {("each",)}


def test_an_element_that_fails_fails_the_run(traced: Traced) -> None:
    def check(x: int) -> int:
        if x < 0:
            raise ValueError(f"negative: {x}")
        return x

    try:
        RunnableLambda(check).map().invoke([1, -1])
    except ValueError as exc:
        assert str(exc) == "negative: -1"
    else:
        raise AssertionError("no error")
    (root,) = traced.by_name("RunnableEach<check>")
    assert not root.status.is_ok


async def test_astream_events_at_the_root() -> None:
    # (langchain-core raises NotImplementedError here)
    events = [(e["event"], e["name"]) async for e in inc.map().astream_events([1], version="v2")]
    assert events[0] == ("on_chain_start", "RunnableEach<inc>")
    assert ("on_chain_end", "inc") in events
    assert events[-1] == ("on_chain_end", "RunnableEach<inc>")


def test_handlers_see_the_runs() -> None:
    class Names(BaseCallbackHandler):
        def __init__(self) -> None:
            self.names: list[tuple[str, Any]] = []

        def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
            self.names.append((kw["name"], inputs))

    handler = Names()
    inc.map().invoke([1, 2], {"callbacks": [handler]})
    assert handler.names[0] == ("RunnableEach<inc>", [1, 2])
    assert sorted(handler.names[1:]) == [("inc", 1), ("inc", 2)]
