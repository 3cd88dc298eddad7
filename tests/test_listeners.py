"""with_listeners / with_alisteners: listeners get the bound runnable's run (the fields
langchain-core's listeners read), a listener with a ``config`` parameter gets the config, async
listeners are awaited, a listener that raises is logged and skipped."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from otel_runnables import ListenerRun, RunnableGenerator, RunnableLambda, RunnableParallel


class Heard:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ListenerRun, dict[str, Any]]] = []
        self.snapshots: list[dict[str, Any]] = []

    def _take(self, which: str, run: ListenerRun, config: Any = None) -> None:
        self.calls.append((which, run, config))
        self.snapshots.append(
            {
                "which": which,
                "inputs": dict(run.inputs),
                "outputs": dict(run.outputs),
                "error": run.error,
                "ended": run.end_time is not None,
            }
        )

    def on_start(self, run: ListenerRun) -> None:
        self._take("start", run)

    def on_end(self, run: ListenerRun, config: Any) -> None:
        self._take("end", run, config)

    def on_error(self, run: ListenerRun) -> None:
        self._take("error", run)


def listened(runnable: Any, heard: Heard) -> Any:
    return runnable.with_listeners(
        on_start=heard.on_start, on_end=heard.on_end, on_error=heard.on_error
    )


def test_the_run_fields() -> None:
    heard = Heard()
    step = RunnableLambda(lambda x: {"y": x}, name="step")
    assert listened(step, heard).invoke(1, {"tags": ["t"], "metadata": {"m": 1}}) == {"y": 1}
    assert [s["which"] for s in heard.snapshots] == ["start", "end"]
    start, end = heard.snapshots
    assert start == {"which": "start", "inputs": {"input": 1}, "outputs": {}, "error": None,
                     "ended": False}  # fmt: skip
    assert end["outputs"] == {"y": 1}  # a dict output is the outputs themselves
    run = heard.calls[0][1]
    assert heard.calls[1][1] is run  # one run object, updated
    assert isinstance(run.id, uuid.UUID) and run.name == "step" and run.run_type == "chain"
    assert run.tags == ["t"] and run.metadata == {"m": 1} and run.parent_run_id is None
    assert isinstance(run.start_time, datetime) and run.end_time is not None
    assert run.start_time <= run.end_time


def test_a_listener_with_config_gets_it() -> None:
    heard = Heard()
    config = {"tags": ["t"], "metadata": {"m": 1}, "foo": "bar"}
    listened(RunnableLambda(lambda x: x), heard).invoke(1, config)  # type: ignore[arg-type]
    expected = {"tags": ["t"], "metadata": {"m": 1}, "configurable": {"foo": "bar"}}
    assert heard.calls[-1][2] == expected
    listened(RunnableLambda(lambda x: x).with_config(tags=["a"]), heard).invoke(1)
    assert heard.calls[-1][2] == {"tags": ["a"], "metadata": {}, "configurable": {}}


def test_only_the_bound_runnables_run_is_heard() -> None:
    heard = Heard()
    seq = RunnableLambda(lambda x: x + 1, name="a") | RunnableLambda(lambda x: x * 2, name="b")
    outer = RunnableParallel(out=listened(seq, heard))
    assert outer.invoke(1) == {"out": 4}
    names = [(which, run.name) for which, run, _ in heard.calls]
    assert names == [("start", "RunnableSequence"), ("end", "RunnableSequence")]
    run = heard.calls[0][1]
    assert run.parent_run_id is not None  # the parallel's run
    assert run.tags == ["map:key:out"]


def test_on_error_gets_the_error_as_text() -> None:
    heard = Heard()

    def boom(x: Any) -> Any:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        listened(RunnableLambda(boom), heard).invoke(1)
    assert [s["which"] for s in heard.snapshots] == ["start", "error"]
    error = heard.calls[-1][1].error
    assert error is not None and error.startswith("ValueError('boom')")
    assert "Traceback" in error


def test_streamed_runs_report_their_input_at_the_end() -> None:
    def upper(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield chunk.upper()

    heard = Heard()
    assert list(listened(RunnableGenerator(upper), heard).stream("ab")) == ["AB"]
    assert heard.snapshots[0]["inputs"] == {"input": ""}  # not known at the start
    assert heard.snapshots[-1]["inputs"] == {"input": "ab"}
    assert heard.snapshots[-1]["outputs"] == {"output": "AB"}


def test_each_call_and_each_batch_item_has_its_own_run() -> None:
    heard = Heard()
    bound = listened(RunnableLambda(lambda x: x), heard)
    bound.batch([1, 2])
    bound.invoke(3)
    starts = [run for which, run, _ in heard.calls if which == "start"]
    assert sorted(r.inputs["input"] for r in starts) == [1, 2, 3]
    assert len({r.id for r in starts}) == 3


def test_a_listener_that_raises_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    def broken(run: ListenerRun) -> None:
        raise RuntimeError("listener broke")

    with caplog.at_level(logging.WARNING, logger="otel_runnables"):
        assert RunnableLambda(lambda x: x + 1).with_listeners(on_end=broken).invoke(1) == 2
    assert "listener broke" in caplog.text


async def test_async_listeners_are_awaited() -> None:
    order: list[str] = []

    async def on_start(run: ListenerRun) -> None:
        await asyncio.sleep(0.01)
        order.append(f"start {run.inputs['input']}")

    async def on_end(run: ListenerRun, config: Any) -> None:
        await asyncio.sleep(0)
        order.append(f"end {run.outputs['output']}")

    async def step(x: int) -> int:
        order.append("step")
        return x + 1

    r = RunnableLambda(step).with_alisteners(on_start=on_start, on_end=on_end)
    assert await r.ainvoke(1) == 2
    assert order == ["start 1", "step", "end 2"]


def test_async_listeners_in_a_sync_run() -> None:
    heard: list[str] = []

    async def on_end(run: ListenerRun) -> None:
        heard.append(run.name)

    RunnableLambda(lambda x: x, name="sync").with_alisteners(on_end=on_end).invoke(1)
    assert heard == ["sync"]


def test_listeners_of_a_map_hear_each_element() -> None:
    heard = Heard()
    each = RunnableLambda(lambda x: x * 2, name="double").map()
    assert each.with_listeners(on_end=heard.on_end).invoke([1, 2]) == [2, 4]
    assert sorted(run.outputs["output"] for _, run, _ in heard.calls) == [2, 4]
