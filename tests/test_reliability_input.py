"""Bad input never breaks a run, and wrong API use fails with an error naming the problem.

Property-based (hypothesis): event data and run inputs/outputs of any shape -- deep nesting,
huge strings, bytes, NaN/inf, huge ints, cycles, non-str dict keys, objects whose ``__repr__`` /
``__str__`` raise. The run completes; every span and span-event attribute is a valid OTel value;
the SDK logs no invalid-attribute warning; in-process sinks receive the very same object; long
strings are truncated with the visible marker.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from _support import Recorder, Traced
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_runnables import RunnableLambda, dispatch_custom_event
from otel_runnables._attributes import TRUNCATION_MARKER, value_length_limit

SCALARS = (str, bool, int, float)


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __str__(self) -> str:
        raise RuntimeError("no str")


class BadEq(dict):  # type: ignore[type-arg]
    def __bool__(self) -> bool:
        raise ValueError("ambiguous")

    def __eq__(self, other: object) -> bool:
        raise ValueError("no eq")

    __hash__ = None  # type: ignore[assignment]


def _cyclic(kind: int) -> Any:
    if kind == 0:
        d: dict[str, Any] = {"a": 1}
        d["self"] = d
        return d
    lst: list[Any] = [1]
    lst.append(lst)
    return lst


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.integers(0, 40_000).map(lambda n: "x" * n),
    st.builds(BadRepr),
    st.integers(0, 1).map(_cyclic),
)
keys = st.one_of(st.text(max_size=5), st.integers(), st.none(), st.tuples(st.integers()))
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=4),
        st.tuples(inner, inner),
        st.builds(BadEq, st.dictionaries(st.text(max_size=3), inner, max_size=2)),
    ),
    max_leaves=12,
)


def _deep(depth: int) -> Any:
    out: Any = "leaf"
    for i in range(depth):
        out = {f"k{i}": out, "list": [i]} if i % 3 == 0 else [out]
    return out


def _valid(value: Any) -> bool:
    if isinstance(value, SCALARS):
        return True
    if isinstance(value, list | tuple):
        kinds = {type(v) for v in value}
        return len(kinds) <= 1 and all(isinstance(v, SCALARS) for v in value)
    return False


def _check_attributes(spans: list[Any], limit: int) -> None:
    for span in spans:
        groups = [span.attributes] + [e.attributes for e in span.events]
        for attributes in groups:
            for key, value in (attributes or {}).items():
                assert isinstance(key, str), key
                assert _valid(value), f"{span.name}: {key}={value!r} is not a valid attribute"
                texts = (
                    [value]
                    if isinstance(value, str)
                    else value
                    if isinstance(value, tuple | list)
                    else []
                )
                for text in texts:
                    if isinstance(text, str):
                        assert len(text) <= limit, (key, len(text))


def _run_with(value: Any, records: list[logging.LogRecord]) -> None:
    recorder = Recorder()

    def step(x: Any) -> Any:
        dispatch_custom_event("data", x)
        dispatch_custom_event("wrapped", {"v": x, 7: x})
        return x

    with Traced() as traced:  # not the fixture: one per hypothesis example
        result = RunnableLambda(step, name="step").invoke(value, {"callbacks": [recorder]})
        spans = traced.spans()
        traced.assert_all_ended()
    assert result is value
    (start_in,) = [c.inputs for c in recorder.starts()]
    (end_out,) = [c.outputs for c in recorder.ends()]
    assert start_in is value and end_out is value
    customs = recorder.custom_events()
    assert customs[0].data is value and customs[1].data["v"] is value
    assert len(spans) == 1 and len(spans[0].events) == 2
    _check_attributes(list(spans), value_length_limit())
    noisy = [r.getMessage() for r in records if r.name.startswith("opentelemetry")]
    assert not noisy, noisy


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.slow  # 50 generated examples, some with 40 000-character strings: up to seconds
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_any_shape_of_data_completes_with_valid_attributes(value: Any) -> None:
    handler = _ListHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        _run_with(value, handler.records)
    finally:
        root.removeHandler(handler)


@pytest.mark.parametrize(
    "value",
    [
        _deep(60),
        _cyclic(0),
        _cyclic(1),
        BadRepr(),
        {BadRepr(): BadRepr()},
        {(1, 2): b"\xff\x00", None: float("nan"), 3: [math.inf, -math.inf]},
        [1, "a", None, 2.5],
        BadEq(a=1),
        2**100,
        "y" * 100_000,
        b"z" * 100_000,
        {"": 1, "a": {"": 2}},
    ],
    ids=[
        "deep",
        "cyclic-dict",
        "cyclic-list",
        "bad-repr",
        "bad-repr-key",
        "odd-keys",
        "mixed-list",
        "bad-eq",
        "huge-int",
        "huge-str",
        "huge-bytes",
        "empty-key",
    ],
)
async def test_named_bad_values(value: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    _run_with(value, caplog.records)
    events = []
    async for event in RunnableLambda(lambda x: dispatch_custom_event("e", x) or x).astream_events(
        value, version="v2"
    ):
        events.append(event)
    (custom,) = [e for e in events if e["event"] == "on_custom_event"]
    assert custom["data"] is value


def test_long_values_truncated_with_marker(monkeypatch: pytest.MonkeyPatch, traced: Traced) -> None:
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100")
    big = "s" * 1000

    def step(x: str) -> str:
        dispatch_custom_event("big", {"text": big, "list": [big, "short"]})
        dispatch_custom_event("bare", big)
        return x + "!"

    RunnableLambda(step, name="step").invoke(big)
    (span,) = traced.spans()
    values = [
        span.attributes["input.value"],
        span.attributes["output.value"],
        span.events[0].attributes["text"],
        span.events[0].attributes["list"][0],
        span.events[1].attributes["data"],
    ]
    for value in values:
        assert len(value) == 100 and value.endswith(TRUNCATION_MARKER), value
    assert span.events[0].attributes["list"][1] == "short"


# --------------------------------------------------------------------------- wrong API use


def test_bad_config_tags_type() -> None:
    with pytest.raises(TypeError, match=r"config\['tags'\]"):
        RunnableLambda(lambda x: x).invoke(1, {"tags": "x"})  # type: ignore[typeddict-item]


def test_bad_config_metadata_type() -> None:
    with pytest.raises(TypeError, match=r"config\['metadata'\].*dict"):
        RunnableLambda(lambda x: x).invoke(1, {"metadata": []})  # type: ignore[typeddict-item]


def test_bad_config_callbacks_type() -> None:
    with pytest.raises(TypeError, match=r"config\['callbacks'\]"):
        RunnableLambda(lambda x: x).invoke(1, {"callbacks": [object()]})  # type: ignore[list-item]


def test_non_runnable_in_pipe() -> None:
    with pytest.raises(TypeError, match=r"Expected a Runnable, callable or dict in \|, got int"):
        RunnableLambda(lambda x: x) | 42  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"got str"):
        "text" | RunnableLambda(lambda x: x)  # type: ignore[operator]


async def test_unknown_astream_events_version() -> None:
    with pytest.raises(ValueError, match=r"version 'v1' is not supported.*'v2'"):
        RunnableLambda(lambda x: x).astream_events(1, version="v1")


def test_dispatch_outside_a_run() -> None:
    with pytest.raises(RuntimeError, match="without a parent run id"):
        dispatch_custom_event("orphan", {})


def test_non_str_event_name() -> None:
    def step(x: int) -> int:
        dispatch_custom_event(42, {})  # type: ignore[arg-type]
        return x

    with pytest.raises(TypeError, match="custom event name must be a str, got int"):
        RunnableLambda(step).invoke(1)
