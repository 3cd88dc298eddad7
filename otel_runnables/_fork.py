"""Spans across ``os.fork()``: a child process never ends a span its parent started.

A forked child inherits the parent's open runs (the run whose step called ``os.fork()``, its
ancestors, any run of another task of the same event loop). If the child ended their spans as
well, every backend would receive them twice, with the same span id. The span sink asks
:func:`started_before_fork` and leaves those spans to the parent; spans of runs the child starts
are its own (children of the span that was current at the fork, so the trace stays one tree).

Worker processes of ``multiprocessing`` end abruptly (``Pool.terminate()``, which the ``with``
statement calls, kills them), so spans that wait in a batch processor's queue would be lost:
in such a worker, each time a run that the worker started itself ends, the span sink calls
:func:`local_root_ended`, which flushes the delivery processors ``configure_tracing()`` built.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._run import Run

__all__ = ["FORK_NS", "in_worker", "local_root_ended", "on_root_end", "started_before_fork"]

FORK_NS = 0
"""``time.time_ns()`` when this process was forked from a process that had imported us; 0 when
it was not."""

_flushes: list[Callable[[], object]] = []
_worker: bool | None = None


def _after_in_child() -> None:
    global FORK_NS, _worker
    FORK_NS = time.time_ns()
    _worker = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_in_child)


def started_before_fork(run: Run) -> bool:
    """True for a run this process inherited from its parent at a fork (the parent ends it)."""
    return 0 < run.start_ns < FORK_NS


def on_root_end(flush: Callable[[], object]) -> None:
    """Call ``flush`` when a multiprocessing worker's own root run ends (see module doc)."""
    _flushes.append(flush)


def in_worker() -> bool:
    """True in a process started by ``multiprocessing`` (forked: the default on Linux < 3.14)."""
    global _worker
    if _worker is None:
        mp = sys.modules.get("multiprocessing")
        _worker = bool(mp is not None and mp.parent_process() is not None)
    return _worker


def local_root_ended(run: Run) -> None:
    """``run``, started in this forked process, ended: flush when this is a worker's root run."""
    parent = run.parent
    if (parent is None or parent.start_ns < FORK_NS) and _flushes and in_worker():
        for flush in list(_flushes):
            with contextlib.suppress(Exception):  # a flush reports, it does not raise
                flush()
