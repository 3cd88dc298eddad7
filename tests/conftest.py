"""Shared fixtures of the suite.

* ``traced`` -- a :class:`_support.Traced`: the ``otel_spans`` recorder (private in-memory
  provider, previous provider restored afterwards) plus a span counter; the test fails at
  teardown if a span it started was never ended, or ended twice.
* ``recorder`` / ``async_recorder`` -- a fresh :class:`_support.Recorder` /
  :class:`_support.AsyncRecorder`; ``any_recorder`` is each of the two in turn.
* the in-process OTLP receivers of ``tests/_otlp`` (``otlp_grpc_receiver``,
  ``otlp_http_receiver``, ``otlp_blackhole``).

Helpers live in ``tests/_support`` and ``tests/_otlp`` (packages, not test modules); this file
puts ``tests/`` on ``sys.path`` so that test modules import them as ``_support`` / ``_otlp``.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _otlp.fixtures import otlp_blackhole, otlp_grpc_receiver, otlp_http_receiver
from _support import AsyncRecorder, Recorder, Traced

__all__ = [
    "any_recorder",
    "async_recorder",
    "otlp_blackhole",
    "otlp_grpc_receiver",
    "otlp_http_receiver",
    "recorder",
    "traced",
]


@pytest.fixture
def traced() -> Iterator[Traced]:
    """Finished spans and a span count, for one test; every started span must have ended."""
    spans = Traced().install()
    try:
        yield spans  # type: ignore[misc]
        spans.assert_all_ended()
    finally:
        spans.uninstall()


@pytest.fixture
def recorder() -> Recorder:
    """A sync handler recording every hook call."""
    return Recorder()


@pytest.fixture
def async_recorder() -> AsyncRecorder:
    """An async handler recording every hook call (each hook suspends once)."""
    return AsyncRecorder()


@pytest.fixture(params=[Recorder, AsyncRecorder], ids=["sync-handler", "async-handler"])
def any_recorder(request: pytest.FixtureRequest) -> Recorder:
    """A sync, then an async recording handler."""
    return request.param()  # type: ignore[no-any-return]
