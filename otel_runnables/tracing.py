"""Tracing set-up: ``configure_tracing()`` from the standard ``OTEL_*`` variables, and options.

Library code never installs a global tracer provider; applications call
:func:`configure_tracing` once (or install their own SDK set-up, which it then leaves alone).

Environment variables read by :func:`configure_tracing` (all optional):

``OTEL_SERVICE_NAME``                 service name of the resource (default ``unknown_service``)
``OTEL_TRACES_EXPORTER``              ``otlp`` (default), ``console`` or ``none``; comma-separated
``OTEL_EXPORTER_OTLP_ENDPOINT``       collector address (default ``http://localhost:4317`` for
                                      gRPC, ``http://localhost:4318`` for HTTP)
``OTEL_EXPORTER_OTLP_PROTOCOL``       ``grpc`` (default) or ``http/protobuf``
``OTEL_EXPORTER_OTLP_TRACES_*``       per-signal overrides, honoured by the exporters themselves
``OTEL_BSP_*``                        batch span processor settings, honoured by the SDK

Read by the span sink when a trace starts (a change applies from the next trace on; an option
given to :func:`set_tracing_options` wins over its variable until :func:`reset_tracing_options`):

``OTEL_RUNNABLES_HIDE_IO``            ``true``: no ``input.value`` / ``output.value`` on spans
``OTEL_RUNNABLES_HIDE_EVENT_DATA``    ``true``: span events keep their name, not their data
``OTEL_RUNNABLES_RECORD_CHUNKS``      ``true``: each streamed chunk becomes a ``chunk`` span event
``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`` longest attribute string (default 16384 characters);
                                      ``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`` wins when set
``OTEL_RUNNABLES_LIST_LENGTH_LIMIT``  items kept of a list, tuple, set or dict (default 128)
``OTEL_RUNNABLES_EVENT_SIZE_LIMIT``   bytes of one span event's attributes (default 32768)
``OTEL_RUNNABLES_SPAN_SIZE_LIMIT``    bytes of a span's event attributes together (1048576)

Misspelt booleans are logged once (the privacy switches then hide); see docs/configuration.md.
"""

from __future__ import annotations

import atexit
import logging
import os
from typing import Any

from opentelemetry import trace

from ._otel import SPAN_SINK

__all__ = [
    "configure_tracing",
    "reset_tracing_options",
    "set_tracing_options",
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


def set_tracing_options(
    *,
    hide_io: bool | None = None,
    hide_event_data: bool | None = None,
    record_chunks: bool | None = None,
) -> None:
    """Change what spans record; ``None`` leaves an option as it is (env var or default).

    Handlers and ``astream_events`` are unaffected: they always receive the real values.

    Example:
        >>> set_tracing_options(hide_io=True)     # redact inputs and outputs from spans
        >>> set_tracing_options(hide_io=False)
    """
    SPAN_SINK.options.set(
        hide_io=hide_io, hide_event_data=hide_event_data, record_chunks=record_chunks
    )


def reset_tracing_options() -> None:
    """Forget what :func:`set_tracing_options` set: the ``OTEL_RUNNABLES_*`` variables apply.

    Example:
        >>> set_tracing_options(record_chunks=True)
        >>> reset_tracing_options()
    """
    SPAN_SINK.options.reset()


def _exporters(names: str) -> list[Any]:
    exporters: list[Any] = []
    for name in (n.strip().lower() for n in names.split(",")):
        if name in ("", "none"):
            continue
        if name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            protocol = (
                os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or "grpc"
            ).strip()
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                    OTLPSpanExporter as GrpcExporter,
                )

                exporters.append(GrpcExporter())
            elif protocol == "http/protobuf":
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter as HttpExporter,
                )

                exporters.append(HttpExporter())
            else:
                raise ValueError(
                    f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported;"
                    " use 'grpc' or 'http/protobuf'"
                )
        else:
            raise ValueError(
                f"OTEL_TRACES_EXPORTER={name!r} is not supported; use 'otlp', 'console' or 'none'"
            )
    return exporters


def configure_tracing(
    *, service_name: str | None = None, exporter: str | None = None
) -> trace.TracerProvider:
    """Install an SDK ``TracerProvider`` with a batch processor per exporter from ``OTEL_*``.

    Needs the ``otlp`` extra (``pip install "otel-runnables[otlp]"``). If the application
    already installed an SDK provider, that provider is returned unchanged. The provider is
    flushed and shut down at interpreter exit.

    Args:
        service_name: overrides ``OTEL_SERVICE_NAME``.
        exporter: overrides ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, ``none``).

    Example:
        >>> import os
        >>> os.environ["OTEL_TRACES_EXPORTER"] = "none"
        >>> provider = configure_tracing(service_name="demo")
    """
    try:
        from opentelemetry.sdk.resources import OTELResourceDetector, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            'configure_tracing() needs the OpenTelemetry SDK: pip install "otel-runnables[otlp]"'
        ) from exc

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    attributes: dict[str, Any] = {}
    if service_name is not None:
        attributes["service.name"] = service_name
    resource = Resource.create(attributes).merge(OTELResourceDetector().detect())
    if service_name is not None:
        resource = resource.merge(Resource({"service.name": service_name}))
    provider = TracerProvider(resource=resource)
    names = exporter if exporter is not None else os.environ.get("OTEL_TRACES_EXPORTER", "otlp")
    for span_exporter in _exporters(names):
        provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:  # somebody else won the set-once race
        provider.shutdown()
        return trace.get_tracer_provider()
    atexit.register(provider.shutdown)
    return provider
