"""The typed bus: a streamed run's pending input is a flag (not a magic input value), handler
hooks are made from the handler methods themselves, sampled-out runs convert nothing, and the
environment snapshot of the span sink reads any number of variables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _support import Recorder, using_provider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)

from otel_runnables import (
    BaseCallbackHandler,
    RunnableGenerator,
    RunnableLambda,
    _callbacks,
    _options,
    _otel,
)
from otel_runnables import _attributes as attrs
from otel_runnables.testing import SpanRecorder

# -- a real input that looks like the old streaming placeholder ---------------------------


def test_input_that_looks_like_the_streaming_placeholder_keeps_its_value(
    otel_spans: SpanRecorder,
) -> None:
    RunnableLambda(lambda d: d, name="echo").invoke({"input": ""})
    (span,) = otel_spans.by_name("echo")
    assert span.attributes["input.value"] == '{"input": ""}'


async def test_placeholder_lookalike_input_reaches_astream_events() -> None:
    inner = RunnableLambda(lambda d: d, name="inner")
    chain = RunnableLambda(lambda d: d) | RunnableLambda(lambda d: inner.invoke(d))
    starts = [
        e
        async for e in chain.astream_events({"input": ""}, version="v2")
        if e["event"] == "on_chain_start" and e["name"] == "inner"
    ]
    assert starts[0]["data"] == {"input": {"input": ""}}


def test_streamed_run_still_starts_with_the_placeholder_for_handlers(
    otel_spans: SpanRecorder, recorder: Recorder
) -> None:
    def twice(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield chunk * 2

    assert list(RunnableGenerator(twice).stream("ab", {"callbacks": [recorder]})) == ["abab"]
    # langchain-core's start, then the real input with the end
    assert [(c.hook, c.inputs) for c in recorder.calls] == [
        ("start", {"input": ""}),
        ("end", "ab"),
    ]
    (span,) = otel_spans.by_name("twice")
    assert span.attributes["input.value"] == "ab"


# -- handler hooks are made from the methods ----------------------------------------------


def test_hooks_name_real_handler_methods_and_flags() -> None:
    for hook in (_callbacks.CHAIN_START, _callbacks.CHAIN_END, _callbacks.CHAIN_ERROR):
        assert callable(getattr(BaseCallbackHandler, hook.name))
        assert getattr(BaseCallbackHandler, hook.ignore) is False
    assert _callbacks.CUSTOM_EVENT.name == "on_custom_event"


def test_a_misspelt_flag_fails_when_the_hook_is_made() -> None:
    with pytest.raises(AttributeError, match="ignore_chian"):
        _callbacks._hook(BaseCallbackHandler.on_chain_start, "ignore_chian")


# -- a sampled-out run converts nothing ----------------------------------------------------


class _Alternating(Sampler):
    """Samples every other root span (a custom sampler: the sink cannot judge it ahead)."""

    def __init__(self) -> None:
        self.calls = 0

    def should_sample(self, parent_context: Any, *args: Any, **kwargs: Any) -> SamplingResult:
        self.calls += 1
        sampled = self.calls % 2 == 1
        return SamplingResult(Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP)

    def get_description(self) -> str:
        return "Alternating"


class _Value:
    """An input that counts how often it is converted to an attribute value."""

    conversions = 0

    def to_dict(self) -> dict[str, int]:
        _Value.conversions += 1
        return {"n": 1}


@pytest.mark.parametrize(
    "sampler",
    [_Alternating(), ParentBased(TraceIdRatioBased(0.5))],
    ids=["custom", "ratio"],
)
def test_sampled_out_roots_convert_nothing(sampler: Sampler) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with using_provider(provider):
        step = RunnableLambda(lambda v: "out", name="step")
        value = _Value()
        _Value.conversions = 0
        for _ in range(40):
            step.invoke(value)
        recorded = len(exporter.get_finished_spans())
    assert 0 < recorded < 40
    # Only the recorded runs converted their input, once each.
    assert _Value.conversions == recorded


def test_a_sampled_out_child_converts_nothing() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, use_span

    unsampled = NonRecordingSpan(SpanContext(1, 2, is_remote=True, trace_flags=TraceFlags(0)))
    with using_provider(provider):
        _Value.conversions = 0
        chain = RunnableLambda(lambda v: v, name="a") | RunnableLambda(lambda v: v, name="b")
        with use_span(unsampled):
            chain.invoke(_Value())
    assert exporter.get_finished_spans() == ()
    assert _Value.conversions == 0


def test_sampler_descriptions_the_sink_relies_on_are_the_sdks() -> None:
    from opentelemetry.sdk.trace.sampling import DEFAULT_ON

    assert _otel.root_sampling(TracerProvider().get_tracer("t")) == "by parent"
    assert _otel.root_sampling(TracerProvider(sampler=DEFAULT_ON).get_tracer("t")) == "by parent"
    assert _otel.root_sampling(TracerProvider(sampler=ALWAYS_ON).get_tracer("t")) == "always"
    ratio = TracerProvider(sampler=TraceIdRatioBased(0.5)).get_tracer("t")
    assert _otel.root_sampling(ratio) == "unknown"


# -- the environment snapshot --------------------------------------------------------------


def test_environment_snapshot_reads_any_number_of_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = tuple(f"OTEL_RUNNABLES_TEST_VAR_{i}" for i in range(7))
    for name in names:
        monkeypatch.delenv(name, raising=False)
    read = _options.env_snapshot_reader(names)
    assert read() == (None,) * 7
    monkeypatch.setenv(names[6], "x")
    assert read()[6] is not None
    assert read()[:6] == (None,) * 6
    # The sink's own reader covers every variable its options depend on.
    assert len(_options.env_snapshot_reader()()) == len(_options.ENV_KEYS)
    assert set(attrs.LENGTH_LIMIT_VARIABLES) <= set(_options.ENV_KEYS)
