"""A LangGraph agent, traced with one line: every langchain-core run a span, custom events too.

    pip install -e ".[otlp,langchain]" langgraph && python examples/langchain_app.py

The agent retrieves documents, asks a chat model (a scripted one that reports token usage:
no network, no key), runs the tool the model calls, and answers. Its nodes dispatch progress
events. ``LangChainInstrumentor().instrument()`` is the one line; the console renderer prints
the run tree. With ``OTEL_TRACES_EXPORTER`` set, the trace goes where the ``OTEL_*`` variables
say instead (Phoenix, Jaeger, Tempo, a Collector).

The same app with zero code changes, under OpenTelemetry's own launcher (the entry point
``otel_runnables_langchain`` instruments langchain-core)::

    pip install opentelemetry-distro
    OTEL_TRACES_EXPORTER=console OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \\
        opentelemetry-instrument python examples/langchain_app.py
"""

from __future__ import annotations

import os
from typing import Any

from langchain_core.callbacks import dispatch_custom_event
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from otel_runnables.langchain import LangChainInstrumentor

DOCS = [
    "Spans nest as runs nest: a graph, its nodes, their model and tool calls.",
    "Custom events dispatched by a step become span events on its span.",
    "Token usage reported by a chat model lands on its span.",
]


class DemoChatModel(FakeMessagesListChatModel):
    """A scripted chat model that names itself and its provider as a real one would."""

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params.update(ls_provider="demo", ls_model_name="demo-model")
        return params


def _usage(prompt: int, completion: int) -> Any:
    return {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": prompt + completion,
    }


MODEL = DemoChatModel(
    responses=[
        AIMessage(
            "",
            tool_calls=[{"name": "add", "args": {"a": 2, "b": 3}, "id": "call_1"}],
            usage_metadata=_usage(42, 12),
        ),
        AIMessage(
            "2 + 3 = 5, and every step of this answer is a span.", usage_metadata=_usage(61, 14)
        ),
    ]
)


class DocsRetriever(BaseRetriever):
    """Ranks the docs by the words they share with the query (no embeddings, no network)."""

    k: int = 2

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        words = set(query.lower().split())
        scored = [(len(words & set(doc.lower().split())), i, doc) for i, doc in enumerate(DOCS)]
        best = sorted(scored, reverse=True)[: self.k]
        return [Document(doc, id=f"doc-{i}", metadata={"score": score}) for score, i, doc in best]


RETRIEVER = DocsRetriever()


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    dispatch_custom_event("tool_progress", {"tool": "add", "a": a, "b": b})
    return a + b


def retrieve(state: MessagesState) -> dict[str, Any]:
    question = str(state["messages"][-1].content)
    docs = RETRIEVER.invoke(question)
    dispatch_custom_event("progress", {"step": "retrieve", "docs": len(docs)})
    context = "\n".join(doc.page_content for doc in docs)
    return {"messages": [SystemMessage(f"Context:\n{context}")]}


def agent(state: MessagesState) -> dict[str, Any]:
    dispatch_custom_event("progress", {"step": "agent", "messages": len(state["messages"])})
    return {"messages": [MODEL.invoke(state["messages"])]}


def build_app() -> Any:
    graph = StateGraph(MessagesState)
    graph.add_node("retrieve", retrieve)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([add]))
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile()


def main() -> None:
    instrumentor = LangChainInstrumentor()
    provider: Any = None
    if not instrumentor.is_instrumented_by_opentelemetry:  # (opentelemetry-instrument did it)
        if os.environ.get("OTEL_TRACES_EXPORTER"):
            from otel_runnables.tracing import configure_tracing

            provider = configure_tracing()
        else:
            from otel_runnables.console import show_run_trees

            provider = show_run_trees()
        instrumentor.instrument()  # <- the one line that traces the langchain-core app
    question = HumanMessage("What is 2 + 3? Say how it is traced.")
    result = build_app().invoke({"messages": [question]}, {"configurable": {"thread_id": "demo-1"}})
    if provider is not None:
        provider.force_flush()
    print("answer:", result["messages"][-1].content)


if __name__ == "__main__":
    main()
