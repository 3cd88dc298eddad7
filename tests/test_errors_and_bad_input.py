"""Errors: bad input is refused with a precise exception, exceptions from steps propagate
unchanged (type and object), retries and fallbacks (cancellation, which is not an error, is in
test_consumer_stops.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from _support import Recorder

from otel_runnables import (
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
    adispatch_custom_event,
    dispatch_custom_event,
)

LANGCHAIN_NO_PARENT_MESSAGE = (
    "Unable to dispatch an adhoc event without a parent run id."
    "This function can only be called from within an existing run (e.g.,"
    "inside a tool or a RunnableLambda or a RunnableGenerator.)"
    "If you are doing that and still seeing this error, try explicitly"
    "passing the config parameter to this function."
)

identity = RunnableLambda(lambda x: x, name="identity")


# -- composing with something that is not a runnable ---------------------------------------


@pytest.mark.parametrize("bad", [42, "text", 3.5, None, [1, 2]], ids=repr)
def test_pipe_with_a_non_runnable_names_it(bad: Any) -> None:
    with pytest.raises(TypeError) as right:
        identity | bad
    with pytest.raises(TypeError) as left:
        bad | identity
    for info in (right, left):
        message = str(info.value)
        assert repr(bad) in message
        assert type(bad).__name__ in message


def test_sequence_and_parallel_refuse_non_runnables() -> None:
    with pytest.raises(TypeError, match="42"):
        RunnableSequence(identity, 42)
    with pytest.raises(TypeError, match="'k'"):
        RunnableParallel(k=42)
    with pytest.raises(TypeError, match="42"):
        identity.pipe(42)


def test_constructors_refuse_wrong_callables() -> None:
    with pytest.raises(TypeError):
        RunnableLambda(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RunnableGenerator(lambda chunks: chunks)  # not a generator function


def test_sequence_needs_two_steps() -> None:
    with pytest.raises(ValueError):
        RunnableSequence(identity)


# -- astream_events version and filters ----------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v3", ""])
async def test_astream_events_other_versions_are_refused(version: str) -> None:
    with pytest.raises(ValueError) as info:
        async for _ in identity.astream_events(1, version=version):
            pass
    message = str(info.value)
    assert repr(version) in message or version in message
    assert "'v2'" in message  # names the supported versions


async def test_astream_events_filter_must_be_a_list() -> None:
    with pytest.raises(TypeError, match="include_names"):
        async for _ in identity.astream_events(1, version="v2", include_names="identity"):
            pass


# -- dispatching custom events wrongly -----------------------------------------------------


@pytest.mark.parametrize("name", [42, None, b"bytes", ("t",)], ids=repr)
def test_non_str_event_name_sync(name: Any) -> None:
    def step(x: int) -> int:
        dispatch_custom_event(name, {"x": x})
        return x

    with pytest.raises(TypeError) as info:
        RunnableLambda(step).invoke(1)
    assert type(name).__name__ in str(info.value)


@pytest.mark.parametrize("name", [42, None], ids=repr)
async def test_non_str_event_name_async(name: Any) -> None:
    async def step(x: int) -> int:
        await adispatch_custom_event(name, {"x": x})
        return x

    with pytest.raises(TypeError):
        await RunnableLambda(step).ainvoke(1)


def test_dispatch_outside_a_run_uses_langchains_message() -> None:
    with pytest.raises(RuntimeError) as info:
        dispatch_custom_event("event", {})
    assert str(info.value) == LANGCHAIN_NO_PARENT_MESSAGE

    identity.invoke(1)  # after a run has ended, we are outside again
    with pytest.raises(RuntimeError, match=r"^Unable to dispatch an adhoc event"):
        dispatch_custom_event("event", {})


async def test_adispatch_outside_a_run_uses_langchains_message() -> None:
    with pytest.raises(RuntimeError) as info:
        await adispatch_custom_event("event", {})
    assert str(info.value) == LANGCHAIN_NO_PARENT_MESSAGE

    await identity.ainvoke(1)
    with pytest.raises(RuntimeError, match=r"^Unable to dispatch an adhoc event"):
        await adispatch_custom_event("event", {})


# -- exceptions from steps propagate unchanged ---------------------------------------------


class StepError(Exception):
    pass


ERROR = StepError("from the step")


def _raise(x: Any) -> Any:
    raise ERROR


async def _araise(x: Any) -> Any:
    raise ERROR


def _pipeline(fail: Any) -> Any:
    return identity | {"a": RunnableLambda(fail, name="fails"), "b": identity}


def test_exception_propagates_unchanged_sync() -> None:
    for call in (
        lambda: _pipeline(_raise).invoke(1),
        lambda: list(_pipeline(_raise).stream(1)),
        lambda: _pipeline(_raise).batch([1, 2]),
    ):
        with pytest.raises(StepError) as info:
            call()
        assert info.value is ERROR


async def test_exception_propagates_unchanged_async() -> None:
    async def collect(stream: Any) -> list[Any]:
        return [c async for c in stream]

    for make in (
        lambda: _pipeline(_araise).ainvoke(1),
        lambda: collect(_pipeline(_araise).astream(1)),
        lambda: _pipeline(_araise).abatch([1, 2]),
        lambda: _pipeline(_raise).ainvoke(1),  # sync step in a worker thread
    ):
        with pytest.raises(StepError) as info:
            await make()
        assert info.value is ERROR


async def test_exception_propagates_out_of_astream_events_after_its_events() -> None:
    seen: list[tuple[str, str]] = []
    with pytest.raises(StepError) as info:
        async for event in _pipeline(_araise).astream_events(1, version="v2"):
            seen.append((event["event"], event["name"]))
    assert info.value is ERROR
    assert seen[0] == ("on_chain_start", "RunnableSequence")
    assert ("on_chain_start", "fails") in seen
    assert ("on_chain_end", "fails") not in seen  # v2 has no error event


def test_error_reaches_every_enclosing_run() -> None:
    log = Recorder()
    with pytest.raises(StepError):
        _pipeline(_raise).invoke(1, {"callbacks": [log]})
    errors = log.errors()
    assert [e.error for e in errors] == [ERROR, ERROR, ERROR]  # fails, the parallel, the sequence
    assert errors[0].tags == ["map:key:a"]
    assert errors[-1].tags == []


# -- wrong kind of call --------------------------------------------------------------------


def test_async_only_lambda_cannot_be_invoked_sync() -> None:
    runnable = RunnableLambda(_araise)
    with pytest.raises(TypeError, match="ainvoke"):
        runnable.invoke(1)
    with pytest.raises(TypeError):
        list(runnable.stream(1))


async def test_sync_generator_lambda_cannot_stream_async() -> None:
    def gen(x: int) -> Any:
        yield x

    with pytest.raises(TypeError):
        async for _ in RunnableLambda(gen).astream(1):
            pass


async def test_generator_with_one_kind_only() -> None:
    def sync_gen(chunks: Any) -> Any:
        yield from chunks

    async def async_gen(chunks: Any) -> Any:
        async for c in chunks:
            yield c

    with pytest.raises(NotImplementedError):
        async for _ in RunnableGenerator(sync_gen).astream(1):
            pass
    with pytest.raises(NotImplementedError):
        list(RunnableGenerator(async_gen).stream(1))


def test_assign_needs_a_dict_input() -> None:
    assign = RunnablePassthrough.assign(y=lambda d: 1)
    with pytest.raises(ValueError, match=r"RunnablePassthrough.assign\(\) must be a dict"):
        assign.invoke(1)
    with pytest.raises(ValueError, match="must be a dict"):
        list(assign.stream(1))


async def test_assign_needs_a_dict_input_async() -> None:
    with pytest.raises(ValueError, match="must be a dict"):
        await RunnablePassthrough.assign(y=lambda d: 1).ainvoke([1])


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"tags": "not-a-list"}, "tags"),
        ({"tags": [1]}, "tags"),
        ({"metadata": [("a", 1)]}, "metadata"),
        ({"callbacks": [object()]}, "callbacks"),
        ({"callbacks": "handler"}, "callbacks"),
    ],
)
def test_bad_config_values_name_the_key(config: Any, key: str) -> None:
    with pytest.raises(TypeError, match=key):
        identity.invoke(1, config)


def test_config_must_be_a_dict() -> None:
    with pytest.raises(TypeError):
        identity.invoke(1, ["tags"])  # type: ignore[arg-type]


# -- recursion limit when a function returns a runnable ------------------------------------


def _self_returning(calls: list[int]) -> Any:
    def again(x: int) -> Any:
        calls.append(x)
        return RunnableLambda(again)

    return RunnableLambda(again)


def test_recursion_limit_sync() -> None:
    calls: list[int] = []
    with pytest.raises(RecursionError, match="Recursion limit reached"):
        _self_returning(calls).invoke(7, {"recursion_limit": 3})
    # limit 3: the call at limits 3, 2, 1 and 0 each returned a runnable; at 0 it stops
    assert calls == [7, 7, 7, 7]


async def test_recursion_limit_async() -> None:
    calls: list[int] = []
    with pytest.raises(RecursionError):
        await _self_returning(calls).ainvoke(7, {"recursion_limit": 2})
    assert calls == [7, 7, 7]


def test_recursion_limit_default_is_25() -> None:
    calls: list[int] = []
    with pytest.raises(RecursionError):
        _self_returning(calls).invoke(0)
    assert len(calls) == 26


# -- with_retry ----------------------------------------------------------------------------


def _flaky(failures: int, exc: type[Exception] = ValueError) -> tuple[Any, list[int]]:
    attempts: list[int] = []

    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) <= failures:
            raise exc(f"attempt {len(attempts)}")
        return x * 10

    return RunnableLambda(flaky), attempts


def test_with_retry_attempts_and_tags() -> None:
    runnable, attempts = _flaky(2)
    log = Recorder()
    retrying = runnable.with_retry(stop_after_attempt=3, wait_exponential_jitter=False)

    assert retrying.invoke(1, {"callbacks": [log], "tags": ["x"]}) == 10
    assert attempts == [1, 1, 1]
    assert [(c.hook, c.tags) for c in log.calls] == [
        ("start", ["x"]),  # the retry run itself
        ("start", ["x"]),  # attempt 1: no retry tag
        ("error", ["x"]),
        ("start", ["retry:attempt:2", "x"]),
        ("error", ["retry:attempt:2", "x"]),
        ("start", ["retry:attempt:3", "x"]),
        ("end", ["retry:attempt:3", "x"]),
        ("end", ["x"]),
    ]
    assert set(log.names()) == {"flaky"}


async def test_with_retry_async() -> None:
    runnable, attempts = _flaky(1)
    log = Recorder()
    retrying = runnable.with_retry(stop_after_attempt=2, wait_exponential_jitter=False)
    assert await retrying.ainvoke(2, {"callbacks": [log]}) == 20
    assert attempts == [2, 2]
    assert [c.tags for c in log.starts()] == [[], [], ["retry:attempt:2"]]


def test_with_retry_gives_up_with_the_last_error() -> None:
    runnable, attempts = _flaky(5)
    with pytest.raises(ValueError, match="attempt 3"):
        runnable.with_retry(stop_after_attempt=3, wait_exponential_jitter=False).invoke(1)
    assert len(attempts) == 3


async def test_with_retry_gives_up_with_the_last_error_async() -> None:
    runnable, attempts = _flaky(5)
    with pytest.raises(ValueError, match="attempt 2"):
        await runnable.with_retry(stop_after_attempt=2, wait_exponential_jitter=False).ainvoke(1)
    assert len(attempts) == 2


def test_with_retry_only_on_the_given_exception_types() -> None:
    runnable, attempts = _flaky(1, KeyError)
    retrying = runnable.with_retry(
        retry_if_exception_type=(ValueError,), wait_exponential_jitter=False
    )
    with pytest.raises(KeyError):
        retrying.invoke(1)
    assert len(attempts) == 1


def test_with_retry_batch() -> None:
    seen: dict[int, int] = {}

    def fails_once_per_input(x: int) -> int:
        seen[x] = seen.get(x, 0) + 1
        if seen[x] == 1:
            raise ValueError(x)
        return -x

    retrying = RunnableLambda(fails_once_per_input).with_retry(wait_exponential_jitter=False)
    assert retrying.batch([1, 2, 3]) == [-1, -2, -3]
    assert seen == {1: 2, 2: 2, 3: 2}


# -- with_fallbacks ------------------------------------------------------------------------


def test_with_fallbacks_uses_the_first_that_works() -> None:
    log = Recorder()
    chain_ = RunnableLambda(_raise, name="primary").with_fallbacks(
        [RunnableLambda(_raise, name="second"), RunnableLambda(lambda x: "ok", name="third")]
    )
    assert chain_.invoke(1, {"callbacks": [log]}) == "ok"
    assert [(c.hook, c.name) for c in log.calls] == [
        ("start", "RunnableWithFallbacks"),
        ("start", "primary"),
        ("error", None),
        ("start", "second"),
        ("error", None),
        ("start", "third"),
        ("end", None),
        ("end", None),
    ]


async def test_with_fallbacks_async() -> None:
    chain_ = RunnableLambda(_araise).with_fallbacks([RunnableLambda(lambda x: x + 1)])
    assert await chain_.ainvoke(1) == 2


def test_with_fallbacks_all_fail_raises_the_first_error() -> None:
    first, second = KeyError("first"), KeyError("second")

    def raise_first(x: Any) -> Any:
        raise first

    def raise_second(x: Any) -> Any:
        raise second

    with pytest.raises(KeyError) as info:
        RunnableLambda(raise_first).with_fallbacks([RunnableLambda(raise_second)]).invoke(1)
    assert info.value is first


def test_with_fallbacks_only_for_handled_exceptions() -> None:
    used: list[int] = []
    chain_ = RunnableLambda(_raise).with_fallbacks(
        [RunnableLambda(lambda x: used.append(x))], exceptions_to_handle=(KeyError,)
    )
    with pytest.raises(StepError):
        chain_.invoke(1)
    assert used == []


async def test_with_fallbacks_exception_key() -> None:
    def fallback(d: dict[str, Any]) -> str:
        return f"recovered from {type(d['error']).__name__}"

    chain_ = RunnableLambda(_raise).with_fallbacks(
        [RunnableLambda(fallback)], exception_key="error"
    )
    assert chain_.invoke({"q": 1}) == "recovered from StepError"
    assert await chain_.ainvoke({"q": 1}) == "recovered from StepError"
    with pytest.raises(ValueError):
        chain_.invoke("not a dict")


def test_run_ids_are_uuids() -> None:
    recorder = Recorder()
    identity.invoke(1, {"callbacks": [recorder], "run_id": str(uuid.UUID(int=7))})
    ids = [c.run_id for c in recorder.starts()]
    assert ids == [uuid.UUID(int=7)]  # a str run_id is accepted and normalised
