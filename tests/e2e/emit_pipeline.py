"""Run a small pipeline with custom events and an error, exporting only as the OTEL_* env says.

Run in a subprocess by the e2e tests (``configure_tracing()`` installs the *global* tracer
provider, which can be set once per process)::

    OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 \
    OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_SERVICE_NAME=e2e python tests/e2e/emit_pipeline.py

Prints one JSON line: the pipeline's result, the error the failing chain raised, the trace
id (hex) of each of the two root runs and what ``flush_tracing()`` said. With
``OTEL_RUNNABLES_CUSTOM_EVENTS=log`` or ``both`` the custom events are exported as log records too.
"""

from __future__ import annotations

import asyncio
import json

from opentelemetry import trace

from otel_runnables import (
    RunnableLambda,
    RunnableParallel,
    adispatch_custom_event,
    dispatch_custom_event,
)
from otel_runnables.tracing import configure_tracing, flush_tracing

EVENT_DATA = {
    "count": 2,
    "ids": ["doc-1", "doc-2"],
    "score": 0.75,
    "ok": True,
    "filters": {"lang": "en", "year": 2024},
    "mixed": [1, "a"],
}


TRACE_IDS: list[str] = []


def retrieve(question: str) -> list[str]:
    # While a run executes its span is the current OTel span: remember the trace id (hex).
    TRACE_IDS.append(format(trace.get_current_span().get_span_context().trace_id, "032x"))
    dispatch_custom_event("retrieved", EVENT_DATA)
    return ["doc-1", "doc-2"]


async def rank(docs: list[str]) -> list[str]:
    await adispatch_custom_event("progress", {"step": 1, "of": 2})
    await adispatch_custom_event("progress", {"step": 2, "of": 2})
    return sorted(docs, reverse=True)


def count(docs: list[str]) -> int:
    return len(docs)


def explode(docs: list[str]) -> str:
    dispatch_custom_event("about_to_fail", "no answer")
    raise ValueError("no answer for 2 documents")


pipeline = (RunnableLambda(retrieve) | RunnableParallel(ranked=rank, total=count)).with_config(
    run_name="fidelity", tags=["e2e"], metadata={"user": "u-1", "attempt": 3}
)
failing = (RunnableLambda(retrieve) | RunnableLambda(explode)).with_config(run_name="failing")


async def main() -> dict[str, object]:
    provider = configure_tracing()
    result = await pipeline.ainvoke("what is a span?")
    error = ""
    try:
        failing.invoke("why?")
    except ValueError as exc:
        error = f"{type(exc).__name__}: {exc}"
    # Flush and shut down explicitly: the test reads the receiver right after we exit.
    flushed = flush_tracing()
    provider.force_flush()  # type: ignore[attr-defined]
    provider.shutdown()  # type: ignore[attr-defined]
    return {
        "result": result,
        "error": error,
        "trace_ids": dict(zip(["fidelity", "failing"], TRACE_IDS, strict=True)),
        "flushed": flushed.describe(),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
