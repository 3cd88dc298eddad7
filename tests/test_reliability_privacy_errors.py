"""With redaction on, a canary secret reaches no exported byte and no console line through any
path: inputs, outputs, event data, chunks, and the text of errors (status description,
``exception.message``, ``exception.stacktrace``, chained causes, notes, the recursion-limit
message that quotes the input). The exception raised to the caller is unchanged.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otel_runnables import RunnableLambda, adispatch_custom_event, dispatch_custom_event
from otel_runnables import _attributes as attrs
from otel_runnables.console import RunTreePrinter
from otel_runnables.tracing import (
    reset_tracing_options,
    set_tracing_options,
    use_tracer_provider,
)

CANARY = "canary-51d2e8-secret"


class Quoting(Exception):
    """An exception whose message quotes the input, with a secret-bearing cause."""


def failing(x: dict[str, str]) -> str:
    try:
        raise KeyError(f"lookup of {x['question']}")
    except KeyError as cause:
        error = ValueError(f"invalid request: {x!r}")
        if sys.version_info >= (3, 11):
            error.add_note(f"note: {CANARY}")
        raise error from cause


async def afailing(x: dict[str, str]) -> str:
    await adispatch_custom_event("before", {"q": x["question"]})
    raise Quoting(f"async failure for {x['question']}")


def recursing(x: dict[str, str]) -> Any:
    return RunnableLambda(recursing)


def streaming(x: dict[str, str]) -> Iterator[str]:
    yield f"chunk {x['question']}"
    raise RuntimeError(f"stream broke after {x['question']}")


def talkative(x: dict[str, str]) -> dict[str, str]:
    dispatch_custom_event("leak", {"secret": x["question"], "nested": {"deep": [CANARY]}})
    dispatch_custom_event("bare", CANARY)
    return {"answer": f"{x['question']}!"}


@pytest.fixture(params=["grpc", "http/protobuf"])
def receiver(request: pytest.FixtureRequest) -> Any:
    name = "otlp_grpc_receiver" if request.param == "grpc" else "otlp_http_receiver"
    return request.getfixturevalue(name)


@pytest.fixture(params=["options", "env"])
def redaction(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if request.param == "options":
        set_tracing_options(hide_io=True, hide_event_data=True, record_chunks=True)
    else:
        monkeypatch.setenv("OTEL_RUNNABLES_HIDE_IO", "true")
        monkeypatch.setenv("OTEL_RUNNABLES_HIDE_EVENT_DATA", "true")
        monkeypatch.setenv("OTEL_RUNNABLES_RECORD_CHUNKS", "true")
    yield
    reset_tracing_options()


def _provider(receiver: Any, console: io.StringIO) -> TracerProvider:
    if receiver.protocol == "grpc":
        exporter: Any = GrpcExporter(endpoint=receiver.endpoint, insecure=True, timeout=5)
    else:
        exporter = HttpExporter(endpoint=receiver.traces_url, timeout=5)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(RunTreePrinter(console))
    return provider


async def _every_path() -> list[BaseException]:
    """Run every path once; return the exceptions the caller saw."""
    question = {"question": CANARY}
    raised: list[BaseException] = []
    RunnableLambda(talkative).invoke(question)
    [c async for c in RunnableLambda(talkative).astream(question)]
    for call in (
        lambda: RunnableLambda(failing).invoke(question),
        lambda: RunnableLambda(failing).with_retry(stop_after_attempt=2).invoke(question),
        lambda: (
            RunnableLambda(failing)
            .with_fallbacks([RunnableLambda(failing, name="fallback")])
            .invoke(question)
        ),
        lambda: RunnableLambda(recursing).invoke(question, {"recursion_limit": 2}),
        lambda: list(RunnableLambda(streaming).stream(question)),
    ):
        with pytest.raises(Exception) as info:
            call()
        raised.append(info.value)
    with pytest.raises(Quoting) as ainfo:
        await RunnableLambda(afailing).ainvoke(question)
    raised.append(ainfo.value)
    return raised


async def test_no_canary_in_any_exported_byte_or_console_line(
    receiver: Any, redaction: None
) -> None:
    console = io.StringIO()
    provider = _provider(receiver, console)
    use_tracer_provider(provider)
    try:
        raised = await _every_path()
    finally:
        use_tracer_provider(None)
        provider.shutdown()
    # The caller gets the exceptions unchanged, the recursion message quoting the input.
    assert all(CANARY in str(e) for e in raised), raised
    recursion = next(e for e in raised if isinstance(e, RecursionError))
    assert str(recursion) == (
        f"Recursion limit reached when invoking RunnableLambda(recursing) with input "
        f"{{'question': '{CANARY}'}}."
    )
    spans = receiver.wait_for_spans(14)
    raw = receiver.raw_bytes()
    assert CANARY.encode() not in raw, "the canary left the process"
    assert CANARY not in console.getvalue(), "the canary reached the console"
    errors = [s for s in spans if s.status_code == "ERROR"]
    assert len(errors) >= 8
    for span in errors:
        assert span.status_message.endswith(f": {attrs.REDACTED}"), span.status_message
        if attrs.ERROR_ORIGIN_RUN_ID in span.attributes:  # recorded where it was raised
            assert not [e for e in span.events if e.name == attrs.EXCEPTION_EVENT]
            continue
        event = span.event(attrs.EXCEPTION_EVENT)
        assert event.attributes[attrs.EXCEPTION_MESSAGE] == attrs.REDACTED
        stacktrace = event.attributes[attrs.EXCEPTION_STACKTRACE]
        assert stacktrace.rstrip().endswith(f": {attrs.REDACTED}"), stacktrace
        assert event.attributes[attrs.EXCEPTION_TYPE]
    failing_span = next(
        s for s in errors if s.name == "failing" and attrs.ERROR_ORIGIN_RUN_ID not in s.attributes
    )
    stacktrace = failing_span.event(attrs.EXCEPTION_EVENT).attributes[attrs.EXCEPTION_STACKTRACE]
    # Code locations stay: the frames, and the chained cause's frames and type.
    assert "in failing" in stacktrace and "KeyError: [redacted]" in stacktrace
    assert "direct cause" in stacktrace
    assert "[redacted]" in console.getvalue()


async def test_control_without_redaction_the_error_text_is_exported(
    otlp_http_receiver: Any,
) -> None:
    """The scan above would find the canary in error text if redaction were off."""
    console = io.StringIO()
    provider = _provider(otlp_http_receiver, console)
    use_tracer_provider(provider)
    try:
        with pytest.raises(ValueError):
            RunnableLambda(failing).invoke({"question": CANARY})
    finally:
        use_tracer_provider(None)
        provider.shutdown()
    (span,) = otlp_http_receiver.wait_for_spans(1)
    assert CANARY in span.status_message
    event = span.event("exception")
    assert CANARY in event.attributes["exception.message"]
    assert CANARY in event.attributes["exception.stacktrace"]
    assert CANARY in console.getvalue()


def test_hide_event_data_alone_hides_error_text(otel_spans: Any) -> None:
    """Error text can quote event data too: either switch keeps it off spans."""
    set_tracing_options(hide_event_data=True)
    try:
        with pytest.raises(ValueError):
            RunnableLambda(failing).invoke({"question": CANARY})
    finally:
        reset_tracing_options()
    (span,) = otel_spans.spans()
    assert CANARY not in span.status.description
    assert CANARY not in str(dict(span.events[0].attributes))


def test_tags_and_metadata_are_not_covered(otel_spans: Any) -> None:
    """As documented: tags and metadata are configuration, recorded with redaction on."""
    set_tracing_options(hide_io=True, hide_event_data=True)
    try:
        config: Any = {"tags": ["tag-x"], "metadata": {"user": "u-42"}}
        RunnableLambda(lambda x: x).invoke(CANARY, config)
    finally:
        reset_tracing_options()
    (span,) = otel_spans.spans()
    assert span.attributes["runnable.tags"] == ("tag-x",)
    assert span.attributes["runnable.metadata.user"] == "u-42"
    assert attrs.INPUT_VALUE not in span.attributes
