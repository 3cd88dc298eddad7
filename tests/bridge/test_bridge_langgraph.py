"""LangGraph through the bridge: nodes nest under the graph, a node's code runs in its span,
interrupt() is control flow (a span event, no error), a resumed graph is a new trace sharing
the conversation id, and a tool-calling agent shows model, tool and custom events."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("langgraph", reason="LangGraph tests need langgraph")

from langchain_core.callbacks import dispatch_custom_event
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import Command, interrupt
from opentelemetry.trace import StatusCode
from typing_extensions import TypedDict

from otel_runnables.testing import SpanRecorder

from ._support import ScriptedChatModel, current_span_name


class Question(TypedDict, total=False):
    q: str
    a: str


def _graph(node: Any) -> Any:
    graph = StateGraph(Question)
    graph.add_node("ask", node)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", END)
    return graph.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_nodes_nest_under_the_graph_and_run_in_their_span(
    bridge: SpanRecorder, mode: str
) -> None:
    seen: list[str | None] = []

    def ask(state: Question) -> Question:
        seen.append(current_span_name())
        return {"a": state["q"] + "!"}

    async def aask(state: Question) -> Question:
        seen.append(current_span_name())
        return {"a": state["q"] + "!"}

    app = _graph(ask if mode == "sync" else aask)
    config = {"configurable": {"thread_id": "T0"}}
    if mode == "sync":
        out = app.invoke({"q": "hi"}, config)
    else:
        out = await app.ainvoke({"q": "hi"}, config)
    assert out == {"q": "hi", "a": "hi!"}
    assert bridge.tree() == [("LangGraph", [("ask", [])])]
    assert seen == ["ask"]
    (node,) = bridge.by_name("ask")
    assert node.attributes["runnable.tags"] == ("graph:step:1",)
    assert node.attributes["runnable.metadata.langgraph_node"] == "ask"
    assert node.attributes["gen_ai.conversation.id"] == "T0"


def test_interrupt_is_control_flow_and_resume_is_a_new_trace(bridge: SpanRecorder) -> None:
    def ask(state: Question) -> Question:
        answer = interrupt({"question": state["q"]})
        return {"a": answer}

    app = _graph(ask)
    config = {"configurable": {"thread_id": "T1"}}
    paused = app.invoke({"q": "ready?"}, config)
    assert "__interrupt__" in paused
    (node,) = bridge.by_name("ask")
    assert node.status.status_code is StatusCode.UNSET
    assert "error.type" not in node.attributes
    (event,) = node.events
    assert event.name == "langgraph.control_flow"
    assert event.attributes["exception.type"] == "langgraph.errors.GraphInterrupt"
    assert "ready?" in event.attributes["exception.message"]
    first_trace = node.context.trace_id

    bridge.clear()
    assert app.invoke(Command(resume="yes"), config) == {"q": "ready?", "a": "yes"}
    (graph,) = bridge.by_name("LangGraph")
    assert graph.context.trace_id != first_trace  # a new trace ...
    assert graph.attributes["gen_ai.conversation.id"] == "T1"  # ... joined by the thread id
    (node,) = bridge.by_name("ask")
    assert node.status.status_code is StatusCode.UNSET and not node.events


def test_agent_graph_shows_model_tool_and_custom_events(bridge: SpanRecorder) -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        dispatch_custom_event("tool_progress", {"a": a, "b": b})
        return a + b

    model = ScriptedChatModel().bind_tools([add])
    graph = StateGraph(MessagesState)
    graph.add_node("agent", lambda state: {"messages": [model.invoke(state["messages"])]})
    graph.add_node("tools", ToolNode([add]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    app = graph.compile()

    out = app.invoke({"messages": [HumanMessage("add 1 and 2")]})
    assert out["messages"][-1].content == "the answer is 3"
    spans = bridge.spans()
    chats = [s for s in spans if s.name == "chat scripted-1"]
    assert len(chats) == 2
    assert all(s.attributes["gen_ai.usage.input_tokens"] > 0 for s in chats)
    (tool_span,) = [s for s in spans if s.name == "execute_tool add"]
    assert tool_span.attributes["gen_ai.tool.call.id"] == "call_1"
    assert [(e.name, dict(e.attributes or {})) for e in tool_span.events] == [
        ("tool_progress", {"a": 1, "b": 2})
    ]
    (root,) = [s for s in spans if s.name == "LangGraph"]
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}
    # The second model call sees the tool's result in its input messages.
    second = min(chats, key=lambda s: -s.start_time)  # the later one
    messages = json.loads(second.attributes["gen_ai.input.messages"])
    assert messages[-1]["parts"][0]["type"] == "tool_call_response"
    assert messages[-1]["parts"][0]["response"] == "3"
