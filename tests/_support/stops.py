"""Stopping a consumer early, and checking what that left behind (``test_consumer_stops.py``).

:func:`stop` / :func:`astop` run a function that stops a consumer (of a sync stream; of anything
async, then let the loop settle), with the garbage collector off, and check, as
:class:`Expect` says for the scenario: spans ended once, cancelled or not, no error; every run
a handler saw start finished; no pending task; then, after a collection, that nothing more
happened, no run object is alive (and, without a handler, none was left for the collector),
and nothing bad was logged or warned.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sys
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

from .hygiene import gc_disabled, live_run_objects, problems, run_object_ids, settle
from .recording import Recorder
from .spans import Traced

__all__ = ["CANCELLED", "CHUNKS", "Expect", "astop", "chunks_reported", "stop"]

CANCELLED = "runnable.cancelled"
CHUNKS = "runnable.stream.chunks"

FREED_BY_REFCOUNT = sys.version_info >= (3, 11)
"""Whether a stopped consumer's runs are freed by reference counting alone. Not on Python 3.10,
where the frame of an abandoned inner async generator stays in a reference cycle with its run
(freed by the collector; the spans and handler calls are finished before it runs)."""


@dataclass(frozen=True)
class Expect:
    """What a stopped consumer leaves, beyond what always holds.

    ``cancelled``: names that must have a cancelled span. ``finished``: names of the steps that
    had finished (their spans must not be cancelled; every other span must be), or None when
    that depends on timing. ``failed``: names of the steps that failed before the stop (error
    status, an Exception for the handler). ``one_span_per_start``: the handler saw every run
    start (not so when a run can be cancelled while it announces its start).
    ``allow_no_start``: the handler may have seen nothing at all. ``one_root``: one pipeline,
    one trace. ``cycles``: runs may be left to the garbage collector. ``min_spans``: the
    scenario started at least that many runs."""

    cancelled: frozenset[str] = frozenset()
    finished: frozenset[str] | None = None
    failed: frozenset[str] = frozenset()
    one_span_per_start: bool = True
    allow_no_start: bool = False
    one_root: bool = True
    cycles: bool = False
    min_spans: int = 3


def _finished(traced: Traced, handler: Recorder | None) -> bool:
    return not traced.counter.open and (handler is None or not handler.unfinished())


def check_runs(traced: Traced, handler: Recorder | None, expect: Expect) -> None:
    """Spans and handler calls once the consumer has stopped (and the loop settled)."""
    traced.assert_all_ended()
    assert traced.counter.started >= expect.min_spans, "the scenario started the pipeline's runs"
    spans = traced.spans()
    names = {s.name for s in spans}
    assert expect.cancelled <= names, names
    roots = [s for s in spans if s.parent is None]
    assert roots and all((s.attributes or {}).get(CANCELLED) is True for s in roots), roots
    assert len(roots) == 1 or not expect.one_root, [s.name for s in roots]
    for span in spans:
        attributes = span.attributes or {}
        if span.name in expect.failed:
            assert span.status.status_code is StatusCode.ERROR, (span.name, span.status)
            assert CANCELLED not in attributes, span.name
            continue
        assert span.status.status_code is not StatusCode.ERROR, (span.name, span.status)
        assert "error.type" not in attributes, span.name
        assert not [e for e in span.events if e.name == "exception"], span.name
        finished = expect.finished
        if span.name in expect.cancelled or (finished is not None and span.name not in finished):
            assert attributes.get(CANCELLED) is True, (span.name, dict(attributes))
        elif finished is not None:
            assert CANCELLED not in attributes, span.name
    if handler is None:
        return
    handler.assert_every_run_finished_once(allow_none=expect.allow_no_start)
    if expect.one_span_per_start and handler.calls:
        assert len(spans) == len(handler.starts()), (len(spans), handler.log())
    for call in handler.errors():
        if handler.name_of(call.run_id) not in expect.failed:
            assert not isinstance(call.error, Exception), call  # a cancellation, no failure


def check_quiet(
    traced: Traced,
    handler: Recorder | None,
    baseline: set[int],
    records: Any,
    warned: Any,
    expect: Expect,
) -> None:
    """After a garbage collection: nothing more happened, nothing is alive, nothing logged.
    Without a handler (whose records keep tracebacks), and unless ``expect.cycles``, no run
    object was left for the garbage collector to free in the first place."""
    ended = traced.counter.ended
    if handler is not None:
        # The recorded errors' tracebacks keep their frames, and the runs in them, alive.
        handler.clear()
    elif FREED_BY_REFCOUNT and not expect.cycles:  # reference counting alone freed every run
        alive = live_run_objects(baseline, collect=False)
        assert not alive, f"per-run objects left to the garbage collector: {alive}"
    alive = live_run_objects(baseline)  # collects garbage first
    assert traced.counter.ended == ended, "the garbage collector ended a span"
    assert handler is None or handler.calls == [], "the garbage collector called the handler"
    assert not alive, f"per-run objects still alive: {alive}"
    found = problems(records, [str(w.message) for w in warned])
    assert not found, found


def stop(
    traced: Traced,
    handler: Recorder | None,
    caplog: pytest.LogCaptureFixture,
    consume: Callable[[], None],
    expect: Expect,
    then: Callable[[], None] = lambda: None,
) -> None:
    """Run ``consume`` (which stops a consumer of a sync stream), check everything; ``then``
    checks more before the handler's records are dropped."""
    caplog.set_level(logging.DEBUG)
    baseline = run_object_ids()
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        with gc_disabled():
            consume()
            check_runs(traced, handler, expect)
            then()
        check_quiet(traced, handler, baseline, caplog.records, warned, expect)


async def astop(
    traced: Traced,
    handler: Recorder | None,
    caplog: pytest.LogCaptureFixture,
    consume: Callable[[], Awaitable[None]],
    expect: Expect = Expect(),
    then: Callable[[], None] = lambda: None,
) -> None:
    """Run ``consume`` (which stops a consumer), let the loop settle, check everything;
    ``then`` checks more before the handler's records are dropped."""
    caplog.set_level(logging.DEBUG)
    baseline = run_object_ids()
    # Sync hooks run in the loop's default executor; one whose wait was cancelled twice
    # finishes in its worker thread, holding its run until then: the quiet checks wait for
    # these threads (an executor of this stop's own, shut down once the stop is over).
    workers = concurrent.futures.ThreadPoolExecutor(thread_name_prefix=_WORKERS)
    asyncio.get_running_loop().set_default_executor(workers)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        with gc_disabled():
            await consume()
            pending = await settle(until=lambda: _finished(traced, handler))
            assert not pending, f"tasks still pending: {pending}"
            check_runs(traced, handler, expect)
            then()
            await settle(rounds=10)  # the loop lets go of the callbacks of finished tasks
            workers.shutdown(wait=False)
            await _workers_exited()
        check_quiet(traced, handler, baseline, caplog.records, warned, expect)
        pending = await settle(rounds=10)
        assert not pending, f"tasks still pending after a collection: {pending}"


_WORKERS = "stop-hooks"


async def _workers_exited(timeout_s: float = 30.0) -> None:
    """Wait (without blocking the loop) until the stop's executor threads have exited."""
    deadline = time.monotonic() + timeout_s
    while any(t.name.startswith(_WORKERS) for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a sync hook is still running in its thread"
        await asyncio.sleep(0.005)


def chunks_reported(traced: Traced, names: Iterable[str]) -> None:
    for name in names:
        for span in traced.by_name(name):
            assert (span.attributes or {}).get(CHUNKS, 0) >= 1, (name, dict(span.attributes))
