"""The logger provider ``configure_tracing()`` builds for custom events written as log records.

From the standard variables: ``OTEL_LOGS_EXPORTER`` (``otlp``, ``console``, ``none``;
comma-separated), ``OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``, the
endpoints (``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT``, else ``OTEL_EXPORTER_OTLP_ENDPOINT``, read by
the exporters as the SDK does) and ``OTEL_BLRP_*``. Each exporter gets a
:class:`LogDeliveryProcessor`: the span delivery of ``_delivery`` for log records (bounded
flush and shutdown, counted in ``flush_tracing()``'s ``FlushResult.logs``).

A logger provider is set up only when there is something to write: ``OTEL_LOGS_EXPORTER`` is
set (to anything but ``none``) or custom events go to logs (``custom_events`` ``log`` /
``both``, then ``otlp`` is the default exporter); never over a logger provider the application
installed. Needs the OpenTelemetry SDK.
"""

from __future__ import annotations

import copy
from typing import Any

from opentelemetry import _logs
from opentelemetry.context import Context
from opentelemetry.sdk import _logs as sdk_logs
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor

from . import _exporters
from ._delivery import Delivery, attributes_size
from ._exporters import LOGS, install_global, int_settings

__all__ = ["LogDeliveryProcessor", "configure_logs"]

# Newer SDKs hand processors a ReadWriteLogRecord and exporters a ReadableLogRecord; older
# ones hand LogData through as it is.
_READABLE: Any = getattr(sdk_logs, "ReadableLogRecord", None)

_RECORD_OVERHEAD = 96
_BATCH_VARIABLES = {  # variable: (default, least valid value), the SDK's defaults for logs
    "OTEL_BLRP_SCHEDULE_DELAY": (1000, 1),
    "OTEL_BLRP_MAX_QUEUE_SIZE": (2048, 1),
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": (512, 1),
}


def _readable(record: Any) -> Any:
    """What the exporter takes, without the emitting context (as the SDK's batch processor)."""
    if _READABLE is None or isinstance(record, _READABLE):
        return record
    api_record = copy.copy(record.log_record)
    api_record.context = Context()
    return _READABLE(
        log_record=api_record,
        resource=record.resource,
        instrumentation_scope=record.instrumentation_scope,
        limits=record.limits,
    )


class LogDeliveryProcessor(Delivery, LogRecordProcessor):
    """Batches emitted log records to ``exporter`` and counts what was delivered."""

    signal = "log records"
    _queue_variable = "OTEL_BLRP_MAX_QUEUE_SIZE"
    _exporter_variable = "OTEL_LOGS_EXPORTER"

    def _size(self, item: Any) -> int:
        record = item.log_record
        name = getattr(record, "event_name", None) or ""
        body = record.body if isinstance(record.body, str) else ""
        return _RECORD_OVERHEAD + len(name) + len(body) + attributes_size(record.attributes)

    def _succeeded(self, result: Any) -> bool:
        return getattr(result, "name", None) == "SUCCESS"

    def on_emit(self, log_record: Any) -> None:
        """Queue the record for export (called on the thread that emitted it)."""
        self._enqueue(_readable(log_record))

    emit = on_emit  # the name of this hook in older SDKs


def _installed() -> bool:
    """Whether the application installed a logger provider (anything but the API's default)."""
    current = _logs.get_logger_provider()
    proxy = getattr(getattr(_logs, "_internal", None), "ProxyLoggerProvider", ())
    return not isinstance(current, (_logs.NoOpLoggerProvider, proxy))


def configure_logs(resource: Any, names: str | None, *, wanted: bool) -> LoggerProvider | None:
    """Install a global SDK ``LoggerProvider`` with a delivery processor per exporter.

    ``names`` is ``OTEL_LOGS_EXPORTER`` (or the argument that overrides it; None: unset);
    ``wanted`` says that custom events go to logs. Returns the provider installed, or None
    when there is nothing to write, or the application installed its own.
    """
    if names is None:
        if not wanted:
            return None
        names = "otlp"
    if _installed():
        return None
    batch = int_settings(_BATCH_VARIABLES)
    exporters = _exporters.exporters(LOGS, names)
    if not exporters:
        return None
    provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    for processor in LogDeliveryProcessor.for_exporters(exporters, batch):
        provider.add_log_record_processor(processor)
    installed = install_global(
        provider, _logs.set_logger_provider, _logs.get_logger_provider, provider.shutdown
    )
    return provider if installed else None
