"""``with_listeners`` / ``with_alisteners``: functions called with a runnable's run.

The binding that ``with_listeners`` makes adds, per call, a handler to the call's callbacks
(its config factory). The handler follows the first run it sees, the bound runnable's run, and
calls ``on_start`` when it starts and ``on_end`` or ``on_error`` when it finishes, with a
:class:`ListenerRun`: the same object each time, updated as the run goes (as langchain-core's
listeners get its tracer's run). A listener with a ``config`` parameter also gets the call's
config. A listener that raises is a handler that raises: logged and skipped.
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from ._callbacks import BaseCallbackHandler
from ._config import RunnableConfig
from ._lambda import accepts_config

__all__ = ["AsyncListener", "Listener", "ListenerRun", "RootListeners", "listeners_factory"]

Listener = Callable[..., None]
"""``listener(run)`` or ``listener(run, config)`` (a parameter named ``config``)."""
AsyncListener = Callable[..., Awaitable[None]]
"""``async def listener(run)`` or ``listener(run, config)``."""


class ListenerRun:
    """The run a listener gets: langchain-core's run fields (``inputs`` and ``outputs`` are
    dicts: a value that is not a dict is under ``"input"`` / ``"output"``; ``error`` is the
    exception's repr and traceback, as text).

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> runs = []
        >>> RunnableLambda(lambda x: x + 1, name="inc").with_listeners(on_end=runs.append).invoke(1)
        2
        >>> runs[0].name, runs[0].inputs, runs[0].outputs
        ('inc', {'input': 1}, {'output': 2})
    """

    def __init__(
        self,
        *,
        id: UUID,
        name: str,
        run_type: str,
        inputs: Any,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        parent_run_id: UUID | None,
    ) -> None:
        self.id = id
        self.name = name
        self.run_type = run_type
        self.inputs: dict[str, Any] = _as_dict(inputs, "input")
        self.outputs: dict[str, Any] = {}
        self.error: str | None = None
        self.start_time = datetime.now(timezone.utc)
        self.end_time: datetime | None = None
        self.tags = list(tags or [])
        self.metadata = dict(metadata or {})
        self.parent_run_id = parent_run_id

    def __repr__(self) -> str:
        return f"ListenerRun(id={self.id}, name={self.name!r}, run_type={self.run_type!r})"


def _as_dict(value: Any, key: str) -> dict[str, Any]:
    return value if isinstance(value, dict) else {key: value}


def _error_text(error: BaseException) -> str:
    text = repr(error)
    try:
        return (text + "\n\n".join(traceback.format_exception(error))).strip()
    except Exception:
        return text


class RootListeners(BaseCallbackHandler):
    """The handler of a listeners binding: follows the first run it hears of (the bound
    runnable's) and calls the listeners for its start and finish. A hook returns what the
    listener returns, so the coroutine of an async listener is awaited by whoever drives the
    hook (our bus, or langchain-core's for its steps)."""

    def __init__(
        self,
        config: RunnableConfig,
        on_start: Callable[..., Any] | None,
        on_end: Callable[..., Any] | None,
        on_error: Callable[..., Any] | None,
    ) -> None:
        self.config = config
        self.listeners = {"start": on_start, "end": on_end, "error": on_error}
        self.run: ListenerRun | None = None

    # -- starts (the run types of langchain-core's steps too) ------------------------------
    def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> Any:
        return self._started("chain", serialized, inputs, kw)

    def on_llm_start(self, serialized: Any, prompts: list[str], **kw: Any) -> Any:
        return self._started("llm", serialized, {"prompts": prompts}, kw)

    def on_chat_model_start(self, serialized: Any, messages: list[list[Any]], **kw: Any) -> Any:
        return self._started("llm", serialized, {"messages": messages}, kw)

    def on_tool_start(self, serialized: Any, input_str: str, **kw: Any) -> Any:
        return self._started("tool", serialized, {"input": input_str}, kw)

    def on_retriever_start(self, serialized: Any, query: str, **kw: Any) -> Any:
        return self._started("retriever", serialized, {"query": query}, kw)

    # -- finishes --------------------------------------------------------------------------
    def on_chain_end(self, outputs: Any, **kw: Any) -> Any:
        return self._finished(outputs, None, kw)

    def on_llm_end(self, response: Any, **kw: Any) -> Any:
        return self._finished(response, None, kw)

    def on_tool_end(self, output: Any, **kw: Any) -> Any:
        return self._finished(output, None, kw)

    def on_retriever_end(self, documents: Any, **kw: Any) -> Any:
        return self._finished({"documents": documents}, None, kw)

    def on_chain_error(self, error: BaseException, **kw: Any) -> Any:
        return self._finished(None, error, kw)

    on_llm_error = on_tool_error = on_retriever_error = on_chain_error

    def _started(self, run_type: str, serialized: Any, inputs: Any, kw: dict[str, Any]) -> Any:
        if self.run is not None:
            return None
        name = kw.get("name") or (serialized or {}).get("name") or ""
        self.run = ListenerRun(
            id=kw["run_id"],
            name=name,
            run_type=run_type,
            inputs=inputs,
            tags=kw.get("tags"),
            metadata=kw.get("metadata"),
            parent_run_id=kw.get("parent_run_id"),
        )
        return self._call("start")

    def _finished(self, outputs: Any, error: BaseException | None, kw: dict[str, Any]) -> Any:
        run = self.run
        if run is None or kw.get("run_id") != run.id:
            return None
        run.end_time = datetime.now(timezone.utc)
        if "inputs" in kw:
            run.inputs = _as_dict(kw["inputs"], "input")
        if error is not None:
            run.error = _error_text(error)
            return self._call("error")
        run.outputs = _as_dict(outputs, "output")
        return self._call("end")

    def _call(self, which: str) -> Any:
        listener = self.listeners[which]
        if listener is None:
            return None
        if accepts_config(listener):
            return listener(self.run, config=self.config)
        return listener(self.run)


def listeners_factory(
    on_start: Callable[..., Any] | None,
    on_end: Callable[..., Any] | None,
    on_error: Callable[..., Any] | None,
) -> Callable[[RunnableConfig], RunnableConfig]:
    """The config factory of a listeners binding: a fresh handler in each call's callbacks
    (async listeners' coroutines are awaited where the hooks are called)."""

    def factory(config: RunnableConfig) -> RunnableConfig:
        return {"callbacks": [RootListeners(config, on_start, on_end, on_error)]}

    return factory
