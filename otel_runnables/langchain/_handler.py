"""The bridge's callback handler: langchain-core's callbacks become run transitions on the bus.

Every run langchain-core reports (chains, lambdas, sequences, parallels, prompts, parsers, chat
models, LLMs, tools, retrievers, LangGraph graphs and nodes) becomes a :class:`BridgedRun`, a
:class:`~otel_runnables._run.Run` whose id is langchain's run id and whose parent is the run of
``parent_run_id``. Its transitions reach the span sink exactly as a native run's do, so both get
one span mapping; model, tool and retriever runs add the GenAI/OpenInference attributes of
:mod:`._model` and :mod:`._tool`. langchain-core delivers the events to its own handlers and
event streams itself, so a bridged run has no handlers or sinks of ours besides the span sink.

The handler is ``run_inline``: langchain-core calls it in the thread, and for async runs in the
task, of the run, before its other handlers, so a root run's span finds the caller's current
span as its parent. It never raises into langchain: the sinks log their own failures.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import GenerationChunk
from opentelemetry import context as otel_context

from .._bus import sink_failed, to_sinks
from .._otel import SpanDetail, SpanSink
from .._run import MISSING, Run
from .._scope import Lineage
from ._model import ModelDetail
from ._tool import RetrieverDetail, ToolDetail

__all__ = ["Bridge", "BridgedRun", "Slot", "current_slot"]

_LANGGRAPH = "langgraph._internal._runnable"
_new = tuple.__new__
_NO_CONFIG: Any = {}  # a bridged run has no config of ours (nothing derives children from it)
_ABANDONED = asyncio.CancelledError("its parent run ended first")
_PENDING = {"input": ""}  # langchain-core's start input of a streamed run


class BridgedRun(Run):
    """A run of langchain-core on the bus; ``children`` are its runs still open."""

    __slots__ = ("children",)

    def __init__(
        self,
        lineage: Lineage,
        name: str,
        inputs: Any,
        run_id: UUID,
        run_type: str,
        span_sink: SpanSink | None,
        detail: SpanDetail | None,
    ) -> None:
        super().__init__(lineage, _NO_CONFIG, name, inputs, run_id, run_type, span_sink)
        self.detail = detail
        self.children: dict[int, BridgedRun] | None = None


class Slot:
    """Where a wrapper (``_context``) waits for the span of the run it is about to start.

    The wrapper sets the slot around a langchain method whose user code runs in the caller's
    context (a retriever's ``invoke``, a model's ``stream``); the start hook of the first run of
    the expected type attaches that run's span there and leaves the token in the slot; the
    wrapper detaches it in the same context as soon as the call (or the step) returns.
    """

    __slots__ = ("run", "run_type", "token")

    def __init__(self, run_type: str) -> None:
        self.run_type = run_type
        self.run: BridgedRun | None = None
        self.token: Any = None


current_slot: contextvars.ContextVar[Slot | None] = contextvars.ContextVar(
    "otel_runnables_langchain_slot", default=None
)


def _name(serialized: Any, name: Any, default: str) -> str:
    """langchain-core's naming rule: the ``name`` given, else the serialized name or id."""
    if isinstance(name, str) and name:
        return name
    if isinstance(serialized, Mapping):
        found = serialized.get("name")
        if isinstance(found, str) and found:
            return found
        ids = serialized.get("id")
        if isinstance(ids, Sequence) and ids and isinstance(ids[-1], str):
            return ids[-1]
    return default


class Bridge(BaseCallbackHandler):
    """Turns langchain-core's callbacks into runs on the span sink (see the module doc)."""

    run_inline = True
    raise_error = False

    def __init__(self, span_sink: SpanSink) -> None:
        self.span_sink = span_sink
        """Where the spans of root runs go (a child's go where its parent's went)."""
        self.runs: dict[int, BridgedRun] = {}
        """The open runs, by ``run_id.int``."""
        self.native: weakref.WeakValueDictionary[int, Run] = weakref.WeakValueDictionary()
        """otel_runnables' own runs that langchain-core runs may have as parents."""
        self.on_graph: Callable[[], None] | None = None
        """Called at a chain start once LangGraph is imported (to wrap its functions), once."""

    # -- the run table ---------------------------------------------------------------------
    def run_of(self, run_id: UUID | None) -> Run | None:
        """The open run with this id: one the bridge recorded, or an adopted native run."""
        if run_id is None:
            return None
        key = run_id.int
        return self.runs.get(key) or self.native.get(key)

    def adopt(self, run: Run) -> None:
        """Let langchain-core runs started under the native ``run`` find it as their parent."""
        self.native[run.run_id.int] = run

    def _start(
        self,
        run_id: UUID,
        hook: dict[str, Any],
        name: str,
        inputs: Any,
        run_type: str,
        detail: SpanDetail | None = None,
    ) -> None:
        """A run started; ``hook`` holds the start hook's keyword arguments."""
        parent = self.run_of(hook.get("parent_run_id"))
        sinks = () if parent is None else parent.sinks  # an astream_events of ours above
        tags, metadata = hook.get("tags") or [], hook.get("metadata") or {}
        lineage = _new(Lineage, (parent, [], sinks, tags, [], metadata))
        sink = self.span_sink if parent is None else None
        run = BridgedRun(lineage, name, inputs, run_id, run_type, sink, detail)
        run.input_pending = type(inputs) is dict and inputs == _PENDING
        self.runs[run_id.int] = run
        if isinstance(parent, BridgedRun):
            if parent.children is None:
                parent.children = {}
            parent.children[run_id.int] = run
        run.announce()
        slot = current_slot.get()
        if slot is not None and slot.run is None and slot.run_type == run_type:
            slot.run = run
            if run.otel_context is not None:
                slot.token = otel_context.attach(run.otel_context)

    def _finished(self, run_id: UUID) -> BridgedRun | None:
        run = self.runs.pop(run_id.int, None)
        if run is None:
            return None
        parent = run.parent
        if isinstance(parent, BridgedRun) and parent.children is not None:
            parent.children.pop(run_id.int, None)
        if run.children:  # children langchain never ended (a cancelled model call): end now
            for child_id in list(run.children):
                child = self._finished(run.children[child_id].run_id)
                if child is not None:
                    child.error(_ABANDONED)
        return run

    def abandon(self, run: Run | None, error: BaseException) -> None:
        """``run`` was cancelled where langchain-core sends no end (a model or retriever call
        cancelled while it ran): end it now, marked cancelled, if it is still open."""
        if run is not None:
            self._error(error, run.run_id, MISSING)

    def _end(self, outputs: Any, run_id: UUID, inputs: Any) -> None:
        run = self._finished(run_id)
        if run is not None:
            run.end(outputs, inputs if run.input_pending else MISSING)

    def _error(self, error: BaseException, run_id: UUID, inputs: Any) -> None:
        run = self._finished(run_id)
        if run is not None:
            run.error(error, inputs if run.input_pending else MISSING)

    # -- chains (every runnable, LangGraph graphs and nodes) -------------------------------
    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if self.on_graph is not None and _LANGGRAPH in sys.modules:
            on_graph, self.on_graph = self.on_graph, None
            on_graph()
        name = _name(serialized, kwargs.get("name"), "Unnamed")
        run_type = kwargs.get("run_type") or "chain"
        self._start(run_id, kwargs, name, inputs, run_type)

    def _ended(self, *outputs: Any, run_id: UUID, **kwargs: Any) -> None:
        """The end of any run (chain, model, tool, retriever): its output, and a streamed run's
        final ``inputs``."""
        self._end(outputs[0] if outputs else None, run_id, kwargs.get("inputs", MISSING))

    def _failed(self, *error: BaseException, run_id: UUID, **kwargs: Any) -> None:
        """The error of any run."""
        self._error(error[0], run_id, kwargs.get("inputs", MISSING))

    on_chain_end = on_llm_end = on_tool_end = on_retriever_end = _ended
    on_chain_error = on_llm_error = on_tool_error = on_retriever_error = _failed

    # -- models ------------------------------------------------------------------------------
    def on_chat_model_start(
        self, serialized: Any, messages: list[list[Any]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        name = _name(serialized, kwargs.get("name"), "ChatModel")
        messages_of_run = list(messages[0]) if messages else []
        params = kwargs.get("invocation_params")
        detail = ModelDetail(
            "chat", kwargs.get("metadata") or {}, params, messages_of_run, {"messages": messages}
        )
        self._start(run_id, kwargs, name, messages_of_run, "chat_model", detail)

    def on_llm_start(
        self, serialized: Any, prompts: list[str], *, run_id: UUID, **kwargs: Any
    ) -> None:
        name = _name(serialized, kwargs.get("name"), "LLM")
        prompt = prompts[0] if prompts else ""
        params = kwargs.get("invocation_params")
        detail = ModelDetail(
            "text_completion", kwargs.get("metadata") or {}, params, [prompt], {"prompts": prompts}
        )
        self._start(run_id, kwargs, name, prompt, "llm", detail)

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self.runs.get(run_id.int)
        if run is not None:
            # the chunk as langchain-core's event stream shows it (a message chunk of a chat
            # model, a generation chunk of an LLM)
            chunk = kwargs.get("chunk")
            if run.run_type == "chat_model":
                run.chunk(AIMessageChunk(content=token) if chunk is None else chunk.message)
            else:
                text = token if isinstance(token, str) else ""
                run.chunk(GenerationChunk(text=text) if chunk is None else chunk)

    # -- tools and retrievers ----------------------------------------------------------------
    def on_tool_start(
        self, serialized: Any, input_str: str, *, run_id: UUID, **kwargs: Any
    ) -> None:
        name = _name(serialized, kwargs.get("name"), "Tool")
        inputs = kwargs.get("inputs")
        detail = ToolDetail(name, serialized, kwargs.get("tool_call_id"), inputs)
        inputs = input_str if inputs is None else inputs
        self._start(run_id, kwargs, name, inputs, "tool", detail)

    def on_retriever_start(
        self, serialized: Any, query: str, *, run_id: UUID, **kwargs: Any
    ) -> None:
        name = _name(serialized, kwargs.get("name"), "Retriever")
        detail = RetrieverDetail(name, query)
        self._start(run_id, kwargs, name, query, "retriever", detail)

    # -- custom events -----------------------------------------------------------------------
    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self.runs.get(run_id.int)
        if run is not None:
            tags, metadata = kwargs.get("tags") or [], kwargs.get("metadata") or {}
            try:
                run.span_sink.on_custom_event(run, name, data, tags, metadata)
            except Exception:
                sink_failed(run.span_sink)
            if run.sinks:
                to_sinks(
                    run.sinks, lambda sink: sink.on_custom_event(run, name, data, tags, metadata)
                )
