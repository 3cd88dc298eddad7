"""The ``otel_spans`` fixture (pytest11 plugin) and SpanRecorder, as a user's test uses them."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from otel_runnables import RunnableLambda, dispatch_custom_event
from otel_runnables._otel import SPAN_SINK
from otel_runnables.testing import SpanRecorder


def step(x: int) -> int:
    dispatch_custom_event("progress", {"x": x})
    return x + 1


def test_fixture_records_tree_names_and_clears(otel_spans: SpanRecorder) -> None:
    assert SPAN_SINK.tracer_provider is otel_spans.provider
    chain = RunnableLambda(step) | RunnableLambda(step, name="again")
    assert chain.invoke(1) == 3
    assert otel_spans.tree() == [("RunnableSequence", [("step", []), ("again", [])])]
    assert [s.name for s in otel_spans.spans()] == ["step", "again", "RunnableSequence"]
    (again,) = otel_spans.by_name("again")
    assert [e.name for e in again.events] == ["progress"]
    assert otel_spans.by_name("missing") == []
    otel_spans.clear()
    assert otel_spans.spans() == []
    assert otel_spans.tree() == []


def test_recorder_installs_and_restores_the_previous_provider() -> None:
    before = SPAN_SINK.tracer_provider
    outer = SpanRecorder().install()
    inner = SpanRecorder().install()
    RunnableLambda(step).invoke(1)
    inner.uninstall()
    RunnableLambda(step, name="outer-run").invoke(1)
    outer.uninstall()
    assert SPAN_SINK.tracer_provider is before
    assert [s.name for s in inner.spans()] == ["step"]
    assert [s.name for s in outer.spans()] == ["outer-run"]


def test_two_root_runs_are_two_trees(otel_spans: SpanRecorder) -> None:
    RunnableLambda(step, name="first").invoke(1)
    RunnableLambda(step, name="second").invoke(1)
    assert otel_spans.tree() == [("first", []), ("second", [])]


def test_fixture_without_the_sdk_fails_with_a_clear_message(tmp_path: Any) -> None:
    """It failed with a bare ModuleNotFoundError: No module named 'opentelemetry.sdk'."""
    (tmp_path / "conftest.py").write_text(
        "import sys\nsys.modules['opentelemetry.sdk'] = None  # as if it were not installed\n"
    )
    (tmp_path / "test_user.py").write_text("def test_uses_it(otel_spans):\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout
    assert "records spans with the OpenTelemetry SDK, which is not installed" in done.stdout
    assert 'pip install "otel-runnables[otlp]"' in done.stdout
    assert "ModuleNotFoundError" not in done.stdout
