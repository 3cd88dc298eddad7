"""Helpers shared by the test modules (not a test module itself; nothing here is collected).

``recording`` has the one recording callback handler (:class:`Recorder`, :class:`AsyncRecorder`),
``spans`` the span counter and the :class:`Traced` recorder behind the ``traced`` fixture,
``hygiene`` the checks that a run left nothing behind, and ``stops`` the driver and checks of the
consumer-stop scenarios (imported as ``_support.stops``). ``tests/conftest.py`` turns them into
fixtures; test modules import the classes from here (``from _support import Recorder``).
"""

from .hygiene import (
    BAD_LOG_MESSAGES,
    gc_disabled,
    live_run_objects,
    other_tasks,
    problems,
    run_object_ids,
    settle,
)
from .recording import AsyncRecorder, Call, Recorder, RunTree
from .spans import CountingProcessor, Traced, using_provider

__all__ = [
    "BAD_LOG_MESSAGES",
    "AsyncRecorder",
    "Call",
    "CountingProcessor",
    "Recorder",
    "RunTree",
    "Traced",
    "gc_disabled",
    "live_run_objects",
    "other_tasks",
    "problems",
    "run_object_ids",
    "settle",
    "using_provider",
]
