"""Span tree == run tree: names, kind, parenting and the run attributes, sync and async."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _support import Recorder
from opentelemetry.trace import SpanKind, StatusCode

from otel_runnables import (
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
)
from otel_runnables import _attributes as attrs
from otel_runnables.testing import SpanRecorder


def span_runs(recorder: SpanRecorder) -> dict[str, tuple[str | None, str]]:
    """The run tree as the spans tell it, after checking the spans agree with themselves."""
    spans = recorder.spans()
    by_span_id = {s.context.span_id: s for s in spans}
    runs: dict[str, tuple[str | None, str]] = {}
    for span in spans:
        assert span.kind is SpanKind.INTERNAL
        assert span.end_time is not None and span.start_time is not None
        assert span.start_time <= span.end_time
        attributes = span.attributes
        run_id = attributes[attrs.RUN_ID]
        parent_run_id = attributes.get(attrs.PARENT_RUN_ID)
        if parent_run_id is None:
            assert span.parent is None or span.parent.span_id not in by_span_id
        else:
            parent = by_span_id[span.parent.span_id]
            assert parent.attributes[attrs.RUN_ID] == parent_run_id
            assert parent.context.trace_id == span.context.trace_id
            assert parent.start_time <= span.start_time
            assert span.end_time <= parent.end_time
        assert attributes[attrs.RUN_TYPE] == "chain"
        assert attributes[attrs.OPENINFERENCE_SPAN_KIND] == "CHAIN"
        runs[run_id] = (parent_run_id, span.name)
    return runs


def double(x: int) -> int:
    return x * 2


async def adouble(x: int) -> int:
    return x * 2


def nested(x: int) -> int:
    return RunnableLambda(double, name="inner").invoke(x) + 1


async def anested(x: int) -> int:
    return await RunnableLambda(adouble, name="ainner").ainvoke(x) + 1


SEQUENCE_TREE = [
    (
        "RunnableSequence",
        [
            ("double", []),
            (
                "RunnableParallel<a,b>",
                [("RunnableLambda", []), ("nested", [("inner", [])])],
            ),
        ],
    )
]


def pipeline() -> Any:
    return RunnableLambda(double) | RunnableParallel(a=lambda x: x + 1, b=nested)


async def run(how: str, runnable: Any, value: Any, config: dict[str, Any]) -> Any:
    if how == "invoke":
        return runnable.invoke(value, config)
    if how == "ainvoke":
        return await runnable.ainvoke(value, config)
    if how == "stream":
        return list(runnable.stream(value, config))
    return [chunk async for chunk in runnable.astream(value, config)]


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
async def test_span_tree_equals_run_tree(otel_spans: SpanRecorder, how: str) -> None:
    handler = Recorder()
    await run(how, pipeline(), 1, {"callbacks": [handler]})
    assert otel_spans.tree() == SEQUENCE_TREE
    assert span_runs(otel_spans) == handler.runs()
    assert len({s.context.trace_id for s in otel_spans.spans()}) == 1


@pytest.mark.parametrize(
    ("step", "inner"), [(anested, "ainner"), (nested, "inner")], ids=["async", "sync-in-thread"]
)
async def test_nested_invoke_inside_async_step(
    otel_spans: SpanRecorder, step: Any, inner: str
) -> None:
    handler = Recorder()
    chain = RunnableLambda(step) | RunnablePassthrough()
    await chain.ainvoke(1, {"callbacks": [handler]})
    assert otel_spans.tree() == [
        ("RunnableSequence", [(step.__name__, [(inner, [])]), ("RunnablePassthrough", [])])
    ]
    assert span_runs(otel_spans) == handler.runs()


@pytest.mark.parametrize("how", ["batch", "abatch"])
async def test_batch_gives_one_trace_per_input(otel_spans: SpanRecorder, how: str) -> None:
    handler = Recorder()
    chain = RunnableLambda(double) | RunnableLambda(nested)
    inputs = [1, 2, 3]
    config = {"callbacks": [handler]}
    if how == "batch":
        assert chain.batch(inputs, config) == [5, 9, 13]
    else:
        assert await chain.abatch(inputs, config) == [5, 9, 13]
    one = ("RunnableSequence", [("double", []), ("nested", [("inner", [])])])
    assert otel_spans.tree() == [one, one, one]
    assert span_runs(otel_spans) == handler.runs()
    roots = [s for s in otel_spans.spans() if attrs.PARENT_RUN_ID not in s.attributes]
    assert len({s.context.trace_id for s in roots}) == 3
    assert sorted(json.loads(s.attributes[attrs.INPUT_VALUE]) for s in roots) == inputs


def words(chunks: Any) -> Any:
    for text in chunks:
        yield from text.split()


async def awords(chunks: Any) -> Any:
    async for text in chunks:
        for word in text.split():
            yield word


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
async def test_generators(otel_spans: SpanRecorder, how: str) -> None:
    gen = RunnableGenerator(words, awords, name="words")
    chain = RunnableLambda(str.lower) | gen | RunnableLambda(str.upper)
    handler = Recorder()
    result = await run(how, chain, "A B C", {"callbacks": [handler]})
    assert result in ("ABC", ["ABC"])  # a lambda adds its input chunks up
    assert otel_spans.tree() == [
        ("RunnableSequence", [("lower", []), ("words", []), ("upper", [])])
    ]
    assert span_runs(otel_spans) == handler.runs()
    (span,) = otel_spans.by_name("words")
    assert span.attributes[attrs.INPUT_VALUE] == "a b c"
    assert span.attributes[attrs.INPUT_MIME_TYPE] == "text/plain"
    if how in ("stream", "astream"):
        assert span.attributes[attrs.STREAM_CHUNKS] == 3
        assert span.attributes[attrs.OUTPUT_VALUE] == "abc"


async def test_astream_events_tree_matches_event_parents(otel_spans: SpanRecorder) -> None:
    runs: dict[str, tuple[str | None, str]] = {}
    async for event in pipeline().astream_events(1, version="v2"):
        if event["event"] == "on_chain_start":
            parent = event["parent_ids"][-1] if event["parent_ids"] else None
            runs[event["run_id"]] = (parent, event["name"])
    assert otel_spans.tree() == SEQUENCE_TREE
    assert span_runs(otel_spans) == runs


async def test_run_attributes(otel_spans: SpanRecorder) -> None:
    chain = RunnableLambda(double).with_config(
        tags=["t1", "t2"], metadata={"user": "ann", "nested": {"n": 1}, "ids": [1, 2]}
    )
    assert chain.invoke(21, {"run_name": "answer"}) == 42
    (span,) = otel_spans.spans()
    assert span.name == "answer"
    assert span.status.status_code is StatusCode.UNSET
    a = dict(span.attributes)
    assert a.pop(attrs.RUN_ID)
    assert a == {
        attrs.RUN_TYPE: "chain",
        attrs.OPENINFERENCE_SPAN_KIND: "CHAIN",
        attrs.TAGS: ("t1", "t2"),
        attrs.METADATA_PREFIX + "user": "ann",
        attrs.METADATA_PREFIX + "nested.n": 1,
        attrs.METADATA_PREFIX + "ids": (1, 2),
        attrs.INPUT_VALUE: "21",
        attrs.INPUT_MIME_TYPE: "application/json",
        attrs.OUTPUT_VALUE: "42",
        attrs.OUTPUT_MIME_TYPE: "application/json",
    }


async def test_run_id_from_config_is_the_span_attribute(otel_spans: SpanRecorder) -> None:
    import uuid

    run_id = uuid.uuid4()
    await RunnableLambda(adouble).ainvoke(1, {"run_id": run_id})
    (span,) = otel_spans.spans()
    assert span.attributes[attrs.RUN_ID] == str(run_id)


async def test_text_values_are_plain_text(otel_spans: SpanRecorder) -> None:
    RunnableLambda(str.upper).invoke("hi")
    (span,) = otel_spans.spans()
    assert span.attributes[attrs.INPUT_VALUE] == "hi"
    assert span.attributes[attrs.INPUT_MIME_TYPE] == "text/plain"
    assert span.attributes[attrs.OUTPUT_VALUE] == "HI"
    assert span.attributes[attrs.OUTPUT_MIME_TYPE] == "text/plain"


async def test_streamed_runs_record_chunk_count_and_first_chunk_time(
    otel_spans: SpanRecorder,
) -> None:
    chain = RunnableGenerator(words, awords, name="words")
    assert [c async for c in chain.astream("a b c d")] == ["a", "b", "c", "d"]
    (span,) = otel_spans.spans()
    assert span.attributes[attrs.STREAM_CHUNKS] == 4
    first = span.attributes[attrs.STREAM_FIRST_CHUNK_MS]
    assert isinstance(first, float)
    assert 0 <= first <= (span.end_time - span.start_time) / 1e6
    assert not [e for e in span.events if e.name == attrs.CHUNK_EVENT]
    # A plain invoke streams nothing: no streaming attributes.
    otel_spans.clear()
    RunnableLambda(double).invoke(1)
    (span,) = otel_spans.spans()
    assert attrs.STREAM_CHUNKS not in span.attributes
    assert attrs.STREAM_FIRST_CHUNK_MS not in span.attributes
