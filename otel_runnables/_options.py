"""What the span sink records: each option set in code, else read from its variable.

Options given to :meth:`TracingOptions.set` (``set_tracing_options``) win over the
``OTEL_RUNNABLES_*`` variables until :meth:`TracingOptions.reset`. ``custom_events`` also says
where custom events go: span events (``span``), log records (``log``, see ``_logs``) or both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from . import _attributes as attrs
from ._env import env_choice, env_flag
from ._limits import (
    ENV_EVENT_SIZE_LIMIT,
    ENV_LIST_LENGTH_LIMIT,
    ENV_SPAN_SIZE_LIMIT,
    read_limits,
)
from ._logs import CUSTOM_EVENT_MODES, ENV_CUSTOM_EVENTS, custom_event_mode, supported_mode

__all__ = ["ENV_KEYS", "TracingOptions", "env_snapshot_reader"]

_ENV_HIDE_IO = "OTEL_RUNNABLES_HIDE_IO"
_ENV_HIDE_EVENT_DATA = "OTEL_RUNNABLES_HIDE_EVENT_DATA"
_ENV_RECORD_CHUNKS = "OTEL_RUNNABLES_RECORD_CHUNKS"
ENV_KEYS = (
    _ENV_HIDE_IO,
    _ENV_HIDE_EVENT_DATA,
    _ENV_RECORD_CHUNKS,
    *attrs.LENGTH_LIMIT_VARIABLES,
    ENV_LIST_LENGTH_LIMIT,
    ENV_EVENT_SIZE_LIMIT,
    ENV_SPAN_SIZE_LIMIT,
    ENV_CUSTOM_EVENTS,
)
"""Every variable whose change the options notice."""
_OPTION_ENV = {
    "hide_io": _ENV_HIDE_IO,
    "hide_event_data": _ENV_HIDE_EVENT_DATA,
    "record_chunks": _ENV_RECORD_CHUNKS,
}
_FAIL_CLOSED = frozenset(("hide_io", "hide_event_data"))
"""Privacy switches: a value that is not a boolean hides (and is logged), never shows."""


def env_snapshot_reader(names: tuple[str, ...] = ENV_KEYS) -> Callable[[], tuple[Any, ...]]:
    """A cheap function returning the raw values of ``names`` (any number of variables).

    ``os.environ.get`` of an unset variable costs microseconds (a ``KeyError`` is raised and
    caught inside), so CPython's backing dict is read directly when it is there; the raw
    values only serve to notice a change, the options are then parsed through ``os.environ``.
    """
    data = getattr(os.environ, "_data", None)
    encodekey = getattr(os.environ, "encodekey", None)
    if isinstance(data, dict) and callable(encodekey):
        keys = tuple(encodekey(name) for name in names)
        get = data.get
        return lambda: tuple(map(get, keys))
    environ = os.environ  # pragma: no cover - non-CPython fallback
    return lambda: tuple(map(environ.get, names))  # pragma: no cover


class TracingOptions:
    """What the span sink records.

    Each option is the value given to :meth:`set` (``set_tracing_options``) or, while none was
    given, the ``OTEL_RUNNABLES_*`` variable. The environment is re-read cheaply (a snapshot of
    the raw values compared with the last one) by :meth:`refresh`, which the span sink calls
    when a recording root run starts: a change to the environment applies from the next trace
    on, and every run of one trace records with the same options.
    """

    __slots__ = (
        "_env",
        "_explicit",
        "_read_env",
        "custom_events",
        "hide_event_data",
        "hide_io",
        "limits",
        "log_events",
        "record_chunks",
        "span_events",
        "value_length_limit",
    )

    def __init__(self) -> None:
        self._explicit: dict[str, Any] = {}
        self._read_env = env_snapshot_reader()
        self._env: tuple[Any, ...] | None = None
        self.hide_io = False
        self.hide_event_data = False
        self.record_chunks = False
        self.custom_events = "span"
        self.span_events = True  # custom events become span events (modes span, both)
        self.log_events = False  # custom events become log records (modes log, both)
        self.limits = read_limits()
        self.value_length_limit = self.limits.value_length
        self.refresh()

    def refresh(self) -> None:
        """Re-read the environment if any relevant variable changed since the last read."""
        env = self._read_env()
        if env != self._env:
            self._env = env
            self._apply()

    def set(self, **options: Any) -> None:
        """Set options explicitly (``None`` leaves an option as it is).

        An unknown name raises ``TypeError``; a ``custom_events`` value that is not a mode raises
        ``ValueError`` before any option changes.
        """
        mode = options.pop("custom_events", None)
        if mode is not None:
            mode = custom_event_mode(mode)
        for name, value in options.items():
            if name not in _OPTION_ENV:
                raise TypeError(f"unknown tracing option {name!r}")
            if value is not None:
                self._explicit[name] = bool(value)
        if mode is not None:
            self._explicit["custom_events"] = mode
        self._apply()

    def reset(self) -> None:
        """Forget explicit settings: every option follows its environment variable again."""
        self._explicit.clear()
        self._env = None
        self.refresh()

    def _apply(self) -> None:
        explicit = self._explicit
        for name, variable in _OPTION_ENV.items():
            value = explicit.get(name)
            if value is None:
                value = env_flag(variable, unrecognised=name in _FAIL_CLOSED)
            setattr(self, name, value)
        self.limits = read_limits()
        self.value_length_limit = self.limits.value_length
        self._apply_custom_events()

    def _apply_custom_events(self) -> None:
        """Where custom events go: ``custom_events`` set in code, else its variable."""
        mode = self._explicit.get("custom_events")
        if mode is None:
            mode = env_choice(ENV_CUSTOM_EVENTS, CUSTOM_EVENT_MODES, "span")
        mode = supported_mode(mode)
        self.custom_events = mode
        self.span_events = mode != "log"
        self.log_events = mode != "span"
