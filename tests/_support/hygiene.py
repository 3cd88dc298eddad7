"""What a finished run must not leave behind: pending tasks, live run objects, bad log records.

* :func:`other_tasks` / :func:`settle` -- the event loop's other unfinished tasks, and a bounded
  wait for them (a number of scheduling points, then, while a task still waits for a sync
  handler hook in a worker thread, up to a few seconds).
* :func:`run_object_ids` / :func:`live_run_objects` -- the run-bus objects alive now, and those
  still alive after a garbage collection that were not alive before.
* :func:`problems` -- log records and warnings that show a leak or a context mix-up.
* :func:`gc_disabled` -- run a block with the cyclic garbage collector off, so that whatever
  must be freed is freed by reference counting.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from otel_runnables._events import EventStreamSink
from otel_runnables._run import Run

__all__ = [
    "BAD_LOG_MESSAGES",
    "gc_disabled",
    "live_run_objects",
    "other_tasks",
    "problems",
    "run_object_ids",
    "settle",
]

RUN_BUS_TYPES: tuple[type, ...] = (Run, EventStreamSink)
"""Per-run objects of the package: none may outlive its run."""

BAD_LOG_MESSAGES = ("Failed to detach context", "Task was destroyed", "Error in ")
"""Messages that must never be logged (at any level) when a consumer stops early: a context
token detached in the wrong context, a task garbage-collected while pending, a handler hook
that raised."""


def other_tasks() -> set[asyncio.Task[Any]]:
    """Tasks of the running loop other than the current one that are not done."""
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


async def settle(rounds: int = 200, *, collect: bool = False, until: Any = None) -> set[Any]:
    """Give the loop up to ``rounds`` scheduling points to run finalizers (async-generator
    ``aclose`` tasks); stop early once no other task is pending and ``until()`` (if given) is
    true. ``collect`` runs a garbage collection at each round. Returns the pending tasks."""
    def settled() -> bool:
        return not other_tasks() and (until is None or until())

    for i in range(rounds):
        if collect:
            gc.collect()
        if i >= 3 and settled():
            return other_tasks()
        await asyncio.sleep(0)
    # Sync handler hooks of async runs run in worker threads: time, not scheduling points.
    deadline = time.monotonic() + THREADS_S
    while not settled() and time.monotonic() < deadline:
        if collect:
            gc.collect()
        await asyncio.sleep(0.001)
    return other_tasks()


THREADS_S = 5.0
"""How long :func:`settle` waits, after its scheduling points, for hooks in worker threads."""


def run_object_ids() -> set[int]:
    """Ids of the run-bus objects alive now (a baseline for :func:`live_run_objects`)."""
    gc.collect()
    return {id(o) for o in gc.get_objects() if isinstance(o, RUN_BUS_TYPES)}


def live_run_objects(baseline: Iterable[int] = (), *, collect: bool = True) -> dict[str, int]:
    """How many run-bus objects not in ``baseline`` are alive (after a garbage collection,
    unless ``collect`` is false), by type name. Earlier tests may legitimately keep some alive
    (an exception kept at module level keeps its traceback's frames, and the runs in them),
    hence the baseline."""
    if collect:
        gc.collect()
    known = set(baseline)
    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        if isinstance(obj, RUN_BUS_TYPES) and id(obj) not in known:
            counts[type(obj).__name__] = counts.get(type(obj).__name__, 0) + 1
    return counts


def problems(records: Iterable[logging.LogRecord], warned: Iterable[Any] = ()) -> list[str]:
    """WARNING+ log records of any logger, records with a :data:`BAD_LOG_MESSAGES` message at
    any level, and warnings."""
    out = []
    for record in records:
        message = record.getMessage()
        if record.levelno >= logging.WARNING or any(m in message for m in BAD_LOG_MESSAGES):
            out.append(f"{record.name}:{record.levelname}: {message}")
    out.extend(f"warning: {message}" for message in warned)
    return out


@contextmanager
def gc_disabled() -> Iterator[None]:
    """The cyclic garbage collector is off inside the block (restored afterwards)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
