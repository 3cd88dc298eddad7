"""The metrics side of the in-process OTLP receivers: decoding and storing metric requests.

Each receiver has a :class:`MetricsStore` (``receiver.metrics``): gRPC serves
``MetricsService/Export`` beside ``TraceService/Export``, HTTP accepts ``POST /v1/metrics``.
Points are flattened with their metric, resource and scope::

    (point,) = receiver.metrics.wait_for_points("runnable.run.duration", 1)
    assert point.kind == "histogram" and point.count == 1
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.metrics.v1 import metrics_pb2

from .decode import decode_key_values

__all__ = ["METRICS_PATH", "MetricsService", "MetricsStore", "ReceivedPoint", "decode_metrics"]

METRICS_PATH = "/v1/metrics"


@dataclass(frozen=True)
class ReceivedPoint:
    """One data point of one metric, as received. ``kind``: ``histogram``, ``sum`` or
    ``gauge``; ``value`` is a sum's or gauge's number, ``count`` / ``sum`` / ``bucket_counts`` /
    ``explicit_bounds`` a histogram's; ``temporality`` is the enum name without its prefix."""

    name: str
    unit: str
    description: str
    kind: str
    attributes: dict[str, Any]
    temporality: str = ""
    count: int = 0
    sum: float = 0.0
    bucket_counts: tuple[int, ...] = ()
    explicit_bounds: tuple[float, ...] = ()
    value: float = 0.0
    time_unix_nano: int = 0
    resource_attributes: dict[str, Any] = field(default_factory=dict)
    scope_name: str = ""
    scope_version: str = ""


def _temporality(number: int) -> str:
    name: str = metrics_pb2.AggregationTemporality.Name(number)
    return name.removeprefix("AGGREGATION_TEMPORALITY_")


def decode_metrics(request: metrics_service_pb2.ExportMetricsServiceRequest) -> list[ReceivedPoint]:
    points: list[ReceivedPoint] = []
    for resource_metrics in request.resource_metrics:
        resource = decode_key_values(resource_metrics.resource.attributes)[0]
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            for metric in scope_metrics.metrics:
                common = {
                    "name": metric.name,
                    "unit": metric.unit,
                    "description": metric.description,
                    "resource_attributes": resource,
                    "scope_name": scope.name,
                    "scope_version": scope.version,
                }
                kind = metric.WhichOneof("data")
                if kind == "histogram":
                    for p in metric.histogram.data_points:
                        points.append(
                            ReceivedPoint(
                                kind="histogram",
                                attributes=decode_key_values(p.attributes)[0],
                                temporality=_temporality(metric.histogram.aggregation_temporality),
                                count=p.count,
                                sum=p.sum,
                                bucket_counts=tuple(p.bucket_counts),
                                explicit_bounds=tuple(p.explicit_bounds),
                                time_unix_nano=p.time_unix_nano,
                                **common,
                            )
                        )
                elif kind in ("sum", "gauge"):
                    for p in getattr(metric, kind).data_points:
                        number = p.as_double if p.WhichOneof("value") == "as_double" else p.as_int
                        points.append(
                            ReceivedPoint(
                                kind=kind,
                                attributes=decode_key_values(p.attributes)[0],
                                value=number,
                                time_unix_nano=p.time_unix_nano,
                                **common,
                            )
                        )
    return points


class MetricsStore:
    """Every accepted metrics request and its decoded points (thread-safe)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._requests: list[metrics_service_pb2.ExportMetricsServiceRequest] = []
        self._points: list[ReceivedPoint] = []

    def accept(self, payload: bytes) -> None:
        """Decode and keep one request body (``DecodeError`` when it is not one)."""
        request = metrics_service_pb2.ExportMetricsServiceRequest.FromString(payload)
        points = decode_metrics(request)
        with self._cond:
            self._requests.append(request)
            self._points.extend(points)
            self._cond.notify_all()

    def requests(self) -> list[metrics_service_pb2.ExportMetricsServiceRequest]:
        with self._cond:
            return list(self._requests)

    def points(self, name: str | None = None) -> list[ReceivedPoint]:
        """Every point received (of metric ``name``), in arrival order."""
        with self._cond:
            return [p for p in self._points if name is None or p.name == name]

    def wait_for_points(self, name: str, n: int, timeout: float = 10.0) -> list[ReceivedPoint]:
        """Block until at least ``n`` points of ``name`` arrived; return them (``TimeoutError``
        otherwise)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [p for p in self._points if p.name == name]
                if len(found) >= n:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = sorted({p.name for p in self._points})
                    raise TimeoutError(
                        f"expected >= {n} points of {name!r} within {timeout}s, got"
                        f" {len(found)}; metrics received: {names}"
                    )
                self._cond.wait(remaining)


class MetricsService(metrics_service_pb2_grpc.MetricsServiceServicer):
    """``MetricsService/Export`` into a :class:`MetricsStore`."""

    def __init__(self, store: MetricsStore) -> None:
        self._store = store

    def Export(
        self,
        request: metrics_service_pb2.ExportMetricsServiceRequest,
        context: grpc.ServicerContext,
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        self._store.accept(request.SerializeToString())
        return metrics_service_pb2.ExportMetricsServiceResponse()

    @staticmethod
    def add_to(server: grpc.Server, store: MetricsStore) -> None:
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(MetricsService(store), server)

    @staticmethod
    def empty_response() -> bytes:
        return metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
