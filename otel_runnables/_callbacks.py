"""Callback handler base classes and the one error policy for sync and async handlers.

A handler hook that raises is logged as ``Error in <Handler>.<hook> callback: <repr>`` (logger
``otel_runnables``) and skipped, so the run and the other sinks carry on. A handler with
``raise_error = True`` makes the exception propagate into the run instead. The policy is the
same whether the handler is sync or async and whether the run is sync or async (langchain-core
swallows async-handler errors when it drives them from sync code; we do not).

How hooks are driven:
- a sync run calls sync hooks directly and runs async hooks to completion before going on: on
  the event loop of the enclosing async run when called from its worker thread, otherwise on a
  private event loop;
- an async run awaits async hooks and runs sync hooks in the event loop's default executor
  (a worker thread, with a copy of the context), as langchain-core does, so that a sync hook
  that blocks does not stall the loop; handlers with ``run_inline`` are called on the loop
  thread itself. The run waits for each hook before going on, so every handler sees a run's
  events in the order they happened. Hooks a handler does not override are not called.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple
from uuid import UUID

__all__ = [
    "CHAIN_END",
    "CHAIN_ERROR",
    "CHAIN_START",
    "CUSTOM_EVENT",
    "AsyncCallbackHandler",
    "BaseCallbackHandler",
    "Hook",
    "acall_handlers",
    "call_handlers",
    "home_loop",
]

logger = logging.getLogger("otel_runnables")


class BaseCallbackHandler:
    """Base class of callback handlers; every hook does nothing unless overridden.

    Hooks run on the thread of the run that triggered them, except in async runs, where sync
    hooks run in the event loop's default executor (unless ``run_inline``); the run waits for
    each hook.
    Attributes are class-level flags, as in langchain-core.

    Example:
        >>> class Printer(BaseCallbackHandler):
        ...     def on_custom_event(self, name, data, *, run_id, tags=None, metadata=None, **kw):
        ...         print(name, data)
    """

    raise_error: bool = False
    """Propagate exceptions raised by this handler's hooks into the run."""
    run_inline: bool = False
    """In async runs, call this handler before the handlers without ``run_inline``, and its
    sync hooks on the event loop's thread (they must not block)."""
    ignore_llm: bool = False
    ignore_retry: bool = False
    ignore_chain: bool = False
    """Skip on_chain_start / on_chain_end / on_chain_error."""
    ignore_agent: bool = False
    ignore_retriever: bool = False
    ignore_chat_model: bool = False
    ignore_custom_event: bool = False
    """Skip on_custom_event."""

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A run started. ``kwargs`` holds ``name`` and ``run_type``."""

    def on_chain_end(
        self,
        outputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A run ended; streamed runs also pass their accumulated ``inputs``."""

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A run raised ``error`` (which then propagates to the caller)."""

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The run ``run_id`` dispatched a custom event; ``data`` is the very object passed."""

    # The hooks of langchain-core's other run types (chat models, LLMs, tools, retrievers),
    # called for the langchain-core steps of a pipeline; the keyword arguments are
    # langchain-core's (``run_id``, ``parent_run_id``, ``tags``, ``metadata``, ``name`` ...).

    def on_chat_model_start(self, serialized: Any, messages: list[list[Any]], **kwargs: Any) -> Any:
        """A chat model run started. Not overridden: the run is reported to
        :meth:`on_llm_start` instead, with the messages as text (langchain-core's rule)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement on_chat_model_start")

    def on_llm_start(self, serialized: Any, prompts: list[str], **kwargs: Any) -> Any:
        """A model run started."""

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> Any:
        """A model run streamed a token (``chunk``: the chunk it came in)."""

    def on_stream_event(self, event: Any, **kwargs: Any) -> Any:
        """A chat model streamed a protocol event (``astream_events(version="v3")``)."""

    def on_llm_end(self, response: Any, **kwargs: Any) -> Any:
        """A model run ended with ``response`` (an ``LLMResult``)."""

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> Any:
        """A model run raised ``error``."""

    def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> Any:
        """A tool run started (``inputs``: its arguments)."""

    def on_tool_end(self, output: Any, **kwargs: Any) -> Any:
        """A tool run ended."""

    def on_tool_error(self, error: BaseException, **kwargs: Any) -> Any:
        """A tool run raised ``error``."""

    def on_retriever_start(self, serialized: Any, query: str, **kwargs: Any) -> Any:
        """A retriever run started."""

    def on_retriever_end(self, documents: Any, **kwargs: Any) -> Any:
        """A retriever run ended with ``documents``."""

    def on_retriever_error(self, error: BaseException, **kwargs: Any) -> Any:
        """A retriever run raised ``error``."""

    def on_agent_action(self, action: Any, **kwargs: Any) -> Any:
        """An agent chose an action."""

    def on_agent_finish(self, finish: Any, **kwargs: Any) -> Any:
        """An agent finished."""

    def on_text(self, text: str, **kwargs: Any) -> Any:
        """A run printed ``text``."""

    def on_retry(self, retry_state: Any, **kwargs: Any) -> Any:
        """A model call is being retried."""


async def _nothing(self: Any, *args: Any, **kwargs: Any) -> None:
    """Does nothing unless overridden (with ``async def``)."""


class AsyncCallbackHandler(BaseCallbackHandler):
    """Base class of async callback handlers: override hooks with ``async def``.

    The hooks take the arguments of :class:`BaseCallbackHandler`'s; each does nothing unless
    overridden.

    Example:
        >>> class Progress(AsyncCallbackHandler):
        ...     async def on_custom_event(self, name, data, *, run_id, **kw):
        ...         print("progress", data)
    """

    on_chain_start = on_chain_end = on_chain_error = on_custom_event = _nothing
    on_llm_start = on_llm_new_token = on_llm_end = on_llm_error = on_stream_event = _nothing
    on_tool_start = on_tool_end = on_tool_error = _nothing
    on_retriever_start = on_retriever_end = on_retriever_error = _nothing
    on_agent_action = on_agent_finish = on_text = on_retry = _nothing

    async def on_chat_model_start(
        self, serialized: Any, messages: list[list[Any]], **kwargs: Any
    ) -> Any:
        """As :meth:`BaseCallbackHandler.on_chat_model_start`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement on_chat_model_start")


class Hook(NamedTuple):
    """A handler hook as the bus calls it: the method's name and its ``ignore_*`` flag."""

    name: str
    ignore: str


def _hook(method: Callable[..., Any], ignore: str) -> Hook:
    # Made from the method itself, so that a misspelt hook fails at import, not at run time.
    if not isinstance(getattr(BaseCallbackHandler, ignore, None), bool):
        raise AttributeError(f"BaseCallbackHandler has no flag {ignore!r}")
    return Hook(method.__name__, ignore)


CHAIN_START = _hook(BaseCallbackHandler.on_chain_start, "ignore_chain")
CHAIN_END = _hook(BaseCallbackHandler.on_chain_end, "ignore_chain")
CHAIN_ERROR = _hook(BaseCallbackHandler.on_chain_error, "ignore_chain")
CUSTOM_EVENT = _hook(BaseCallbackHandler.on_custom_event, "ignore_custom_event")


home_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "otel_runnables_home_loop", default=None
)
"""The event loop of the async run whose worker thread this is (set by the runtime's executor)."""


def _report(handler: BaseCallbackHandler, hook: str, exc: Exception) -> None:
    logger.warning("Error in %s.%s callback: %r", type(handler).__name__, hook, exc)
    if handler.raise_error:
        raise exc


def _run_coroutine(coro: Coroutine[Any, Any, Any]) -> None:
    """Run an async hook to completion from sync code, without blocking a running loop."""
    home = home_loop.get()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is None and home is not None and home.is_running():
        asyncio.run_coroutine_threadsafe(coro, home).result()
    elif running is None:
        asyncio.run(coro)
    else:
        # A sync hook call from inside a running loop: run it on a private loop elsewhere.
        box: list[BaseException] = []

        def target() -> None:
            try:
                asyncio.run(coro)
            except BaseException as exc:
                box.append(exc)

        worker = threading.Thread(target=target, name="otel-runnables-callback")
        worker.start()
        worker.join()
        if box:
            raise box[0]


def call_handlers(
    handlers: list[Any], hook: Hook, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Call ``hook`` on every handler in order, from sync code, applying the error policy."""
    name, ignore = hook
    for handler in handlers:
        if getattr(handler, ignore, False):
            continue
        try:
            result = getattr(handler, name)(*args, **kwargs)
            if result is not None and asyncio.iscoroutine(result):
                _run_coroutine(result)
        except Exception as exc:
            _report(handler, name, exc)


_NOTHING, _ASYNC, _SYNC = 0, 1, 2
_NO_OPS = frozenset(  # the hooks of the base classes, which do nothing
    {
        _nothing,
        *(
            value
            for name, value in vars(BaseCallbackHandler).items()
            if name.startswith("on_") and name != "on_chat_model_start"
        ),
    }
)
_kinds: dict[Any, int] = {}


def _kind(method: Any) -> int:
    """Whether a hook is a default that does nothing, a coroutine function or sync."""
    func = getattr(method, "__func__", method)
    try:
        return _kinds[func]
    except KeyError:
        kind = _NOTHING if func in _NO_OPS else _SYNC
    except TypeError:  # an unhashable callable: not one of ours, not cached
        return _ASYNC if inspect.iscoroutinefunction(method) else _SYNC
    if kind == _SYNC and inspect.iscoroutinefunction(method):
        kind = _ASYNC
    if len(_kinds) > 4096:  # (hooks assigned per instance: keep the cache bounded)
        _kinds.clear()
    _kinds[func] = kind
    return kind


async def acall_handlers(
    handlers: list[Any],
    hook: Hook,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    interrupted: list[Any] | None = None,
    inline: bool = False,
) -> None:
    """Call ``hook`` on every handler in order, from async code, applying the error policy.

    Sync hooks run in the loop's default executor unless ``inline`` (the handlers with
    ``run_inline``, which the bus calls first, as langchain-core does). A cancellation that
    interrupts one handler's hook does not keep the event from the others; it is raised once
    all were called (``interrupted`` collects the handlers whose hook it cut short; a sync hook
    running in a worker thread is waited for instead, unless cancelled twice).
    """
    name, ignore = hook
    cancelled = None
    for handler in handlers:
        if getattr(handler, ignore, False):
            continue
        try:
            method = getattr(handler, name)
            kind = _kind(method)
            if kind == _NOTHING:
                continue
            if kind == _SYNC and not inline:
                done, stopped = await _in_worker(method, args, kwargs)
                if stopped is not None:
                    cancelled = stopped
                if not done.done():  # cancelled twice: it finishes in its thread
                    continue
                result = done.result()
            else:
                result = method(*args, **kwargs)
            if asyncio.iscoroutine(result):
                await result
        except Exception as exc:
            _report(handler, name, exc)
        except asyncio.CancelledError as exc:  # the others still get the event
            cancelled = exc
            if interrupted is not None:
                interrupted.append(handler)
    if cancelled is not None:
        raise cancelled


async def _in_worker(
    method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[asyncio.Future[Any], asyncio.CancelledError | None]:
    """A sync hook called in the loop's default executor, and a cancellation that arrived
    while it ran: the hook is waited for all the same (it runs anyway, and its handler must
    see the run's next event after it), unless a second cancellation comes."""
    future = _off_the_loop(method, args, kwargs)
    cancelled = None
    for _ in range(2):
        try:
            await asyncio.shield(future)
            break
        except asyncio.CancelledError as exc:
            if future.cancelled():  # (the loop is closing)
                raise
            if cancelled is not None:
                break
            cancelled = exc
        except Exception:  # the hook raised: the caller reads it from the future
            break
    return future, cancelled


def _off_the_loop(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``method(*args, **kwargs)`` in the running loop's default executor, in a copy of the
    context (whose async hooks would run back on this loop)."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    context.run(home_loop.set, loop)
    call = functools.partial(method, *args, **kwargs)
    return loop.run_in_executor(None, context.run, call)
