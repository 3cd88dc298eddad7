"""batch / abatch: results in input order, max_concurrency honoured, return_exceptions, one
root run per input with its own config."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from _support import Call, Recorder

from otel_runnables import RunnableLambda, RunnableParallel


def _roots(recorder: Recorder, hook: str) -> list[Call]:
    """The calls of ``hook`` for root runs (one per input of a batch)."""
    return [c for c in recorder.of(hook) if c.parent_run_id is None]


class Gauge:
    """Counts calls running at the same time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def enter(self) -> None:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)

    def leave(self) -> None:
        with self.lock:
            self.active -= 1


def _fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x * 10


# -- order ---------------------------------------------------------------------------------


def test_batch_keeps_input_order() -> None:
    # Later inputs finish first: the results are still in input order.
    events = [threading.Event() for _ in range(4)]

    def step(i: int) -> int:
        if i + 1 < len(events):
            assert events[i + 1].wait(5)
        events[i].set()
        return i * 10

    assert RunnableLambda(step).batch([0, 1, 2, 3]) == [0, 10, 20, 30]


async def test_abatch_keeps_input_order() -> None:
    events = [asyncio.Event() for _ in range(4)]

    async def step(i: int) -> int:
        if i + 1 < len(events):
            await asyncio.wait_for(events[i + 1].wait(), 5)
        events[i].set()
        return i * 10

    assert await RunnableLambda(step).abatch([0, 1, 2, 3]) == [0, 10, 20, 30]


def test_batch_of_a_sequence_and_a_parallel() -> None:
    seq = RunnableLambda(lambda x: x + 1) | {"double": lambda x: x * 2, "same": lambda x: x}
    expected = [{"double": 2 * (i + 1), "same": i + 1} for i in range(5)]
    assert seq.batch(list(range(5))) == expected
    assert RunnableParallel(n=lambda x: -x).batch([1, 2]) == [{"n": -1}, {"n": -2}]


async def test_abatch_of_a_sequence() -> None:
    seq = RunnableLambda(lambda x: x + 1) | {"double": lambda x: x * 2}
    assert await seq.abatch([0, 1, 2]) == [{"double": 2}, {"double": 4}, {"double": 6}]


def test_empty_batch() -> None:
    runnable = RunnableLambda(lambda x: x)
    assert runnable.batch([]) == []


async def test_empty_abatch() -> None:
    assert await RunnableLambda(lambda x: x).abatch([]) == []


# -- max_concurrency -----------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_batch_max_concurrency(limit: int) -> None:
    gauge = Gauge()

    def step(x: int) -> int:
        gauge.enter()
        try:
            threading.Event().wait(0.005)
            return x
        finally:
            gauge.leave()

    inputs = list(range(8))
    assert RunnableLambda(step).batch(inputs, {"max_concurrency": limit}) == inputs
    assert 1 <= gauge.peak <= limit


@pytest.mark.parametrize("limit", [1, 2, 3])
async def test_abatch_max_concurrency(limit: int) -> None:
    gauge = Gauge()

    async def step(x: int) -> int:
        gauge.enter()
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            return x
        finally:
            gauge.leave()

    inputs = list(range(8))
    assert await RunnableLambda(step).abatch(inputs, {"max_concurrency": limit}) == inputs
    assert 1 <= gauge.peak <= limit


async def test_abatch_max_concurrency_for_sync_steps_in_threads() -> None:
    gauge = Gauge()

    def step(x: int) -> int:
        gauge.enter()
        try:
            threading.Event().wait(0.005)
            return x
        finally:
            gauge.leave()

    assert await RunnableLambda(step).abatch(list(range(6)), {"max_concurrency": 2}) == list(
        range(6)
    )
    assert gauge.peak <= 2


def test_batch_without_limit_runs_inputs_concurrently() -> None:
    # Every call waits for all the others: passes only if all 4 run at once.
    barrier = threading.Barrier(4, timeout=5)

    def step(x: int) -> int:
        barrier.wait()
        return x

    assert RunnableLambda(step).batch([1, 2, 3, 4]) == [1, 2, 3, 4]


async def test_abatch_without_limit_runs_inputs_concurrently() -> None:
    started = 0
    all_started = asyncio.Event()

    async def step(x: int) -> int:
        nonlocal started
        started += 1
        if started == 4:
            all_started.set()
        await asyncio.wait_for(all_started.wait(), 5)
        return x

    assert await RunnableLambda(step).abatch([1, 2, 3, 4]) == [1, 2, 3, 4]


# -- return_exceptions ---------------------------------------------------------------------


def test_batch_return_exceptions() -> None:
    roots = Recorder()
    out = RunnableLambda(_fail_on_odd).batch(
        [0, 1, 2, 3], {"callbacks": [roots]}, return_exceptions=True
    )

    assert out[0] == 0 and out[2] == 20
    assert isinstance(out[1], ValueError) and str(out[1]) == "odd 1"
    assert isinstance(out[3], ValueError) and str(out[3]) == "odd 3"
    assert sorted(c.outputs for c in _roots(roots, "end")) == [0, 20]
    assert sorted(str(c.error) for c in _roots(roots, "error")) == ["odd 1", "odd 3"]


async def test_abatch_return_exceptions() -> None:
    out = await RunnableLambda(_fail_on_odd).abatch([1, 2], return_exceptions=True)
    assert isinstance(out[0], ValueError) and out[1] == 20


def test_batch_raises_without_return_exceptions() -> None:
    with pytest.raises(ValueError, match="odd 1"):
        RunnableLambda(_fail_on_odd).batch([0, 1, 2])


async def test_abatch_raises_without_return_exceptions() -> None:
    with pytest.raises(ValueError, match="odd 1"):
        await RunnableLambda(_fail_on_odd).abatch([0, 1, 2])


def test_sequence_batch_return_exceptions_stops_failed_inputs() -> None:
    calls: list[int] = []

    def after(x: int) -> int:
        calls.append(x)
        return x + 1

    seq = RunnableLambda(_fail_on_odd) | RunnableLambda(after)
    roots = Recorder()
    out = seq.batch([0, 1, 2], {"callbacks": [roots]}, return_exceptions=True)

    assert out[0] == 1 and out[2] == 21 and isinstance(out[1], ValueError)
    assert sorted(calls) == [0, 20]  # the failed input never reached the second step
    assert len(_roots(roots, "start")) == 3
    assert len(_roots(roots, "end")) == 2 and len(_roots(roots, "error")) == 1


async def test_sequence_abatch_return_exceptions() -> None:
    seq = RunnableLambda(_fail_on_odd) | RunnableLambda(lambda x: x + 1)
    out = await seq.abatch([1, 2], return_exceptions=True)
    assert isinstance(out[0], ValueError) and out[1] == 21


# -- one root run per input, configs per input ---------------------------------------------


def test_batch_one_root_run_per_input_with_its_config() -> None:
    roots = Recorder()
    configs = [{"callbacks": [roots], "tags": [f"t{i}"]} for i in range(3)]
    RunnableLambda(lambda x: x).batch([0, 1, 2], configs)  # type: ignore[arg-type]

    assert sorted((c.inputs, c.tags) for c in _roots(roots, "start")) == [
        (0, ["t0"]),
        (1, ["t1"]),
        (2, ["t2"]),
    ]


async def test_abatch_one_root_run_per_input_with_its_config() -> None:
    roots = Recorder()
    configs = [{"callbacks": [roots], "tags": [f"t{i}"]} for i in range(3)]
    await (RunnableLambda(lambda x: x) | (lambda x: x)).abatch([0, 1, 2], configs)  # type: ignore[arg-type]

    assert sorted((c.inputs, c.tags) for c in _roots(roots, "start")) == [
        (0, ["t0"]),
        (1, ["t1"]),
        (2, ["t2"]),
    ]


def test_batch_run_id_applies_to_the_first_input_only() -> None:
    roots = Recorder()
    run_id = uuid.uuid4()
    RunnableLambda(lambda x: x).batch([0, 1, 2], {"callbacks": [roots], "run_id": run_id})

    by_input = {c.inputs: c.run_id for c in _roots(roots, "start")}
    assert by_input[0] == run_id
    assert len(set(by_input.values())) == 3


def test_batch_config_list_of_wrong_length() -> None:
    with pytest.raises(ValueError):
        RunnableLambda(lambda x: x).batch([1, 2], [{}, {}, {}])
