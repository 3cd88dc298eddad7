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

import functools
import os
from typing import Any

from opentelemetry import metrics

from . import _exporters, _flush
from ._exporters import METRICS, install_global, int_settings
from ._metrics import global_provider_set

__all__ = ["configure_meter_provider", "metrics_exporter_names"]

_EXPORTER_VARIABLE = "OTEL_METRICS_EXPORTER"
_INTERVAL = {"OTEL_METRIC_EXPORT_INTERVAL": (60000, 1)}  # ms: (default, least valid value)


def metrics_exporter_names() -> str:
    """``OTEL_METRICS_EXPORTER``; unset or empty: ``none`` (see the module doc)."""
    return os.environ.get(_EXPORTER_VARIABLE, "").strip() or "none"


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
    interval = int_settings(_INTERVAL)["OTEL_METRIC_EXPORT_INTERVAL"]
    exporters = [exporter for exporter, _ in _exporters.exporters(METRICS, names)]
    if not exporters:
        return None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    readers = [
        PeriodicExportingMetricReader(exporter, export_interval_millis=interval)
        for exporter in exporters
    ]
    provider = MeterProvider(metric_readers=readers, resource=resource, shutdown_on_exit=False)
    if not install_global(
        provider,
        metrics.set_meter_provider,
        metrics.get_meter_provider,
        functools.partial(_shutdown, provider),
    ):
        return metrics.get_meter_provider()
    return provider


def _shutdown(provider: Any) -> None:
    """At exit: the last measurements exported and the provider shut down, within the flush
    timeout (a backend that is down delays the exit by at most that much)."""
    provider.shutdown(timeout_millis=_flush.flush_timeout_s() * 1000)
