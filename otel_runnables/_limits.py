"""The limits that keep every span and span event far below an OTLP message limit.

A single run, event or value must never make an export fail or crowd out other spans: each
string is cut to a length, each list (tuple, set, dict inside a value) to a number of items, each
span event's attributes (and a run's tags and metadata together) to a size, each span's events
together to a size, and the number of attributes stays within the SDK's attribute count limit
(the SDK would otherwise drop the oldest attributes, logging one warning per key). What was cut is
counted in attributes of the span or event (see ``_attributes``), and each kind of cut is logged
once per process.
"""

from __future__ import annotations

import logging
import os
from typing import NamedTuple

from ._env import env_int

__all__ = [
    "COUNT_LIMIT_VARIABLES",
    "DEFAULT_COUNT_LIMIT",
    "DEFAULT_LIMITS",
    "DEFAULT_EVENT_SIZE_LIMIT",
    "DEFAULT_LIST_LENGTH_LIMIT",
    "DEFAULT_SPAN_SIZE_LIMIT",
    "DEFAULT_VALUE_LENGTH_LIMIT",
    "ENV_EVENT_SIZE_LIMIT",
    "ENV_LIST_LENGTH_LIMIT",
    "ENV_SPAN_SIZE_LIMIT",
    "LENGTH_LIMIT_VARIABLES",
    "Limits",
    "note_cut",
    "read_limits",
    "value_length_limit",
]

logger = logging.getLogger("otel_runnables")

DEFAULT_VALUE_LENGTH_LIMIT = 16384
LENGTH_LIMIT_VARIABLES = (
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
)
"""Variables giving the longest attribute string, the first one set to a positive int wins."""

ENV_LIST_LENGTH_LIMIT = "OTEL_RUNNABLES_LIST_LENGTH_LIMIT"
ENV_EVENT_SIZE_LIMIT = "OTEL_RUNNABLES_EVENT_SIZE_LIMIT"
ENV_SPAN_SIZE_LIMIT = "OTEL_RUNNABLES_SPAN_SIZE_LIMIT"
DEFAULT_LIST_LENGTH_LIMIT = 128
DEFAULT_EVENT_SIZE_LIMIT = 32 * 1024
DEFAULT_SPAN_SIZE_LIMIT = 1024 * 1024
_MIN_SIZE_LIMIT = 1024

COUNT_LIMIT_VARIABLES = (
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
)
DEFAULT_COUNT_LIMIT = 128
_UNLIMITED = 1 << 62


def value_length_limit() -> int:
    """The longest attribute string, in characters.

    ``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT``, else ``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`` (the
    SDK's precedence), when set to a positive int; else 16384. Values that are not positive
    ints are ignored, as the SDK ignores them.
    """
    for variable in LENGTH_LIMIT_VARIABLES:
        raw = os.environ.get(variable, "")
        try:
            limit = int(raw)
        except ValueError:
            continue
        if limit > 0:
            return limit
    return DEFAULT_VALUE_LENGTH_LIMIT


def _count_limit(variable: str, fallback: int) -> int:
    """One SDK attribute count limit, read as the SDK reads it (an empty value: no limit)."""
    raw = os.environ.get(variable)
    if raw is None:
        return fallback
    raw = raw.strip()
    if not raw:
        return _UNLIMITED
    try:
        value = int(raw)
    except ValueError:  # the SDK refuses to start with it; keep the default meanwhile
        return fallback
    return value if value >= 0 else fallback


class Limits(NamedTuple):
    """Every limit the span sink converts values within (read from the environment).

    ``span_attribute_count`` / ``event_attribute_count`` follow the SDK: the specific variable
    (``OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`` / ``OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT``), else
    ``OTEL_ATTRIBUTE_COUNT_LIMIT``, else 128; an empty value means no limit.
    """

    value_length: int
    """Characters per string value (``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT``)."""
    list_length: int
    """Items kept per list, set or dict (``OTEL_RUNNABLES_LIST_LENGTH_LIMIT``)."""
    event_size: int
    """Bytes per event, and per run's tags and metadata (``OTEL_RUNNABLES_EVENT_SIZE_LIMIT``)."""
    span_size: int
    """Bytes of all events on one span (``OTEL_RUNNABLES_SPAN_SIZE_LIMIT``)."""
    span_attribute_count: int
    """Attributes per span."""
    event_attribute_count: int
    """Attributes per event."""


DEFAULT_LIMITS = Limits(
    DEFAULT_VALUE_LENGTH_LIMIT,
    DEFAULT_LIST_LENGTH_LIMIT,
    DEFAULT_EVENT_SIZE_LIMIT,
    DEFAULT_SPAN_SIZE_LIMIT,
    DEFAULT_COUNT_LIMIT,
    DEFAULT_COUNT_LIMIT,
)
"""The limits with no variable set."""


def read_limits() -> Limits:
    """The limits as the environment sets them now (misspelt values are logged once)."""
    common = _count_limit(COUNT_LIMIT_VARIABLES[0], DEFAULT_COUNT_LIMIT)
    return Limits(
        value_length=value_length_limit(),
        list_length=env_int(ENV_LIST_LENGTH_LIMIT, DEFAULT_LIST_LENGTH_LIMIT, minimum=1),
        event_size=env_int(ENV_EVENT_SIZE_LIMIT, DEFAULT_EVENT_SIZE_LIMIT, minimum=_MIN_SIZE_LIMIT),
        span_size=env_int(ENV_SPAN_SIZE_LIMIT, DEFAULT_SPAN_SIZE_LIMIT, minimum=_MIN_SIZE_LIMIT),
        span_attribute_count=_count_limit(COUNT_LIMIT_VARIABLES[1], common),
        event_attribute_count=_count_limit(COUNT_LIMIT_VARIABLES[2], common),
    )


_CAUSES = {
    "length": (
        "an attribute string was longer than the value length limit "
        "(OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, default 16384 characters) and was cut"
    ),
    "list": (
        "a list, tuple, set or dict inside a value had more items than "
        f"{ENV_LIST_LENGTH_LIMIT} (default {DEFAULT_LIST_LENGTH_LIMIT}); the rest was left out"
    ),
    "count": (
        "a span or span event would have had more attributes than the attribute count limit "
        "(OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT / OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT / "
        f"OTEL_ATTRIBUTE_COUNT_LIMIT, default {DEFAULT_COUNT_LIMIT}); the rest was left out"
    ),
    "size": (
        "a span event's data (or a run's tags and metadata) was larger than "
        f"{ENV_EVENT_SIZE_LIMIT} (default {DEFAULT_EVENT_SIZE_LIMIT} bytes) and was cut"
    ),
    "span": (
        "a span's events together reached "
        f"{ENV_SPAN_SIZE_LIMIT} (default {DEFAULT_SPAN_SIZE_LIMIT} bytes); "
        "its further events keep their name only"
    ),
}
_noted: set[str] = set()


def note_cut(cause: str) -> None:
    """Log, once per process, that a value was cut for ``cause`` (a key of ``_CAUSES``).

    Later cuts are only counted on the spans and events (``runnable.truncated_values``,
    ``runnable.dropped_attributes``, ``runnable.dropped_items``).
    """
    if cause in _noted:
        return
    _noted.add(cause)
    logger.warning(
        "otel_runnables: %s. Such cuts are counted on spans and span events "
        "(runnable.truncated_values, runnable.dropped_attributes, runnable.dropped_items) "
        "and not logged again.",
        _CAUSES[cause],
    )
