"""configure_tracing() from OTEL_* variables, each case in a fresh interpreter (set-once global)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from _support.process import run_python, without_otel

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from opentelemetry import trace
    from otel_runnables import RunnableLambda, dispatch_custom_event
    from otel_runnables.tracing import configure_tracing

    mode = sys.argv[1]
    app_provider = None
    if mode == "app-provider":
        from opentelemetry.sdk.trace import TracerProvider
        app_provider = TracerProvider()
        trace.set_tracer_provider(app_provider)

    provider = configure_tracing()
    again = configure_tracing()

    def step(x):
        dispatch_custom_event("progress", {"done": 1})
        return x + 1

    chain = (RunnableLambda(step) | RunnableLambda(lambda x: x * 2)).with_config(
        run_name="configured"
    )
    result = chain.invoke(1)
    processors = [
        type(p.span_exporter).__module__ + "." + type(p.span_exporter).__name__
        for p in getattr(provider._active_span_processor, "_span_processors", ())
        if hasattr(p, "span_exporter")
    ]
    print(json.dumps({
        "result": result,
        "global_is_provider": trace.get_tracer_provider() is provider,
        "same_twice": again is provider,
        "kept_app_provider": app_provider is None or provider is app_provider,
        "service_name": provider.resource.attributes.get("service.name"),
        "exporters": processors,
    }))
    sys.stdout.flush()
    # Spans are flushed by the atexit shutdown hook configure_tracing registered.
    """
)


def run_script(env: dict[str, str], mode: str = "plain") -> tuple[dict[str, Any], str]:
    done, _ = run_python(["-c", SCRIPT, mode], without_otel(**env))
    first, _, rest = done.stdout.partition("\n")
    return json.loads(first), rest + done.stderr


def test_exporter_none_and_service_name() -> None:
    info, output = run_script({"OTEL_TRACES_EXPORTER": "none", "OTEL_SERVICE_NAME": "svc-none"})
    assert info == {
        "result": 4,
        "global_is_provider": True,
        "same_twice": True,
        "kept_app_provider": True,
        "service_name": "svc-none",
        "exporters": [],
    }
    assert "configured" not in output


def test_console_exporter_prints_spans_at_exit() -> None:
    info, output = run_script({"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "svc-c"})
    assert info["exporters"] == ["opentelemetry.sdk.trace.export.ConsoleSpanExporter"]
    assert '"name": "configured"' in output
    assert '"name": "progress"' in output
    assert '"service.name": "svc-c"' in output


def test_never_replaces_the_app_provider() -> None:
    info, _ = run_script({"OTEL_TRACES_EXPORTER": "console"}, mode="app-provider")
    assert info["kept_app_provider"] is True
    assert info["exporters"] == []  # the app's provider is returned unchanged


@pytest.mark.parametrize("receiver_fixture", ["otlp_grpc_receiver", "otlp_http_receiver"])
def test_otlp_exporter(request: pytest.FixtureRequest, receiver_fixture: str) -> None:
    receiver = request.getfixturevalue(receiver_fixture)
    env = dict(receiver.env())
    env.update({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SERVICE_NAME": "svc-otlp"})
    info, _ = run_script(env)
    expected = "grpc" if receiver_fixture == "otlp_grpc_receiver" else "http"
    (exporter,) = info["exporters"]
    assert f".proto.{expected}." in exporter
    spans = receiver.wait_for_spans(3)
    names = sorted(s.name for s in spans)
    assert names == ["RunnableLambda", "configured", "step"]
    root = receiver.span("configured")
    step = receiver.span("step")
    assert step.parent_span_id == root.span_id
    assert root.resource_attributes["service.name"] == "svc-otlp"
    assert root.attributes["runnable.run_type"] == "chain"
    assert [e.name for e in step.events] == ["progress"]
    assert step.events[0].attributes == {"done": 1}
    assert root.scope_name == "otel_runnables"


def test_unknown_exporter_and_protocol_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    # exporters() builds exporters only: safe in-process (no global provider is touched).
    from otel_runnables._exporters import TRACES, exporters

    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER='zipkinish' is not supported"):
        exporters(TRACES, "zipkinish")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "bogus")
    with pytest.raises(ValueError, match="OTEL_EXPORTER_OTLP_PROTOCOL='bogus' is not supported"):
        exporters(TRACES, "otlp")
    assert exporters(TRACES, "none") == []
    assert exporters(TRACES, " , none") == []


def test_traces_protocol_is_reported_under_its_own_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_runnables._exporters import TRACES, exporters

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "foo")
    with pytest.raises(
        ValueError, match="OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='foo' is not supported"
    ):
        exporters(TRACES, "otlp")


@pytest.mark.parametrize(
    ("value", "module"),
    [("HTTP/protobuf", "http"), ("Http/Protobuf", "http"), ("GRPC", "grpc"), (" grpc ", "grpc")],
)
def test_protocol_values_ignore_case(
    monkeypatch: pytest.MonkeyPatch, value: str, module: str
) -> None:
    from otel_runnables._exporters import TRACES, exporters

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", value)
    ((exporter, description),) = exporters(TRACES, "OTLP")  # exporter names ignored case already
    assert f".proto.{module}." in type(exporter).__module__
    assert description.startswith("OTLP/gRPC" if module == "grpc" else "OTLP/HTTP")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTEL_BSP_MAX_QUEUE_SIZE", "-1"),
        ("OTEL_BSP_SCHEDULE_DELAY", "0"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "many"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "-5"),
    ],
)
def test_bad_batch_variable_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    from otel_runnables.tracing import _batch_settings

    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"{variable}='{value}' is not valid"):
        _batch_settings()


def test_batch_larger_than_queue_fails_naming_both(monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_runnables.tracing import _batch_settings

    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "10")
    with pytest.raises(ValueError, match="OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512 is larger than"):
        _batch_settings()


def test_configure_tracing_names_a_bad_batch_variable() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    clean.update(OTEL_BSP_MAX_QUEUE_SIZE="-1", OTEL_TRACES_EXPORTER="console")
    code = "from otel_runnables.tracing import configure_tracing; configure_tracing()"
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "ValueError: OTEL_BSP_MAX_QUEUE_SIZE='-1' is not valid" in done.stderr
