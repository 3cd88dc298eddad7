"""Spans across ``os.fork()``: a child process never ends a span its parent started.

A forked child inherits the parent's open runs (the run whose step called ``os.fork()``, its
ancestors, any run of another task of the same event loop). If the child ended their spans as
well, every backend would receive them twice, with the same span id. The span sink asks
:func:`started_before_fork` and leaves those spans to the parent; spans of runs the child starts
are its own (children of the span that was current at the fork, so the trace stays one tree).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._run import Run

__all__ = ["FORK_NS", "started_before_fork"]

FORK_NS = 0
"""``time.time_ns()`` when this process was forked from a process that had imported us; 0 when
it was not."""


def _after_in_child() -> None:
    global FORK_NS
    FORK_NS = time.time_ns()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_in_child)


def started_before_fork(run: Run) -> bool:
    """True for a run this process inherited from its parent at a fork (the parent ends it)."""
    return 0 < run.start_ns < FORK_NS
