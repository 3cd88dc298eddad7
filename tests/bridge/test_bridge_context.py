"""Context both ways: while a langchain-core run's code executes, its span is the current span
(a user span or an instrumented client inside it is its child); a chain invoked inside a user
span is that span's child; afterwards the caller's context is exactly what it was. Never a
"Failed to detach context", with errors, cancellation and abandoned streams included."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from langchain_core.runnables import RunnableGenerator, RunnableLambda, RunnableParallel
from langchain_core.tools import tool
from opentelemetry import trace

from otel_runnables.testing import SpanRecorder

from ._support import ScriptedChatModel, WordsRetriever, current_span_name

pytestmark = pytest.mark.usefixtures("no_detach_errors")

@pytest.fixture
def no_detach_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    bad = [r.getMessage() for r in caplog.records if "detach" in r.getMessage().lower()]
    assert not bad, bad


def _user_span_parent(spans: SpanRecorder, user: str = "user") -> str:
    """The name of the span that is the parent of each user span (all must agree)."""
    by_id = {s.context.span_id: s.name for s in spans.spans()}
    parents = {by_id.get(s.parent.span_id) if s.parent else None for s in spans.by_name(user)}
    assert len(parents) == 1, parents
    return parents.pop()  # type: ignore[return-value]


def _open_user_span(x: Any) -> Any:
    """What user code in a step does: open a span of its own (as an HTTP client would)."""
    with _tracer().start_as_current_span("user"):
        pass
    return x


def _tracer() -> trace.Tracer:
    from otel_runnables._otel import SPAN_SINK

    provider = SPAN_SINK.tracer_provider
    assert provider is not None
    return provider.get_tracer("user-code")


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream", "astream", "batch"])
async def test_user_span_inside_a_lambda_is_its_child(bridge: SpanRecorder, mode: str) -> None:
    def step(x: int) -> int:
        return _open_user_span(x) + 1

    chain = RunnableLambda(lambda x: x, name="first") | RunnableLambda(step, name="step")
    if mode == "invoke":
        assert chain.invoke(1) == 2
    elif mode == "ainvoke":
        assert await chain.ainvoke(1) == 2
    elif mode == "stream":
        assert list(chain.stream(1)) == [2]
    elif mode == "astream":
        assert [c async for c in chain.astream(1)] == [2]
    else:
        assert chain.batch([1, 2]) == [2, 3]
    assert _user_span_parent(bridge) == "step"


async def test_user_span_inside_async_function_and_generators(bridge: SpanRecorder) -> None:
    async def astep(x: int) -> int:
        await asyncio.sleep(0)
        return _open_user_span(x)

    def gen(chunks: Iterator[int]) -> Iterator[int]:
        for chunk in chunks:
            yield _open_user_span(chunk)

    async def agen(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for chunk in chunks:
            yield _open_user_span(chunk)

    assert await RunnableLambda(astep).ainvoke(1) == 1
    assert _user_span_parent(bridge) == "astep"
    bridge.clear()
    assert list((RunnableLambda(lambda x: x) | RunnableGenerator(gen)).stream(3)) == [3]
    assert _user_span_parent(bridge) == "gen"
    bridge.clear()
    stream = (RunnableLambda(lambda x: x) | RunnableGenerator(agen)).astream(3)
    assert [c async for c in stream] == [3]
    assert _user_span_parent(bridge) == "agen"


def test_parallel_branches_in_langchains_threads(bridge: SpanRecorder) -> None:
    def left(x: int) -> int:
        return _open_user_span(x)

    RunnableParallel(left=left, right=lambda x: x).invoke(1)
    assert _user_span_parent(bridge) == "left"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_user_span_inside_a_tool(bridge: SpanRecorder, mode: str) -> None:
    @tool
    def shout(text: str) -> str:
        """Shout."""
        return _open_user_span(text.upper())

    @tool
    async def ashout(text: str) -> str:
        """Shout, async."""
        return _open_user_span(text.upper())

    if mode == "sync":
        assert shout.invoke({"text": "a"}) == "A"
        assert _user_span_parent(bridge) == "execute_tool shout"
    else:
        assert await ashout.ainvoke({"text": "a"}) == "A"
        assert _user_span_parent(bridge) == "execute_tool ashout"


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "batch", "stream", "astream"])
async def test_a_chat_models_own_code_runs_in_its_span(bridge: SpanRecorder, mode: str) -> None:
    model = ScriptedChatModel()
    if mode == "invoke":
        model.invoke("hi")
    elif mode == "ainvoke":
        await model.ainvoke("hi")
    elif mode == "batch":
        model.batch(["a", "b"])
    elif mode == "stream":
        consumer_saw = []
        for _ in model.stream("hi"):
            consumer_saw.append(current_span_name())
        assert set(consumer_saw) == {None}  # never current in the consumer's code
    else:
        async for _ in model.astream("hi"):
            assert current_span_name() is None
    assert model.seen_spans and set(model.seen_spans) == {"chat scripted-1"}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_retrievers_own_code_runs_in_its_span(bridge: SpanRecorder, mode: str) -> None:
    retriever = WordsRetriever()
    if mode == "sync":
        retriever.invoke("a b")
    else:
        await retriever.ainvoke("a b")
    assert retriever.seen_spans == ["retrieval WordsRetriever"]
    assert current_span_name() is None


def test_a_chain_invoked_inside_a_user_span_is_its_child(bridge: SpanRecorder) -> None:
    with _tracer().start_as_current_span("request") as request:
        RunnableLambda(lambda x: x, name="step").invoke(1)
        assert trace.get_current_span() is request
    (step,) = bridge.by_name("step")
    assert step.parent is not None
    assert step.parent.span_id == request.get_span_context().span_id
    assert step.context.trace_id == request.get_span_context().trace_id


async def test_consecutive_runs_are_separate_traces_and_leave_no_span_current(
    bridge: SpanRecorder,
) -> None:
    chain = RunnableLambda(lambda x: x, name="a") | RunnableLambda(lambda x: x, name="b")
    before = trace.get_current_span()
    await chain.ainvoke(1)
    assert trace.get_current_span() is before
    await chain.ainvoke(2)
    chain.invoke(3)
    assert trace.get_current_span() is before
    roots = bridge.by_name("RunnableSequence")
    assert len(roots) == 3
    assert len({s.context.trace_id for s in roots}) == 3
    assert all(s.parent is None for s in roots)


def test_a_thread_the_step_starts_with_its_context_sees_the_span(bridge: SpanRecorder) -> None:
    def step(x: int) -> int:
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(_open_user_span, x))
        worker.start()
        worker.join()
        return x

    RunnableLambda(step).invoke(1)
    assert _user_span_parent(bridge) == "step"


async def test_errors_cancellation_and_abandoned_streams_restore_the_context(
    bridge: SpanRecorder,
) -> None:
    def boom(x: int) -> int:
        _open_user_span(x)
        raise ValueError("no")

    before = trace.get_current_span()
    with pytest.raises(ValueError):
        RunnableLambda(boom).invoke(1)
    with pytest.raises(ValueError):
        await RunnableLambda(boom).ainvoke(1)
    assert trace.get_current_span() is before

    def numbers(chunks: Iterator[int]) -> Iterator[int]:
        yield from range(10)

    stream = (RunnableLambda(lambda x: x) | RunnableGenerator(numbers)).stream(0)
    assert next(stream) == 0
    assert trace.get_current_span() is before  # not left current between chunks
    stream.close()  # type: ignore[attr-defined]
    model_stream = ScriptedChatModel().astream("hi")
    await anext(model_stream)
    assert current_span_name() is None
    await model_stream.aclose()  # type: ignore[attr-defined]

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
    assert trace.get_current_span() is before
    for _ in range(20):  # the shielded end callbacks
        await asyncio.sleep(0)
