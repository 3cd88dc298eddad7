"""Mixed pipelines: otel_runnables' and langchain-core's runnables composed either way are one
trace with one span per run (no wrapper run, nothing recorded twice, no instrumentation
needed for the langchain-core steps of our pipelines); handlers cross both ways.

The event streams and handler events of mixed pipelines are compared with all-langchain
pipelines of the same shape in tests/differential/scenarios_mixed.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler as LangchainHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableBranch, RunnableParallel
from langchain_core.runnables import RunnableLambda as LcLambda

import otel_runnables as ours
from otel_runnables.langchain import LangChainInstrumentor
from otel_runnables.testing import SpanRecorder

from ._support import Events, ScriptedChatModel, current_span_name


def _pipeline() -> tuple[Any, ScriptedChatModel]:
    model = ScriptedChatModel()
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    chain = (
        ours.RunnableLambda(lambda q: {"q": q}, name="shape")
        | prompt
        | model
        | StrOutputParser()
        | ours.RunnableLambda(lambda s: s.upper(), name="loud")
    )
    return chain, model


def _names(spans: SpanRecorder) -> list[str]:
    return sorted(s.name for s in spans.spans())


def test_our_pipeline_with_langchain_steps_is_one_trace_without_instrumentation(
    otel_spans: SpanRecorder,
) -> None:
    assert not LangChainInstrumentor().is_instrumented_by_opentelemetry
    chain, model = _pipeline()
    assert chain.invoke("why?") == "THE ANSWER IS 3"
    assert otel_spans.tree() == [
        (
            "RunnableSequence",
            [
                ("shape", []),
                ("ChatPromptTemplate", []),
                ("chat scripted-1", []),
                ("StrOutputParser", []),
                ("loud", []),
            ],
        )
    ]
    assert len({s.context.trace_id for s in otel_spans.spans()}) == 1
    (chat,) = otel_spans.by_name("chat scripted-1")
    assert chat.attributes["gen_ai.usage.input_tokens"] == 12
    root = otel_spans.by_name("RunnableSequence")[0].attributes["runnable.run_id"]
    assert chat.attributes["runnable.parent_run_id"] == root
    assert chat.attributes["runnable.tags"] == ("seq:step:3",)
    assert model.seen_spans == ["chat scripted-1"]  # the model's code ran in its span


def test_nothing_is_recorded_twice_when_the_bridge_is_also_instrumented(
    otel_spans: SpanRecorder,
) -> None:
    LangChainInstrumentor().instrument()
    try:
        chain, _ = _pipeline()
        chain.invoke("why?")
        ours_under_lc = LcLambda(lambda x: x, name="lc_root") | ours.RunnableLambda(
            lambda x: x, name="mine"
        )
        ours_under_lc.invoke(1)
    finally:
        LangChainInstrumentor().uninstrument()
    assert _names(otel_spans) == sorted(
        [
            "RunnableSequence",
            "shape",
            "ChatPromptTemplate",
            "chat scripted-1",
            "StrOutputParser",
            "loud",
            "RunnableSequence",
            "lc_root",
            "mine",
        ]
    )
    (mine,) = otel_spans.by_name("mine")
    lc_seq = next(
        s
        for s in otel_spans.by_name("RunnableSequence")
        if s.context.span_id == mine.parent.span_id
    )
    assert mine.attributes["runnable.parent_run_id"] == lc_seq.attributes["runnable.run_id"]


def test_our_step_in_an_uninstrumented_langchain_pipeline_keeps_the_parent_id(
    otel_spans: SpanRecorder,
) -> None:
    events = Events()
    chain = LcLambda(lambda x: x + 1, name="lc_step") | ours.RunnableLambda(
        lambda x: x * 2, name="mine"
    )
    assert chain.invoke(1, {"callbacks": [events]}) == 4
    assert _names(otel_spans) == ["mine"]  # langchain-core's own runs are not instrumented
    (mine,) = otel_spans.by_name("mine")
    lc_sequence = events.calls[0][1]  # the first start: langchain-core's sequence
    assert mine.attributes["runnable.parent_run_id"] == str(lc_sequence)
    assert mine.attributes["runnable.tags"] == ("seq:step:2",)
    assert [hook for hook, _ in events.calls].count("on_chain_start") == 3  # ours reported too


def test_handlers_cross_both_ways(otel_spans: SpanRecorder) -> None:
    class Mine(ours.BaseCallbackHandler):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
            self.seen.append(f"chain:{kw['name']}")

        def on_llm_start(self, serialized: Any, prompts: Any, **kw: Any) -> None:
            self.seen.append("llm_start")  # on_chat_model_start not implemented: langchain's rule

        def on_llm_end(self, response: Any, **kw: Any) -> None:
            self.seen.append("llm_end")

    mine, theirs = Mine(), Events()
    chain, _ = _pipeline()
    chain.invoke("why?", {"callbacks": [mine, theirs]})
    assert mine.seen == [
        "chain:RunnableSequence",
        "chain:shape",
        "chain:ChatPromptTemplate",
        "llm_start",
        "llm_end",
        "chain:StrOutputParser",
        "chain:loud",
    ]
    assert ("on_chat_model_start" in theirs.hooks()) and ("on_llm_end" in theirs.hooks())
    assert theirs.hooks().count("on_chain_start") == 5


def test_a_callback_manager_in_our_config(otel_spans: SpanRecorder) -> None:
    from langchain_core.callbacks import CallbackManager

    events = Events()
    manager = CallbackManager(handlers=[events], tags=["from-manager"])
    out = ours.RunnableLambda(lambda x: x + 1, name="mine").invoke(1, {"callbacks": manager})
    assert out == 2
    assert events.hooks() == ["on_chain_start", "on_chain_end"]
    (mine,) = otel_spans.by_name("mine")
    assert mine.attributes["runnable.tags"] == ("from-manager",)


def test_ours_inside_langchain_composition_primitives(otel_spans: SpanRecorder) -> None:
    double = ours.RunnableLambda(lambda x: x * 2, name="double")
    parallel = RunnableParallel(d=double, same=LcLambda(lambda x: x))
    assert parallel.invoke(2) == {"d": 4, "same": 2}
    branch = RunnableBranch((lambda x: x > 10, double), LcLambda(lambda x: -x))
    assert branch.invoke(20) == 40
    assert branch.invoke(1) == -1
    flaky_calls = []

    def flaky(x: int) -> int:
        flaky_calls.append(x)
        if len(flaky_calls) < 2:
            raise ValueError("once")
        return x

    retried = LcLambda(lambda x: x) | ours.RunnableLambda(flaky, name="flaky").with_retry(
        stop_after_attempt=2, wait_exponential_jitter=False
    )
    assert retried.invoke(5) == 5
    fallback = LcLambda(lambda x: 1 / 0).with_fallbacks([double])
    assert fallback.invoke(3) == 6
    assert {"double", "flaky"} <= {s.name for s in otel_spans.spans()}


def test_langchain_steps_inside_our_composition_primitives(otel_spans: SpanRecorder) -> None:
    triple = LcLambda(lambda x: x * 3, name="triple")
    assert ours.RunnableParallel(t=triple, same=lambda x: x).invoke(2) == {"t": 6, "same": 2}
    assign = ours.RunnablePassthrough.assign(t=LcLambda(lambda d: d["x"]) | triple)
    assert assign.invoke({"x": 1}) == {"x": 1, "t": 3}
    broken = ours.RunnableLambda(lambda x: 1 / 0, name="broken")
    assert broken.with_fallbacks([triple]).invoke(2) == 6
    flaky_calls: list[int] = []

    def flaky(x: int) -> int:
        flaky_calls.append(x)
        if len(flaky_calls) < 2:
            raise ValueError("once")
        return x

    retried = LcLambda(flaky).with_retry(stop_after_attempt=2, wait_exponential_jitter=False)
    assert (ours.RunnableLambda(lambda x: x) | retried).invoke(4) == 4
    roots = [s for s in otel_spans.spans() if s.parent is None]
    assert all(s.name.startswith("Runnable") for s in roots), [s.name for s in roots]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_langgraph_node_calls_our_pipeline(otel_spans: SpanRecorder, mode: str) -> None:
    pytest.importorskip("langgraph")
    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    class State(TypedDict, total=False):
        x: int
        y: int

    seen: list[str | None] = []

    def inner(x: int) -> int:
        seen.append(current_span_name())
        return x + 1

    pipeline = ours.RunnableLambda(inner, name="inner") | ours.RunnableLambda(
        lambda x: x * 10, name="times_ten"
    )

    def node(state: State) -> State:
        return {"y": pipeline.invoke(state["x"])}  # no config: the node's run is the parent

    async def anode(state: State) -> State:
        return {"y": await pipeline.ainvoke(state["x"])}

    graph = StateGraph(State)
    graph.add_node("compute", node if mode == "sync" else anode)
    graph.add_edge(START, "compute")
    graph.add_edge("compute", END)
    app = graph.compile()
    LangChainInstrumentor().instrument()
    try:
        if mode == "sync":
            assert app.invoke({"x": 1}) == {"x": 1, "y": 20}
        else:
            assert await app.ainvoke({"x": 1}) == {"x": 1, "y": 20}
    finally:
        LangChainInstrumentor().uninstrument()
    assert otel_spans.tree() == [
        ("LangGraph", [("compute", [("RunnableSequence", [("inner", []), ("times_ten", [])])])])
    ]
    assert seen == ["inner"]


def test_registration_works_in_either_import_order() -> None:
    for first, then in (
        ("otel_runnables", "langchain_core.runnables"),
        ("langchain_core.runnables", "otel_runnables"),
    ):
        code = textwrap.dedent(
            f"""
            import {first}, {then}
            from langchain_core.runnables import RunnableLambda as L
            import otel_runnables as o
            print((L(lambda x: x + 1) | o.RunnableLambda(lambda x: x * 2)).invoke(1))
            print((o.RunnableLambda(lambda x: x + 1) | L(lambda x: x * 2)).invoke(1))
            """
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == ["4", "4"], out.stderr


def test_langchains_handler_class_is_accepted_and_driven(otel_spans: SpanRecorder) -> None:
    class Raising(LangchainHandler):
        raise_error = True

        def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        ours.RunnableLambda(lambda x: x).invoke(1, {"callbacks": [Raising()]})

    class Ignoring(LangchainHandler):
        def __init__(self) -> None:
            self.custom: list[str] = []

        @property
        def ignore_custom_event(self) -> bool:
            return True

        def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
            self.custom.append(name)

    handler = Ignoring()

    def step(x: int) -> int:
        ours.dispatch_custom_event("tick", {})
        return x

    ours.RunnableLambda(step).invoke(1, {"callbacks": [handler]})
    assert handler.custom == []


def test_configurable_metadata_and_run_name_carry_across_both_ways(
    otel_spans: SpanRecorder,
) -> None:
    seen: list[tuple[str, Any, Any]] = []

    def lc_step(x: int, config: Any) -> int:
        seen.append(("lc", config["configurable"].get("k"), config["metadata"].get("who")))
        return x

    def our_step(x: int, config: Any) -> int:
        seen.append(("ours", config["configurable"].get("k"), config["metadata"].get("who")))
        return x

    config = {"configurable": {"k": 7}, "metadata": {"who": "ada"}, "run_name": "top"}
    (ours.RunnableLambda(our_step) | LcLambda(lc_step)).invoke(1, config)
    (LcLambda(lc_step) | ours.RunnableLambda(our_step)).invoke(1, config)
    assert seen == [("ours", 7, "ada"), ("lc", 7, "ada"), ("lc", 7, "ada"), ("ours", 7, "ada")]
    assert [s.name for s in otel_spans.spans() if s.parent is None] == ["top", "our_step"]
    (step,) = otel_spans.by_name("lc_step")
    assert step.attributes["runnable.metadata.who"] == "ada"
