"""Fakes for the bridge tests: a chat model that reports usage, calls a tool and streams; a
retriever; a tool. Each notes which span was current while its own code ran."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from opentelemetry import trace
from pydantic import Field

__all__ = ["Events", "ScriptedChatModel", "WordsRetriever", "add", "current_span_name"]

USAGE = {
    "input_tokens": 12,
    "output_tokens": 5,
    "total_tokens": 17,
    "input_token_details": {"cache_read": 4},
    "output_token_details": {"reasoning": 2},
}


def current_span_name() -> str | None:
    """The name of the span current right now (None: no recording span)."""
    span = trace.get_current_span()
    return getattr(span, "name", None) if span.is_recording() else None


class ScriptedChatModel(BaseChatModel):
    """Answers "the answer is 3"; with tools bound and no tool result yet, calls ``add``."""

    model: str = "scripted-1"
    temperature: float = 0.25
    max_tokens: int = 64
    seen_spans: list[str | None] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "amazon_bedrock"
        return params

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _reply(self, messages: list[BaseMessage], tools: Any) -> AIMessage:
        self.seen_spans.append(current_span_name())
        meta = {"model_name": "scripted-1-2026", "id": "resp-1"}
        if tools and not any(isinstance(m, ToolMessage) for m in messages):
            call = {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1", "type": "tool_call"}
            return AIMessage(
                "",
                tool_calls=[call],
                usage_metadata=USAGE,  # type: ignore[arg-type]
                response_metadata={**meta, "finish_reason": "tool_calls"},
            )
        return AIMessage(
            "the answer is 3",
            usage_metadata=USAGE,  # type: ignore[arg-type]
            response_metadata={**meta, "finish_reason": "stop"},
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        tools: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages, tools))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        tools: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages, tools)
        for word in str(reply.content).split(" "):
            self.seen_spans.append(current_span_name())
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))
        last = AIMessageChunk(content="", usage_metadata=reply.usage_metadata)
        info = {"finish_reason": reply.response_metadata["finish_reason"]}
        yield ChatGenerationChunk(message=last, generation_info=info)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        tools: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._stream(messages, stop, None, tools, **kwargs):
            yield chunk


class WordsRetriever(BaseRetriever):
    """Returns one document per word of the query."""

    seen_spans: list[str | None] = Field(default_factory=list)

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        self.seen_spans.append(current_span_name())
        return [
            Document(page_content=f"about {w}", id=f"doc-{i}", metadata={"score": 0.5 + i / 10})
            for i, w in enumerate(query.split())
        ]

    async def _aget_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return self._get_relevant_documents(query, run_manager=run_manager)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Events(BaseCallbackHandler):
    """A langchain handler that records ``(hook, run_id)`` of every start, end and error."""

    def __init__(self, *, inline: bool = False) -> None:
        self.run_inline = inline
        self.calls: list[tuple[str, Any]] = []

    def hooks(self) -> list[str]:
        return [hook for hook, _ in self.calls]


def _recording(hook: str) -> Any:
    def record(self: Events, *args: Any, run_id: Any = None, **kwargs: Any) -> None:
        self.calls.append((hook, run_id))

    return record


for _kind in ("chain", "llm", "chat_model", "tool", "retriever"):
    for _when in ("start", "end", "error"):
        if hasattr(BaseCallbackHandler, f"on_{_kind}_{_when}"):
            setattr(Events, f"on_{_kind}_{_when}", _recording(f"on_{_kind}_{_when}"))
Events.on_custom_event = _recording("on_custom_event")  # type: ignore[method-assign]
