"""Converting a value costs what is kept, not what was given: the JSON stops at the limit.

Two kinds of proof: counting how many items of a huge value are read (exact, no timing), and
one generous timing ratio for a plain list of a million ints (the issue's case: 1.3 s per run).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from otel_runnables import RunnableLambda, dispatch_custom_event
from otel_runnables.testing import SpanRecorder

N = 1_000_000


class CountingList(list):  # type: ignore[type-arg]
    """A list that counts the items read from it (iteration, indexing, slicing)."""

    def __init__(self, items: Any) -> None:
        super().__init__(items)
        self.read = 0

    def __iter__(self) -> Iterator[Any]:
        for item in super().__iter__():
            self.read += 1
            yield item

    def __getitem__(self, index: Any) -> Any:
        item = super().__getitem__(index)
        self.read += len(item) if isinstance(index, slice) else 1
        return item


class Table:
    """An object converted through ``to_dict()``, whose rows count what is read."""

    def __init__(self, rows: CountingList) -> None:
        self.rows = rows

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows}


def _three_steps() -> Any:
    return (
        RunnableLambda(lambda x: x, name="a")
        | RunnableLambda(lambda x: x, name="b")
        | RunnableLambda(lambda x: x, name="c")
    )


@pytest.mark.parametrize("shape", ["list", "mixed-list", "object", "nested"])
def test_huge_input_is_read_only_as_far_as_kept(otel_spans: SpanRecorder, shape: str) -> None:
    if shape == "list":
        rows = CountingList(range(N))
        value: Any = rows
    elif shape == "mixed-list":
        rows = CountingList([{"id": i} for i in range(N)])
        value = rows
    elif shape == "object":
        rows = CountingList({"id": i, "name": f"row-{i}"} for i in range(N))
        value = Table(rows)
    else:
        rows = CountingList(range(N))
        value = {"a": {"b": [rows]}}
    assert _three_steps().invoke(value) is value
    spans = otel_spans.spans()
    assert len(spans) == 4
    conversions = 8  # input and output of four runs
    assert rows.read <= conversions * 200, f"{rows.read} items read to convert {shape}"


@pytest.mark.parametrize("shape", ["list", "dict", "object"])
def test_huge_event_data_is_read_only_as_far_as_kept(otel_spans: SpanRecorder, shape: str) -> None:
    rows = CountingList(range(N))
    data: Any = {"list": rows, "dict": {"rows": rows}, "object": Table(rows)}[shape]

    def step(x: int) -> int:
        dispatch_custom_event("data", data)
        return x

    RunnableLambda(step).invoke(1)
    assert rows.read <= 200


def test_huge_dict_is_read_only_as_far_as_kept(otel_spans: SpanRecorder) -> None:
    class CountingDict(dict):  # type: ignore[type-arg]
        read = 0

        def items(self) -> Any:
            for pair in super().items():
                CountingDict.read += 1
                yield pair

    data = CountingDict((f"k{i}", i) for i in range(100_000))

    def step(x: int) -> int:
        dispatch_custom_event("data", data)
        return x

    RunnableLambda(step).invoke(1, {"metadata": {"m": data}})
    assert CountingDict.read <= 3 * 200


def test_million_int_input_costs_about_a_small_one(otel_spans: SpanRecorder) -> None:
    chain = _three_steps()
    small, big = list(range(1_000)), list(range(N))

    def best(value: Any) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            chain.invoke(value)
            times.append(time.perf_counter() - start)
        return min(times)

    ratio = best(big) / best(small)
    assert ratio < 5, f"a million-int input costs {ratio:.1f}x a thousand-int one"
