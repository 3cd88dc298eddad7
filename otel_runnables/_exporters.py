"""Exporters and settings from the standard ``OTEL_*`` variables, for each of the three signals.

``configure_tracing()`` builds the tracer provider (``tracing``), the logger provider of custom
events as log records (``_log_setup``) and the meter provider of run metrics
(``_metrics_setup``) the same way, as the SDK's own auto-configuration reads the variables:

* ``OTEL_{TRACES,LOGS,METRICS}_EXPORTER``: comma-separated ``otlp``, ``console``, ``none``;
* ``OTEL_EXPORTER_OTLP_{SIGNAL}_PROTOCOL``, else ``OTEL_EXPORTER_OTLP_PROTOCOL``: ``grpc``
  (default) or ``http/protobuf``, in any case;
* ``OTEL_EXPORTER_OTLP_{SIGNAL}_ENDPOINT``, else ``OTEL_EXPORTER_OTLP_ENDPOINT`` (with
  ``/v1/{signal}`` appended for HTTP): read by the exporters themselves, here only described.

A value that is not valid raises ``ValueError`` naming the variable that set it, before any
provider is installed. Exporter classes are imported only when asked for (the OTLP exporters
are an optional dependency).
"""

from __future__ import annotations

import atexit
import importlib
import os
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["LOGS", "METRICS", "TRACES", "Signal", "exporters", "install_global", "int_settings"]


class Signal(NamedTuple):
    """What differs between the signals: names, and where each exporter class lives."""

    name: str
    """``traces``, ``logs`` or ``metrics`` (the variables' and the HTTP path's spelling)."""
    console: Callable[[], Any]
    """Makes the console exporter."""
    grpc: tuple[str, str]
    """(module, class) of the OTLP/gRPC exporter."""
    http: tuple[str, str]
    """(module, class) of the OTLP/HTTP exporter."""

    @property
    def exporter_variable(self) -> str:
        return f"OTEL_{self.name.upper()}_EXPORTER"


def _class(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def _console_spans() -> Any:
    return _class("opentelemetry.sdk.trace.export", "ConsoleSpanExporter")()


def _console_logs() -> Any:
    export = importlib.import_module("opentelemetry.sdk._logs.export")
    # Older SDKs call it ConsoleLogExporter.
    return (getattr(export, "ConsoleLogRecordExporter", None) or export.ConsoleLogExporter)()


def _console_metrics() -> Any:
    return _class("opentelemetry.sdk.metrics.export", "ConsoleMetricExporter")()


_OTLP = "opentelemetry.exporter.otlp.proto"
TRACES = Signal(
    "traces",
    _console_spans,
    (f"{_OTLP}.grpc.trace_exporter", "OTLPSpanExporter"),
    (f"{_OTLP}.http.trace_exporter", "OTLPSpanExporter"),
)
LOGS = Signal(
    "logs",
    _console_logs,
    (f"{_OTLP}.grpc._log_exporter", "OTLPLogExporter"),
    (f"{_OTLP}.http._log_exporter", "OTLPLogExporter"),
)
METRICS = Signal(
    "metrics",
    _console_metrics,
    (f"{_OTLP}.grpc.metric_exporter", "OTLPMetricExporter"),
    (f"{_OTLP}.http.metric_exporter", "OTLPMetricExporter"),
)


def _protocol(signal: Signal) -> tuple[str, str]:
    """``(protocol, the variable that set it)``, lower-cased; grpc when neither is set."""
    for variable in (f"OTEL_EXPORTER_OTLP_{signal.name.upper()}_PROTOCOL", _GENERIC_PROTOCOL):
        raw = os.environ.get(variable, "").strip()
        if raw:
            return raw.lower(), variable
    return "grpc", _GENERIC_PROTOCOL


_GENERIC_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"


def _endpoint(signal: Signal, protocol: str) -> str:
    """Where the OTLP exporter of ``signal`` sends (for messages; the exporter reads it)."""
    own = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.name.upper()}_ENDPOINT", "").strip()
    if own:
        return own
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if protocol == "grpc":
        return base or "http://localhost:4317"
    return (base or "http://localhost:4318").rstrip("/") + f"/v1/{signal.name}"


def exporters(signal: Signal, names: str) -> list[tuple[Any, str]]:
    """The exporters ``names`` (``OTEL_{SIGNAL}_EXPORTER``'s syntax) lists, each with a
    description for messages (``the console``, ``OTLP/gRPC at http://...``)."""
    made: list[tuple[Any, str]] = []
    for name in (n.strip().lower() for n in names.split(",")):
        if name in ("", "none"):
            continue
        if name == "console":
            made.append((signal.console(), "the console"))
        elif name == "otlp":
            protocol, variable = _protocol(signal)
            if protocol == "grpc":
                made.append((_class(*signal.grpc)(), f"OTLP/gRPC at {_endpoint(signal, protocol)}"))
            elif protocol == "http/protobuf":
                made.append((_class(*signal.http)(), f"OTLP/HTTP at {_endpoint(signal, protocol)}"))
            else:
                raise ValueError(
                    f"{variable}={os.environ.get(variable)!r} is not supported;"
                    " use 'grpc' or 'http/protobuf'"
                )
        else:
            raise ValueError(
                f"{signal.exporter_variable}={name!r} is not supported;"
                " use 'otlp', 'console' or 'none'"
            )
    return made


def int_settings(variables: dict[str, tuple[int, int]]) -> dict[str, int]:
    """The integer variables ``{name: (default, least valid value)}`` as set now (unset or
    empty: the default); a value that is not a valid integer raises, naming its variable."""
    values: dict[str, int] = {}
    for variable, (default, least) in variables.items():
        raw = os.environ.get(variable, "").strip()
        try:
            value = int(raw) if raw else default
        except ValueError:
            value = least - 1
        if value < least:
            raise ValueError(
                f"{variable}={raw!r} is not valid: expected an integer >= {least}"
                f" (default {default})"
            )
        values[variable] = value
    return values


def install_global(
    provider: Any,
    set_global: Callable[[Any], None],
    get_global: Callable[[], Any],
    at_exit: Callable[[], Any],
) -> bool:
    """Make ``provider`` the global provider of its signal and call ``at_exit`` at interpreter
    exit. False, with ``provider`` shut down, when another provider won the API's set-once
    race (the API then keeps the other and logs that it refused this one)."""
    set_global(provider)
    if get_global() is not provider:
        provider.shutdown()
        return False
    atexit.register(at_exit)
    return True
