"""configure_tracing() sets up the logger provider for custom events written as log records.

Each case runs in a fresh interpreter (global providers are set once per process) with nothing
but ``OTEL_*`` variables, against the in-process receivers.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from _support.process import run_python, without_otel

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from opentelemetry import _logs
    from otel_runnables import RunnableLambda, dispatch_custom_event
    from otel_runnables.tracing import configure_tracing, flush_tracing

    if "--app-provider" in sys.argv:
        from opentelemetry.sdk._logs import LoggerProvider
        _logs.set_logger_provider(LoggerProvider(shutdown_on_exit=False))
    app = _logs.get_logger_provider()
    try:
        configure_tracing()
    except ValueError as exc:
        print(json.dumps({"error": str(exc)}))
        sys.exit(0)

    def step(x):
        for i in range(x):
            dispatch_custom_event("tick", {"i": i})
        return x

    RunnableLambda(step).invoke(3)
    installed = _logs.get_logger_provider()
    out = {
        "provider": type(installed).__name__,
        "replaced": installed is not app,
        "processors": [
            type(p).__name__
            for p in getattr(getattr(installed, "_multi_log_record_processor", None),
                             "_log_record_processors", ())
        ],
    }
    if "--flush" in sys.argv:
        out["flushed"] = flush_tracing().describe()
    print(json.dumps(out))
    """
)


def _run(env: dict[str, str], *args: str) -> tuple[dict[str, Any], str, float]:
    proc, elapsed = run_python(
        ["-c", SCRIPT, *args], without_otel(OTEL_TRACES_EXPORTER="none", **env), timeout=120
    )
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr, elapsed


def test_no_logger_provider_while_custom_events_are_span_events() -> None:
    out, _, _ = _run({})
    assert out["provider"] == "ProxyLoggerProvider"


def test_the_logs_exporter_variable_sets_one_up_in_any_mode() -> None:
    out, stderr, _ = _run({"OTEL_LOGS_EXPORTER": "console"})
    assert (out["provider"], out["processors"]) == ("LoggerProvider", ["LogDeliveryProcessor"])
    assert '"event_name": "tick"' not in stderr  # span mode: no records to print


def test_log_mode_sets_one_up_and_the_console_exporter_prints_the_records() -> None:
    out, _, _ = _run(
        {"OTEL_RUNNABLES_CUSTOM_EVENTS": "log", "OTEL_LOGS_EXPORTER": "console"}, "--flush"
    )
    assert out["provider"] == "LoggerProvider"
    assert out["flushed"] == "0 of 0 spans delivered; 3 of 3 log records delivered"


def test_an_application_logger_provider_is_never_replaced() -> None:
    out, _, _ = _run({"OTEL_RUNNABLES_CUSTOM_EVENTS": "both"}, "--app-provider")
    assert out["provider"] == "LoggerProvider"
    assert out["replaced"] is False
    assert out["processors"] == []


def test_a_bad_logs_exporter_or_protocol_raises_naming_the_variable() -> None:
    out, _, _ = _run({"OTEL_LOGS_EXPORTER": "loki"})
    assert out["error"] == (
        "OTEL_LOGS_EXPORTER='loki' is not supported; use 'otlp', 'console' or 'none'"
    )
    out, _, _ = _run(
        {"OTEL_RUNNABLES_CUSTOM_EVENTS": "log", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "json"}
    )
    assert out["error"] == (
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL='json' is not supported; use 'grpc' or 'http/protobuf'"
    )
    out, _, _ = _run({"OTEL_LOGS_EXPORTER": "console", "OTEL_BLRP_MAX_QUEUE_SIZE": "0"})
    assert "OTEL_BLRP_MAX_QUEUE_SIZE='0' is not valid" in out["error"]


def test_the_logs_endpoint_and_protocol_win_over_the_generic_ones(
    otlp_http_receiver: Any, otlp_blackhole: Any
) -> None:
    env = {
        "OTEL_RUNNABLES_CUSTOM_EVENTS": "log",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_blackhole.endpoint,
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": otlp_http_receiver.endpoint + "/v1/logs",
    }
    out, _, _ = _run(env, "--flush")
    assert out["flushed"].endswith("3 of 3 log records delivered")
    records = otlp_http_receiver.wait_for_logs(3)
    assert [r.event_name for r in records] == ["tick"] * 3
    assert [r.attributes for r in records] == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_log_records_are_delivered_at_exit_and_the_exit_is_bounded(
    otlp_grpc_receiver: Any, otlp_blackhole: Any
) -> None:
    up = {"OTEL_RUNNABLES_CUSTOM_EVENTS": "log", **otlp_grpc_receiver.env()}
    _, stderr, _ = _run(up)
    assert len(otlp_grpc_receiver.wait_for_logs(3)) == 3
    assert "NOT delivered" not in stderr
    down = {
        "OTEL_RUNNABLES_CUSTOM_EVENTS": "log",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_blackhole.endpoint,
        "OTEL_RUNNABLES_FLUSH_TIMEOUT": "500",
    }
    _, stderr, elapsed = _run(down)
    assert elapsed < 10, elapsed
    assert "3 of 3 log records NOT delivered" in stderr


def test_a_flush_result_is_false_when_log_records_were_not_delivered() -> None:
    from otel_runnables.tracing import FlushResult

    logs = FlushResult(delivered=1, failed=1, unit="log records")
    result = FlushResult(delivered=2) + FlushResult(delivered=1, logs=logs)
    assert not result
    assert result.undelivered == 0 and result.logs is logs
    assert result.describe() == (
        "3 of 3 spans delivered; 1 of 2 log records NOT delivered (1 failed to export)"
    )
    assert FlushResult(delivered=2, logs=FlushResult(delivered=1, unit="log records"))
