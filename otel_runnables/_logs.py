"""Custom events as log-based events: one log record with ``event_name`` per custom event.

OpenTelemetry replaces span events with log-based events (OTEP 4430): a ``LogRecord`` whose
top-level ``event_name`` names the event, correlated with its span by the trace and span ids of
its context. With ``custom_events`` set to ``log`` or ``both``, the span sink converts each
custom event's data (the same attributes, limits and redaction as a span event) and hands it
to an :class:`EventLog`: the record gets the run's context (its trace and span ids), the
dispatch time, severity INFO, and the instrumentation scope ``otel_runnables``.

Only the API is needed (``opentelemetry._logs``). Whether a record would be kept is asked of
the logger first: with no LoggerProvider installed the answer is no, and the event's data is
not even converted. The data is converted here, once, with the span event's rules and limits
(``_convert.event_attributes``); with ``both`` the span sink reuses it for the span event.
"""

from __future__ import annotations

import inspect
import logging
from time import time_ns
from typing import TYPE_CHECKING, Any

from opentelemetry import _logs
from opentelemetry._logs import LogRecord, NoOpLogger, SeverityNumber

from ._convert import event_attributes
from ._version import __version__

if TYPE_CHECKING:
    from ._options import TracingOptions

__all__ = [
    "CUSTOM_EVENT_MODES",
    "ENV_CUSTOM_EVENTS",
    "LOG_EVENTS_SUPPORTED",
    "SCOPE",
    "EventLog",
    "custom_event_mode",
    "supported_mode",
]

logger = logging.getLogger("otel_runnables")

SCOPE = "otel_runnables"
"""The instrumentation scope of the log records (the tracer's too)."""

ENV_CUSTOM_EVENTS = "OTEL_RUNNABLES_CUSTOM_EVENTS"
CUSTOM_EVENT_MODES = ("span", "log", "both")
"""Where a custom event goes: a span event, a log record (``event_name``), or both."""

LOG_EVENTS_SUPPORTED = "event_name" in inspect.signature(LogRecord.__init__).parameters
"""Whether the installed API has ``LogRecord.event_name`` (opentelemetry-api 1.35 and later)."""

_INFO = SeverityNumber.INFO
_unsupported_warned = False


def custom_event_mode(value: Any) -> str:
    """``value`` as a ``custom_events`` mode (any case); anything else raises ``ValueError``."""
    mode = value.strip().lower() if isinstance(value, str) else None
    if mode not in CUSTOM_EVENT_MODES:
        raise ValueError(f"custom_events must be 'span', 'log' or 'both', got {value!r}")
    return mode


def supported_mode(mode: str) -> str:
    """``mode``, or ``span`` when the installed API cannot make log-based events (said once)."""
    global _unsupported_warned
    if mode == "span" or LOG_EVENTS_SUPPORTED:
        return mode
    if not _unsupported_warned:
        _unsupported_warned = True
        logger.warning(
            "otel_runnables: custom_events=%r needs opentelemetry-api >= 1.35 (log records with "
            "an event_name); custom events stay span events. pip install -U opentelemetry-api",
            mode,
        )
    return "span"


def _resolves_to_logger(logger: Any) -> Any:
    """``enabled`` for an API without ``Logger.enabled`` (before 1.45): False while the logger
    is the API's no-op one (directly or behind the proxy of an unset global provider)."""

    def enabled(**_: Any) -> bool:
        return not isinstance(getattr(logger, "_logger", logger), NoOpLogger)

    return enabled


class EventLog:
    """Emits custom events as log records, to ``logger_provider`` (None: the global one)."""

    __slots__ = ("_enabled", "_logger", "logger_provider")

    def __init__(self, logger_provider: _logs.LoggerProvider | None = None) -> None:
        self.logger_provider = logger_provider
        self._logger: Any = None
        self._enabled: Any = None

    def use_logger_provider(self, provider: _logs.LoggerProvider | None) -> None:
        """Use ``provider`` instead of the global one (None: back to the global provider);
        its logger is made on first use."""
        self.logger_provider, self._logger, self._enabled = provider, None, None

    @property
    def logger(self) -> _logs.Logger:
        """The logger of the configured provider (the global one unless set)."""
        logger = self._logger
        if logger is None:
            logger = _logs.get_logger(SCOPE, __version__, logger_provider=self.logger_provider)
            self._enabled = getattr(logger, "enabled", None) or _resolves_to_logger(logger)
            self._logger = logger
        return logger  # type: ignore[no-any-return]

    def record(
        self, context: Any, name: str, data: Any, options: TracingOptions
    ) -> tuple[int | None, Any]:
        """The custom event ``name`` with ``data`` as a log record in ``context`` (None: the
        current one), if the logger would keep it (else nothing is converted).

        Returns the record's time (ns since the epoch) and the converted ``(attributes, size)``
        (None under ``hide_event_data``), for the span event of mode ``both``; ``(None, None)``
        when no record was written.
        """
        logger = self._logger or self.logger
        if not self._enabled(context=context, severity_number=_INFO, event_name=name):
            return None, None
        now = time_ns()
        converted = None
        if not options.hide_event_data:
            limits = options.limits
            converted = event_attributes(data, limits, limits.event_size)
        logger.emit(
            LogRecord(
                timestamp=now,
                observed_timestamp=now,
                context=context,
                severity_text="INFO",
                severity_number=_INFO,
                attributes=None if converted is None else converted[0],
                event_name=name,
            )
        )
        return now, converted
