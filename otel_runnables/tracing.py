"""Tracing set-up: ``configure_tracing()`` from the standard ``OTEL_*`` variables, and options.

Library code never installs a global tracer provider; applications call
:func:`configure_tracing` once (or install their own SDK set-up, which it then leaves alone).

Environment variables read by :func:`configure_tracing` (all optional):

``OTEL_SERVICE_NAME``                 service name of the resource (default
                                      ``unknown_service:<interpreter file name>``)
``OTEL_TRACES_EXPORTER``              ``otlp`` (default), ``console`` or ``none``; comma-separated
``OTEL_EXPORTER_OTLP_ENDPOINT``       collector address (default ``http://localhost:4317`` for
                                      gRPC, ``http://localhost:4318`` for HTTP)
``OTEL_EXPORTER_OTLP_PROTOCOL``       ``grpc`` (default) or ``http/protobuf``
``OTEL_EXPORTER_OTLP_TRACES_*``       per-signal overrides, honoured by the exporters themselves
``OTEL_BSP_*``                        batch settings (schedule delay, queue and batch sizes)
``OTEL_RUNNABLES_FLUSH_TIMEOUT``      ms that :func:`flush_tracing` and the shutdown at exit wait
                                      for spans to be delivered (default 3000)
``OTEL_LOGS_EXPORTER``                ``otlp``, ``console`` or ``none``: a logger provider for
                                      custom events written as log records (set up when this
                                      is set, or when custom events go to logs; default otlp)
``OTEL_EXPORTER_OTLP_LOGS_*``, ``OTEL_BLRP_*``  its endpoint, protocol and batch settings

Read by the span sink when a trace starts (a change applies from the next trace on; an option
given to :func:`set_tracing_options` wins over its variable until :func:`reset_tracing_options`):

``OTEL_RUNNABLES_HIDE_IO``            ``true``: no ``input.value`` / ``output.value`` on spans
``OTEL_RUNNABLES_HIDE_EVENT_DATA``    ``true``: span events keep their name, not their data
``OTEL_RUNNABLES_RECORD_CHUNKS``      ``true``: each streamed chunk becomes a ``chunk`` span event
``OTEL_RUNNABLES_CUSTOM_EVENTS``      ``span`` (default), ``log`` or ``both``: custom events as
                                      span events, log records with an ``event_name``, or both
``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`` longest attribute string (default 16384 characters);
                                      ``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`` wins when set
``OTEL_RUNNABLES_LIST_LENGTH_LIMIT``  items kept of a list, tuple, set or dict (default 128)
``OTEL_RUNNABLES_EVENT_SIZE_LIMIT``   bytes of one span event's attributes (default 32768)
``OTEL_RUNNABLES_SPAN_SIZE_LIMIT``    bytes of a span's event attributes together (1048576)

Misspelt booleans are logged once (the privacy switches then hide); see docs/configuration.md.

Metrics (see docs/metrics.md): ``configure_tracing()`` also installs a ``MeterProvider`` from
``OTEL_METRICS_EXPORTER`` (``otlp``, ``console``, ``none``; unset: ``none``, as many OTLP
trace backends refuse metrics), ``OTEL_EXPORTER_OTLP_METRICS_*`` (else ``OTEL_EXPORTER_OTLP_*``) and
``OTEL_METRIC_EXPORT_INTERVAL`` (ms, default 60000), unless the application installed one.
``OTEL_RUNNABLES_METRICS=false`` (or :func:`set_metrics_options`) turns run metrics off.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from opentelemetry import _logs, metrics, trace

from . import _exporters, _flush
from ._exporters import TRACES, install_global, int_settings
from ._flush import FlushResult
from ._metrics import RUN_METRICS
from ._otel import SPAN_SINK

__all__ = [
    "FlushResult",
    "configure_tracing",
    "flush_metrics",
    "flush_tracing",
    "reset_metrics_options",
    "reset_tracing_options",
    "set_metrics_options",
    "set_tracing_options",
    "use_logger_provider",
    "use_meter_provider",
    "use_tracer_provider",
]

logger = logging.getLogger("otel_runnables")


def use_tracer_provider(provider: trace.TracerProvider | None) -> None:
    """Make otel_runnables use ``provider`` (None: the global provider, the default).

    Useful in tests and in applications that keep several providers.

    Example:
        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> use_tracer_provider(TracerProvider())
        >>> use_tracer_provider(None)
    """
    SPAN_SINK.use_tracer_provider(provider)


def use_logger_provider(provider: _logs.LoggerProvider | None) -> None:
    """Make otel_runnables write custom events as log records to ``provider`` (None: the
    global logger provider, the default). Only used with ``custom_events`` ``log`` or ``both``.

    Example:
        >>> from opentelemetry.sdk._logs import LoggerProvider
        >>> use_logger_provider(LoggerProvider())
        >>> use_logger_provider(None)
    """
    SPAN_SINK.event_log.use_logger_provider(provider)


def set_tracing_options(
    *,
    hide_io: bool | None = None,
    hide_event_data: bool | None = None,
    record_chunks: bool | None = None,
    custom_events: str | None = None,
) -> None:
    """Change what spans record; ``None`` leaves an option as it is (env var or default).

    ``custom_events`` says where ``dispatch_custom_event`` goes: ``"span"`` (span events, the
    default), ``"log"`` (log records with an ``event_name``) or ``"both"``; another value
    raises ``ValueError``. Handlers and ``astream_events`` are unaffected: they always receive
    the real values.

    Example:
        >>> set_tracing_options(hide_io=True)     # redact inputs and outputs from spans
        >>> set_tracing_options(hide_io=False, custom_events="both")
        >>> reset_tracing_options()
    """
    SPAN_SINK.options.set(
        hide_io=hide_io,
        hide_event_data=hide_event_data,
        record_chunks=record_chunks,
        custom_events=custom_events,
    )


def reset_tracing_options() -> None:
    """Forget what :func:`set_tracing_options` set: the ``OTEL_RUNNABLES_*`` variables apply.

    Example:
        >>> set_tracing_options(record_chunks=True)
        >>> reset_tracing_options()
    """
    SPAN_SINK.options.reset()


_BATCH_VARIABLES = {  # variable: (default, least valid value)
    "OTEL_BSP_SCHEDULE_DELAY": (5000, 1),
    "OTEL_BSP_MAX_QUEUE_SIZE": (2048, 1),
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": (512, 1),
    "OTEL_BSP_EXPORT_TIMEOUT": (30000, 0),
}


def _batch_settings() -> dict[str, int]:
    """The ``OTEL_BSP_*`` settings; a value that is not valid raises, naming its variable."""
    values = int_settings(_BATCH_VARIABLES)
    queue, batch = values["OTEL_BSP_MAX_QUEUE_SIZE"], values["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"]
    if batch > queue:
        raise ValueError(
            f"OTEL_BSP_MAX_EXPORT_BATCH_SIZE={batch} is larger than OTEL_BSP_MAX_QUEUE_SIZE={queue}"
        )
    return values


def flush_tracing(timeout: float | None = None) -> FlushResult:
    """Deliver the spans that ended so far; say what was delivered and what was not.

    Waits at most ``timeout`` seconds (default: ``OTEL_RUNNABLES_FLUSH_TIMEOUT``, 3 s). The
    result is true when every span that ended since the previous flush was delivered; else it
    counts the spans that failed to export, were dropped (queue full) or are still waiting.
    The log records of custom events, with the logger provider ``configure_tracing()`` set up,
    are flushed too, within the same time, and counted apart (``result.logs``).
    With a provider that ``configure_tracing()`` did not build, the provider's ``force_flush``
    is called and only its yes/no is known (``result.counted`` is False).

    Example:
        >>> result = flush_tracing()
        >>> print("delivered" if result else f"lost {result.undelivered} spans")
        delivered
    """
    wait = _flush.flush_timeout_s() if timeout is None else max(0.0, timeout)
    if _flush.registered():
        return _flush.flush_all(wait)
    provider = SPAN_SINK.tracer_provider or trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    ok = bool(flush(int(wait * 1000))) if callable(flush) else True
    return FlushResult(counted=False, ok=ok)


def _configure_logs(resource: Any, logs_exporter: str | None) -> None:
    """The logger provider for custom events as log records (see ``_log_setup``)."""
    from ._log_setup import configure_logs

    names = logs_exporter if logs_exporter is not None else os.environ.get("OTEL_LOGS_EXPORTER")
    configure_logs(resource, names, wanted=SPAN_SINK.options.log_events)


def configure_tracing(
    *,
    service_name: str | None = None,
    exporter: str | None = None,
    logs_exporter: str | None = None,
) -> trace.TracerProvider:
    """Install an SDK ``TracerProvider`` with a batch processor per exporter from ``OTEL_*``.

    Needs the ``otlp`` extra (``pip install "otel-runnables[otlp]"``). If the application
    already installed an SDK provider, that provider is returned unchanged. The provider is
    flushed and shut down at interpreter exit, waiting at most ``OTEL_RUNNABLES_FLUSH_TIMEOUT``
    (3 s) for spans to be delivered. :func:`flush_tracing` says whether they were.

    It also installs an SDK ``LoggerProvider`` for custom events written as log records
    (``custom_events`` ``log`` / ``both``) when they go to logs or ``OTEL_LOGS_EXPORTER`` is
    set, unless the application installed one; it is flushed and shut down beside the traces.

    Metrics too: when ``OTEL_METRICS_EXPORTER`` names exporters (unset: none) and the
    application installed no ``MeterProvider``, one is installed for them, with the same
    resource (see :func:`_configure_metrics`).

    Args:
        service_name: overrides ``OTEL_SERVICE_NAME``.
        exporter: overrides ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, ``none``).
        logs_exporter: overrides ``OTEL_LOGS_EXPORTER`` (``otlp``, ``console``, ``none``).

    Example:
        >>> import os
        >>> os.environ["OTEL_TRACES_EXPORTER"] = "none"
        >>> provider = configure_tracing(service_name="demo")
    """
    try:
        from opentelemetry.sdk.resources import OTELResourceDetector, Resource
        from opentelemetry.sdk.trace import TracerProvider

        from ._delivery import DeliveryProcessor
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            'configure_tracing() needs the OpenTelemetry SDK: pip install "otel-runnables[otlp]"'
        ) from exc

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        _configure_logs(current.resource, logs_exporter)
        _configure_metrics(current.resource)
        return current
    attributes: dict[str, Any] = {}
    if service_name is not None:
        attributes["service.name"] = service_name
    resource = Resource.create(attributes).merge(OTELResourceDetector().detect())
    if service_name is not None:
        resource = resource.merge(Resource({"service.name": service_name}))
    names = exporter if exporter is not None else os.environ.get("OTEL_TRACES_EXPORTER", "otlp")
    batch = _batch_settings()
    exporters = _exporters.exporters(TRACES, names)
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for processor in DeliveryProcessor.for_exporters(exporters, batch):
        provider.add_span_processor(processor)
    if not install_global(
        provider, trace.set_tracer_provider, trace.get_tracer_provider, provider.shutdown
    ):
        return trace.get_tracer_provider()
    _configure_logs(resource, logs_exporter)
    _configure_metrics(resource)
    return provider


# -- metrics ------------------------------------------------------------------------------------


def _configure_metrics(resource: Any) -> None:
    """The MeterProvider beside the tracer provider (``_metrics_setup``): from
    ``OTEL_METRICS_EXPORTER``, ``OTEL_EXPORTER_OTLP_METRICS_*`` / ``OTEL_EXPORTER_OTLP_*`` and
    ``OTEL_METRIC_EXPORT_INTERVAL``; an application's own MeterProvider is left alone."""
    from ._metrics_setup import configure_meter_provider

    configure_meter_provider(resource)


def use_meter_provider(provider: metrics.MeterProvider | None) -> None:
    """Record otel_runnables' run metrics to ``provider`` (None: the global provider, the
    default; with none installed, nothing is recorded).

    Example:
        >>> from opentelemetry.sdk.metrics import MeterProvider
        >>> use_meter_provider(MeterProvider())
        >>> use_meter_provider(None)
    """
    RUN_METRICS.use_meter_provider(provider)


def set_metrics_options(*, enabled: bool | None = None) -> None:
    """Turn run metrics off (``enabled=False``) or on; ``None`` leaves the setting as it is.

    Wins over ``OTEL_RUNNABLES_METRICS`` until :func:`reset_metrics_options`. Metrics are
    recorded only while a MeterProvider is installed (or given to :func:`use_meter_provider`).

    Example:
        >>> set_metrics_options(enabled=False)
        >>> reset_metrics_options()
    """
    if enabled is not None:
        RUN_METRICS.set(enabled=enabled)


def reset_metrics_options() -> None:
    """Forget what :func:`set_metrics_options` set: ``OTEL_RUNNABLES_METRICS`` applies.

    Example:
        >>> reset_metrics_options()
    """
    RUN_METRICS.set(enabled=None)


def flush_metrics(timeout: float | None = None) -> bool:
    """Export the run metrics recorded so far; True when the provider's flush succeeded.

    Waits at most ``timeout`` seconds (default: ``OTEL_RUNNABLES_FLUSH_TIMEOUT``, 3 s). With no
    SDK MeterProvider in use there is nothing to flush (True).

    Example:
        >>> flush_metrics()
        True
    """
    wait = _flush.flush_timeout_s() if timeout is None else max(0.0, timeout)
    provider = RUN_METRICS.meter_provider or metrics.get_meter_provider()
    flush = getattr(provider, "force_flush", None)
    return bool(flush(timeout_millis=wait * 1000)) if callable(flush) else True
