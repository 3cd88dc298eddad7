"""What a span says about a run's exception: bounded, and without its text under redaction.

An exception's message (and so its status description, ``exception.message`` and the last line
of ``exception.stacktrace``) often quotes the input that caused it: ``ValueError(f"bad: {x!r}")``,
the recursion limit's ``"... with input {input}"``. With either redaction switch on, the span
keeps the exception's type and the code locations of its traceback (file, line, function and
source line, and the same for chained exceptions), and every message is replaced by
``[redacted]``. The exception raised to the caller is never changed.

Without redaction the text is kept, cut to the value length limit; a long stacktrace keeps its
beginning and its end (where the error is), with the middle left out.
"""

from __future__ import annotations

import traceback
from typing import Any

from . import _attributes as attrs
from ._convert import fit_text
from ._limits import Limits, note_cut

__all__ = ["exception_attributes", "status_description"]

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
_MAX_CHAIN = 32


def _type_name(error: BaseException) -> str:
    kind = type(error)
    module = getattr(kind, "__module__", None)
    qualname = getattr(kind, "__qualname__", kind.__name__)
    return f"{module}.{qualname}" if module and module != "builtins" else qualname


def status_description(error: BaseException, limits: Limits, redact: bool) -> str:
    """``Type: message`` (``Type: [redacted]`` under redaction), cut to the value length limit."""
    kind = type(error).__name__
    message = attrs.REDACTED if redact else attrs.safe_str(error)
    return attrs.truncate(f"{kind}: {message}", limits.value_length)


def _redacted_stacktrace(error: BaseException) -> str:
    """The traceback of ``error`` and its chain, every exception message replaced."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen and len(chain) < _MAX_CHAIN:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    for exc, link_to_next in reversed(chain):
        tb = exc.__traceback__
        if tb is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_list(traceback.extract_tb(tb)))
        parts.append(f"{_type_name(exc)}: {attrs.REDACTED}\n")
        if link_to_next:
            parts.append(link_to_next)
    return "".join(parts)


def _keep_ends(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters by leaving out its middle."""
    if len(text) <= limit:
        return text, False
    marker = f"\n...[{len(text) - limit} characters truncated]...\n"
    if limit <= len(marker) + 2:
        return attrs.truncate(text, limit), True
    head = (limit - len(marker)) // 4
    tail = limit - len(marker) - head
    return text[:head] + marker + text[len(text) - tail :], True


def exception_attributes(error: BaseException, limits: Limits, redact: bool) -> dict[str, Any]:
    """The ``exception`` span event's attributes (semantic conventions), never raising."""
    limit = limits.value_length
    out: dict[str, Any] = {attrs.EXCEPTION_TYPE: _type_name(error)}
    if redact:
        out[attrs.EXCEPTION_MESSAGE] = attrs.REDACTED
        try:
            stacktrace = _redacted_stacktrace(error)
        except BaseException:  # telemetry must never raise
            stacktrace = f"{_type_name(error)}: {attrs.REDACTED}\n"
    else:
        out[attrs.EXCEPTION_MESSAGE], _, cut = fit_text(attrs.safe_str(error), limit, 4 * limit)
        if cut:
            out[attrs.TRUNCATED_VALUES] = 1
            note_cut("length")
        try:
            lines = traceback.format_exception(type(error), error, error.__traceback__)
            stacktrace = "".join(lines)
        except BaseException:  # e.g. an exception whose __str__ raises
            stacktrace = f"{_type_name(error)}: {out[attrs.EXCEPTION_MESSAGE]}\n"
    stacktrace, cut = _keep_ends(stacktrace, limit)
    if cut:
        out[attrs.TRUNCATED_VALUES] = out.get(attrs.TRUNCATED_VALUES, 0) + 1
        note_cut("length")
    out[attrs.EXCEPTION_STACKTRACE] = fit_text(stacktrace, limit, 4 * limit)[0]
    out[attrs.EXCEPTION_ESCAPED] = "False"
    return out
