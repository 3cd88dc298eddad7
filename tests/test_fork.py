"""Spans across os.fork(): no span is ended (and exported) twice, and the spans of forked
multiprocessing workers arrive, even when the pool is terminated (``with Pool()``)."""

from __future__ import annotations

import collections
import os
import textwrap
from typing import Any

import pytest
from _support.process import run_python, without_otel

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX only")

FORK_IN_A_STEP = textwrap.dedent(
    """
    import os, sys
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from otel_runnables import RunnableLambda, dispatch_custom_event
    from otel_runnables.tracing import use_tracer_provider

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=sys.argv[1])))
    use_tracer_provider(provider)

    def forking(x):
        pid = os.fork()
        dispatch_custom_event("forked", {"child": pid == 0})
        return pid

    def after(pid):
        return pid

    chain = RunnableLambda(forking) | RunnableLambda(after)
    pid = chain.invoke(1)
    if pid == 0:  # the child goes on with the pipeline, then exits after delivering
        provider.force_flush()
        os._exit(0)
    os.waitpid(pid, 0)
    provider.shutdown()
    """
)


def _run(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    done, _ = run_python(["-c", code, *args], without_otel(**(env or {})), timeout=120)
    return done.stdout


def test_fork_inside_a_step_ends_no_span_twice(otlp_http_receiver: Any) -> None:
    _run(FORK_IN_A_STEP, otlp_http_receiver.traces_url)
    spans = otlp_http_receiver.wait_for_spans(4, timeout=10)
    ids = collections.Counter(s.span_id for s in spans)
    assert max(ids.values()) == 1, f"spans exported twice: {[s.name for s in spans]}"
    names = collections.Counter(s.name for s in spans)
    # The parent ends the spans that were open at the fork; each process ends its own "after".
    assert names == {"RunnableSequence": 1, "forking": 1, "after": 2}
    sequence = otlp_http_receiver.span("RunnableSequence")
    afters = [s for s in spans if s.name == "after"]
    assert {s.parent_span_id for s in afters} == {sequence.span_id}
    assert {s.trace_id for s in spans} == {sequence.trace_id}


POOL = textwrap.dedent(
    """
    import multiprocessing, sys
    from concurrent.futures import ProcessPoolExecutor
    from otel_runnables import RunnableLambda, dispatch_custom_event
    from otel_runnables.tracing import configure_tracing

    def step(x):
        dispatch_custom_event("in-worker", {"x": x})
        return x + 1

    def task(i):
        chain = RunnableLambda(step) | RunnableLambda(lambda y: y * 2, name="double")
        return chain.invoke(i)

    if __name__ == "__main__":
        configure_tracing()
        context = multiprocessing.get_context("fork")
        if sys.argv[1] == "pool":
            with context.Pool(4) as pool:  # __exit__ terminates the workers
                results = pool.map(task, range(40))
        else:
            with ProcessPoolExecutor(4, mp_context=context) as executor:
                results = list(executor.map(task, range(40)))
        assert results == [(i + 1) * 2 for i in range(40)]
        print("done")
    """
)


@pytest.mark.parametrize("kind", ["pool", "executor"])
def test_forked_workers_deliver_their_spans(otlp_http_receiver: Any, kind: str) -> None:
    """0 of 120 spans arrived from a terminated pool's workers."""
    env = {**otlp_http_receiver.env(), "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    assert _run(POOL, kind, env=env) == "done\n"
    spans = otlp_http_receiver.wait_for_spans(120, timeout=10)
    assert len(spans) == 120
    assert collections.Counter(s.name for s in spans) == {
        "RunnableSequence": 40,
        "step": 40,
        "double": 40,
    }
    assert len({s.trace_id for s in spans}) == 40
