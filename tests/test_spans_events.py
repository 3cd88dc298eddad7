"""Custom events → span events on the dispatching run's span; data → attributes for every shape."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from _support import Recorder

from otel_runnables import (
    RunnableGenerator,
    RunnableLambda,
    adispatch_custom_event,
    dispatch_custom_event,
)
from otel_runnables import _attributes as attrs
from otel_runnables.testing import SpanRecorder
from otel_runnables.tracing import reset_tracing_options, set_tracing_options


@pytest.fixture(autouse=True)
def _fresh_options() -> Any:
    reset_tracing_options()
    yield
    reset_tracing_options()


class Unserialisable:
    def __repr__(self) -> str:
        return "<Unserialisable thing>"


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class Model:
    def model_dump(self) -> dict[str, Any]:
        return {"kind": "model", "n": 1}


def cyclic_dict() -> dict[str, Any]:
    d: dict[str, Any] = {"name": "loop"}
    d["self"] = d
    return d


def cyclic_list() -> list[Any]:
    items: list[Any] = [1]
    items.append(items)
    return items


def check_valid(attributes: dict[str, Any]) -> None:
    """Every value is a valid OTel attribute value (what the SDK would keep)."""
    for key, value in attributes.items():
        assert isinstance(key, str)
        if isinstance(value, tuple | list):
            assert len({type(v) for v in value}) <= 1, (key, value)
            assert all(isinstance(v, str | bool | int | float) for v in value)
        else:
            assert isinstance(value, str | bool | int | float), (key, value)


def event_attributes_of(recorder: SpanRecorder, data: Any) -> dict[str, Any]:
    def step(x: int) -> int:
        dispatch_custom_event("ev", data)
        return x

    assert RunnableLambda(step).invoke(7) == 7
    (span,) = recorder.spans()
    (event,) = span.events
    assert event.name == "ev"
    attributes = dict(event.attributes or {})
    check_valid(attributes)
    return attributes


SHAPES: list[tuple[str, Any, dict[str, Any]]] = [
    (
        "flat dict",
        {"step": 1, "ok": True, "x": 0.5, "s": "t"},
        {"step": 1, "ok": True, "x": 0.5, "s": "t"},
    ),
    ("nested dict", {"a": {"b": {"c": 1}, "d": "e"}}, {"a.b.c": 1, "a.d": "e"}),
    ("empty nested dict", {"a": {}}, {"a": "{}"}),
    ("str list", {"l": ["x", "y"]}, {"l": ("x", "y")}),
    ("int list", {"l": [1, 2, 3]}, {"l": (1, 2, 3)}),
    ("float list", {"l": [1.5, 2.5]}, {"l": (1.5, 2.5)}),
    ("bool list", {"l": [True, False]}, {"l": (True, False)}),
    ("tuple", {"l": (1, 2)}, {"l": (1, 2)}),
    ("mixed list", {"l": [1, "x", None]}, {"l": '[1, "x", null]'}),
    ("bool and int list", {"l": [True, 1]}, {"l": "[true, 1]"}),
    ("list of dicts", {"l": [{"a": 1}]}, {"l": '[{"a": 1}]'}),
    ("empty list", {"l": []}, {"l": "[]"}),
    ("none value", {"v": None}, {"v": "null"}),
    ("scalar int", 5, {"data": 5}),
    ("scalar str", "hello", {"data": "hello"}),
    ("scalar float", 2.5, {"data": 2.5}),
    ("scalar bool", False, {"data": False}),
    ("None", None, {"data": "null"}),
    ("top-level list", [1, 2], {"data": (1, 2)}),
    ("top-level mixed list", [1, "a"], {"data": '[1, "a"]'}),
    ("object", {"o": Unserialisable()}, {"o": '"<Unserialisable thing>"'}),
    ("scalar object", Unserialisable(), {"data": '"<Unserialisable thing>"'}),
    ("model_dump", {"m": Model()}, {"m": '{"kind": "model", "n": 1}'}),
    ("bytes", {"b": b"\x00ab"}, {"b": '"\\u0000ab"'}),
    ("set", {"s": {3}}, {"s": "[3]"}),
    ("non-str keys", {1: "one", None: "none"}, {"1": "one", "None": "none"}),
    ("nan", {"f": math.nan, "l": [1.0, math.inf]}, {"f": "nan", "l": '["1.0", "inf"]'}),
    ("huge int", {"i": 2**70, "l": [1, 2**70]}, {"i": str(2**70), "l": ("1", str(2**70))}),
]


@pytest.mark.parametrize(("data", "expected"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_event_data_shapes(otel_spans: SpanRecorder, data: Any, expected: dict[str, Any]) -> None:
    assert event_attributes_of(otel_spans, data) == expected


def test_cyclic_dict_and_list(otel_spans: SpanRecorder) -> None:
    attributes = event_attributes_of(otel_spans, {"d": cyclic_dict(), "l": cyclic_list()})
    assert attributes["d.name"] == "loop"
    assert "d.self.name" in attributes  # flattening stops at a bounded depth
    assert attributes["l"] == '[1, "[...]"]'  # valid JSON: the cycle is a marker string


def test_top_level_cycle(otel_spans: SpanRecorder) -> None:
    attributes = event_attributes_of(otel_spans, cyclic_list())
    assert "[...]" in attributes["data"]


def test_repr_that_raises(otel_spans: SpanRecorder) -> None:
    attributes = event_attributes_of(otel_spans, {"bad": BadRepr(), "ok": 1})
    assert attributes == {"bad": '"<unrepresentable BadRepr>"', "ok": 1}
    otel_spans.clear()
    assert event_attributes_of(otel_spans, BadRepr()) == {"data": '"<unrepresentable BadRepr>"'}


def test_very_large_values_are_truncated_with_marker(
    otel_spans: SpanRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_RUNNABLES_EVENT_SIZE_LIMIT", "100000")  # room for three values
    big = "x" * (attrs.DEFAULT_VALUE_LENGTH_LIMIT * 2)
    attributes = event_attributes_of(otel_spans, {"s": big, "l": [big], "o": {"k": [big, 1]}})
    for value in (attributes["s"], attributes["l"][0], attributes["o.k"]):
        assert len(value) == attrs.DEFAULT_VALUE_LENGTH_LIMIT
        assert value.endswith(attrs.TRUNCATION_MARKER)


@pytest.mark.parametrize("how", ["sync", "async"])
async def test_event_lands_on_dispatching_span_at_dispatch_time(
    otel_spans: SpanRecorder, how: str
) -> None:
    def inner(x: int) -> int:
        dispatch_custom_event("inner-event", {"x": x})
        return x

    async def ainner(x: int) -> int:
        await adispatch_custom_event("inner-event", {"x": x})
        return x

    def outer(x: int) -> int:
        dispatch_custom_event("before", {"i": 1})
        RunnableLambda(inner).invoke(x)
        dispatch_custom_event("after", {"i": 2})
        return x

    async def aouter(x: int) -> int:
        await adispatch_custom_event("before", {"i": 1})
        await RunnableLambda(ainner).ainvoke(x)
        await adispatch_custom_event("after", {"i": 2})
        return x

    handler = Recorder()
    data = {"same": "object"}
    if how == "sync":
        RunnableLambda(outer).invoke(3, {"callbacks": [handler]})
    else:
        await RunnableLambda(aouter).ainvoke(3, {"callbacks": [handler]})
    (outer_span,) = otel_spans.by_name("aouter" if how == "async" else "outer")
    (inner_span,) = otel_spans.by_name("ainner" if how == "async" else "inner")
    assert [e.name for e in outer_span.events] == ["before", "after"]
    assert [e.name for e in inner_span.events] == ["inner-event"]
    before, after = outer_span.events
    (middle,) = inner_span.events
    assert outer_span.start_time <= before.timestamp <= inner_span.start_time
    assert inner_span.start_time <= middle.timestamp <= inner_span.end_time
    assert inner_span.end_time <= after.timestamp <= outer_span.end_time
    assert [c.name for c in handler.custom_events()] == ["before", "inner-event", "after"]
    assert data == {"same": "object"}


def test_event_from_generator_step(otel_spans: SpanRecorder) -> None:
    def gen(chunks: Any) -> Any:
        for chunk in chunks:
            dispatch_custom_event("chunk-seen", {"chunk": chunk})
            yield chunk

    assert list(RunnableGenerator(gen).stream("ab")) == ["ab"]
    (span,) = otel_spans.spans()
    assert [(e.name, dict(e.attributes)) for e in span.events] == [("chunk-seen", {"chunk": "ab"})]


def test_handlers_get_the_very_object_spans_get_attributes(otel_spans: SpanRecorder) -> None:
    payload = {"o": Unserialisable(), "nested": {"k": [1, "x"]}}
    handler = Recorder()

    def step(x: int) -> int:
        dispatch_custom_event("ev", payload)
        return x

    RunnableLambda(step).invoke(1, {"callbacks": [handler]})
    assert [(c.name, c.data) for c in handler.custom_events()] == [("ev", payload)]
    assert handler.custom_events()[0].data is payload


async def test_hide_event_data_keeps_names_only_in_spans(otel_spans: SpanRecorder) -> None:
    set_tracing_options(hide_event_data=True)

    async def step(x: int) -> int:
        await adispatch_custom_event("secret", {"password": "hunter2"})
        return x

    received = []
    async for event in RunnableLambda(step).astream_events(1, version="v2"):
        if event["event"] == "on_custom_event":
            received.append(event["data"])
    assert received == [{"password": "hunter2"}]
    (span,) = otel_spans.spans()
    (event,) = span.events
    assert event.name == "secret"
    assert not event.attributes


def test_hide_event_data_from_env(
    otel_spans: SpanRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_RUNNABLES_HIDE_EVENT_DATA", "true")
    handler = Recorder()

    def step(x: int) -> int:
        dispatch_custom_event("secret", {"password": "hunter2"})
        return x

    RunnableLambda(step).invoke(1, {"callbacks": [handler]})
    assert [(c.name, c.data) for c in handler.custom_events()] == [
        ("secret", {"password": "hunter2"})
    ]
    (span,) = otel_spans.spans()
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [("secret", {})]


@pytest.mark.parametrize("how", ["option", "env"])
async def test_chunk_events_only_with_record_chunks(
    otel_spans: SpanRecorder, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    def gen(chunks: Any) -> Any:
        for chunk in chunks:
            yield chunk
            yield {"n": len(chunk)}

    runnable = RunnableGenerator(gen)
    list(runnable.stream("ab"))
    (span,) = otel_spans.spans()
    assert span.events == ()
    otel_spans.clear()
    if how == "option":
        set_tracing_options(record_chunks=True)
    else:
        monkeypatch.setenv("OTEL_RUNNABLES_RECORD_CHUNKS", "1")
    assert list(runnable.stream("ab")) == ["ab", {"n": 2}]
    (span,) = otel_spans.spans()
    assert [(e.name, dict(e.attributes)) for e in span.events] == [
        (attrs.CHUNK_EVENT, {attrs.CHUNK: "ab"}),
        (attrs.CHUNK_EVENT, {attrs.CHUNK: json.dumps({"n": 2})}),
    ]


def test_event_data_never_breaks_the_run(otel_spans: SpanRecorder) -> None:
    class EvilMapping(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            raise RuntimeError("no items")

        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    attributes = event_attributes_of(otel_spans, {"evil": EvilMapping(a=1), "ok": 1})
    assert attributes["ok"] == 1
    assert isinstance(attributes["evil"], str)
    otel_spans.clear()
    assert event_attributes_of(otel_spans, EvilMapping(a=1)) == {
        "data": "<unrepresentable EvilMapping>"
    }
