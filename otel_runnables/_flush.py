"""Flushing that tells the truth: what was delivered, what was lost, what is still waiting.

:class:`FlushResult` is what ``otel_runnables.tracing.flush_tracing()`` returns; the delivery
processors ``configure_tracing()`` builds (``_delivery``) register here, so that flushing needs
no SDK import. The flush timeout and the wait at shutdown come from
``OTEL_RUNNABLES_FLUSH_TIMEOUT`` (milliseconds, default 3000).
"""

from __future__ import annotations

import time
import weakref
from typing import Protocol

from . import _fork
from ._env import env_int

__all__ = [
    "DEFAULT_FLUSH_TIMEOUT_MS",
    "ENV_FLUSH_TIMEOUT",
    "FlushResult",
    "Flushable",
    "flush_all",
    "flush_timeout_s",
    "register",
    "registered",
    "unregister",
]

ENV_FLUSH_TIMEOUT = "OTEL_RUNNABLES_FLUSH_TIMEOUT"
DEFAULT_FLUSH_TIMEOUT_MS = 3000


def flush_timeout_s() -> float:
    """``OTEL_RUNNABLES_FLUSH_TIMEOUT`` in seconds (default 3)."""
    return env_int(ENV_FLUSH_TIMEOUT, DEFAULT_FLUSH_TIMEOUT_MS, minimum=0) / 1000


class FlushResult:
    """What became of the spans that ended since the previous flush.

    ``delivered``: accepted by the exporter; ``failed``: the exporter gave up on them (backend
    down, rejected); ``dropped``: never exported because the queue was full; ``pending``: still
    queued or being exported when the flush stopped waiting. True when nothing was lost or left.
    The counts are of spans; ``logs`` is the same account of the log records of custom events
    (None when no log delivery exists, i.e. ``configure_tracing()`` set up no logs), and the
    result is true only when both were delivered.

    Example:
        >>> result = FlushResult(delivered=3)
        >>> bool(result), result.undelivered
        (True, 0)
    """

    __slots__ = ("_ok", "counted", "delivered", "dropped", "failed", "logs", "pending", "unit")

    def __init__(
        self,
        delivered: int = 0,
        failed: int = 0,
        dropped: int = 0,
        pending: int = 0,
        *,
        counted: bool = True,
        ok: bool | None = None,
        unit: str = "spans",
        logs: FlushResult | None = None,
    ) -> None:
        self._ok = ok
        self.unit = unit
        self.logs = logs
        self.delivered, self.failed = delivered, failed
        self.dropped, self.pending = dropped, pending
        self.counted = counted
        """False when the spans go through processors otel_runnables did not build: then only
        ``ok`` is known (from their ``force_flush``), and the counts are 0."""

    @property
    def undelivered(self) -> int:
        """Spans not delivered: failed, dropped and still pending."""
        return self.failed + self.dropped + self.pending

    @property
    def ok(self) -> bool:
        """True when every span that ended (and every log record) was delivered."""
        ok = self.undelivered == 0 if self._ok is None else self._ok
        return ok and (self.logs is None or self.logs.ok)

    def __bool__(self) -> bool:
        return self.ok

    def __add__(self, other: FlushResult) -> FlushResult:
        logs = self.logs if other.logs is None else other.logs
        if self.logs is not None and other.logs is not None:
            logs = self.logs + other.logs
        return FlushResult(
            self.delivered + other.delivered,
            self.failed + other.failed,
            self.dropped + other.dropped,
            self.pending + other.pending,
            counted=self.counted and other.counted,
            ok=None if self._ok is None and other._ok is None else self._own_ok and other._own_ok,
            unit=self.unit,
            logs=logs,
        )

    @property
    def _own_ok(self) -> bool:
        return self.undelivered == 0 if self._ok is None else self._ok

    def __repr__(self) -> str:
        logs = "" if self.logs is None else f", logs={self.logs!r}"
        return (
            f"FlushResult(ok={self.ok}, delivered={self.delivered}, failed={self.failed}, "
            f"dropped={self.dropped}, pending={self.pending}{logs})"
        )

    def describe(self) -> str:
        """One line for a log or a script's output."""
        text = self._describe_own()
        return text if self.logs is None else f"{text}; {self.logs._describe_own()}"

    def _describe_own(self) -> str:
        total = self.delivered + self.undelivered
        unit = self.unit
        if self._own_ok:
            return f"{total} of {total} {unit} delivered"
        parts = [
            f"{count} {what}"
            for count, what in (
                (self.failed, "failed to export"),
                (self.dropped, "dropped, the queue was full"),
                (self.pending, "still waiting"),
            )
            if count
        ]
        return f"{self.undelivered} of {total} {unit} NOT delivered ({', '.join(parts)})"


class Flushable(Protocol):
    signal: str

    def flush(self, timeout_s: float, *, patient: bool = True) -> FlushResult: ...


_registry: weakref.WeakSet[Flushable] = weakref.WeakSet()
_hooked = False


def register(processor: Flushable) -> None:
    """Make ``processor`` part of :func:`flush_all` (and of flushes in forked workers)."""
    global _hooked
    if not _hooked:
        _hooked = True
        _fork.on_root_end(_flush_in_worker)
    _registry.add(processor)


def unregister(processor: Flushable) -> None:
    """Leave ``processor`` out of :func:`flush_all` (it was shut down)."""
    _registry.discard(processor)


def registered() -> bool:
    """True when some live delivery processor exists."""
    return bool(_registry)


def flush_all(timeout_s: float, *, patient: bool = True) -> FlushResult:
    """Flush every registered processor within one shared ``timeout_s``: spans first, then
    log records (their account is the result's ``logs``)."""
    deadline = time.monotonic() + timeout_s
    total = FlushResult()
    logs: FlushResult | None = None
    processors = sorted(_registry, key=lambda p: p.signal != "spans")
    for processor in processors:
        left = max(0.0, deadline - time.monotonic())
        result = processor.flush(left, patient=patient)
        if processor.signal == "spans":
            total = total + result
        else:
            logs = result if logs is None else logs + result
    total.logs = logs
    return total


def _flush_in_worker() -> None:
    # Impatient: a processor whose exporter is failing does not make every task wait.
    flush_all(flush_timeout_s(), patient=False)
