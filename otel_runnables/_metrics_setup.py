"""The MeterProvider ``configure_tracing()`` installs, from the standard ``OTEL_*`` variables.

``OTEL_METRICS_EXPORTER`` (``otlp``, ``console``, ``none``; comma-separated) names the exporters.
Unset, no MeterProvider is installed: unlike the SDK's own default (``otlp``), because the OTLP
endpoint of a ``configure_tracing()`` application is often a traces-only backend (Jaeger,
Phoenix), which would refuse metrics and log an export failure every interval.

The OTLP exporter speaks ``OTEL_EXPORTER_OTLP_METRICS_PROTOCOL``, else
``OTEL_EXPORTER_OTLP_PROTOCOL`` (grpc by default), and reads its endpoint itself
(``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``, else ``OTEL_EXPORTER_OTLP_ENDPOINT`` with
``/v1/metrics`` appended for HTTP). Each exporter gets a periodic reader exporting every
``OTEL_METRIC_EXPORT_INTERVAL`` ms (default 60000). A MeterProvider the application installed
is never replaced. The provider is flushed and shut down at interpreter exit within
``OTEL_RUNNABLES_FLUSH_TIMEOUT`` (3 s), as traces are.

Needs the OpenTelemetry SDK (``pip install "otel-runnables[otlp]"``).
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from opentelemetry import metrics

from . import _flush
from ._metrics import global_provider_set

__all__ = ["configure_meter_provider", "metrics_exporter_names"]

_EXPORTER_VARIABLE = "OTEL_METRICS_EXPORTER"
_PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
_INTERVAL_VARIABLE = "OTEL_METRIC_EXPORT_INTERVAL"
_DEFAULT_INTERVAL_MS = 60000


def metrics_exporter_names() -> str:
    """``OTEL_METRICS_EXPORTER``; unset or empty: ``none`` (see the module doc)."""
    return os.environ.get(_EXPORTER_VARIABLE, "").strip() or "none"


def _protocol() -> tuple[str, str]:
    for variable in _PROTOCOL_VARIABLES:
        raw = os.environ.get(variable, "").strip()
        if raw:
            return raw.lower(), variable
    return "grpc", _PROTOCOL_VARIABLES[1]


def _interval_ms() -> int:
    raw = os.environ.get(_INTERVAL_VARIABLE, "").strip()
    if not raw:
        return _DEFAULT_INTERVAL_MS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"{_INTERVAL_VARIABLE}={raw!r} is not valid: expected an integer >= 1"
            f" (milliseconds, default {_DEFAULT_INTERVAL_MS})"
        )
    return value


def _exporters(names: str) -> list[Any]:
    """The metric exporters ``names`` (``OTEL_METRICS_EXPORTER``'s syntax) asks for."""
    exporters: list[Any] = []
    for name in (n.strip().lower() for n in names.split(",")):
        if name in ("", "none"):
            continue
        if name == "console":
            from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

            exporters.append(ConsoleMetricExporter())
        elif name == "otlp":
            protocol, variable = _protocol()
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                    OTLPMetricExporter as GrpcExporter,
                )

                exporters.append(GrpcExporter())
            elif protocol == "http/protobuf":
                from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
                    OTLPMetricExporter as HttpExporter,
                )

                exporters.append(HttpExporter())
            else:
                raise ValueError(
                    f"{variable}={os.environ.get(variable)!r} is not supported;"
                    " use 'grpc' or 'http/protobuf'"
                )
        else:
            raise ValueError(
                f"{_EXPORTER_VARIABLE}={name!r} is not supported; use 'otlp', 'console' or 'none'"
            )
    return exporters


def configure_meter_provider(resource: Any) -> Any:
    """Install an SDK MeterProvider with ``resource`` and the exporters the variables name.

    Returns the provider installed, the application's own provider if it installed one (left
    unchanged), or None when no metrics exporter is asked for (nothing installed: run metrics
    then cost nothing). A variable with a value that is not valid raises ``ValueError`` naming
    it, before anything is installed.
    """
    if global_provider_set():
        return metrics.get_meter_provider()
    names = metrics_exporter_names()
    interval = _interval_ms()
    exporters = _exporters(names)
    if not exporters:
        return None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    readers = [
        PeriodicExportingMetricReader(exporter, export_interval_millis=interval)
        for exporter in exporters
    ]
    provider = MeterProvider(metric_readers=readers, resource=resource, shutdown_on_exit=False)
    metrics.set_meter_provider(provider)
    if metrics.get_meter_provider() is not provider:  # somebody else won the set-once race
        provider.shutdown()
        return metrics.get_meter_provider()
    atexit.register(_shutdown, provider)
    return provider


def _shutdown(provider: Any) -> None:
    """At exit: the last measurements exported and the provider shut down, within the flush
    timeout (a backend that is down delays the exit by at most that much)."""
    provider.shutdown(timeout_millis=_flush.flush_timeout_s() * 1000)
