"""A bridged run's GenAI attributes stay within the attribute count limit: the SDK would drop
the oldest attributes (the run id first) and log one warning for each of them."""

from __future__ import annotations

import logging

import pytest

from otel_runnables import _limits
from otel_runnables.testing import SpanRecorder

from ._support import WordsRetriever


def test_many_documents_keep_the_run_attributes(
    bridge: SpanRecorder, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 documents: 75 SDK warnings, and no run id, before."""
    monkeypatch.setattr(_limits, "_noted", set())
    caplog.set_level(logging.WARNING)
    query = " ".join(f"w{i}" for i in range(100))
    assert len(WordsRetriever().invoke(query)) == 100
    (span,) = bridge.by_name("retrieval WordsRetriever")
    assert len(span.attributes) <= 128 and span.dropped_attributes == 0
    for key in ("runnable.run_id", "runnable.run_type", "gen_ai.operation.name"):
        assert key in span.attributes
    assert span.attributes["retrieval.documents.0.document.id"] == "doc-0"
    assert span.attributes["runnable.dropped_attributes"] > 0
    sdk = [r for r in caplog.records if r.name.startswith("opentelemetry")]
    assert sdk == []
    ours = [r for r in caplog.records if r.name == "otel_runnables"]
    assert len(ours) == 1
