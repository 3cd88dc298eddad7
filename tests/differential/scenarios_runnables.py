"""Scenarios about runnable kinds: sequences, parallel, passthrough, generators, batch, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .scenarios import Lib, Recorder, scenario

THREADS = (
    "sync branches/batch items run in a thread pool, so the oracle reports concurrent "
    "runs in whatever order the threads happen to finish"
)
PY_SCHEDULING = (
    "the oracle starts concurrent abatch items in a different order on Python 3.13 than on "
    "3.11/3.12 (asyncio scheduling), so only each run's own order is a contract"
)
TASKS = (
    "concurrent asyncio tasks (and sync steps in executor threads): how their callbacks "
    "interleave depends on where each implementation yields to the event loop, and varies "
    "between oracle runs when threads are involved"
)

# --------------------------------------------------------------------------- nesting


@scenario()
def s_nested_invoke_without_config(lib: Lib, rec: Recorder) -> None:
    """A step invokes another runnable without passing config: it becomes a child run."""
    inner = lib.RunnableLambda(lambda x: x * 3, name="inner")

    def outer(x: int) -> int:
        return inner.invoke(x) + 1

    rec.outcome(lib.RunnableLambda(outer).invoke, 2, {"callbacks": [rec.handler()]})


@scenario()
async def s_nested_ainvoke_events(lib: Lib, rec: Recorder) -> None:
    """Async step awaits a child with config passed explicitly; events include both runs."""

    async def inner(x: int) -> int:
        await lib.adispatch_custom_event("inner_tick", {"x": x})
        return x * 3

    inner_r = lib.RunnableLambda(inner)

    async def outer(x: int, config: Any) -> int:
        return await inner_r.ainvoke(x, config) + 1

    await rec.events(lib.RunnableLambda(outer), 2)


@scenario()
def s_nested_error_propagates(lib: Lib, rec: Recorder) -> None:
    """Error in a nested child: on_chain_error for child and parent; exception propagates."""

    def inner(x: int) -> int:
        raise ValueError(f"inner failed on {x}")

    inner_r = lib.RunnableLambda(inner)
    outer = lib.RunnableLambda(lambda x: inner_r.invoke(x), name="outer")
    rec.outcome(outer.invoke, 5, {"callbacks": [rec.handler()]})


@scenario()
def s_nested_error_caught(lib: Lib, rec: Recorder) -> None:
    """The parent catches its child's error and returns normally."""

    def inner(x: int) -> int:
        raise KeyError("missing")

    inner_r = lib.RunnableLambda(inner)

    def outer(x: int) -> str:
        try:
            return str(inner_r.invoke(x))
        except KeyError as exc:
            return f"recovered {exc}"

    rec.outcome(lib.RunnableLambda(outer).invoke, 5, {"callbacks": [rec.handler()]})


# --------------------------------------------------------------------------- sequences


def _double(x: int) -> int:
    return x * 2


@scenario()
def s_sequence_pipe_functions_invoke(lib: Lib, rec: Recorder) -> None:
    """RunnableLambda | plain function | lambda, with call-time tags and metadata."""
    seq = lib.RunnableLambda(lambda x: x + 1) | _double | (lambda x: x - 3)
    rec.add("type", is_sequence=isinstance(seq, lib.RunnableSequence))
    rec.outcome(
        seq.invoke, 4, {"callbacks": [rec.handler()], "tags": ["t1"], "metadata": {"k": "v"}}
    )


@scenario()
def s_sequence_explicit_constructor(lib: Lib, rec: Recorder) -> None:
    """RunnableSequence(first, middle, last) built explicitly, with a run_name."""
    seq = lib.RunnableSequence(
        lib.RunnableLambda(_double),
        lib.RunnableLambda(lambda x: x + 1),
        lib.RunnableLambda(str),
        name="Explicit",
    )
    rec.outcome(seq.invoke, 4, {"callbacks": [rec.handler()]})


@scenario()
async def s_sequence_async_steps_events(lib: Lib, rec: Recorder) -> None:
    """Sequence of async steps under astream_events: inputs/outputs of inner steps."""

    async def a(x: int) -> int:
        return x + 1

    async def b(x: int) -> dict[str, int]:
        return {"v": x}

    await rec.events(lib.RunnableLambda(a) | lib.RunnableLambda(b), 1, {"tags": ["root"]})


@scenario(relaxed=TASKS)
async def s_sequence_coerced_dict_events(lib: Lib, rec: Recorder) -> None:
    """Step piped into a dict literal (coerced to RunnableParallel), astream_events."""
    seq = lib.RunnableLambda(lambda x: x + 1) | {
        "double": lib.RunnableLambda(_double),
        "same": lib.RunnablePassthrough(),
    }
    await rec.events(seq, 1)


@scenario()
def s_sequence_error_middle(lib: Lib, rec: Recorder) -> None:
    """Second of three steps fails: third never starts, sequence errors."""

    def boom(x: int) -> int:
        raise RuntimeError("step two broke")

    seq = lib.RunnableLambda(_double) | lib.RunnableLambda(boom) | lib.RunnableLambda(str)
    rec.outcome(seq.invoke, 1, {"callbacks": [rec.handler()]})


@scenario()
def s_error_type_and_message(lib: Lib, rec: Recorder) -> None:
    """A KeyError (str adds quotes) propagates unchanged; handler sees on_chain_error."""

    def lookup(x: dict[str, int]) -> int:
        return x["absent"]

    rec.outcome(lib.RunnableLambda(lookup).invoke, {"present": 1}, {"callbacks": [rec.handler()]})


@scenario()
async def s_error_nested_astream_events(lib: Lib, rec: Recorder) -> None:
    """Error inside a nested step while consumed by astream_events (no error events in v2)."""

    async def fail(x: int) -> int:
        raise ValueError("nested async failure")

    inner = lib.RunnableLambda(fail)

    async def outer(x: int) -> int:
        return await inner.ainvoke(x)

    await rec.events(lib.RunnableLambda(outer), 1, {"callbacks": [rec.handler(is_async=True)]})


# --------------------------------------------------------------------------- generators / streaming


def _gen_words(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        for word in chunk.split():
            yield word.upper()


async def _agen_words(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for chunk in chunks:
        for word in chunk.split():
            yield word.upper() + "!"


@scenario()
def s_stream_sequence_with_generators(lib: Lib, rec: Recorder) -> None:
    """stream() of lambda | RunnableGenerator | generator-function lambda; handler inputs.

    The generator-function lambda gets the aggregated string, so it yields one chunk per letter.
    """

    def exclaim(text: str) -> Iterator[str]:
        for letter in text:
            yield letter + "."

    seq = (
        lib.RunnableLambda(lambda s: s.strip())
        | lib.RunnableGenerator(_gen_words)
        | lib.RunnableLambda(exclaim)
    )
    rec.stream(seq, "  hello big world ", {"callbacks": [rec.handler()]})


@scenario()
async def s_astream_async_generators(lib: Lib, rec: Recorder) -> None:
    """astream() of an async RunnableGenerator | async generator-function lambda.

    The lambda receives its whole (aggregated) input and streams what it yields.
    """

    async def letters(text: str) -> AsyncIterator[str]:
        for part in text.split("!"):
            if part:
                yield f"<{part}>"

    seq = lib.RunnableGenerator(_agen_words) | lib.RunnableLambda(letters)
    await rec.astream(seq, "a b c", {"callbacks": [rec.handler(is_async=True)]})


@scenario()
async def s_astream_events_generators(lib: Lib, rec: Recorder) -> None:
    """astream_events of a streaming sequence: on_chain_stream per chunk, inner inputs/outputs."""

    async def announce(words: AsyncIterator[str]) -> AsyncIterator[str]:
        async for word in words:
            await lib.adispatch_custom_event("word", {"w": word})
            yield word

    seq = (
        lib.RunnableLambda(lambda s: s.lower())
        | lib.RunnableGenerator(_agen_words)
        | lib.RunnableGenerator(announce)
    )
    await rec.events(seq, "X Y")


@scenario()
def s_stream_sync_generator_lambda_events(lib: Lib, rec: Recorder) -> None:
    """stream() of a sync generator-function lambda dispatching a custom event per item."""

    def count(x: int) -> Iterator[int]:
        for i in range(x):
            lib.dispatch_custom_event("counted", i)
            yield i

    rec.stream(lib.RunnableLambda(count), 3, {"callbacks": [rec.handler()]})


@scenario()
async def s_astream_events_sync_generator_lambda_unsupported(lib: Lib, rec: Recorder) -> None:
    """A sync generator-function lambda cannot be streamed asynchronously (TypeError)."""

    def count(x: int) -> Iterator[int]:
        yield from range(x)

    await rec.events(lib.RunnableLambda(count), 3)


@scenario()
def s_generator_invoke_aggregates(lib: Lib, rec: Recorder) -> None:
    """invoke() on a RunnableGenerator adds the chunks up; on_chain_end has the sum."""
    rec.outcome(lib.RunnableGenerator(_gen_words).invoke, "ab cd", {"callbacks": [rec.handler()]})


@scenario()
async def s_generator_sync_async_pair(lib: Lib, rec: Recorder) -> None:
    """RunnableGenerator(sync, async): stream/invoke use the sync one, astream/ainvoke the async."""

    def times2(items: Iterator[int]) -> Iterator[int]:
        for item in items:
            yield item * 2

    async def times3(items: AsyncIterator[int]) -> AsyncIterator[int]:
        async for item in items:
            yield item * 3

    gen = lib.RunnableGenerator(times2, times3)
    handler = rec.handler(is_async=True)
    rec.stream(gen, 1, {"callbacks": [handler]})
    await rec.astream(gen, 1, {"callbacks": [handler]})
    rec.outcome(gen.invoke, 1)
    await rec.aoutcome(gen.ainvoke(1))


@scenario()
async def s_generator_sync_only_astream_unsupported(lib: Lib, rec: Recorder) -> None:
    """A sync-only RunnableGenerator cannot be streamed asynchronously (NotImplementedError)."""

    def times2(items: Iterator[int]) -> Iterator[int]:
        for item in items:
            yield item * 2

    await rec.astream(lib.RunnableGenerator(times2), 1)


UPSTREAM_CLOSED = (
    "when a streamed step fails, ours closes the steps upstream of it at once, so their runs "
    "end (marked cancelled on the span) before the sequence's error; the oracle leaves them "
    "suspended until the garbage collector closes them, after the error"
)


def _upstream_end(record: dict[str, Any]) -> bool:
    ends = (record.get("hook") == "on_chain_end", record.get("event") == "on_chain_end")
    return any(ends) and record.get("run_id") == "run1"


def _without_upstream_end(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our log less the end of the first step (run1), which only ours reports."""
    return [r for r in log if not _upstream_end(r)]


FALLBACKS_NESTED = (
    "ours makes every fallback attempt a child of the RunnableWithFallbacks run, so the span "
    "tree nests them; on invoke the oracle passes the parent's config to the attempts, which "
    "makes them siblings (here: roots, parent_run_id None) — its streaming path nests them"
)


def _attempts_as_roots(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our log with the attempts' parent (run0, the fallbacks run) replaced by None."""
    return [{**r, "parent_run_id": None} if r.get("parent_run_id") == "run0" else r for r in log]


@scenario(divergence=(UPSTREAM_CLOSED, _without_upstream_end))
def s_stream_error_in_sequence(lib: Lib, rec: Recorder) -> None:
    """A generator fails after two chunks while a sequence is streamed."""

    def flaky(items: Iterator[int]) -> Iterator[int]:
        for item in items:
            yield item
            yield item + 1
            raise ValueError("generator gave up")

    seq = lib.RunnableLambda(_double) | lib.RunnableGenerator(flaky)
    rec.stream(seq, 5, {"callbacks": [rec.handler()]})


@scenario(divergence=(UPSTREAM_CLOSED, _without_upstream_end))
async def s_astream_events_error_in_generator(lib: Lib, rec: Recorder) -> None:
    """Same failure seen through astream_events: events so far, then the exception."""

    async def flaky(items: AsyncIterator[int]) -> AsyncIterator[int]:
        async for item in items:
            yield item
            raise ValueError("async generator gave up")

    seq = lib.RunnableLambda(_double) | lib.RunnableGenerator(flaky)
    await rec.events(seq, 5)


# --------------------------------------------------------------------------- parallel / passthrough


@scenario(relaxed=THREADS)
def s_parallel_named_keys_invoke(lib: Lib, rec: Recorder) -> None:
    """RunnableParallel(a=..., b=...) invoked: map:key:K tags, result keys."""
    par = lib.RunnableParallel(a=lib.RunnableLambda(_double), b=lambda x: x + 100)
    rec.outcome(par.invoke, 1, {"callbacks": [rec.handler()]})


@scenario()
async def s_parallel_async_branches_ainvoke(lib: Lib, rec: Recorder) -> None:
    """RunnableParallel from a dict of async branches, ainvoke with an async handler."""

    async def left(x: int) -> int:
        return x - 1

    async def right(x: int) -> int:
        return x + 1

    par = lib.RunnableParallel(
        {"left": lib.RunnableLambda(left), "right": lib.RunnableLambda(right)}
    )
    await rec.aoutcome(par.ainvoke(10, {"callbacks": [rec.handler(is_async=True)]}))


@scenario(relaxed=TASKS)
async def s_parallel_custom_events_in_branches(lib: Lib, rec: Recorder) -> None:
    """Each branch dispatches a custom event; parent_ids include the parallel run."""

    def make(tag: str) -> Any:
        async def branch(x: int) -> str:
            await lib.adispatch_custom_event(f"in_{tag}", {"x": x})
            return f"{tag}{x}"

        return lib.RunnableLambda(branch, name=f"branch_{tag}")

    seq = lib.RunnableLambda(_double) | lib.RunnableParallel(p=make("p"), q=make("q"))
    await rec.events(seq, 2)


@scenario(relaxed=THREADS)
def s_seq_step_and_map_key_tags(lib: Lib, rec: Recorder) -> None:
    """Tags seq:step:N and map:key:K on the children of a sequence containing a map."""
    seq = lib.RunnableSequence(
        lib.RunnableLambda(_double),
        {"x": lib.RunnableLambda(lambda v: v + 1), "y": lib.RunnablePassthrough()},
        lib.RunnableLambda(lambda d: d["x"] + d["y"], name="combine"),
    )
    rec.outcome(seq.invoke, 1, {"callbacks": [rec.handler()], "tags": ["outer"]})


@scenario()
def s_passthrough_invoke(lib: Lib, rec: Recorder) -> None:
    """RunnablePassthrough alone and in a sequence."""
    seq = lib.RunnablePassthrough() | lib.RunnableLambda(lambda d: sorted(d))
    rec.outcome(seq.invoke, {"b": 1, "a": 2}, {"callbacks": [rec.handler()]})


@scenario(relaxed=THREADS)
def s_passthrough_assign_invoke(lib: Lib, rec: Recorder) -> None:
    """RunnablePassthrough.assign adds keys computed from the input."""
    assign = lib.RunnablePassthrough.assign(total=lambda d: d["a"] + d["b"])
    rec.outcome(assign.invoke, {"a": 1, "b": 2}, {"callbacks": [rec.handler()]})


@scenario()
async def s_passthrough_assign_astream(lib: Lib, rec: Recorder) -> None:
    """astream chunks of RunnablePassthrough.assign with an async branch."""

    async def total(d: dict[str, int]) -> int:
        return d["a"] + d["b"]

    assign = lib.RunnablePassthrough.assign(total=lib.RunnableLambda(total))
    await rec.astream(assign, {"a": 1, "b": 2})


@scenario()
async def s_passthrough_events(lib: Lib, rec: Recorder) -> None:
    """RunnablePassthrough | async step under astream_events."""

    async def shout(s: str) -> str:
        return s.upper()

    await rec.events(lib.RunnablePassthrough() | lib.RunnableLambda(shout), "hi")


# --------------------------------------------------------------------------- chain decorator


@scenario()
def s_chain_decorator_nested(lib: Lib, rec: Recorder) -> None:
    """@chain function calling another runnable and dispatching an event."""
    inner = lib.RunnableLambda(lambda x: x + 1, name="plus_one")

    @lib.chain
    def pipeline(x: int) -> int:
        lib.dispatch_custom_event("pipeline_event", {"x": x})
        return inner.invoke(x) * 2

    rec.outcome(pipeline.invoke, 1, {"callbacks": [rec.handler()]})


@scenario()
async def s_chain_decorator_async_events(lib: Lib, rec: Recorder) -> None:
    """@chain on an async function, consumed by astream_events."""

    @lib.chain
    async def apipeline(x: int) -> int:
        await lib.adispatch_custom_event("apipeline_event", x)
        return x * 2

    await rec.events(apipeline, 4)


# --------------------------------------------------------------------------- with_config / config


@scenario()
async def s_with_config_tags_metadata_run_name(lib: Lib, rec: Recorder) -> None:
    """with_config(tags, metadata, run_name) on a step and on the whole sequence."""

    async def step(x: int) -> int:
        return x + 1

    renamed = lib.RunnableLambda(step).with_config(
        tags=["inner"], metadata={"i": 1}, run_name="Renamed"
    )
    seq = (renamed | lib.RunnableLambda(_double)).with_config(tags=["outer"], metadata={"o": 2})
    await rec.events(seq, 1, {"tags": ["call"], "metadata": {"c": 3}})


@scenario()
def s_call_config_run_id_and_name(lib: Lib, rec: Recorder) -> None:
    """Config at call time: tags, metadata, callbacks, run_name and a fixed run_id."""
    import uuid

    fixed = uuid.UUID("12345678-1234-5678-1234-567812345678")
    seq = lib.RunnableLambda(lambda x: x + 1) | lib.RunnableLambda(_double)
    handler = rec.handler()
    rec.outcome(
        seq.invoke,
        1,
        {
            "callbacks": [handler],
            "tags": ["a", "b"],
            "metadata": {"z": 1, "a": 2},
            "run_name": "Named",
            "run_id": fixed,
        },
    )
    starts = [r for r in rec.log if r.get("hook") == "on_chain_start"]
    rec.add(
        "run_id_check",
        root_uses_fixed=starts[0]["run_id"] == fixed,
        children_differ=all(r["run_id"] != fixed for r in starts[1:]),
    )


@scenario()
async def s_call_config_run_id_events(lib: Lib, rec: Recorder) -> None:
    """A fixed run_id at call time is the root run_id in astream_events."""
    import uuid

    fixed = uuid.UUID("87654321-4321-8765-4321-876543218765")

    async def step(x: int) -> int:
        return x

    await rec.events(lib.RunnableLambda(step), 1, {"run_id": fixed, "run_name": "Fixed"})
    rec.add("run_id_check", root_uses_fixed=rec.log[0].get("run_id") == str(fixed))


# --------------------------------------------------------------------------- batch


@scenario(relaxed=THREADS)
def s_batch_ordering(lib: Lib, rec: Recorder) -> None:
    """batch keeps input order in its results; one root run per input."""
    rec.outcome(lib.RunnableLambda(_double).batch, [3, 1, 2], {"callbacks": [rec.handler()]})


@scenario()
def s_batch_max_concurrency_one(lib: Lib, rec: Recorder) -> None:
    """batch with max_concurrency=1 runs inputs one after another."""
    rec.outcome(
        lib.RunnableLambda(_double).batch,
        [3, 1, 2],
        {"callbacks": [rec.handler()], "max_concurrency": 1},
    )


@scenario(relaxed=THREADS)
def s_batch_return_exceptions(lib: Lib, rec: Recorder) -> None:
    """batch(return_exceptions=True): the failing input's slot holds its exception."""

    def maybe_fail(x: int) -> int:
        if x == 2:
            raise ValueError("two is bad")
        return x

    rec.outcome(
        lib.RunnableLambda(maybe_fail).batch,
        [1, 2, 3],
        {"callbacks": [rec.handler()]},
        return_exceptions=True,
    )


@scenario()
def s_batch_error_raises(lib: Lib, rec: Recorder) -> None:
    """batch without return_exceptions raises the failure (max_concurrency=1: deterministic)."""

    def maybe_fail(x: int) -> int:
        if x == 2:
            raise ValueError("two is bad")
        return x

    rec.outcome(
        lib.RunnableLambda(maybe_fail).batch,
        [1, 2, 3],
        {"callbacks": [rec.handler()], "max_concurrency": 1},
    )


@scenario(relaxed=PY_SCHEDULING)
async def s_abatch_ordering(lib: Lib, rec: Recorder) -> None:
    """abatch of an async step: results in input order although completion order differs."""

    async def slow(x: int) -> int:
        await asyncio.sleep(x / 1000)
        return x * 10

    await rec.aoutcome(lib.RunnableLambda(slow).abatch([3, 1, 2], {"callbacks": [rec.handler()]}))


@scenario()
async def s_abatch_return_exceptions_max_concurrency(lib: Lib, rec: Recorder) -> None:
    """abatch with max_concurrency=2 and return_exceptions=True."""

    async def maybe_fail(x: int) -> int:
        await asyncio.sleep(0)
        if x == 2:
            raise ValueError("two is bad")
        return x

    await rec.aoutcome(
        lib.RunnableLambda(maybe_fail).abatch(
            [1, 2, 3, 4],
            {"callbacks": [rec.handler(is_async=True)], "max_concurrency": 2},
            return_exceptions=True,
        )
    )


# --------------------------------------------------------------------------- retry / fallbacks


@scenario()
def s_with_retry_fails_twice(lib: Lib, rec: Recorder) -> None:
    """with_retry: two failures then success; one child run per attempt."""
    attempts = [0]

    def flaky(x: int) -> int:
        attempts[0] += 1
        if attempts[0] < 3:
            raise ValueError(f"attempt {attempts[0]} failed")
        return x

    retrying = lib.RunnableLambda(flaky).with_retry(
        stop_after_attempt=3, wait_exponential_jitter=False
    )
    rec.outcome(retrying.invoke, 9, {"callbacks": [rec.handler()]})
    rec.add("attempts", n=attempts[0])


@scenario()
async def s_with_retry_ainvoke_handler(lib: Lib, rec: Recorder) -> None:
    """with_retry under ainvoke: a custom event and a child run per attempt."""
    attempts = [0]

    async def flaky(x: int) -> int:
        attempts[0] += 1
        await lib.adispatch_custom_event("attempt", {"n": attempts[0]})
        if attempts[0] < 2:
            raise ValueError("first attempt fails")
        return x

    retrying = lib.RunnableLambda(flaky).with_retry(
        stop_after_attempt=2, wait_exponential_jitter=False
    )
    await rec.aoutcome(retrying.ainvoke(9, {"callbacks": [rec.handler(is_async=True)]}))


@scenario(quirk="the oracle's RunnableRetry does not retry streaming (astream/astream_events)")
async def s_with_retry_astream_events_not_retried(lib: Lib, rec: Recorder) -> None:
    """with_retry under astream_events: the first failure ends the stream."""
    attempts = [0]

    async def flaky(x: int) -> int:
        attempts[0] += 1
        await lib.adispatch_custom_event("attempt", {"n": attempts[0]})
        if attempts[0] < 2:
            raise ValueError("first attempt fails")
        return x

    retrying = lib.RunnableLambda(flaky).with_retry(
        stop_after_attempt=2, wait_exponential_jitter=False
    )
    await rec.events(retrying, 9)


@scenario(divergence=(FALLBACKS_NESTED, _attempts_as_roots))
def s_with_fallbacks_first_fails(lib: Lib, rec: Recorder) -> None:
    """with_fallbacks: primary fails, fallback succeeds."""

    def primary(x: int) -> int:
        raise ValueError("primary down")

    guarded = lib.RunnableLambda(primary).with_fallbacks([lib.RunnableLambda(_double)])
    rec.outcome(guarded.invoke, 4, {"callbacks": [rec.handler()]})


@scenario(divergence=(FALLBACKS_NESTED, _attempts_as_roots))
def s_with_fallbacks_all_fail(lib: Lib, rec: Recorder) -> None:
    """with_fallbacks: every candidate fails; the first error is raised."""

    def primary(x: int) -> int:
        raise ValueError("primary down")

    def backup(x: int) -> int:
        raise KeyError("backup down")

    guarded = lib.RunnableLambda(primary).with_fallbacks([lib.RunnableLambda(backup)])
    rec.outcome(guarded.invoke, 4, {"callbacks": [rec.handler()]})


# ----------------------------------------------------- config seen by steps, early exit


@scenario()
def s_config_seen_by_step(lib: Lib, rec: Recorder) -> None:
    """What a step receives as ``config``: tags, metadata, configurable, no run_name/run_id."""
    import uuid

    seen: list[dict[str, Any]] = []

    def look(x: int, config: Any) -> int:
        seen.append(
            {
                "tags": list(config.get("tags") or []),
                "metadata": dict(config.get("metadata") or {}),
                "configurable": dict(config.get("configurable") or {}),
                "run_name": config.get("run_name"),
                "run_id": config.get("run_id"),
                "recursion_limit": config.get("recursion_limit"),
            }
        )
        return x

    seq = lib.RunnableLambda(look) | lib.RunnableLambda(look)
    fixed = uuid.UUID("11111111-2222-3333-4444-555555555555")
    config = {
        "tags": ["t"],
        "metadata": {"m": 1},
        "configurable": {"user": "u1"},
        "run_name": "Top",
        "run_id": fixed,
        "recursion_limit": 7,
    }
    rec.outcome(seq.invoke, 1, config)
    rec.add("seen", configs=seen)


@scenario()
def s_stream_consumer_breaks_early(lib: Lib, rec: Recorder) -> None:
    """The consumer stops iterating stream() after the first chunk and closes it."""

    def words(items: Iterator[str]) -> Iterator[str]:
        for item in items:
            yield from item.split()

    stream = lib.RunnableGenerator(words).stream("a b c", {"callbacks": [rec.handler()]})
    rec.add("chunk", value=next(stream))
    stream.close()
    rec.add("closed")


@scenario()
async def s_astream_events_consumer_breaks_early(lib: Lib, rec: Recorder) -> None:
    """The consumer of astream_events stops after the first custom event."""

    async def step(x: int) -> int:
        await lib.adispatch_custom_event("first", 1)
        await lib.adispatch_custom_event("second", 2)
        return x

    events = lib.RunnableLambda(step).astream_events(1, version="v2")
    async for event in events:
        rec.add_event(event)
        if event["event"] == "on_custom_event":
            break
    await events.aclose()
    rec.add("closed")
