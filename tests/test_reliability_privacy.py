"""With redaction on, a canary secret never leaves the process, yet in-process sinks see it.

The real OTLP exporters (gRPC and HTTP/protobuf) send to the in-process receivers; every
received byte is scanned for the canary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from _support import Recorder, using_provider
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otel_runnables import RunnableLambda, dispatch_custom_event
from otel_runnables.tracing import reset_tracing_options, set_tracing_options

CANARY = "canary-7f3a9c1e-secret"


def _step(x: dict[str, str]) -> dict[str, str]:
    dispatch_custom_event("leak", {"secret": CANARY, "nested": {"deep": [CANARY]}})
    dispatch_custom_event("bare", CANARY)
    return {"answer": f"{x['question']} -> {CANARY}"}


def _pipeline() -> Any:
    return RunnableLambda(_step, name="step") | RunnableLambda(lambda y: y, name="echo")


@pytest.fixture
def redaction() -> Iterator[None]:
    set_tracing_options(hide_io=True, hide_event_data=True, record_chunks=True)
    try:
        yield
    finally:
        reset_tracing_options()


@pytest.fixture(params=["grpc", "http/protobuf"])
def receiver(request: pytest.FixtureRequest) -> Any:
    if request.param == "grpc":
        return request.getfixturevalue("otlp_grpc_receiver")
    return request.getfixturevalue("otlp_http_receiver")


def _export_to(receiver: Any) -> TracerProvider:
    if receiver.protocol == "grpc":
        exporter: Any = GrpcExporter(endpoint=receiver.endpoint, insecure=True, timeout=5)
    else:
        exporter = HttpExporter(endpoint=receiver.traces_url, timeout=5)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


async def test_redacted_canary_in_no_exported_byte(receiver: Any, redaction: None) -> None:
    recorder = Recorder()
    question = {"question": CANARY}
    with using_provider(_export_to(receiver)):
        out = _pipeline().invoke(question, {"callbacks": [recorder]})
        events = [
            e
            async for e in _pipeline().astream_events(
                question, {"callbacks": [recorder]}, version="v2"
            )
        ]
        chunks = [c async for c in _pipeline().astream(question)]
    spans = receiver.wait_for_spans(6)
    assert {s.name for s in spans} >= {"step", "echo", "RunnableSequence"}
    assert sum(len(s.events) for s in spans) >= 4, "event names are still exported"
    raw = receiver.raw_bytes()
    assert raw, "the receiver got the export"
    assert CANARY.encode() not in raw, "the canary left the process"
    # In-process sinks still see the real values.
    assert CANARY in out["answer"] and CANARY in chunks[-1]["answer"]
    custom = [e for e in events if e["event"] == "on_custom_event"]
    assert custom[0]["data"]["secret"] == CANARY and custom[1]["data"] == CANARY
    assert any(CANARY in str(e["data"]) for e in events if e["event"] == "on_chain_end")
    seen = recorder.custom_events()
    assert len(seen) == 4 and seen[0].data["secret"] == CANARY


async def test_without_redaction_the_canary_is_exported(otlp_http_receiver: Any) -> None:
    """Control: the scan above would find the canary if redaction were off."""
    with using_provider(_export_to(otlp_http_receiver)):
        _pipeline().invoke({"question": CANARY})
    otlp_http_receiver.wait_for_spans(3)
    assert CANARY.encode() in otlp_http_receiver.raw_bytes()


def test_redaction_env_vars_set_before_import(otlp_http_receiver: Any) -> None:
    """``OTEL_RUNNABLES_HIDE_IO`` / ``_HIDE_EVENT_DATA`` set before the process imports us."""
    url = otlp_http_receiver.traces_url
    code = textwrap.dedent(
        f"""
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from otel_runnables import RunnableLambda, dispatch_custom_event
        from otel_runnables.tracing import use_tracer_provider
        p = TracerProvider()
        p.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint={url!r}, timeout=5)))
        use_tracer_provider(p)
        def step(x):
            dispatch_custom_event("leak", {{"secret": {CANARY!r}}})
            return x + "!"
        assert RunnableLambda(step).invoke({CANARY!r}) == {CANARY!r} + "!"
        p.shutdown()
        """
    )
    env = {
        **os.environ,
        "OTEL_RUNNABLES_HIDE_IO": "true",
        "OTEL_RUNNABLES_HIDE_EVENT_DATA": "true",
    }
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    otlp_http_receiver.wait_for_spans(1)
    assert CANARY.encode() not in otlp_http_receiver.raw_bytes()


def test_redaction_env_vars_set_at_run_time(
    otlp_http_receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tracing.py documents the ``OTEL_RUNNABLES_*`` variables as 'read by the span sink at any
    time'; set after import, they must still redact."""
    monkeypatch.setenv("OTEL_RUNNABLES_HIDE_IO", "true")
    monkeypatch.setenv("OTEL_RUNNABLES_HIDE_EVENT_DATA", "true")
    with using_provider(_export_to(otlp_http_receiver)):
        _pipeline().invoke({"question": CANARY})
    otlp_http_receiver.wait_for_spans(3)
    assert CANARY.encode() not in otlp_http_receiver.raw_bytes(), (
        "OTEL_RUNNABLES_HIDE_IO/HIDE_EVENT_DATA set after import are ignored"
    )
