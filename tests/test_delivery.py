"""The processor configure_tracing() builds tells the truth: flushes count what was delivered,
failed, dropped or is still waiting; they honour their timeout; the shutdown at exit is bounded
by OTEL_RUNNABLES_FLUSH_TIMEOUT; batches are cut into requests far below a receiver's limit."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.trace import TracerProvider

from otel_runnables import RunnableLambda
from otel_runnables._delivery import MAX_REQUEST_BYTES, DeliveryProcessor
from otel_runnables.tracing import flush_tracing, use_tracer_provider


def _closed_port() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def _exporter(protocol: str, endpoint: str, timeout: float = 5) -> Any:
    if protocol == "grpc":
        return GrpcExporter(endpoint=endpoint, insecure=True, timeout=timeout)
    return HttpExporter(endpoint=endpoint + "/v1/traces", timeout=timeout)


class Setup:
    def __init__(self, exporter: Any, **settings: Any) -> None:
        self.processor = DeliveryProcessor(exporter, schedule_delay_s=0.05, **settings)
        self.provider = TracerProvider()
        self.provider.add_span_processor(self.processor)

    def runs(self, n: int, value: Any = 1) -> None:
        chain = RunnableLambda(lambda x: x, name="a") | RunnableLambda(lambda x: x, name="b")
        for _ in range(n):
            chain.invoke(value)


@pytest.fixture
def setup_factory() -> Iterator[Any]:
    made: list[Setup] = []

    def make(exporter: Any, **settings: Any) -> Setup:
        setup = Setup(exporter, **settings)
        made.append(setup)
        use_tracer_provider(setup.provider)
        return setup

    yield make
    use_tracer_provider(None)
    for setup in made:
        setup.provider.shutdown()


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_flush_counts_what_was_delivered(
    setup_factory: Any, protocol: str, request: pytest.FixtureRequest
) -> None:
    name = "otlp_grpc_receiver" if protocol == "grpc" else "otlp_http_receiver"
    receiver = request.getfixturevalue(name)
    setup = setup_factory(_exporter(protocol, receiver.endpoint))
    setup.runs(10)
    result = flush_tracing(10)
    assert result and result.ok and result.counted
    assert (result.delivered, result.undelivered) == (30, 0)
    assert len(receiver.spans()) == 30
    setup.runs(2)  # the next flush counts only what ended since
    result = setup.processor.flush(10)
    assert (result.delivered, result.undelivered) == (6, 0)
    assert setup.provider.force_flush() is True


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_flush_with_the_exporter_down_says_so_within_its_timeout(
    setup_factory: Any, protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="otel_runnables")
    setup = setup_factory(_exporter(protocol, _closed_port(), timeout=30))
    setup.runs(10)
    start = time.monotonic()
    result = flush_tracing(1.0)
    elapsed = time.monotonic() - start
    assert not result
    assert result.delivered == 0 and result.undelivered == 30, result
    assert elapsed < 5, f"flush(1 s) took {elapsed:.1f} s"
    assert setup.provider.force_flush(500) is False
    messages = [r.getMessage() for r in caplog.records if r.name == "otel_runnables"]
    assert any("30 of 30 spans NOT delivered" in m for m in messages), messages


def test_rejected_exports_are_counted_failed(setup_factory: Any, otlp_grpc_receiver: Any) -> None:
    otlp_grpc_receiver.fail_next(1, grpc.StatusCode.INVALID_ARGUMENT)  # not retried
    setup = setup_factory(_exporter("grpc", otlp_grpc_receiver.endpoint))
    setup.runs(5)
    result = flush_tracing(10)
    assert (result.delivered, result.failed, result.pending) == (0, 15, 0)
    setup.runs(5)
    result = flush_tracing(10)
    assert (result.delivered, result.failed) == (15, 0) and result


def test_full_queue_is_counted_dropped_and_logged_once(
    setup_factory: Any, otlp_blackhole: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="otel_runnables")
    exporter = _exporter("grpc", otlp_blackhole.endpoint, timeout=30)
    setup = setup_factory(exporter, max_queue_size=20, max_export_batch_size=10)
    setup.runs(50)
    result = flush_tracing(0.5)
    assert result.dropped >= 150 - 30 and result.undelivered == 150
    full = [r for r in caplog.records if "queue" in r.getMessage()]
    assert len(full) == 1


def test_big_spans_go_in_requests_below_the_receiver_limit(
    setup_factory: Any, otlp_grpc_receiver: Any
) -> None:
    """300 spans with 16 KiB inputs and outputs are about 10 MB: one request would be refused
    (RESOURCE_EXHAUSTED, every span of it lost), so the processor cuts the batch."""
    setup = setup_factory(_exporter("grpc", otlp_grpc_receiver.endpoint, timeout=20))
    setup.runs(100, "x" * 16_000)
    result = flush_tracing(20)
    assert (result.delivered, result.undelivered) == (300, 0), result
    payloads = otlp_grpc_receiver.raw_payloads()
    assert len(payloads) >= 4
    assert max(len(p) for p in payloads) <= MAX_REQUEST_BYTES * 1.1


EXIT_SCRIPT = textwrap.dedent(
    """
    import sys
    from otel_runnables import RunnableLambda
    from otel_runnables.tracing import configure_tracing
    configure_tracing()
    chain = RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x)
    for i in range(int(sys.argv[1])):
        chain.invoke(i)
    print("done", flush=True)
    """
)


def _exit_times(cases: list[tuple[dict[str, str], int]]) -> list[tuple[float, str]]:
    """Run the script once per ``(env, runs)``, all at once; each one's exit time and stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    started = []
    for env, runs in cases:
        args = [sys.executable, "-c", EXIT_SCRIPT, str(runs)]
        popen = subprocess.Popen(
            args, env={**clean, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        started.append((popen, time.monotonic()))
    results = []
    for popen, start in started:
        stdout, stderr = popen.communicate(timeout=120)
        elapsed = time.monotonic() - start  # an upper bound: the others were waited for first
        assert popen.returncode == 0, stderr
        assert stdout == "done\n"
        results.append((elapsed, stderr))
    return results


def test_process_with_the_exporter_down_exits_soon(otlp_blackhole: Any) -> None:
    """It took 6.6-10 s (10 runs) and 30.3-30.6 s (1000 runs): the SDK's shutdown waits 30 s."""
    cases = [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}, runs)
        for endpoint in (_closed_port(), otlp_blackhole.endpoint)
        for runs in (10, 1000)
    ]
    for (env, runs), (elapsed, stderr) in zip(cases, _exit_times(cases), strict=True):
        where = env["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert elapsed < 12, f"{runs} runs, {where}: exit took {elapsed:.1f} s"
        assert "spans NOT delivered" in stderr and "OTEL_RUNNABLES_FLUSH_TIMEOUT" in stderr


def test_flush_timeout_variable_bounds_the_exit(otlp_blackhole: Any) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_blackhole.endpoint}
    quick = {**env, "OTEL_RUNNABLES_FLUSH_TIMEOUT": "200"}
    slow = {**env, "OTEL_RUNNABLES_FLUSH_TIMEOUT": "5000"}
    (short, _), (long, stderr) = _exit_times([(quick, 10), (slow, 10)])
    assert long > short + 2, (short, long)
    assert "waited 5.0 s" in stderr


def test_process_with_the_exporter_up_delivers_at_exit(otlp_http_receiver: Any) -> None:
    env = dict(otlp_http_receiver.env())
    ((_, stderr),) = _exit_times([(env, 50)])
    assert len(otlp_http_receiver.wait_for_spans(150)) == 150
    assert "NOT delivered" not in stderr


def test_flush_with_a_provider_built_elsewhere_reports_only_yes_or_no() -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    use_tracer_provider(provider)
    try:
        RunnableLambda(lambda x: x).invoke(1)
        result = flush_tracing(1)
    finally:
        use_tracer_provider(None)
        provider.shutdown()
    assert result.ok and not result.counted and result.delivered == 0
