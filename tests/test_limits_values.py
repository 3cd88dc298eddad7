"""Lists, dicts, events and spans are cut to documented limits; what was cut is counted and
each kind of cut is logged once, never once per key."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_runnables import RunnableLambda, _limits, dispatch_custom_event
from otel_runnables import _attributes as attrs
from otel_runnables.tracing import use_tracer_provider


@pytest.fixture(autouse=True)
def _fresh_log_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_limits, "_noted", set())


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """A provider created inside the test, so it reads the limits the test set in the env."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    use_tracer_provider(provider)
    try:
        yield memory
    finally:
        use_tracer_provider(None)
        provider.shutdown()


def _dispatch(*events: tuple[str, Any], metadata: dict[str, Any] | None = None) -> Any:
    def step(x: int) -> int:
        for name, data in events:
            dispatch_custom_event(name, data)
        return x

    RunnableLambda(step, name="step").invoke(1, {"metadata": metadata or {}})


def _only_span(exporter: InMemorySpanExporter) -> Any:
    (span,) = exporter.get_finished_spans()
    return span


def _records(caplog: pytest.LogCaptureFixture, prefix: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith(prefix)]


def test_list_is_capped_and_the_rest_counted(exporter: InMemorySpanExporter) -> None:
    _dispatch(("ev", {"ints": list(range(1000)), "mixed": [1, "a"] * 500, "ok": [1, 2]}))
    (event,) = _only_span(exporter).events
    assert event.attributes["ints"] == tuple(range(128))
    assert event.attributes["mixed"].endswith('"...[872 more]"]')
    assert event.attributes["ok"] == (1, 2)
    assert event.attributes[attrs.DROPPED_ITEMS] == 872 + 872
    assert event.attributes[attrs.TRUNCATED_VALUES] == 2


def test_list_length_limit_variable(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_RUNNABLES_LIST_LENGTH_LIMIT", "3")
    _dispatch(("ev", {"l": [1, 2, 3, 4, 5], "s": {"a", "b", "c", "d"}}))
    (event,) = _only_span(exporter).events
    assert event.attributes["l"] == (1, 2, 3)
    assert event.attributes["s"].endswith('"...[1 more]"]')
    assert event.attributes[attrs.DROPPED_ITEMS] == 3


def test_big_dict_does_not_flood_the_log(
    exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    """The SDK logs one WARNING per attribute beyond its count limit: we never go beyond it."""
    caplog.set_level(logging.WARNING)
    data = {f"key{i}": i for i in range(1000)}
    _dispatch(("ev", data), ("ev2", data))
    (first, second) = _only_span(exporter).events
    assert len(first.attributes) == 128
    assert first.attributes["key0"] == 0  # the first keys are kept, not the last
    assert first.attributes[attrs.DROPPED_ATTRIBUTES] == 1000 - 127
    assert second.attributes == first.attributes
    assert _records(caplog, "opentelemetry") == []
    (line,) = _records(caplog, "otel_runnables")
    assert "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT" in line


def test_big_metadata_keeps_the_run_attributes(
    exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    """300 metadata keys used to push out run id, run type and input (the SDK drops the oldest)."""
    caplog.set_level(logging.WARNING)
    _dispatch(metadata={f"m{i}": i for i in range(300)})
    span = _only_span(exporter)
    assert len(span.attributes) <= 128
    assert span.dropped_attributes == 0
    for key in (attrs.RUN_ID, attrs.RUN_TYPE, attrs.INPUT_VALUE, attrs.OUTPUT_VALUE):
        assert key in span.attributes
    assert span.attributes[attrs.DROPPED_ATTRIBUTES] > 150
    assert _records(caplog, "opentelemetry") == []
    assert len(_records(caplog, "otel_runnables")) == 1


@pytest.mark.parametrize(
    ("variable", "value", "event_keys"),
    [
        ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "10", 10),
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "20", 20),
        ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "", 400),  # empty: no limit, as for the SDK
    ],
)
def test_sdk_attribute_count_variables_are_honoured(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    variable: str,
    value: str,
    event_keys: int,
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv(variable, value)
    memory = InMemorySpanExporter()
    provider = TracerProvider()  # reads the variables now, as we do when it is first used
    provider.add_span_processor(SimpleSpanProcessor(memory))
    use_tracer_provider(provider)
    try:
        _dispatch(("ev", {f"k{i}": i for i in range(400)}))
    finally:
        use_tracer_provider(None)
        provider.shutdown()
    (event,) = _only_span(memory).events
    assert len(event.attributes) == event_keys
    assert _records(caplog, "opentelemetry") == []


def test_event_size_limit(exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch) -> None:
    big = "x" * 16_000
    _dispatch(("ev", {"a": big, "b": big, "c": big, "d": 1}))
    (event,) = _only_span(exporter).events
    size = sum(len(k) + (len(v) if isinstance(v, str) else 8) for k, v in event.attributes.items())
    assert size <= _limits.DEFAULT_EVENT_SIZE_LIMIT
    assert event.attributes["a"] == event.attributes["b"] == big
    assert event.attributes["c"].endswith(attrs.TRUNCATION_MARKER)
    assert len(event.attributes["c"]) < 1000
    assert "d" not in event.attributes
    assert event.attributes[attrs.DROPPED_ATTRIBUTES] == 1
    assert event.attributes[attrs.TRUNCATED_VALUES] == 1
    exporter.clear()
    monkeypatch.setenv("OTEL_RUNNABLES_EVENT_SIZE_LIMIT", "100000")
    _dispatch(("ev", {"a": big, "b": big, "c": big, "d": 1}))
    (event,) = _only_span(exporter).events
    assert event.attributes == {"a": big, "b": big, "c": big, "d": 1}


def test_span_size_limit_keeps_later_event_names(
    exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    data = {"text": "y" * 16_000, "n": 1}
    _dispatch(*[(f"ev{i}", data) for i in range(100)])
    span = _only_span(exporter)
    assert [e.name for e in span.events] == [f"ev{i}" for i in range(100)]
    total = sum(len(e.attributes.get("text", "")) for e in span.events)
    assert total <= _limits.DEFAULT_SPAN_SIZE_LIMIT
    full = [e for e in span.events if e.attributes.get("text") == data["text"]]
    assert 60 <= len(full) <= 66
    last = span.events[-1]
    assert "text" not in last.attributes and last.attributes[attrs.DROPPED_ATTRIBUTES] == 2
    assert any("OTEL_RUNNABLES_SPAN_SIZE_LIMIT" in r for r in _records(caplog, "otel_runnables"))
    exporter.clear()
    _dispatch(("after", data))  # another span: a fresh budget
    (event,) = _only_span(exporter).events
    assert event.attributes == data


def test_long_strings_tags_and_keys_stay_bounded(exporter: InMemorySpanExporter) -> None:
    tags = [f"t{i}" for i in range(500)] + ["z" * 100_000]
    RunnableLambda(lambda x: x, name="tagged").invoke("in", {"tags": tags})
    span = _only_span(exporter)
    assert len(span.attributes[attrs.TAGS]) == 128
    assert span.attributes[attrs.DROPPED_ITEMS] == 500 + 1 - 128


def test_each_cause_is_logged_once(
    exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for _ in range(20):
        _dispatch(("ev", {"l": list(range(500)), "s": "w" * 40_000}))
    lines = _records(caplog, "otel_runnables")
    assert len(lines) == 2, lines
    assert any("OTEL_RUNNABLES_LIST_LENGTH_LIMIT" in line for line in lines)
    assert any("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT" in line for line in lines)
    for span in exporter.get_finished_spans():
        (event,) = span.events
        assert event.attributes[attrs.DROPPED_ITEMS] == 500 - 128
        assert event.attributes[attrs.TRUNCATED_VALUES] == 2


def test_cut_input_and_output_are_counted_on_the_span(exporter: InMemorySpanExporter) -> None:
    RunnableLambda(lambda x: x * 2, name="big-io").invoke("q" * 20_000)
    span = _only_span(exporter)
    assert span.attributes[attrs.INPUT_VALUE].endswith(attrs.TRUNCATION_MARKER)
    assert span.attributes[attrs.OUTPUT_VALUE].endswith(attrs.TRUNCATION_MARKER)
    assert span.attributes[attrs.TRUNCATED_VALUES] == 2  # input (at start) + output (at end)


def test_lone_surrogates_are_escaped_not_dropped_by_the_encoder(
    exporter: InMemorySpanExporter,
) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    _dispatch(("ev", {"s": "bad\udc80end", "l": ["ok", "x\ud800"]}))
    span = _only_span(exporter)
    (event,) = span.events
    assert event.attributes["s"] == "bad\\udc80end"
    assert event.attributes["l"] == ("ok", "x\\ud800")
    encode_spans([span]).SerializeToString()  # raised (and dropped the attribute) before


@pytest.mark.parametrize("raw", ["lots", "-3", "0"])
def test_bad_limit_values_warn_and_keep_the_default(
    exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    raw: str,
) -> None:
    from otel_runnables import _env

    monkeypatch.setattr(_env, "_warned", set())
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("OTEL_RUNNABLES_LIST_LENGTH_LIMIT", raw)
    _dispatch(("ev", {"l": list(range(200))}))
    (event,) = _only_span(exporter).events
    assert len(event.attributes["l"]) == 128
    assert any(
        f"OTEL_RUNNABLES_LIST_LENGTH_LIMIT={raw!r} is not an int >= 1" in m
        for m in _records(caplog, "otel_runnables")
    )


def test_long_error_text_is_bounded(exporter: InMemorySpanExporter) -> None:
    """The exception event was the SDK's: message and stacktrace whole, of any length."""

    def deep(n: int) -> int:
        if n == 0:
            raise ValueError("m" * 100_000)
        return deep(n - 1)

    with pytest.raises(ValueError):
        RunnableLambda(lambda x: deep(x), name="fails").invoke(400)
    span = _only_span(exporter)
    limit = _limits.DEFAULT_VALUE_LENGTH_LIMIT
    assert len(span.status.description) == limit
    (event,) = span.events
    message = event.attributes[attrs.EXCEPTION_MESSAGE]
    stacktrace = event.attributes[attrs.EXCEPTION_STACKTRACE]
    assert len(message) == limit and message.endswith(attrs.TRUNCATION_MARKER)
    assert len(stacktrace) <= limit
    assert "characters truncated]..." in stacktrace
    assert stacktrace.startswith("Traceback (most recent call last):")
    assert stacktrace.rstrip().endswith("m" * 100)  # the end, where the error is, is kept
    assert event.attributes[attrs.TRUNCATED_VALUES] == 2
