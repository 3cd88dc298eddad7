"""Run metrics: ``runnable.run.duration`` for every run, bounded attributes, the off switch."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from otel_runnables import RunnableLambda, RunnableParallel
from otel_runnables import _metrics as metrics_module
from otel_runnables._metrics import RUN_DURATION, RUN_DURATION_BUCKETS, RUN_METRICS
from otel_runnables.testing import MetricRecorder
from otel_runnables.tracing import (
    reset_metrics_options,
    set_metrics_options,
    use_tracer_provider,
)

DURATION = RUN_DURATION


def add_one(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def boom(x: int) -> int:
    raise ValueError(f"no {x}")


class Outer:
    class Inner(Exception):
        pass


def counts(recorder: MetricRecorder) -> dict[tuple[tuple[str, Any], ...], int]:
    """{sorted attribute items: histogram count} of the run durations recorded."""
    return {tuple(sorted(p.attributes.items())): p.point.count for p in recorder.points(DURATION)}


def key(name: str, error: str | None = None, run_type: str = "chain") -> tuple[Any, ...]:
    attributes = {"runnable.run_name": name, "runnable.run_type": run_type}
    if error is not None:
        attributes["error.type"] = error
    return tuple(sorted(attributes.items()))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_run_is_one_measurement(otel_metrics: MetricRecorder, mode: str) -> None:
    chain = RunnableLambda(add_one) | RunnableLambda(double) | RunnableLambda(add_one)
    for _ in range(3):
        if mode == "sync":
            assert chain.invoke(1) == 5
        else:
            assert asyncio.run(chain.ainvoke(1)) == 5
    assert counts(otel_metrics) == {
        key("RunnableSequence"): 3,
        key("add_one"): 6,
        key("double"): 3,
    }
    for point in otel_metrics.points(DURATION):
        assert point.unit == "s"
        assert tuple(point.point.explicit_bounds) == RUN_DURATION_BUCKETS
        assert point.point.sum >= 0


def test_a_failed_run_carries_its_error_type(otel_metrics: MetricRecorder) -> None:
    chain = RunnableLambda(add_one) | RunnableLambda(boom)
    with pytest.raises(ValueError, match="no 2"):
        chain.invoke(1)
    assert counts(otel_metrics) == {
        key("add_one"): 1,
        key("boom", "ValueError"): 1,
        key("RunnableSequence", "ValueError"): 1,
    }


def test_error_type_is_the_qualified_class_name_as_on_the_span(
    otel_metrics: MetricRecorder, traced: Any
) -> None:
    def fail(x: int) -> int:
        raise Outer.Inner("x")

    with pytest.raises(Outer.Inner):
        RunnableLambda(fail).invoke(1)
    (span,) = traced.spans()
    assert span.attributes["error.type"] == "Outer.Inner"
    (point,) = otel_metrics.points(DURATION)
    assert point.attributes["error.type"] == "Outer.Inner"


def test_a_cancelled_run_is_measured_without_an_error_type(otel_metrics: MetricRecorder) -> None:
    async def slow(x: int) -> int:
        await asyncio.sleep(10)
        return x

    async def main() -> None:
        task = asyncio.ensure_future(RunnableLambda(slow).ainvoke(1))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert counts(otel_metrics) == {key("slow"): 1}


def test_streams_and_batches_are_measured(otel_metrics: MetricRecorder) -> None:
    chain = RunnableLambda(add_one) | RunnableParallel(a=double, b=add_one)
    assert list(chain.stream(1)) == [{"a": 4}, {"b": 3}]
    assert chain.batch([1, 2]) == [{"a": 4, "b": 3}, {"a": 6, "b": 4}]
    found = counts(otel_metrics)
    assert found[key("RunnableSequence")] == 3
    assert found[key("RunnableParallel<a,b>")] == 3
    assert found[key("add_one")] == 6  # the first step and the parallel's b, three runs each
    assert found[key("double")] == 3


def test_attributes_hold_no_ids_inputs_tags_or_metadata(otel_metrics: MetricRecorder) -> None:
    step = RunnableLambda(add_one).with_config(
        run_name="named", tags=["t-1"], metadata={"user": "u-1", "thread_id": "th-1"}
    )
    step.invoke(41)
    (point,) = otel_metrics.points(DURATION)
    assert point.attributes == {"runnable.run_name": "named", "runnable.run_type": "chain"}


def test_the_duration_is_the_run_s_in_seconds(otel_metrics: MetricRecorder) -> None:
    def nap(x: int) -> int:
        time.sleep(0.05)
        return x

    began = time.monotonic()
    RunnableLambda(nap).invoke(1)
    took = time.monotonic() - began
    (point,) = otel_metrics.points(DURATION)
    assert 0.05 <= point.point.sum <= took + 0.01  # seconds, not milliseconds


def test_sampled_out_runs_are_still_measured(otel_metrics: MetricRecorder) -> None:
    use_tracer_provider(TracerProvider(sampler=ALWAYS_OFF))
    try:
        RunnableLambda(add_one).invoke(1)
    finally:
        use_tracer_provider(None)
    assert counts(otel_metrics) == {key("add_one"): 1}


def test_the_off_switch_in_code(otel_metrics: MetricRecorder) -> None:
    set_metrics_options(enabled=False)
    try:
        RunnableLambda(add_one).invoke(1)
        assert otel_metrics.points(DURATION) == []
        set_metrics_options(enabled=None)  # leaves it off
        RunnableLambda(add_one).invoke(1)
        assert otel_metrics.points(DURATION) == []
    finally:
        reset_metrics_options()
    RunnableLambda(add_one).invoke(1)
    assert counts(otel_metrics) == {key("add_one"): 1}


@pytest.mark.parametrize(("value", "recorded"), [("false", 0), ("0", 0), ("true", 1), ("", 1)])
def test_the_off_switch_variable(
    otel_metrics: MetricRecorder, monkeypatch: pytest.MonkeyPatch, value: str, recorded: int
) -> None:
    monkeypatch.setenv("OTEL_RUNNABLES_METRICS", value)
    RunnableLambda(add_one).invoke(1)
    assert sum(counts(otel_metrics).values()) == recorded
    monkeypatch.delenv("OTEL_RUNNABLES_METRICS")
    RunnableLambda(add_one).invoke(1)  # read again when the next trace starts
    assert sum(counts(otel_metrics).values()) == recorded + 1


def test_a_misspelt_off_switch_keeps_metrics_on_and_says_so(
    otel_metrics: MetricRecorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OTEL_RUNNABLES_METRICS", "flase")
    with caplog.at_level(logging.WARNING, logger="otel_runnables"):
        RunnableLambda(add_one).invoke(1)
    assert counts(otel_metrics) == {key("add_one"): 1}
    assert "OTEL_RUNNABLES_METRICS='flase' is not a boolean" in caplog.text


def test_run_names_are_bounded(
    otel_metrics: MetricRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_module, "MAX_RUN_NAMES", 2)
    monkeypatch.setattr(RUN_METRICS, "_names", set())
    for i in range(4):
        RunnableLambda(add_one).with_config(run_name=f"user-{i}").invoke(1)
    RunnableLambda(add_one).with_config(run_name="user-0").invoke(1)
    assert counts(otel_metrics) == {
        key("user-0"): 2,
        key("user-1"): 1,
        key(metrics_module.OTHER_RUN_NAME): 2,
    }


def test_without_a_meter_provider_the_metrics_code_is_never_reached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert RUN_METRICS.meter_provider is None and not metrics_module.global_provider_set()
    reached: list[Any] = []
    monkeypatch.setattr(type(RUN_METRICS), "ended", lambda *args: reached.append(args))
    RunnableLambda(add_one).invoke(1)
    with pytest.raises(ValueError):
        RunnableLambda(boom).invoke(1)
    assert reached == []


def test_a_failing_meter_never_breaks_a_run(
    otel_metrics: MetricRecorder, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    instruments = RUN_METRICS.instruments()
    assert instruments is not None

    class Broken:
        def record(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("meter down")

    monkeypatch.setattr(instruments, "run_duration", Broken())
    with caplog.at_level(logging.ERROR, logger="otel_runnables"):
        assert (RunnableLambda(add_one) | RunnableLambda(double)).invoke(1) == 4
    assert "failed to record run metrics" in caplog.text


def test_use_meter_provider_and_flush_metrics() -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from otel_runnables.tracing import flush_metrics, use_meter_provider

    assert flush_metrics(0.1) is True  # nothing installed: nothing to flush
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    use_meter_provider(provider)
    try:
        RunnableLambda(add_one).invoke(1)
        assert flush_metrics(1.0) is True
    finally:
        use_meter_provider(None)
        provider.shutdown()
    RunnableLambda(add_one).invoke(1)  # back to the global provider: none, nothing recorded
    data = reader.get_metrics_data()
    (metric,) = data.resource_metrics[0].scope_metrics[0].metrics
    assert metric.name == DURATION
    assert [p.count for p in metric.data.data_points] == [1]
