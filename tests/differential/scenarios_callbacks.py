"""Scenarios about callback handlers: error policy, ignore_* flags, run_inline, sync/async mix."""

from __future__ import annotations

from typing import Any

from .scenarios import Lib, Recorder, scenario


def _step_with_event(lib: Lib) -> Any:
    def step(x: int) -> int:
        lib.dispatch_custom_event("tick", {"x": x})
        return x + 1

    return lib.RunnableLambda(step)


async def _astep_with_event(lib: Lib) -> Any:
    async def step(x: int) -> int:
        await lib.adispatch_custom_event("tick", {"x": x})
        return x + 1

    return lib.RunnableLambda(step)


@scenario()
def s_handler_raise_error_true_start(lib: Lib, rec: Recorder) -> None:
    """A raise_error=True handler failing in on_chain_start: its exception propagates."""
    failing = rec.handler("failing", fail_on=["on_chain_start"], raise_error=True)
    rec.outcome(_step_with_event(lib).invoke, 1, {"callbacks": [failing, rec.handler("ok")]})


@scenario()
def s_handler_raise_error_true_custom_event(lib: Lib, rec: Recorder) -> None:
    """raise_error=True handler failing in on_custom_event: the step fails with it."""
    failing = rec.handler("failing", fail_on=["on_custom_event"], raise_error=True)
    rec.outcome(_step_with_event(lib).invoke, 1, {"callbacks": [failing, rec.handler("ok")]})


@scenario()
def s_handler_raise_error_false_logged(lib: Lib, rec: Recorder) -> None:
    """raise_error=False (default): the failure is logged, the run and other handlers go on."""
    failing = rec.handler("failing", fail_on=["on_chain_start", "on_custom_event"])
    capture = rec.capture_warnings_logged()
    try:
        rec.outcome(_step_with_event(lib).invoke, 1, {"callbacks": [failing, rec.handler("ok")]})
    finally:
        rec.release_capture(capture)
    rec.add(
        "logged",
        start=any("on_chain_start" in m for m in capture.messages),
        custom=any("on_custom_event" in m for m in capture.messages),
    )


@scenario()
async def s_async_handler_raise_error_true(lib: Lib, rec: Recorder) -> None:
    """An async raise_error=True handler failing in on_chain_start under ainvoke."""
    failing = rec.handler("failing", is_async=True, fail_on=["on_chain_start"], raise_error=True)
    step = await _astep_with_event(lib)
    await rec.aoutcome(step.ainvoke(1, {"callbacks": [failing]}))


@scenario()
async def s_async_handler_raise_error_false_logged(lib: Lib, rec: Recorder) -> None:
    """An async handler failing without raise_error: logged, run continues."""
    failing = rec.handler("failing", is_async=True, fail_on=["on_custom_event"])
    step = await _astep_with_event(lib)
    capture = rec.capture_warnings_logged()
    try:
        await rec.aoutcome(step.ainvoke(1, {"callbacks": [failing]}))
    finally:
        rec.release_capture(capture)
    rec.add("logged", custom=any("on_custom_event" in m for m in capture.messages))


@scenario()
def s_handler_ignore_chain(lib: Lib, rec: Recorder) -> None:
    """ignore_chain=True: only custom events reach that handler."""
    handlers = [rec.handler("no_chain", ignore_chain=True), rec.handler("all")]
    rec.outcome(_step_with_event(lib).invoke, 1, {"callbacks": handlers})


@scenario()
def s_handler_ignore_custom_event(lib: Lib, rec: Recorder) -> None:
    """ignore_custom_event=True: only chain hooks reach that handler."""
    handlers = [rec.handler("no_custom", ignore_custom_event=True), rec.handler("all")]
    rec.outcome(_step_with_event(lib).invoke, 1, {"callbacks": handlers})


@scenario()
async def s_handler_ignore_flags_async(lib: Lib, rec: Recorder) -> None:
    """ignore_* flags on async handlers under ainvoke."""
    handlers = [
        rec.handler("no_chain", is_async=True, ignore_chain=True),
        rec.handler("no_custom", is_async=True, ignore_custom_event=True),
    ]
    step = await _astep_with_event(lib)
    await rec.aoutcome(step.ainvoke(1, {"callbacks": handlers}))


@scenario()
async def s_handler_run_inline_order(lib: Lib, rec: Recorder) -> None:
    """run_inline=True async handler next to a normal one sharing the log (order of calls)."""
    handlers = [
        rec.handler("normal", is_async=True),
        rec.handler("inline", is_async=True, run_inline=True),
    ]
    step = await _astep_with_event(lib)
    await rec.aoutcome(step.ainvoke(1, {"callbacks": handlers}))


@scenario()
async def s_sync_handler_on_ainvoke(lib: Lib, rec: Recorder) -> None:
    """A sync handler attached to ainvoke of a nested async pipeline."""
    step = await _astep_with_event(lib)
    seq = step | lib.RunnableLambda(lambda x: x * 2)
    await rec.aoutcome(seq.ainvoke(1, {"callbacks": [rec.handler("sync")]}))


@scenario()
def s_async_handler_on_invoke(lib: Lib, rec: Recorder) -> None:
    """An async handler attached to a sync invoke (no running loop)."""
    seq = _step_with_event(lib) | lib.RunnableLambda(lambda x: x * 2)
    rec.outcome(seq.invoke, 1, {"callbacks": [rec.handler("async", is_async=True)]})


@scenario()
async def s_handler_with_astream_events(lib: Lib, rec: Recorder) -> None:
    """A handler in config next to astream_events: both sinks see the same runs, interleaved."""
    step = await _astep_with_event(lib)
    await rec.events(step, 1, {"callbacks": [rec.handler("h", is_async=True)], "tags": ["x"]})
