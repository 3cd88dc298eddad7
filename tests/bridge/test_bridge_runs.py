"""Every langchain-core run is one span with otel_runnables' mapping; model, tool and retriever
runs add the GenAI and OpenInference attributes; custom events are span events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableGenerator, RunnableLambda, RunnableParallel
from opentelemetry.trace import SpanKind, StatusCode

import otel_runnables as native
from otel_runnables.testing import SpanRecorder
from otel_runnables.tracing import reset_tracing_options, set_tracing_options

from ._support import Events, ScriptedChatModel, WordsRetriever, add

IDS = ("runnable.run_id", "runnable.parent_run_id")


async def _settled(spans: SpanRecorder, name: str) -> None:
    """Let the loop run the tasks that end ``name``'s span (bounded)."""
    import asyncio

    for _ in range(100):
        if spans.by_name(name):
            return
        await asyncio.sleep(0)


def _by_name(spans: SpanRecorder, name: str) -> Any:
    (span,) = spans.by_name(name)
    return span


def test_each_run_is_one_span_nested_as_the_run_tree(bridge: SpanRecorder) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "be brief"), ("human", "{q}")])
    chain = (
        RunnableLambda(lambda q: {"q": q}, name="shape")
        | prompt
        | ScriptedChatModel()
        | StrOutputParser()
        | RunnableParallel(loud=lambda s: s.upper(), size=len)
    )
    events = Events()
    out = chain.invoke("why?", {"callbacks": [events]})
    assert out == {"loud": "THE ANSWER IS 3", "size": 15}
    ((root, steps),) = bridge.tree()
    assert root == "RunnableSequence"
    assert [name for name, _ in steps] == [
        "shape",
        "ChatPromptTemplate",
        "chat scripted-1",
        "StrOutputParser",
        "RunnableParallel<loud,size>",
    ]
    assert all(children == [] for _, children in steps[:4])
    branches = sorted(name for name, _ in steps[4][1])  # concurrent: in any order
    assert branches == ["RunnableLambda", "len"]
    spans = {s.name: s for s in bridge.spans()}
    assert spans["ChatPromptTemplate"].attributes["runnable.run_type"] == "prompt"
    assert spans["StrOutputParser"].attributes["runnable.run_type"] == "parser"
    assert spans["chat scripted-1"].attributes["runnable.run_type"] == "chat_model"
    assert spans["shape"].attributes["runnable.tags"] == ("seq:step:1",)
    # runnable.run_id is langchain's own run id; parents link the ids as the spans link.
    lc_ids = {str(run_id) for _, run_id in events.calls}
    assert {s.attributes["runnable.run_id"] for s in bridge.spans()} == lc_ids
    root = spans["RunnableSequence"]
    assert spans["shape"].attributes["runnable.parent_run_id"] == root.attributes["runnable.run_id"]
    assert "runnable.parent_run_id" not in root.attributes


def _mapping(spans: SpanRecorder) -> list[tuple[str, dict[str, Any]]]:
    """Spans as (name, attributes) without the ids, in end order (timings: their type)."""
    out = []
    for span in spans.spans():
        attributes = {k: v for k, v in (span.attributes or {}).items() if k not in IDS}
        if "runnable.stream.first_chunk_ms" in attributes:
            assert attributes["runnable.stream.first_chunk_ms"] >= 0
            attributes["runnable.stream.first_chunk_ms"] = "ms"
        out.append((span.name, attributes))
    return out


@pytest.mark.parametrize("mode", ["invoke", "stream", "batch"])
def test_same_mapping_as_otel_runnables_own_runs(bridge: SpanRecorder, mode: str) -> None:
    def upper(text: str) -> str:
        return text.upper()

    def count(text: str) -> dict[str, int]:
        return {"letters": len(text)}

    config = {"tags": ["t"], "metadata": {"user": "ada", "tier": {"level": 2}}, "run_name": "app"}

    def run(seq: Any) -> Any:
        if mode == "invoke":
            return seq.invoke("abc", config)
        if mode == "stream":
            return list(seq.stream("abc", config))
        return seq.batch(["abc"], config)

    lc_out = run(RunnableLambda(upper) | RunnableLambda(count))
    from_langchain = _mapping(bridge)
    bridge.clear()
    native_out = run(native.RunnableLambda(upper) | native.RunnableLambda(count))
    assert lc_out == native_out
    assert from_langchain == _mapping(bridge)
    assert from_langchain[-1][1]["runnable.metadata.tier.level"] == 2


def test_chat_model_span_carries_genai_and_openinference_attributes(
    bridge: SpanRecorder,
) -> None:
    model = ScriptedChatModel()
    reply = model.invoke("what is 1 + 2?")
    assert reply.content == "the answer is 3"
    span = _by_name(bridge, "chat scripted-1")
    a = span.attributes
    assert span.kind is SpanKind.CLIENT
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "aws.bedrock"  # langchain's "amazon_bedrock"
    assert a["gen_ai.request.model"] == a["llm.model_name"] == "scripted-1"
    assert a["gen_ai.request.temperature"] == 0.25
    assert a["gen_ai.request.max_tokens"] == 64
    assert a["gen_ai.response.model"] == "scripted-1-2026"
    assert a["gen_ai.response.id"] == "resp-1"
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["gen_ai.usage.input_tokens"] == a["llm.token_count.prompt"] == 12
    assert a["gen_ai.usage.output_tokens"] == a["llm.token_count.completion"] == 5
    assert a["llm.token_count.total"] == 17
    assert a["gen_ai.usage.cache_read.input_tokens"] == 4
    assert a["llm.token_count.prompt_details.cache_read"] == 4
    assert a["gen_ai.usage.reasoning.output_tokens"] == 2
    assert a["openinference.span.kind"] == "LLM"
    assert a["llm.input_messages.0.message.role"] == "user"
    assert a["llm.input_messages.0.message.content"] == "what is 1 + 2?"
    assert a["llm.output_messages.0.message.role"] == "assistant"
    assert a["llm.output_messages.0.message.content"] == "the answer is 3"
    assert json.loads(a["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "what is 1 + 2?"}]}
    ]
    output = json.loads(a["gen_ai.output.messages"])
    assert output == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "the answer is 3"}],
            "finish_reason": "stop",
        }
    ]
    assert json.loads(a["output.value"])["content"] == "the answer is 3"


def test_tool_calls_and_bound_tools_are_recorded(bridge: SpanRecorder) -> None:
    model = ScriptedChatModel().bind_tools([add])
    reply = model.invoke("add 1 and 2")
    call = reply.tool_calls[0]
    assert add.invoke(call).content == "3"
    chat = _by_name(bridge, "chat scripted-1").attributes
    assert chat["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert chat["llm.output_messages.0.message.tool_calls.0.tool_call.id"] == "call_1"
    assert chat["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == "add"
    arguments = chat["llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments"]
    assert json.loads(arguments) == {"a": 1, "b": 2}
    assert json.loads(chat["llm.tools.0.tool.json_schema"])["function"]["name"] == "add"
    (message,) = json.loads(chat["gen_ai.output.messages"])
    assert message["finish_reason"] == "tool_call"
    assert message["parts"] == [
        {"type": "tool_call", "id": "call_1", "name": "add", "arguments": {"a": 1, "b": 2}}
    ]
    tool_span = _by_name(bridge, "execute_tool add")
    t = tool_span.attributes
    assert tool_span.kind is SpanKind.INTERNAL
    assert t["gen_ai.operation.name"] == "execute_tool"
    assert t["gen_ai.tool.name"] == t["tool.name"] == "add"
    assert t["gen_ai.tool.call.id"] == "call_1"
    assert t["gen_ai.tool.description"] == "Add two integers."
    assert t["runnable.run_type"] == "tool"
    assert t["openinference.span.kind"] == "TOOL"
    assert t["output.value"] == "3"


def test_retriever_span_lists_documents(bridge: SpanRecorder) -> None:
    docs = WordsRetriever().invoke("red green")
    assert [d.page_content for d in docs] == ["about red", "about green"]
    span = _by_name(bridge, "retrieval WordsRetriever")
    a = span.attributes
    assert span.kind is SpanKind.CLIENT
    assert a["gen_ai.operation.name"] == "retrieval"
    assert a["gen_ai.retrieval.query.text"] == a["input.value"] == "red green"
    assert a["openinference.span.kind"] == "RETRIEVER"
    assert a["retrieval.documents.1.document.id"] == "doc-1"
    assert a["retrieval.documents.1.document.content"] == "about green"
    assert a["retrieval.documents.1.document.score"] == pytest.approx(0.6)
    assert json.loads(a["retrieval.documents.0.document.metadata"]) == {"score": 0.5}
    assert json.loads(a["gen_ai.retrieval.documents"]) == [
        {"id": "doc-0", "score": 0.5},
        {"id": "doc-1", "score": 0.6},
    ]


def test_redaction_hides_messages_queries_and_documents(bridge: SpanRecorder) -> None:
    set_tracing_options(hide_io=True)
    try:
        ScriptedChatModel().invoke("secret question")
        WordsRetriever().invoke("secret query")
    finally:
        reset_tracing_options()
    text = repr([dict(s.attributes or {}) for s in bridge.spans()])
    assert "secret" not in text and "the answer" not in text
    chat = _by_name(bridge, "chat scripted-1").attributes
    assert chat["gen_ai.usage.input_tokens"] == 12  # counts and names stay
    retrieval = _by_name(bridge, "retrieval WordsRetriever").attributes
    assert retrieval["retrieval.documents.0.document.id"] == "doc-0"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_streamed_model_run_records_chunks_and_time_to_first_token(
    bridge: SpanRecorder, mode: str
) -> None:
    model = ScriptedChatModel()
    chunks = list(model.stream("hi")) if mode == "sync" else [c async for c in model.astream("hi")]
    text = "".join(str(c.content) for c in chunks)
    assert text == "the answer is 3 "
    a = _by_name(bridge, "chat scripted-1").attributes
    assert a["runnable.stream.chunks"] >= 4  # one per token (langchain may add a last, empty one)
    assert a["gen_ai.response.time_to_first_chunk"] >= 0
    assert a["gen_ai.usage.output_tokens"] == 5
    assert not _by_name(bridge, "chat scripted-1").events  # no event per token by default


def test_chunks_are_events_only_when_asked(bridge: SpanRecorder) -> None:
    set_tracing_options(record_chunks=True)
    try:
        list(ScriptedChatModel().stream("hi"))
    finally:
        reset_tracing_options()
    events = _by_name(bridge, "chat scripted-1").events
    assert [e.attributes["chunk"] for e in events][:4] == ["the ", "answer ", "is ", "3 "]


def test_custom_events_become_span_events_with_the_native_data_rules(
    bridge: SpanRecorder,
) -> None:
    data = {"step": "fetch", "meta": {"tries": 2}, "ids": [1, 2], "mixed": [1, "a"]}

    def step(x: int) -> int:
        dispatch_custom_event("progress", data)
        dispatch_custom_event("note", "plain text")
        return x

    RunnableLambda(step).invoke(1)
    lc_events = [(e.name, dict(e.attributes or {})) for e in _by_name(bridge, "step").events]
    bridge.clear()
    native.RunnableLambda(step_native(data)).invoke(1)
    native_events = _by_name(bridge, "step").events
    assert lc_events == [(e.name, dict(e.attributes or {})) for e in native_events]
    assert lc_events[0] == (
        "progress",
        {"step": "fetch", "meta.tries": 2, "ids": (1, 2), "mixed": '[1, "a"]'},
    )
    assert lc_events[1] == ("note", {"data": "plain text"})


def step_native(data: dict[str, Any]) -> Any:
    def step(x: int) -> int:
        native.dispatch_custom_event("progress", data)
        native.dispatch_custom_event("note", "plain text")
        return x

    return step


async def test_async_custom_events_in_a_tool(bridge: SpanRecorder) -> None:
    from langchain_core.tools import tool

    @tool
    async def lookup(city: str) -> str:
        """Look a city up."""
        await adispatch_custom_event("progress", {"city": city})
        return f"{city}: sunny"

    assert await lookup.ainvoke({"city": "Oslo"}) == "Oslo: sunny"
    span = _by_name(bridge, "execute_tool lookup")
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [
        ("progress", {"city": "Oslo"})
    ]


def test_an_error_is_an_error_span_and_still_propagates(bridge: SpanRecorder) -> None:
    def boom(x: int) -> int:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        (RunnableLambda(lambda x: x) | RunnableLambda(boom)).invoke(1)
    span = _by_name(bridge, "boom")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: bad input"
    assert span.attributes["error.type"] == "ValueError"
    assert [e.name for e in span.events] == ["exception"]
    assert _by_name(bridge, "RunnableSequence").status.status_code is StatusCode.ERROR


async def test_cancelled_and_abandoned_runs_end_their_spans(bridge: SpanRecorder) -> None:
    import asyncio

    started = asyncio.Event()

    async def slow(x: int) -> int:
        started.set()
        await asyncio.sleep(10)
        return x

    task = asyncio.ensure_future(RunnableLambda(slow).ainvoke(1))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _settled(bridge, "slow")  # langchain-core ends a run from a shielded task
    span = _by_name(bridge, "slow")
    assert span.attributes["runnable.cancelled"] is True
    assert span.status.status_code is StatusCode.UNSET

    async def numbers(chunks: Any) -> Any:
        for i in range(100):
            yield i

    stream = (RunnableLambda(lambda x: x) | RunnableGenerator(numbers)).astream(0)
    assert await anext(stream) == 0
    await stream.aclose()
    await _settled(bridge, "RunnableSequence")
    seq = _by_name(bridge, "RunnableSequence")
    assert seq.attributes["runnable.cancelled"] is True
    assert seq.end_time is not None


def test_a_stream_the_consumer_stops_is_marked_cancelled(bridge: SpanRecorder) -> None:
    """langchain-core ends a sync stream its consumer stopped as if it had completed."""

    def numbers(chunks: Any) -> Any:
        yield from range(100)

    stream = (RunnableLambda(lambda x: x) | RunnableGenerator(numbers)).stream(0)
    assert [next(stream), next(stream)] == [0, 1]
    stream.close()  # type: ignore[attr-defined]
    seq = _by_name(bridge, "RunnableSequence")
    assert seq.attributes["runnable.cancelled"] is True
    assert seq.attributes["runnable.stream.chunks"] == 2
    assert seq.status.status_code is StatusCode.UNSET
    # a stream consumed to its end is not
    bridge.clear()
    assert len(list((RunnableLambda(lambda x: x) | RunnableGenerator(numbers)).stream(0))) == 100
    assert "runnable.cancelled" not in _by_name(bridge, "RunnableSequence").attributes


async def test_a_cancelled_model_call_ends_its_span(bridge: SpanRecorder) -> None:
    """langchain-core sends no end for a chat model call cancelled while it runs."""
    import asyncio

    class Slow(ScriptedChatModel):
        async def _agenerate(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(10)

    task = asyncio.ensure_future(Slow().ainvoke("hi"))
    for _ in range(20):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = _by_name(bridge, "chat scripted-1")
    assert span.attributes["runnable.cancelled"] is True
    assert span.status.status_code is StatusCode.UNSET
