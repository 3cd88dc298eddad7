"""Custom events as log-based events (``custom_events``: ``span``, ``log``, ``both``).

With ``log`` each ``dispatch_custom_event(name, data)`` is one log record with
``event_name=name``, the attributes its span event would get, the run's trace and span ids, the
dispatch time, severity INFO and the scope ``otel_runnables``; with ``both`` the span event is
there too, with the same time and attributes. Handlers are unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry._logs import NoOpLogger, SeverityNumber

import otel_runnables
from otel_runnables import RunnableLambda, _logs, adispatch_custom_event, dispatch_custom_event
from otel_runnables._otel import SPAN_SINK
from otel_runnables.testing import LogRecorder, SpanRecorder
from otel_runnables.tracing import reset_tracing_options, set_tracing_options

DATA: dict[str, Any] = {
    "step": 3,
    "ratio": 0.5,
    "ok": True,
    "labels": ["a", "b"],
    "nested": {"deep": {"x": 1}},
    "mixed": [1, "x"],
    "none": None,
}


@pytest.fixture(autouse=True)
def _reset_options() -> Iterator[None]:
    yield
    reset_tracing_options()


def _pipeline(name: str = "progress", data: Any = DATA) -> Any:
    def step(x: int) -> int:
        dispatch_custom_event(name, data)
        return x

    return RunnableLambda(step, name="step")


def _apipeline(name: str = "progress", data: Any = DATA) -> Any:
    async def step(x: int) -> int:
        await adispatch_custom_event(name, data)
        return x

    return RunnableLambda(step, name="step")


async def _run(is_async: bool, data: Any = DATA) -> None:
    if is_async:
        await _apipeline(data=data).ainvoke(1)
    else:
        _pipeline(data=data).invoke(1)


def _span_event_attributes(otel_spans: SpanRecorder, data: Any) -> Any:
    """The attributes the span event of ``data`` gets in mode ``span`` (the reference)."""
    set_tracing_options(custom_events="span")
    _pipeline(data=data).invoke(1)
    (span,) = otel_spans.spans()
    (event,) = span.events
    otel_spans.clear()
    return dict(event.attributes or {})


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_log_mode_writes_one_record_per_event_and_no_span_event(
    otel_spans: SpanRecorder, otel_logs: LogRecorder, is_async: bool
) -> None:
    expected = _span_event_attributes(otel_spans, DATA)
    set_tracing_options(custom_events="log")
    await _run(is_async)
    (span,) = otel_spans.spans()
    assert span.events == ()
    (readable,) = otel_logs.records()
    record = readable.log_record
    assert record.event_name == "progress"
    assert dict(record.attributes or {}) == expected
    assert expected["nested.deep.x"] == 1 and expected["labels"] == ("a", "b")
    assert record.trace_id == span.context.trace_id
    assert record.span_id == span.context.span_id
    assert record.trace_flags == span.context.trace_flags
    assert span.start_time is not None and span.end_time is not None
    assert span.start_time <= record.timestamp <= span.end_time
    assert record.severity_number is SeverityNumber.INFO
    assert record.severity_text == "INFO"
    assert record.body is None
    scope = readable.instrumentation_scope
    assert (scope.name, scope.version) == ("otel_runnables", otel_runnables.__version__)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_both_mode_writes_the_same_event_twice_at_one_time(
    otel_spans: SpanRecorder, otel_logs: LogRecorder, is_async: bool
) -> None:
    set_tracing_options(custom_events="both")
    await _run(is_async)
    (span,) = otel_spans.spans()
    (event,) = span.events
    (readable,) = otel_logs.records()
    record = readable.log_record
    assert (record.event_name, dict(record.attributes or {})) == (
        event.name,
        dict(event.attributes or {}),
    )
    assert record.timestamp == event.timestamp
    assert record.span_id == span.context.span_id


def test_span_mode_is_the_default_and_writes_no_record(
    otel_spans: SpanRecorder, otel_logs: LogRecorder
) -> None:
    assert SPAN_SINK.options.custom_events == "span"
    _pipeline().invoke(1)
    (span,) = otel_spans.spans()
    assert [e.name for e in span.events] == ["progress"]
    assert otel_logs.records() == []


def test_each_event_is_its_own_record_on_its_own_run(
    otel_spans: SpanRecorder, otel_logs: LogRecorder
) -> None:
    set_tracing_options(custom_events="log")

    def inner(x: int) -> int:
        dispatch_custom_event("inner", {"x": x})
        return x

    def outer(x: int) -> int:
        dispatch_custom_event("before", x)
        RunnableLambda(inner, name="inner").invoke(x)
        dispatch_custom_event("after", "text")
        return x

    RunnableLambda(outer, name="outer").invoke(7)
    spans = {s.name: s for s in otel_spans.spans()}
    records = [r.log_record for r in otel_logs.records()]
    assert [(r.event_name, dict(r.attributes or {})) for r in records] == [
        ("before", {"data": 7}),
        ("inner", {"x": 7}),
        ("after", {"data": "text"}),
    ]
    owners = [r.span_id for r in records]
    assert owners == [spans[n].context.span_id for n in ("outer", "inner", "outer")]
    assert records[0].timestamp <= records[1].timestamp <= records[2].timestamp


def test_handlers_get_the_data_in_every_mode(
    otel_spans: SpanRecorder, otel_logs: LogRecorder
) -> None:
    from _support import Recorder

    for mode in ("span", "log", "both"):
        set_tracing_options(custom_events=mode)
        recorder = Recorder()
        _pipeline().invoke(1, {"callbacks": [recorder]})
        (call,) = recorder.custom_events()
        assert call.data is DATA, mode


# -- choosing the mode ---------------------------------------------------------------------


def test_the_variable_chooses_the_mode(
    otel_spans: SpanRecorder, otel_logs: LogRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_RUNNABLES_CUSTOM_EVENTS", " Both ")
    _pipeline().invoke(1)
    assert SPAN_SINK.options.custom_events == "both"
    assert len(otel_spans.spans()[0].events) == 1
    assert len(otel_logs.records()) == 1
    set_tracing_options(custom_events="span")  # the option wins over the variable
    _pipeline().invoke(1)
    assert len(otel_logs.records()) == 1
    reset_tracing_options()
    monkeypatch.setenv("OTEL_RUNNABLES_CUSTOM_EVENTS", "log")
    _pipeline().invoke(1)
    assert len(otel_logs.records()) == 2
    assert otel_spans.spans()[-1].events == ()


def test_a_misspelt_variable_is_logged_and_events_stay_span_events(
    otel_spans: SpanRecorder,
    otel_logs: LogRecorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("OTEL_RUNNABLES_CUSTOM_EVENTS", "logs")
    _pipeline().invoke(1)
    assert [e.name for e in otel_spans.spans()[0].events] == ["progress"]
    assert otel_logs.records() == []
    messages = [r.getMessage() for r in caplog.records if r.name == "otel_runnables"]
    assert messages == [
        "OTEL_RUNNABLES_CUSTOM_EVENTS='logs' is not one of span, log, both; span is used"
    ]


@pytest.mark.parametrize("bad", ["logs", "", 1, True])
def test_a_bad_option_raises_naming_the_value_and_changes_nothing(bad: Any) -> None:
    set_tracing_options(custom_events="both")
    with pytest.raises(ValueError, match="custom_events must be 'span', 'log' or 'both', got") as e:
        set_tracing_options(hide_io=True, custom_events=bad)
    assert repr(bad) in str(e.value)
    assert SPAN_SINK.options.custom_events == "both"
    assert SPAN_SINK.options.hide_io is False


# -- redaction, limits, odd data -----------------------------------------------------------


@pytest.mark.parametrize("mode", ["log", "both"])
def test_hidden_event_data_stays_off_log_records(
    otel_spans: SpanRecorder, otel_logs: LogRecorder, mode: str
) -> None:
    set_tracing_options(custom_events=mode, hide_event_data=True)
    _pipeline(data={"secret": "s3cr3t"}).invoke(1)
    (readable,) = otel_logs.records()
    assert readable.log_record.event_name == "progress"
    assert not readable.log_record.attributes
    assert "s3cr3t" not in readable.to_json()
    for event in otel_spans.spans()[0].events:
        assert not event.attributes


def test_records_are_cut_to_the_event_limits_as_span_events_are(
    otel_spans: SpanRecorder, otel_logs: LogRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_RUNNABLES_EVENT_SIZE_LIMIT", "2048")
    monkeypatch.setenv("OTEL_RUNNABLES_LIST_LENGTH_LIMIT", "4")
    data = {"big": "x" * 5000, "items": list(range(10)), "more": "y" * 5000}
    expected = _span_event_attributes(otel_spans, data)
    assert expected["runnable.truncated_values"] >= 1  # the limits did cut
    set_tracing_options(custom_events="log")
    _pipeline(data=data).invoke(1)
    (readable,) = otel_logs.records()
    assert dict(readable.log_record.attributes or {}) == expected


def test_the_span_size_limit_cuts_span_events_only(
    otel_spans: SpanRecorder, otel_logs: LogRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_RUNNABLES_EVENT_SIZE_LIMIT", "4096")
    monkeypatch.setenv("OTEL_RUNNABLES_SPAN_SIZE_LIMIT", "8192")
    set_tracing_options(custom_events="both")

    def step(x: int) -> int:
        for i in range(4):
            dispatch_custom_event("chunk", {"i": i, "text": "z" * 3000})
        return x

    RunnableLambda(step).invoke(1)
    (span,) = otel_spans.spans()
    records = [r.log_record for r in otel_logs.records()]
    assert [dict(r.attributes or {}).get("text") for r in records] == ["z" * 3000] * 4
    on_span = [dict(e.attributes or {}) for e in span.events]
    assert on_span[0] == dict(records[0].attributes or {})
    assert "text" not in on_span[-1]  # the span's budget is spent; the records keep theirs
    assert [e.timestamp for e in span.events] == [r.timestamp for r in records]


def test_unconvertible_data_never_breaks_the_run(
    otel_spans: SpanRecorder, otel_logs: LogRecorder
) -> None:
    class Bad:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    data = {"bad": Bad(), "cyclic": cyclic}
    expected = _span_event_attributes(otel_spans, data)
    assert "<unrepresentable Bad>" in expected["bad"] and "[...]" in expected["cyclic"]
    set_tracing_options(custom_events="log")
    assert _pipeline(data=data).invoke(5) == 5
    (readable,) = otel_logs.records()
    assert dict(readable.log_record.attributes or {}) == expected


# -- what it costs when nobody records logs ------------------------------------------------


class _Counted:
    """Data whose conversion is observable: each repr is counted."""

    reprs = 0

    def __repr__(self) -> str:
        _Counted.reprs += 1
        return "counted"


@pytest.mark.parametrize("mode", ["log", "both"])
def test_without_a_logger_provider_nothing_is_converted_for_logs(
    otel_spans: SpanRecorder, mode: str
) -> None:
    assert SPAN_SINK.event_log.logger_provider is None  # the global one: not set in tests
    set_tracing_options(custom_events=mode)
    _Counted.reprs = 0
    _pipeline(data={"value": _Counted()}).invoke(1)
    (span,) = otel_spans.spans()
    if mode == "log":
        assert span.events == ()
        assert _Counted.reprs == 0
    else:  # converted once, for the span event
        assert [dict(e.attributes or {}) for e in span.events] == [{"value": '"counted"'}]
        assert _Counted.reprs == 1


def test_without_logger_enabled_a_no_op_logger_still_says_no() -> None:
    # opentelemetry-api before 1.45 has no Logger.enabled: the no-op logger (directly or behind
    # the proxy of an unset global provider) is recognised instead.
    class Proxy:
        def __init__(self, real: Any) -> None:
            self._logger = real

        def emit(self, record: Any) -> None:
            raise AssertionError("not reached")

    assert _logs._resolves_to_logger(NoOpLogger("x"))() is False
    assert _logs._resolves_to_logger(Proxy(NoOpLogger("x")))() is False
    assert _logs._resolves_to_logger(Proxy(object()))() is True


def test_an_api_without_event_name_keeps_span_events_and_says_so_once(
    otel_spans: SpanRecorder,
    otel_logs: LogRecorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(_logs, "LOG_EVENTS_SUPPORTED", False)
    monkeypatch.setattr(_logs, "_unsupported_warned", False)
    set_tracing_options(custom_events="log")
    set_tracing_options(custom_events="both")
    assert SPAN_SINK.options.custom_events == "span"
    _pipeline().invoke(1)
    assert [e.name for e in otel_spans.spans()[0].events] == ["progress"]
    assert otel_logs.records() == []
    messages = [r.getMessage() for r in caplog.records if r.name == "otel_runnables"]
    assert len(messages) == 1
    assert "needs opentelemetry-api >= 1.35" in messages[0]
    assert "custom events stay span events" in messages[0]


def test_records_of_sampled_out_runs_carry_the_unsampled_trace_flags(
    otel_logs: LogRecorder,
) -> None:
    from _support import using_provider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    set_tracing_options(custom_events="log")
    with using_provider(TracerProvider(sampler=ALWAYS_OFF)):
        _pipeline().invoke(1)
    (readable,) = otel_logs.records()
    record = readable.log_record
    assert record.trace_id != 0 and record.span_id != 0
    assert not record.trace_flags.sampled
