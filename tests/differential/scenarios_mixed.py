"""Mixed pipelines: otel_runnables and langchain-core steps in one pipeline.

Each scenario builds its pipeline from two kinds of runnable, ``A`` and ``B``. On the oracle
both are langchain-core's, so the oracle log is an all-langchain pipeline of the same shape; on
ours ``A`` is otel_runnables and ``B`` langchain-core (or the other way round), so the
comparison says that crossing the boundary changes nothing a handler or an ``astream_events``
consumer can see: same outputs, same events, same order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .scenarios import Lib, Recorder, load_oracle, scenario

_ORACLE: Lib | None = None


def _oracle() -> Lib:
    global _ORACLE
    if _ORACLE is None:
        _ORACLE = load_oracle()
    return _ORACLE


def ours_then_lc(lib: Lib) -> tuple[Lib, Lib]:
    """(A, B): ours then langchain-core on ours; langchain-core twice on the oracle."""
    return lib, _oracle()


def lc_then_ours(lib: Lib) -> tuple[Lib, Lib]:
    """(A, B): langchain-core then ours on ours; langchain-core twice on the oracle."""
    return _oracle(), lib


def _steps(a: Lib, b: Lib) -> Any:
    """a | b | a over ints, each step dispatching a custom event of its own kind."""

    def first(x: int) -> int:
        a.dispatch_custom_event("first", {"x": x})
        return x + 1

    def second(x: int) -> int:
        b.dispatch_custom_event("second", {"x": x})
        return x * 10

    def third(x: int) -> str:
        a.dispatch_custom_event("third", {"x": x})
        return f"<{x}>"

    return (
        a.RunnableLambda(first, name="first")
        | b.RunnableLambda(second, name="second")
        | a.RunnableLambda(third, name="third")
    )


@scenario()
def s_mixed_sequence_invoke_ours_outer(lib: Lib, rec: Recorder) -> None:
    """ours | lc | ours with a handler of ours, tags, metadata and a run name."""
    a, b = ours_then_lc(lib)
    config = {
        "callbacks": [rec.handler()],
        "tags": ["t"],
        "metadata": {"user": "ada"},
        "run_name": "mixed",
    }
    rec.outcome(_steps(a, b).invoke, 1, config)


@scenario()
def s_mixed_sequence_invoke_lc_outer(lib: Lib, rec: Recorder) -> None:
    """lc | ours | lc with a langchain-core handler: ours reports to langchain's handlers."""
    a, b = lc_then_ours(lib)
    handler = Recorder(_oracle()).handler()
    handler.sink = rec.log
    rec.outcome(_steps(a, b).invoke, 1, {"callbacks": [handler], "tags": ["t"]})


@scenario()
async def s_mixed_sequence_ainvoke_async_handler(lib: Lib, rec: Recorder) -> None:
    """ours | lc | ours, ainvoke, an async handler: events in langchain-core's order."""
    a, b = ours_then_lc(lib)
    await rec.aoutcome(_steps(a, b).ainvoke(1, {"callbacks": [rec.handler(is_async=True)]}))


@scenario()
async def s_mixed_astream_events_ours_outer(lib: Lib, rec: Recorder) -> None:
    """astream_events of ours | lc | ours: one stream with every run's events."""
    a, b = ours_then_lc(lib)
    await rec.events(_steps(a, b), 1, {"tags": ["root"]})


@scenario()
async def s_mixed_astream_events_lc_outer(lib: Lib, rec: Recorder) -> None:
    """astream_events of lc | ours | lc: langchain-core's stream sees our runs."""
    a, b = lc_then_ours(lib)
    await rec.events(_steps(a, b), 1)


def _streaming(a: Lib, b: Lib) -> Any:
    def words(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield from chunk.split()

    async def awords(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for chunk in chunks:
            for word in chunk.split():
                yield word

    def shout(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield chunk.upper() + "!"

    async def ashout(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for chunk in chunks:
            yield chunk.upper() + "!"

    return (
        a.RunnableLambda(lambda s: s.strip(), name="strip")
        | b.RunnableGenerator(words, awords, name="words")
        | a.RunnableGenerator(shout, ashout, name="shout")
    )


@scenario()
def s_mixed_stream_chunks_pass_through(lib: Lib, rec: Recorder) -> None:
    """stream of ours | lc generator | ours generator: chunks as they come, handler events."""
    a, b = ours_then_lc(lib)
    rec.stream(_streaming(a, b), " a b c ", {"callbacks": [rec.handler()]})


@scenario()
async def s_mixed_astream_events_streaming(lib: Lib, rec: Recorder) -> None:
    """astream_events of a streaming lc | ours | lc pipeline: stream events of every step."""
    a, b = lc_then_ours(lib)
    await rec.events(_streaming(a, b), " a b ")


@scenario()
async def s_mixed_astream_events_streaming_ours_outer(lib: Lib, rec: Recorder) -> None:
    """astream_events of a streaming ours | lc | ours pipeline."""
    a, b = ours_then_lc(lib)
    await rec.events(_streaming(a, b), " a b ")


@scenario()
def s_mixed_parallel_ours_with_lc_branches(lib: Lib, rec: Recorder) -> None:
    """Our RunnableParallel with a langchain-core branch and one of ours (map:key:K tags)."""
    a, b = ours_then_lc(lib)
    parallel = a.RunnableParallel(
        left=b.RunnableLambda(lambda x: x + 1, name="left"),
        right=a.RunnableLambda(lambda x: x * 2, name="right"),
    )
    rec.outcome(parallel.invoke, 3, {"callbacks": [rec.handler()], "max_concurrency": 1})


@scenario()
def s_mixed_parallel_lc_with_our_branches(lib: Lib, rec: Recorder) -> None:
    """A langchain-core RunnableParallel (a dict in its sequence) with one of our branches."""
    a, b = lc_then_ours(lib)
    seq = a.RunnableLambda(lambda x: x, name="start") | {
        "mine": b.RunnableLambda(lambda x: x * 3, name="mine"),
    }
    rec.outcome(seq.invoke, 2, {"callbacks": [rec.handler()]})


@scenario()
def s_mixed_error_in_lc_step(lib: Lib, rec: Recorder) -> None:
    """A langchain-core step fails inside our sequence: errors on both sides, propagates."""
    a, b = ours_then_lc(lib)

    def fail(x: int) -> int:
        raise ValueError(f"cannot take {x}")

    seq = a.RunnableLambda(lambda x: x, name="before") | b.RunnableLambda(fail)
    rec.outcome(seq.invoke, 7, {"callbacks": [rec.handler()]})


@scenario()
def s_mixed_fallbacks_lc_fallback(lib: Lib, rec: Recorder) -> None:
    """Our runnable with a langchain-core fallback, streamed (on invoke langchain-core makes
    the attempts siblings of the fallbacks run: a documented difference of ours)."""
    a, b = ours_then_lc(lib)

    def down(x: int) -> int:
        raise TimeoutError("primary down")

    chain = a.RunnableLambda(down).with_fallbacks([b.RunnableLambda(lambda x: -x, name="backup")])
    rec.stream(chain, 4, {"callbacks": [rec.handler()]})


@scenario()
def s_mixed_assign_with_lc_value(lib: Lib, rec: Recorder) -> None:
    """Our RunnablePassthrough.assign computing a key with a langchain-core step."""
    a, b = ours_then_lc(lib)
    assign = a.RunnablePassthrough.assign(total=b.RunnableLambda(lambda d: d["x"] + d["y"]))
    rec.outcome(assign.invoke, {"x": 1, "y": 2}, {"callbacks": [rec.handler()]})


@scenario()
def s_mixed_batch(lib: Lib, rec: Recorder) -> None:
    """batch of ours | lc | ours (one sequence run per input, steps batched)."""
    a, b = ours_then_lc(lib)
    rec.outcome(_steps(a, b).batch, [1, 2], {"callbacks": [rec.handler()], "max_concurrency": 1})


@scenario()
async def s_mixed_abatch(lib: Lib, rec: Recorder) -> None:
    """abatch of lc | ours | lc."""
    a, b = lc_then_ours(lib)
    handler = rec.handler(is_async=True)
    await rec.aoutcome(_steps(a, b).abatch([1, 2], {"callbacks": [handler], "max_concurrency": 1}))


@scenario()
def s_mixed_nested_call_from_step_code(lib: Lib, rec: Recorder) -> None:
    """A langchain-core step's code invokes one of ours without config: it is its child."""
    a, b = lc_then_ours(lib)
    inner = b.RunnableLambda(lambda x: x * 3, name="inner")

    def outer(x: int) -> int:
        return inner.invoke(x) + 1

    rec.outcome(a.RunnableLambda(outer).invoke, 2, {"callbacks": [rec.handler()]})


@scenario()
def s_mixed_step_code_passes_config_to_lc(lib: Lib, rec: Recorder) -> None:
    """Our step's code hands its config to a langchain-core runnable: a child run."""
    a, b = ours_then_lc(lib)
    inner = b.RunnableLambda(lambda x: x * 3, name="inner")

    def outer(x: int, config: Any) -> int:
        return inner.invoke(x, config) + 1

    rec.outcome(a.RunnableLambda(outer).invoke, 2, {"callbacks": [rec.handler()], "tags": ["t"]})


@scenario()
async def s_mixed_async_custom_events_both_kinds(lib: Lib, rec: Recorder) -> None:
    """Async steps of both kinds dispatch custom events; astream_events and a handler."""
    a, b = ours_then_lc(lib)

    async def tick(x: int) -> int:
        await a.adispatch_custom_event("tick", {"x": x})
        return x + 1

    async def tock(x: int) -> int:
        await b.adispatch_custom_event("tock", {"x": x})
        await asyncio.sleep(0)
        return x * 2

    seq = a.RunnableLambda(tick) | b.RunnableLambda(tock)
    await rec.events(seq, 1)


def _model_pipeline(a: Lib) -> Any:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("system", "terse"), ("human", "{q}")])
    model = GenericFakeChatModel(messages=iter([AIMessage("spans all the way")]))
    return (
        a.RunnableLambda(lambda q: {"q": q}, name="shape")
        | prompt
        | model
        | StrOutputParser()
        | a.RunnableLambda(lambda s: s.upper(), name="loud")
    )


@scenario()
async def s_mixed_prompt_and_chat_model_events(lib: Lib, rec: Recorder) -> None:
    """Our steps around a langchain-core prompt, chat model and parser: the chat model's
    start/stream/end events as langchain-core shows them, in one stream."""
    a, _ = ours_then_lc(lib)
    await rec.events(_model_pipeline(a), "why?")


@scenario()
def s_mixed_tool_and_retriever_handlers(lib: Lib, rec: Recorder) -> None:
    """A langchain-core tool and retriever inside our sequence: handler sees their runs."""
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.tools import tool

    a, _ = ours_then_lc(lib)

    class Words(BaseRetriever):
        def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
            return [Document(w) for w in query.split()]

    @tool
    def count(text: str) -> int:
        """Count the words."""
        return len(text.split())

    handler = rec.handler(hooks=("on_chain_start", "on_chain_end"))
    for hook in ("on_tool_start", "on_tool_end", "on_retriever_start", "on_retriever_end"):
        setattr(type(handler), hook, _recording_hook(hook))
    seq = (
        Words()
        | a.RunnableLambda(lambda docs: " ".join(d.page_content for d in docs), name="join")
        | count
    )
    rec.outcome(seq.invoke, "a b c", {"callbacks": [handler]})


def _recording_hook(hook: str) -> Any:
    def record(self: Any, first: Any, *args: Any, **kw: Any) -> None:
        self._record(hook, run_id=kw.get("run_id"), parent_run_id=kw.get("parent_run_id"))

    return record
