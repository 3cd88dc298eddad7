"""Fixtures of the bridge tests: the real langchain-core (and LangGraph), instrumented."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("langchain_core", reason="the bridge needs langchain-core")

from otel_runnables.langchain import LangChainInstrumentor
from otel_runnables.testing import SpanRecorder


@pytest.fixture
def bridge(otel_spans: SpanRecorder) -> Iterator[SpanRecorder]:
    """langchain-core instrumented for one test; its spans go to ``otel_spans``."""
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument()
    try:
        yield otel_spans
    finally:
        instrumentor.uninstrument()
