"""A misspelt boolean variable is never ignored silently: it is logged once, and a privacy
switch fails closed (an unrecognised value hides) while other switches fail open."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from otel_runnables import RunnableGenerator, RunnableLambda, _env
from otel_runnables import _attributes as attrs
from otel_runnables.testing import SpanRecorder
from otel_runnables.tracing import reset_tracing_options


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_env, "_warned", set())
    reset_tracing_options()
    yield
    monkeypatch.undo()
    reset_tracing_options()


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "otel_runnables"]


def _run(otel_spans: SpanRecorder) -> Any:
    otel_spans.clear()
    RunnableLambda(lambda x: x, name="io").invoke("visible?")
    (span,) = otel_spans.spans()
    return span


@pytest.mark.parametrize("variable", ["OTEL_RUNNABLES_HIDE_IO", "OTEL_RUNNABLES_HIDE_EVENT_DATA"])
def test_misspelt_privacy_switch_warns_and_hides(
    otel_spans: SpanRecorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    variable: str,
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv(variable, "ture")
    span = _run(otel_spans)
    _run(otel_spans)
    (message,) = _messages(caplog)  # once, not once per run
    assert f"{variable}='ture' is not a boolean" in message
    assert "read as true" in message
    if variable == "OTEL_RUNNABLES_HIDE_IO":
        assert attrs.INPUT_VALUE not in span.attributes


def test_misspelt_record_chunks_warns_and_stays_off(
    otel_spans: SpanRecorder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("OTEL_RUNNABLES_RECORD_CHUNKS", "yess")
    def gen(chunks: Any) -> Any:
        yield from chunks

    list(RunnableGenerator(gen).stream("ab"))
    (span,) = otel_spans.spans()
    assert span.events == ()
    (message,) = _messages(caplog)
    assert "OTEL_RUNNABLES_RECORD_CHUNKS='yess' is not a boolean" in message
    assert "read as false" in message


@pytest.mark.parametrize(
    ("raw", "hidden"),
    [
        *[("TRUE", True), (" yes ", True), ("1", True), ("On", True)],
        *[("false", False), ("0", False), ("OFF", False), ("no", False), ("", False)],
    ],
)
def test_recognised_values_do_not_warn(
    otel_spans: SpanRecorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    raw: str,
    hidden: bool,
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("OTEL_RUNNABLES_HIDE_IO", raw)
    span = _run(otel_spans)
    assert (attrs.INPUT_VALUE not in span.attributes) is hidden
    assert _messages(caplog) == []
