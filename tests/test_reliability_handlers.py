"""Callback handlers that raise in every hook never break a run or the other sinks.

One policy for sync and async handlers, in sync and async runs: the exception is logged
(``Error in <Handler>.<hook> callback``) and skipped; with ``raise_error = True`` it propagates.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from _support import AsyncRecorder, Recorder, Traced

from otel_runnables import (
    AsyncCallbackHandler,
    BaseCallbackHandler,
    RunnableLambda,
    adispatch_custom_event,
    dispatch_custom_event,
)


class Boom(Exception):
    pass


class SyncRaiser(BaseCallbackHandler):
    def on_chain_start(self, *a: Any, **kw: Any) -> None:
        raise Boom("start")

    def on_chain_end(self, *a: Any, **kw: Any) -> None:
        raise Boom("end")

    def on_chain_error(self, *a: Any, **kw: Any) -> None:
        raise Boom("error")

    def on_custom_event(self, *a: Any, **kw: Any) -> None:
        raise Boom("custom")


class AsyncRaiser(AsyncCallbackHandler):
    async def on_chain_start(self, *a: Any, **kw: Any) -> None:
        raise Boom("start")

    async def on_chain_end(self, *a: Any, **kw: Any) -> None:
        raise Boom("end")

    async def on_chain_error(self, *a: Any, **kw: Any) -> None:
        raise Boom("error")

    async def on_custom_event(self, *a: Any, **kw: Any) -> None:
        raise Boom("custom")


class SyncRaiserPropagating(SyncRaiser):
    raise_error = True


class AsyncRaiserPropagating(AsyncRaiser):
    raise_error = True


def _step(x: int) -> int:
    dispatch_custom_event("sync-event", {"x": x})
    return x + 1


async def _astep(x: int) -> int:
    await adispatch_custom_event("async-event", {"x": x})
    return x * 10


def _failing(x: int) -> int:
    raise ValueError("step failed")


def _pipeline() -> Any:
    return RunnableLambda(_step, name="step") | RunnableLambda(_astep, name="astep")


def _sync_pipeline() -> Any:
    return RunnableLambda(_step, name="step") | RunnableLambda(lambda y: y * 10, name="times10")


RAISERS = [SyncRaiser, AsyncRaiser]


def _check_other_sinks(traced: Traced, recorders: list[Any], n_events: int, n_runs: int) -> None:
    traced.assert_all_ended()
    assert len(traced.spans()) == n_runs
    span_events = [e.name for s in traced.spans() for e in s.events]
    assert len(span_events) == n_events, span_events
    for rec in recorders:
        hooks = rec.hooks()
        assert hooks.count("start") == n_runs and hooks.count("end") == n_runs, hooks
        assert hooks.count("custom") == n_events, hooks


def _check_logged(caplog: pytest.LogCaptureFixture, handler: type, hooks: set[str]) -> None:
    logged = {
        r.getMessage().split(" callback")[0].split(".")[-1]
        for r in caplog.records
        if r.name == "otel_runnables" and f"Error in {handler.__name__}." in r.getMessage()
    }
    assert logged == hooks, [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("raiser", RAISERS, ids=lambda c: c.__name__)
def test_raising_handler_sync_run(traced: Traced, caplog: pytest.LogCaptureFixture, raiser: type):
    caplog.set_level(logging.WARNING)
    before, after = Recorder(), AsyncRecorder()
    result = _sync_pipeline().invoke(1, {"callbacks": [before, raiser(), after]})
    assert result == 20
    _check_other_sinks(traced, [before, after], n_events=1, n_runs=3)
    _check_logged(caplog, raiser, {"on_chain_start", "on_chain_end", "on_custom_event"})


@pytest.mark.parametrize("raiser", RAISERS, ids=lambda c: c.__name__)
async def test_raising_handler_async_run(
    traced: Traced, caplog: pytest.LogCaptureFixture, raiser: type
):
    caplog.set_level(logging.WARNING)
    before, after = AsyncRecorder(), Recorder()
    result = await _pipeline().ainvoke(1, {"callbacks": [before, raiser(), after]})
    assert result == 20
    _check_other_sinks(traced, [before, after], n_events=2, n_runs=3)
    _check_logged(caplog, raiser, {"on_chain_start", "on_chain_end", "on_custom_event"})


@pytest.mark.parametrize("raiser", RAISERS, ids=lambda c: c.__name__)
async def test_raising_handler_astream_events_sees_everything(
    traced: Traced, caplog: pytest.LogCaptureFixture, raiser: type
):
    caplog.set_level(logging.WARNING)
    rec = Recorder()
    events = [
        e async for e in _pipeline().astream_events(1, {"callbacks": [raiser(), rec]}, version="v2")
    ]
    kinds = [e["event"] for e in events]
    assert kinds.count("on_chain_start") == 3 and kinds.count("on_chain_end") == 3, kinds
    assert [e["name"] for e in events if e["event"] == "on_custom_event"] == [
        "sync-event",
        "async-event",
    ]
    assert events[-1]["data"]["output"] == 20
    _check_other_sinks(traced, [rec], n_events=2, n_runs=3)


@pytest.mark.parametrize("raiser", RAISERS, ids=lambda c: c.__name__)
async def test_raising_handler_during_failing_run(
    traced: Traced, caplog: pytest.LogCaptureFixture, raiser: type
):
    """on_chain_error raising does not replace the run's own exception."""
    caplog.set_level(logging.WARNING)
    rec = AsyncRecorder()
    chain = RunnableLambda(_astep, name="astep") | RunnableLambda(_failing, name="failing")
    with pytest.raises(ValueError, match="step failed"):
        await chain.ainvoke(1, {"callbacks": [raiser(), rec]})
    sync_chain = RunnableLambda(_step, name="step") | RunnableLambda(_failing, name="failing")
    with pytest.raises(ValueError, match="step failed"):
        sync_chain.invoke(1, {"callbacks": [raiser(), rec]})
    traced.assert_all_ended()
    assert rec.hooks().count("error") == 4
    _check_logged(
        caplog, raiser, {"on_chain_start", "on_chain_end", "on_custom_event", "on_chain_error"}
    )


@pytest.mark.parametrize(
    "raiser", [SyncRaiserPropagating, AsyncRaiserPropagating], ids=lambda c: c.__name__
)
def test_raise_error_propagates_sync(traced: Traced, raiser: type):
    with pytest.raises(Boom, match="start"):
        _sync_pipeline().invoke(1, {"callbacks": [raiser()]})
    traced.assert_all_ended()


@pytest.mark.parametrize(
    "raiser", [SyncRaiserPropagating, AsyncRaiserPropagating], ids=lambda c: c.__name__
)
async def test_raise_error_propagates_async(traced: Traced, raiser: type):
    with pytest.raises(Boom, match="start"):
        await _pipeline().ainvoke(1, {"callbacks": [raiser()]})
    traced.assert_all_ended()


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_raise_error_in_custom_event_hook_propagates(traced: Traced, is_async: bool):
    class OnlyCustom(AsyncCallbackHandler if is_async else BaseCallbackHandler):  # type: ignore[misc]
        raise_error = True

        def on_custom_event(self, name: str, *a: Any, **kw: Any) -> None:
            raise Boom(name)

    class AsyncOnlyCustom(AsyncCallbackHandler):
        raise_error = True

        async def on_custom_event(self, name: str, *a: Any, **kw: Any) -> None:
            raise Boom(name)

    handler = AsyncOnlyCustom() if is_async else OnlyCustom()
    with pytest.raises(Boom, match="sync-event"):
        _sync_pipeline().invoke(1, {"callbacks": [handler]})
    with pytest.raises(Boom, match="sync-event"):
        await _pipeline().ainvoke(1, {"callbacks": [handler]})
    traced.assert_all_ended()
    failed = [s for s in traced.spans() if s.status.status_code.name == "ERROR"]
    assert {s.name for s in failed} >= {"step"}, [s.name for s in failed]
