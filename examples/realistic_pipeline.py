"""A retrieval-augmented pipeline that shows off the trace in a UI (Phoenix, Jaeger, Tempo).

    python examples/realistic_pipeline.py                      # run tree printed, no server
    OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006 \
    OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf python examples/realistic_pipeline.py  # + export

Shape of the run tree::

    rag-pipeline
    ├─ rewrite_query                       custom event: query_rewritten
    ├─ retrieve  (RunnableParallel fan-out over three sources)
    │  ├─ search_docs                      custom event: retrieved
    │  ├─ search_wiki                      custom event: retrieved
    │  └─ search_tickets                   custom event: retrieved
    ├─ rerank                              custom event: reranked
    └─ RunnableWithFallbacks
       ├─ call_primary_model  ERROR        TimeoutError, exception event
       └─ call_small_model                 custom event: tokens
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from otel_runnables import (
    RunnableLambda,
    RunnableParallel,
    adispatch_custom_event,
    dispatch_custom_event,
)
from otel_runnables.console import show_run_trees
from otel_runnables.tracing import configure_tracing

CORPUS = {
    "docs": ["Spans nest as runs nest.", "Custom events become span events."],
    "wiki": ["OTLP carries spans over gRPC or HTTP."],
    "tickets": ["#42: show custom events in Phoenix", "#43: errors must be visible"],
}


def rewrite_query(question: str) -> str:
    query = question.lower().strip("?! ")
    dispatch_custom_event("query_rewritten", {"original": question, "query": query})
    return query


def _searcher(source: str) -> RunnableLambda[str, list[dict[str, Any]]]:
    async def search(query: str) -> list[dict[str, Any]]:
        await asyncio.sleep(0.01 * len(CORPUS[source]))
        hits = [
            {"source": source, "text": text, "score": round(1 / (rank + 1), 2)}
            for rank, text in enumerate(CORPUS[source])
        ]
        await adispatch_custom_event(
            "retrieved", {"source": source, "hits": len(hits), "scores": [h["score"] for h in hits]}
        )
        return hits

    return RunnableLambda(search, name=f"search_{source}")


def rerank(results: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    hits = sorted((h for hs in results.values() for h in hs), key=lambda h: -h["score"])[:3]
    dispatch_custom_event("reranked", {"kept": len(hits), "sources": [h["source"] for h in hits]})
    return hits


def call_primary_model(hits: list[dict[str, Any]]) -> str:
    raise TimeoutError("primary model did not answer within 30 s")


def call_small_model(hits: list[dict[str, Any]]) -> str:
    answer = " ".join(h["text"] for h in hits)
    dispatch_custom_event("tokens", {"prompt": 12 * len(hits), "completion": len(answer.split())})
    return answer


generate = RunnableLambda(call_primary_model).with_fallbacks([RunnableLambda(call_small_model)])

pipeline = (
    RunnableLambda(rewrite_query)
    | RunnableParallel(
        docs=_searcher("docs"), wiki=_searcher("wiki"), tickets=_searcher("tickets")
    ).with_config(run_name="retrieve")
    | rerank
    | generate
).with_config(run_name="rag-pipeline", tags=["example"], metadata={"user": "demo"})


async def main() -> None:
    provider = configure_tracing() if os.environ.get("OTEL_TRACES_EXPORTER") else None
    provider = show_run_trees(provider)  # type: ignore[arg-type]
    answer = await pipeline.ainvoke("How do custom events show up?")
    provider.force_flush()
    print("answer:", answer)


if __name__ == "__main__":
    asyncio.run(main())
