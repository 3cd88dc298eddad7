"""One pipeline, both kinds of runnable: no adapter, one run per step, one trace.

    pip install -e ".[otlp,langchain]" langgraph && python examples/mixed_pipeline.py

1. An otel_runnables pipeline with a langchain-core prompt, chat model (a scripted one that
   reports token usage: no network) and output parser inside. Nothing needs instrumenting:
   the langchain-core steps are runs of the pipeline, spans of its trace.
2. A LangGraph graph whose node calls an otel_runnables pipeline. The graph itself is
   langchain-core's, so its own runs are traced once it is instrumented (one line); the
   pipeline's runs are children of the node's run.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from otel_runnables import RunnableLambda, RunnableParallel, dispatch_custom_event
from otel_runnables.console import show_run_trees
from otel_runnables.langchain import LangChainInstrumentor


class DemoChatModel(FakeMessagesListChatModel):
    """A scripted chat model that names itself as a real one would."""

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params.update(ls_provider="demo", ls_model_name="demo-model")
        return params


def normalise(question: str) -> dict[str, str]:
    question = " ".join(question.split()).rstrip("?") + "?"
    dispatch_custom_event("progress", {"step": "normalise", "chars": len(question)})
    return {"question": question}


def cite(answer: str) -> str:
    return f"{answer} [docs/langchain.md]"


usage = {"input_tokens": 23, "output_tokens": 9, "total_tokens": 32}
model = DemoChatModel(responses=[AIMessage("Each step is a child span.", usage_metadata=usage)])
prompt = ChatPromptTemplate.from_messages([("system", "Answer briefly."), ("human", "{question}")])

# 1. otel_runnables steps and langchain-core steps, composed with |
answer = (
    RunnableLambda(normalise) | prompt | model | StrOutputParser() | RunnableLambda(cite)
).with_config(run_name="answer")

# 2. an otel_runnables pipeline called from a LangGraph node
summarise = RunnableLambda(str.split) | RunnableParallel(
    words=len, longest=lambda words: max(words, key=len)
)


class State(TypedDict, total=False):
    text: str
    summary: dict[str, Any]


def summarise_node(state: State) -> State:
    return {"summary": summarise.invoke(state["text"])}  # a child run of the node's run


graph = StateGraph(State)
graph.add_node("summarise", summarise_node)
graph.add_edge(START, "summarise")
graph.add_edge("summarise", END)
app = graph.compile()


def main() -> None:
    provider = show_run_trees()
    print("answer:", answer.invoke("  how do   spans nest "))
    LangChainInstrumentor().instrument()  # for the graph's own runs (langchain-core's)
    print("summary:", app.invoke({"text": "every run is a span"})["summary"])
    provider.force_flush()


if __name__ == "__main__":
    main()
