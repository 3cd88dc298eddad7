"""configure_tracing() installs a MeterProvider from OTEL_* variables (fresh interpreters: the
global providers are set-once)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from _support.process import run_python, without_otel

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from opentelemetry import metrics
    from otel_runnables import RunnableLambda
    from otel_runnables.tracing import configure_tracing

    mode = sys.argv[1]
    app_provider = None
    if mode == "app-meter-provider":
        from opentelemetry.sdk.metrics import MeterProvider
        app_provider = MeterProvider()
        metrics.set_meter_provider(app_provider)
    if mode == "app-tracer-provider":
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        trace.set_tracer_provider(TracerProvider())

    configure_tracing(service_name="svc-m")
    configure_tracing()
    provider = metrics.get_meter_provider()
    chain = (RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x * 2)).with_config(
        run_name="measured"
    )
    result = chain.invoke(1)
    readers = getattr(provider, "_metric_readers", ())
    print(json.dumps({
        "result": result,
        "provider": type(provider).__name__,
        "kept_app_provider": app_provider is None or provider is app_provider,
        "exporters": [type(r._exporter).__module__.split(".proto.")[-1] + "."
                      + type(r._exporter).__name__ for r in readers if hasattr(r, "_exporter")],
        "intervals": [getattr(r, "_export_interval_millis", None) for r in readers],
    }))
    sys.stdout.flush()
    # The last measurements are exported by the shutdown configure_tracing registered.
    """
)


def run_script(env: dict[str, str], mode: str = "plain") -> tuple[dict[str, Any], str, float]:
    done, took = run_python(["-c", SCRIPT, mode], without_otel(**env))
    first, _, rest = done.stdout.partition("\n")
    return json.loads(first), rest + done.stderr, took


def test_console_metrics_are_printed_at_exit() -> None:
    info, output, _ = run_script(
        {
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_METRICS_EXPORTER": "console",
            "OTEL_METRIC_EXPORT_INTERVAL": "120000",
        }
    )
    assert info["result"] == 4
    assert info["provider"] == "MeterProvider"
    assert [e.rsplit(".", 1)[-1] for e in info["exporters"]] == ["ConsoleMetricExporter"]
    assert info["intervals"] == [120000]
    assert '"name": "runnable.run.duration"' in output  # exported by the shutdown at exit
    assert '"runnable.run_name": "measured"' in output
    assert '"service.name": "svc-m"' in output


def test_no_metrics_exporter_installs_no_provider(otlp_grpc_receiver: Any) -> None:
    """Unset, metrics stay off even when traces go to OTLP: many trace backends (Jaeger,
    Phoenix) refuse metrics."""
    for env in (
        {"OTEL_TRACES_EXPORTER": "console"},
        {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "none"},
        {"OTEL_TRACES_EXPORTER": "otlp", **otlp_grpc_receiver.env()},
    ):
        info, output, _ = run_script(env)
        assert info["provider"] == "_ProxyMeterProvider", env
        assert "runnable.run.duration" not in output
    assert len(otlp_grpc_receiver.wait_for_spans(3)) == 3
    assert otlp_grpc_receiver.metrics.points() == []


def test_never_replaces_the_app_meter_provider() -> None:
    info, output, _ = run_script(
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "console"},
        mode="app-meter-provider",
    )
    assert info["kept_app_provider"] is True
    assert info["exporters"] == []
    assert "runnable.run.duration" not in output  # the app's provider has no reader


def test_metrics_are_set_up_beside_an_app_tracer_provider() -> None:
    info, output, _ = run_script({"OTEL_METRICS_EXPORTER": "console"}, mode="app-tracer-provider")
    assert [e.rsplit(".", 1)[-1] for e in info["exporters"]] == ["ConsoleMetricExporter"]
    assert '"name": "runnable.run.duration"' in output


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OTEL_METRICS_EXPORTER", "prometheus", "OTEL_METRICS_EXPORTER='prometheus' is not"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            "thrift",
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL='thrift' is not supported",
        ),
        ("OTEL_METRIC_EXPORT_INTERVAL", "soon", "OTEL_METRIC_EXPORT_INTERVAL='soon' is not valid"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "0", "OTEL_METRIC_EXPORT_INTERVAL='0' is not valid"),
    ],
)
def test_bad_variables_fail_naming_them_before_anything_is_installed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    # configure_meter_provider validates before it installs: safe in-process.
    from opentelemetry import metrics

    from otel_runnables._metrics_setup import configure_meter_provider

    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "otlp")
    monkeypatch.setenv(variable, value)
    before = metrics.get_meter_provider()
    with pytest.raises(ValueError, match=message):
        configure_meter_provider(None)
    assert metrics.get_meter_provider() is before


@pytest.mark.parametrize("receiver_fixture", ["otlp_grpc_receiver", "otlp_http_receiver"])
def test_otlp_metrics_follow_the_generic_and_per_signal_variables(
    request: pytest.FixtureRequest, receiver_fixture: str
) -> None:
    receiver = request.getfixturevalue(receiver_fixture)
    protocol = receiver.protocol
    env = {
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "otlp",
        # the generic protocol says something else: the per-signal one wins
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc" if protocol != "grpc" else "http/protobuf",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",  # nothing there
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": (
            receiver.endpoint if protocol == "grpc" else receiver.endpoint + "/v1/metrics"
        ),
    }
    info, output, _ = run_script(env)
    (exporter,) = info["exporters"]
    assert exporter.startswith(f"{'grpc' if protocol == 'grpc' else 'http'}.metric_exporter")
    points = receiver.metrics.wait_for_points("runnable.run.duration", 2)
    assert {p.attributes["runnable.run_name"] for p in points} == {"measured", "RunnableLambda"}
    assert "Failed to export" not in output


def test_the_exit_is_bounded_with_the_metrics_backend_down(otlp_blackhole: Any) -> None:
    env = {
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_blackhole.endpoint,
        "OTEL_EXPORTER_OTLP_TIMEOUT": "30",
        "OTEL_RUNNABLES_FLUSH_TIMEOUT": "500",
    }
    _, _, took = run_script(env)
    assert took < 10, f"exit took {took:.1f} s"  # the exporter alone would wait 30 s
