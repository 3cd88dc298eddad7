"""Context both ways, propagation, no SDK, redaction and limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _support import Recorder, using_provider
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_runnables import RunnableLambda, dispatch_custom_event
from otel_runnables import _attributes as attrs
from otel_runnables import _convert as convert
from otel_runnables._otel import SPAN_SINK
from otel_runnables.testing import SpanRecorder
from otel_runnables.tracing import reset_tracing_options, set_tracing_options


@pytest.fixture(autouse=True)
def _fresh_options() -> Any:
    reset_tracing_options()
    yield
    reset_tracing_options()


def by_id(recorder: SpanRecorder) -> dict[int, Any]:
    return {s.context.span_id: s for s in recorder.spans()}


@pytest.mark.parametrize("how", ["sync", "async"])
async def test_user_span_inside_step_is_child_of_step_span(
    otel_spans: SpanRecorder, how: str
) -> None:
    tracer = otel_spans.provider.get_tracer("user")

    def step(x: int) -> int:
        with tracer.start_as_current_span("user-work"):
            return x + 1

    async def astep(x: int) -> int:
        with tracer.start_as_current_span("user-work"):
            return x + 1

    if how == "sync":
        RunnableLambda(step).invoke(1)
    else:
        await RunnableLambda(astep).ainvoke(1)
    (user,) = otel_spans.by_name("user-work")
    (run_span,) = otel_spans.by_name((how == "sync" and "step") or "astep")
    assert user.parent.span_id == run_span.context.span_id
    assert otel_spans.tree() == [(run_span.name, [("user-work", [])])]


@pytest.mark.parametrize("how", ["sync", "async"])
async def test_run_inside_user_span_is_its_child(otel_spans: SpanRecorder, how: str) -> None:
    tracer = otel_spans.provider.get_tracer("user")
    chain = RunnableLambda(lambda x: x) | RunnableLambda(lambda x: x)
    with tracer.start_as_current_span("request") as request:
        if how == "sync":
            chain.invoke(1)
        else:
            await chain.ainvoke(1)
    assert otel_spans.tree() == [
        ("request", [("RunnableSequence", [("RunnableLambda", []), ("RunnableLambda", [])])])
    ]
    (root,) = otel_spans.by_name("RunnableSequence")
    assert root.parent.span_id == request.get_span_context().span_id
    assert attrs.PARENT_RUN_ID not in root.attributes
    # The ambient span is only current during the run, not after it.
    assert not trace.get_current_span().get_span_context().is_valid


def test_context_is_not_left_attached(otel_spans: SpanRecorder) -> None:
    before = otel_context.get_current()
    RunnableLambda(lambda x: x).invoke(1)
    list(RunnableLambda(lambda x: x).stream(1))
    assert otel_context.get_current() == before


def test_inject_in_step_extract_elsewhere_gives_child(otel_spans: SpanRecorder) -> None:
    carrier: dict[str, str] = {}

    def step(x: int) -> int:
        propagate.inject(carrier)
        return x

    RunnableLambda(step, name="sender").invoke(1)
    assert "traceparent" in carrier
    # "Another process": nothing but the carrier crosses over.
    remote_context = propagate.extract(carrier, context=otel_context.Context())
    token = otel_context.attach(remote_context)
    try:
        RunnableLambda(lambda x: x, name="receiver").invoke(2)
    finally:
        otel_context.detach(token)
    (sender,) = otel_spans.by_name("sender")
    (receiver,) = otel_spans.by_name("receiver")
    assert receiver.parent.span_id == sender.context.span_id
    assert receiver.parent.is_remote
    assert receiver.context.trace_id == sender.context.trace_id


def test_without_sdk_runs_work_and_record_nothing() -> None:
    # The API's no-op provider: what a user without an SDK gets.
    with using_provider(trace.NoOpTracerProvider()):
        handler = Recorder()

        def step(x: int) -> int:
            dispatch_custom_event("ev", {"x": x})
            assert not trace.get_current_span().get_span_context().is_valid
            return x + 1

        chain = RunnableLambda(step) | RunnableLambda(lambda x: x * 2)
        assert chain.invoke(1, {"callbacks": [handler]}) == 4
        assert list(chain.stream(1)) == [4]
        assert chain.batch([1, 2]) == [4, 6]
        assert [(c.name, c.data) for c in handler.custom_events()] == [("ev", {"x": 1})]


def test_default_global_provider_is_the_api_no_op() -> None:
    # Nothing in this test process installs a global SDK provider.
    assert SPAN_SINK.tracer_provider is None
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    assert RunnableLambda(lambda x: x + 1).invoke(1) == 2


@pytest.mark.parametrize("how", ["option", "env"])
async def test_hide_io(otel_spans: SpanRecorder, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "option":
        set_tracing_options(hide_io=True)
    else:
        monkeypatch.setenv("OTEL_RUNNABLES_HIDE_IO", "true")
    handler = Recorder()
    chain = RunnableLambda(lambda x: "secret-out") | RunnableLambda(lambda x: x)
    assert chain.invoke("secret-in", {"callbacks": [handler]}) == "secret-out"
    assert "secret-in" in [c.inputs for c in handler.starts()]
    assert "secret-out" in [c.outputs for c in handler.ends()]
    seen = []
    async for event in chain.astream_events("secret-in", version="v2"):
        seen.append(json.dumps(event["data"], default=str))
    assert any("secret-in" in s for s in seen) and any("secret-out" in s for s in seen)
    assert list(chain.stream("secret-in")) == ["secret-out"]
    for span in otel_spans.spans():
        for key in (attrs.INPUT_VALUE, attrs.INPUT_MIME_TYPE, attrs.OUTPUT_VALUE):
            assert key not in span.attributes
        assert "secret" not in repr(dict(span.attributes))
    # Back to recording once the option/variable goes away.
    otel_spans.clear()
    if how == "option":
        set_tracing_options(hide_io=False)
    else:
        monkeypatch.delenv("OTEL_RUNNABLES_HIDE_IO")
    chain.invoke("visible")
    (root,) = otel_spans.by_name("RunnableSequence")
    assert root.attributes[attrs.INPUT_VALUE] == "visible"


def test_explicit_option_wins_over_env(
    otel_spans: SpanRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_RUNNABLES_HIDE_IO", "true")
    set_tracing_options(hide_io=False)
    RunnableLambda(lambda x: x).invoke("shown")
    (span,) = otel_spans.spans()
    assert span.attributes[attrs.INPUT_VALUE] == "shown"
    reset_tracing_options()
    otel_spans.clear()
    RunnableLambda(lambda x: x).invoke("hidden")
    (span,) = otel_spans.spans()
    assert attrs.INPUT_VALUE not in span.attributes


@pytest.mark.parametrize(
    "variable", ["OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT"]
)
def test_value_length_limit_truncates_never_rejects(
    otel_spans: SpanRecorder, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "40")

    def step(x: str) -> str:
        dispatch_custom_event("ev", {"long": x, "list": [x, x], "short": "ok"})
        return x * 2

    long = "y" * 100
    RunnableLambda(step).with_config(metadata={"m": long}, tags=[long]).invoke(long)
    (span,) = otel_spans.spans()
    a = span.attributes
    for value in (
        a[attrs.INPUT_VALUE],
        a[attrs.OUTPUT_VALUE],
        a[attrs.METADATA_PREFIX + "m"],
        a[attrs.TAGS][0],
        span.events[0].attributes["long"],
        span.events[0].attributes["list"][1],
    ):
        assert len(value) == 40
        assert value.endswith(attrs.TRUNCATION_MARKER)
    assert span.events[0].attributes["short"] == "ok"


@pytest.mark.parametrize("raw", ["", "0", "-5", "abc"])
def test_invalid_length_limits_fall_back_to_default(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", raw)
    assert attrs.value_length_limit() == attrs.DEFAULT_VALUE_LENGTH_LIMIT


def test_sdk_span_limits_are_honoured() -> None:
    exporter = InMemorySpanExporter()
    limits = SpanLimits(
        max_span_attributes=4,
        max_events=2,
        max_event_attributes=1,
        max_span_attribute_length=10,
        max_attribute_length=10,
    )
    provider = TracerProvider(span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with using_provider(provider):

        def step(x: int) -> int:
            for i in range(5):
                dispatch_custom_event(f"ev{i}", {"a": "z" * 50, "b": 2})
            return x

        chain = RunnableLambda(step).with_config(metadata={"k1": 1, "k2": 2, "k3": 3})
        assert chain.invoke(1) == 1
    (span,) = exporter.get_finished_spans()
    assert len(span.attributes) == 4
    assert span.dropped_attributes > 0
    assert len(span.events) == 2
    assert span.dropped_events == 3
    for event in span.events:
        assert len(event.attributes) == 1
        assert all(len(v) <= 10 for v in event.attributes.values() if isinstance(v, str))
    assert all(len(v) <= 10 for v in span.attributes.values() if isinstance(v, str))


def test_not_recording_spans_cost_no_conversion(
    otel_spans: SpanRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    for name in ("value_and_mime", "event_attributes", "metadata_attributes"):
        original = getattr(convert, name)

        def spy(*args: Any, _name: str = name, _original: Any = original) -> Any:
            calls.append(_name)
            return _original(*args)

        monkeypatch.setattr(convert, name, spy)
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    with using_provider(TracerProvider(sampler=ALWAYS_OFF), restore=otel_spans.provider):

        def step(x: int) -> int:
            dispatch_custom_event("ev", {"x": x})
            return x

        RunnableLambda(step).with_config(metadata={"m": 1}).invoke(1)
        list(RunnableLambda(step).stream(1))
    assert calls == []
    RunnableLambda(step).with_config(metadata={"m": 1}).invoke(1)
    assert set(calls) == {"value_and_mime", "event_attributes", "metadata_attributes"}
