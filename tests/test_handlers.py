"""Callback handlers: hook arguments, sync/async handlers in sync/async runs, the error policy
(logged and skipped, or propagated with ``raise_error``), and the ``ignore_*`` flags."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from _support import AsyncRecorder, Call, Recorder

from otel_runnables import (
    AsyncCallbackHandler,
    BaseCallbackHandler,
    RunnableLambda,
    adispatch_custom_event,
    dispatch_custom_event,
)
from otel_runnables.testing import SpanRecorder


def _sync_seq() -> Any:
    def add(x: int) -> int:
        dispatch_custom_event("added", {"x": x})
        return x + 1

    return RunnableLambda(add) | RunnableLambda(lambda x: x * 2, name="double")


def _async_seq() -> Any:
    async def add(x: int) -> int:
        await adispatch_custom_event("added", {"x": x})
        return x + 1

    return RunnableLambda(add) | RunnableLambda(lambda x: x * 2, name="double")


CONFIG: dict[str, Any] = {"tags": ["foo", "bar"], "metadata": {"user": "ada"}}


def _check_calls(calls: list[Call]) -> None:
    root_id = calls[0].run_id
    add_id = calls[1].run_id
    double_id = calls[4].run_id
    assert len({root_id, add_id, double_id}) == 3
    meta = {"user": "ada"}
    tags = ["foo", "bar"]
    assert calls == [
        Call("start", root_id, None, "RunnableSequence", tags, meta, inputs=1),
        Call("start", add_id, root_id, "add", ["seq:step:1", *tags], meta, inputs=1),
        Call("custom", add_id, None, "added", tags, meta, data={"x": 1}),
        Call("end", add_id, root_id, tags=["seq:step:1", *tags], outputs=2),
        Call("start", double_id, root_id, "double", ["seq:step:2", *tags], meta, inputs=2),
        Call("end", double_id, root_id, tags=["seq:step:2", *tags], outputs=4),
        Call("end", root_id, None, tags=tags, outputs=4),
    ]
    assert all(c.serialized is None for c in calls if c.hook == "start")


# -- hook arguments, every combination of handler and run kind -----------------------------


def test_hooks_in_a_sync_run(any_recorder: Recorder) -> None:
    assert _sync_seq().invoke(1, {**CONFIG, "callbacks": [any_recorder]}) == 4
    _check_calls(any_recorder.calls)


@pytest.mark.parametrize("make", [_sync_seq, _async_seq], ids=["sync-step", "async-step"])
async def test_hooks_in_an_async_run(any_recorder: Recorder, make: Any) -> None:
    assert await make().ainvoke(1, {**CONFIG, "callbacks": [any_recorder]}) == 4
    _check_calls(any_recorder.calls)


async def test_sync_and_async_handlers_see_the_same_order() -> None:
    sync_h, async_h = Recorder(), AsyncRecorder()
    await _async_seq().ainvoke(1, {"callbacks": [async_h, sync_h]})
    assert sync_h.calls == async_h.calls
    assert len(sync_h.calls) == 7


def test_on_chain_error_receives_the_exception(recorder: Recorder) -> None:
    error = ValueError("bad")

    def fail(x: int) -> int:
        raise error

    handler = recorder
    seq = RunnableLambda(lambda x: x, name="ok") | RunnableLambda(fail)
    with pytest.raises(ValueError) as info:
        seq.invoke(1, {"callbacks": [handler], "tags": ["foo", "bar"]})

    assert info.value is error
    assert handler.hooks() == ["start", "start", "end", "start", "error", "error"]
    fail_error, root_error = handler.calls[4], handler.calls[5]
    root_id = handler.calls[0].run_id
    assert fail_error.error is error and root_error.error is error
    assert fail_error.parent_run_id == root_id
    assert fail_error.tags == ["seq:step:2", "foo", "bar"]
    assert root_error.run_id == root_id and root_error.parent_run_id is None


async def test_on_chain_error_receives_the_exception_async(async_recorder: AsyncRecorder) -> None:
    error = ValueError("bad")

    async def fail(x: int) -> int:
        raise error

    handler = async_recorder
    with pytest.raises(ValueError) as info:
        await (RunnableLambda(lambda x: x) | RunnableLambda(fail)).ainvoke(
            1, {"callbacks": [handler]}
        )
    assert info.value is error
    assert handler.hooks() == ["start", "start", "end", "start", "error", "error"]
    assert handler.calls[-1].error is error


def test_handler_from_with_config_sees_only_its_step() -> None:
    outer, inner = Recorder(), Recorder()
    step = RunnableLambda(lambda x: x + 1, name="step").with_config(callbacks=[inner])
    seq = RunnableLambda(lambda x: x, name="first") | step

    assert seq.invoke(1, {"callbacks": [outer]}) == 2

    assert inner.names() == ["step"]
    assert outer.names() == ["RunnableSequence", "first", "step"]
    # the step is still a child of the sequence for the inner handler
    assert inner.starts()[0].parent_run_id == outer.run_id("RunnableSequence")


# -- the error policy: logged and skipped --------------------------------------------------


class HandlerError(Exception):
    pass


class Boom(BaseCallbackHandler):
    def on_chain_start(self, *args: Any, **kw: Any) -> None:
        raise HandlerError("start")

    def on_custom_event(self, *args: Any, **kw: Any) -> None:
        raise HandlerError("custom")


class AsyncBoom(AsyncCallbackHandler):
    async def on_chain_start(self, *args: Any, **kw: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        raise HandlerError("start")

    async def on_custom_event(self, *args: Any, **kw: Any) -> None:  # type: ignore[override]
        raise HandlerError("custom")


def _error_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "otel_runnables"]


def _check_logged_and_continued(
    cls: type, caplog: pytest.LogCaptureFixture, handler: Any, result: Any
) -> None:
    assert result == 4
    name = cls.__name__
    messages = _error_messages(caplog)
    # one per run start (3 runs) and one for the custom event
    assert sum(m.startswith(f"Error in {name}.on_chain_start callback") for m in messages) == 3
    assert sum(m.startswith(f"Error in {name}.on_custom_event callback") for m in messages) == 1
    assert all("HandlerError" in m for m in messages)
    # the handler after the failing one still got everything
    assert handler.hooks() == ["start", "start", "custom", "end", "start", "end", "end"]


@pytest.mark.parametrize("boom_cls", [Boom, AsyncBoom])
def test_failing_handler_is_logged_and_skipped_sync(
    boom_cls: type, caplog: pytest.LogCaptureFixture
) -> None:
    after = Recorder()
    result = _sync_seq().invoke(1, {"callbacks": [boom_cls(), after]})
    _check_logged_and_continued(boom_cls, caplog, after, result)


@pytest.mark.parametrize("boom_cls", [Boom, AsyncBoom])
@pytest.mark.parametrize("make", [_sync_seq, _async_seq], ids=["sync-step", "async-step"])
async def test_failing_handler_is_logged_and_skipped_async(
    boom_cls: type, make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    after = AsyncRecorder()
    result = await make().ainvoke(1, {"callbacks": [boom_cls(), after]})
    _check_logged_and_continued(boom_cls, caplog, after, result)


async def test_failing_handler_does_not_break_astream_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = [
        e["event"]
        async for e in _async_seq().astream_events(1, {"callbacks": [AsyncBoom()]}, version="v2")
    ]
    assert events.count("on_chain_start") == 3
    assert events.count("on_custom_event") == 1
    assert events[-1] == "on_chain_end"
    assert len(_error_messages(caplog)) == 4


# -- raise_error: the handler's exception propagates ---------------------------------------


class RaisingBoom(Boom):
    raise_error = True

    def on_chain_start(self, *args: Any, **kw: Any) -> None:
        pass


class RaisingAsyncBoom(AsyncBoom):
    raise_error = True

    async def on_chain_start(self, *args: Any, **kw: Any) -> None:  # type: ignore[override]
        pass


def _check_propagated(after: Any) -> None:
    # The event was dispatched inside "add": the step and the sequence failed with it.
    assert after.hooks() == ["start", "start", "error", "error"]
    assert all(isinstance(c.error, HandlerError) for c in after.calls[2:])


@pytest.mark.parametrize("boom_cls", [RaisingBoom, RaisingAsyncBoom])
def test_raise_error_propagates_sync(boom_cls: type) -> None:
    after = Recorder()
    with pytest.raises(HandlerError, match="custom"):
        _sync_seq().invoke(1, {"callbacks": [boom_cls(), after]})
    _check_propagated(after)


@pytest.mark.parametrize("boom_cls", [RaisingBoom, RaisingAsyncBoom])
@pytest.mark.parametrize("make", [_sync_seq, _async_seq], ids=["sync-step", "async-step"])
async def test_raise_error_propagates_async(boom_cls: type, make: Any) -> None:
    after = AsyncRecorder()
    with pytest.raises(HandlerError, match="custom"):
        await make().ainvoke(1, {"callbacks": [boom_cls(), after]})
    _check_propagated(after)


@pytest.mark.parametrize("boom_cls", [Boom, AsyncBoom])
def test_raise_error_in_on_chain_start_fails_the_call_and_ends_the_span(
    boom_cls: type, otel_spans: SpanRecorder
) -> None:
    class Raising(boom_cls):  # type: ignore[valid-type, misc]
        raise_error = True

    with pytest.raises(HandlerError, match="start"):
        RunnableLambda(lambda x: x, name="never").invoke(1, {"callbacks": [Raising()]})
    assert [s.name for s in otel_spans.spans()] == ["never"]  # started, so ended


# -- ignore_* flags and run_inline ---------------------------------------------------------


class IgnoresCustom(Recorder):
    ignore_custom_event = True


class IgnoresChain(Recorder):
    ignore_chain = True


class AsyncIgnoresChain(AsyncRecorder):
    ignore_chain = True


class Inline(Recorder):
    run_inline = True


def test_ignore_flags_sync() -> None:
    no_custom, no_chain, inline = IgnoresCustom(), IgnoresChain(), Inline()
    _sync_seq().invoke(1, {"callbacks": [no_custom, no_chain, inline]})

    assert no_custom.hooks() == ["start", "start", "end", "start", "end", "end"]
    assert no_chain.hooks() == ["custom"]
    assert inline.hooks() == ["start", "start", "custom", "end", "start", "end", "end"]


async def test_ignore_flags_async() -> None:
    no_custom, no_chain = IgnoresCustom(), AsyncIgnoresChain()
    await _async_seq().ainvoke(1, {"callbacks": [no_custom, no_chain]})

    assert no_custom.hooks() == ["start", "start", "end", "start", "end", "end"]
    assert no_chain.hooks() == ["custom"]


async def test_ignore_chain_still_lets_astream_events_see_everything() -> None:
    handler = IgnoresChain()
    events = [
        e["event"]
        async for e in _async_seq().astream_events(1, {"callbacks": [handler]}, version="v2")
    ]
    assert events.count("on_chain_start") == 3
    assert handler.hooks() == ["custom"]


def test_default_handler_hooks_do_nothing() -> None:
    # A handler overriding nothing is accepted and changes nothing.
    assert _sync_seq().invoke(1, {"callbacks": [BaseCallbackHandler()]}) == 4


async def test_default_async_handler_hooks_do_nothing() -> None:
    assert await _async_seq().ainvoke(1, {"callbacks": [AsyncCallbackHandler()]}) == 4


def test_no_error_is_logged_for_well_behaved_handlers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="otel_runnables")
    _sync_seq().invoke(1, {"callbacks": [Recorder(), AsyncRecorder()]})
    assert _error_messages(caplog) == []
