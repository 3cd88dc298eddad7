"""Run metrics on the wire: env-only configuration, the real OTLP metric exporter (gRPC and
HTTP), the in-process receiver decoding what arrived."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _otlp.metrics import ReceivedPoint
from _otlp.receiver import GrpcOtlpReceiver, HttpOtlpReceiver

import otel_runnables

from .conftest import EMITTER, clean_env, run_emitter

METRICS_EMITTER = EMITTER.with_name("emit_metrics.py")
RUN = "runnable.run.duration"
OPERATION = "gen_ai.client.operation.duration"
TOKENS = "gen_ai.client.token.usage"


@pytest.fixture(scope="module", params=["grpc", "http/protobuf"])
def exported(request: pytest.FixtureRequest) -> Iterator[list[ReceivedPoint]]:
    """Run the emitter once per protocol against a fresh receiver; the last point of each
    series (cumulative: the last export holds every measurement)."""
    pytest.importorskip("langchain_core")
    receiver = GrpcOtlpReceiver() if request.param == "grpc" else HttpOtlpReceiver()
    with receiver.start():
        env = clean_env(
            OTEL_TRACES_EXPORTER="none",
            OTEL_METRICS_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL=request.param,
            OTEL_SERVICE_NAME="metrics-svc",
        )
        result = run_emitter(env, script=METRICS_EMITTER)
        assert result["results"] == [{"total": 2}, {"total": 2}, "ValueError", "the answer is 3"]
        receiver.metrics.wait_for_points(TOKENS, 2)
        last: dict[tuple[str, tuple[Any, ...]], ReceivedPoint] = {}
        for point in receiver.metrics.points():
            last[(point.name, tuple(sorted(point.attributes.items())))] = point
        yield list(last.values())


def _series(points: list[ReceivedPoint], name: str) -> dict[tuple[Any, ...], ReceivedPoint]:
    return {tuple(sorted(p.attributes.items())): p for p in points if p.name == name}


def _run(name: str, run_type: str = "chain", error: str | None = None) -> tuple[Any, ...]:
    attributes = {"runnable.run_name": name, "runnable.run_type": run_type}
    if error is not None:
        attributes["error.type"] = error
    return tuple(sorted(attributes.items()))


def test_resource_scope_and_kinds(exported: list[ReceivedPoint]) -> None:
    assert {p.name for p in exported} == {RUN, OPERATION, TOKENS}
    for point in exported:
        assert point.resource_attributes["service.name"] == "metrics-svc"
        assert point.scope_name == "otel_runnables"
        assert point.scope_version == otel_runnables.__version__
        assert point.kind == "histogram"
        assert point.temporality == "CUMULATIVE"
        assert sum(point.bucket_counts) == point.count
        assert len(point.bucket_counts) == len(point.explicit_bounds) + 1


def test_run_durations_one_series_per_name_type_and_error(exported: list[ReceivedPoint]) -> None:
    runs = _series(exported, RUN)
    counts = {key: point.count for key, point in runs.items()}
    assert counts == {
        _run("answer"): 2,
        _run("retrieve"): 3,
        _run("RunnableParallel<total>"): 2,
        _run("count"): 2,
        _run("failing", error="ValueError"): 1,
        _run("explode", error="ValueError"): 1,
        _run("ScriptedChatModel", "chat_model"): 1,
    }
    for point in runs.values():
        assert point.unit == "s"
        assert point.explicit_bounds[:3] == (0.001, 0.0025, 0.005)
        assert 0 <= point.sum < 60  # seconds


def test_genai_client_metrics(exported: list[ReceivedPoint]) -> None:
    call = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": "scripted-1",
        "gen_ai.response.model": "scripted-1-2026",
    }
    (duration,) = _series(exported, OPERATION).values()
    assert duration.attributes == call
    assert (duration.unit, duration.count) == ("s", 1)
    assert duration.explicit_bounds[0] == 0.01 and duration.explicit_bounds[-1] == 81.92
    tokens = {p.attributes["gen_ai.token.type"]: p for p in exported if p.name == TOKENS}
    assert {kind: (p.count, p.sum) for kind, p in tokens.items()} == {
        "input": (1, 12),
        "output": (1, 5),
    }
    for kind, point in tokens.items():
        assert point.attributes == {**call, "gen_ai.token.type": kind}
        assert point.unit == "{token}"
        assert point.explicit_bounds[:3] == (1, 4, 16)
