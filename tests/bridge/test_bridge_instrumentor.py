"""LangChainInstrumentor: the OpenTelemetry instrumentor conventions, uninstrument that really
stops, an explicit tracer provider, the entry point for zero-code instrumentation, and the
workaround for langchain-ai/langchain#39633."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, CallbackManager
from langchain_core.language_models import FakeListLLM
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables import config as lc_config
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_runnables.langchain import LangChainInstrumentor
from otel_runnables.langchain._handler import Bridge
from otel_runnables.testing import SpanRecorder


def _bridges() -> list[Any]:
    return [h for h in CallbackManager.configure().handlers if isinstance(h, Bridge)]


def test_one_instance_dependencies_and_state() -> None:
    assert LangChainInstrumentor() is LangChainInstrumentor()
    assert LangChainInstrumentor().instrumentation_dependencies() == ("langchain-core >= 1.0, < 2",)
    assert not LangChainInstrumentor().is_instrumented_by_opentelemetry
    assert _bridges() == []


def test_instrument_twice_warns_and_records_once(
    otel_spans: SpanRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument()
    try:
        with caplog.at_level(logging.WARNING, logger="otel_runnables"):
            instrumentor.instrument()
        assert "Attempting to instrument while already instrumented" in caplog.text
        assert instrumentor.is_instrumented_by_opentelemetry
        assert len(_bridges()) == 1
        RunnableLambda(lambda x: x, name="once").invoke(1)
        assert len(otel_spans.by_name("once")) == 1
    finally:
        instrumentor.uninstrument()


def test_uninstrument_stops_all_recording_and_restores_langchain(
    otel_spans: SpanRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    original = lc_config.set_config_context
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument()
    assert lc_config.set_config_context is not original
    instrumentor.uninstrument()
    assert lc_config.set_config_context is original
    assert _bridges() == []  # langchain-core no longer even calls the bridge
    RunnableLambda(lambda x: x, name="after").invoke(1)
    assert otel_spans.spans() == []
    with caplog.at_level(logging.WARNING, logger="otel_runnables"):
        instrumentor.uninstrument()
    assert "Attempting to uninstrument while already uninstrumented" in caplog.text
    instrumentor.instrument()  # and again
    try:
        RunnableLambda(lambda x: x, name="again").invoke(1)
        assert len(otel_spans.by_name("again")) == 1
    finally:
        instrumentor.uninstrument()


def test_runs_open_at_uninstrument_still_end(otel_spans: SpanRecorder) -> None:
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument()

    def stop(x: int) -> int:
        instrumentor.uninstrument()
        return x

    (RunnableLambda(lambda x: x) | RunnableLambda(stop)).invoke(1)
    assert {s.name for s in otel_spans.spans()} == {"RunnableSequence", "RunnableLambda", "stop"}
    assert all(s.end_time is not None for s in otel_spans.spans())


def test_an_explicit_tracer_provider_gets_the_spans(otel_spans: SpanRecorder) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    LangChainInstrumentor().instrument(tracer_provider=provider)
    try:
        RunnableLambda(lambda x: x, name="mine").invoke(1)
    finally:
        LangChainInstrumentor().uninstrument()
    assert [s.name for s in exporter.get_finished_spans()] == ["mine"]
    assert otel_spans.spans() == []


def test_registered_as_an_opentelemetry_instrumentor() -> None:
    (entry,) = [
        e
        for e in metadata.entry_points(group="opentelemetry_instrumentor")
        if e.value.startswith("otel_runnables")
    ]
    assert entry.name == "otel_runnables_langchain"  # not "langchain": that name is the peers'
    assert entry.load() is LangChainInstrumentor


def test_importing_otel_runnables_does_not_import_langchain() -> None:
    code = "import sys, otel_runnables; print('langchain_core' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow  # a fresh Python importing langchain-core (seconds)
def test_zero_code_opentelemetry_instrument(tmp_path: Path) -> None:
    instrument = Path(sys.executable).with_name("opentelemetry-instrument")
    if not instrument.exists():
        pytest.fail("no opentelemetry-instrument: the [test] extra installs opentelemetry-distro")
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            """
            from langchain_core.callbacks import dispatch_custom_event
            from langchain_core.runnables import RunnableLambda

            def step(x):
                dispatch_custom_event("progress", {"done": 1})
                return x + 1

            print((RunnableLambda(step) | RunnableLambda(lambda x: x * 2)).invoke(1))
            """
        )
    )
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": "zero-code",
        # only this instrumentor: the peers (if installed) register under "langchain"
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "langchain",
    }
    out = subprocess.run(
        [str(instrument), sys.executable, str(app)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert out.stdout.splitlines()[0] == "4"
    assert '"name": "step"' in out.stdout
    assert '"name": "RunnableSequence"' in out.stdout
    assert '"name": "progress"' in out.stdout  # the custom event
    assert '"service.name": "zero-code"' in out.stdout


async def test_users_async_handlers_keep_on_llm_start(bridge: SpanRecorder) -> None:
    """langchain-ai/langchain#39633: with an inline handler (the bridge's), async completion
    LLMs would call no other handler's on_llm_start."""
    starts: list[Any] = []

    class Mine(AsyncCallbackHandler):
        async def on_llm_start(self, serialized: Any, prompts: Any, **kwargs: Any) -> None:
            starts.append(kwargs["run_id"])

    llm = FakeListLLM(responses=["ok"])
    assert await llm.ainvoke("hi", {"callbacks": [Mine()]}) == "ok"
    assert len(starts) == 1
    (span,) = bridge.by_name("text_completion")
    assert span.attributes["runnable.run_id"] == str(starts[0])


def test_instrument_reads_no_lazy_module_attribute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding the modules that hold langchain-core's ``set_config_context`` reads each module's
    namespace: a module-level ``__getattr__`` (lazy imports) is never called."""
    import types

    asked: list[str] = []
    lazy = types.ModuleType("lazy_package_for_instrument_test")

    def module_getattr(name: str) -> Any:
        asked.append(name)
        raise AttributeError(name)

    lazy.__getattr__ = module_getattr  # type: ignore[method-assign]
    original = lc_config.set_config_context
    holder = types.ModuleType("holder_for_instrument_test")
    holder.set_config_context = original  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, lazy.__name__, lazy)
    monkeypatch.setitem(sys.modules, holder.__name__, holder)
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument()
    try:
        assert asked == []
        wrapped = holder.set_config_context  # type: ignore[attr-defined]
        assert wrapped is not original  # the holder got the wrapper, as langchain-core did
        assert wrapped is lc_config.set_config_context
    finally:
        instrumentor.uninstrument()
    assert holder.set_config_context is original  # type: ignore[attr-defined]
