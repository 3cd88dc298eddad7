"""Making a langchain-core run's span current while the run's own code executes.

Callbacks alone cannot do it: langchain-core calls async end hooks in a copied context and a
stream's hooks straddle its ``yield``s, so a span attached in a start hook would leak into the
caller or the consumer ("Failed to detach context"). langchain-core has no public extension
point for it, so the bridge wraps the private functions through which a run's code executes,
always attaching and detaching in the same context, around one synchronous slice or one await:

* ``set_config_context`` (langchain-core and LangGraph each have one): every runnable's code
  (lambdas, generators, tools, sequence and parallel steps, LangGraph nodes) runs in the private
  context it makes; the wrapper attaches the span of the run that owns the config's callbacks
  (``parent_run_id``) inside that context and detaches it there.
* ``BaseChatModel._generate_with_cache`` / ``_agenerate_with_cache`` and
  ``BaseLLM._generate_helper`` / ``_agenerate_helper`` (they get the run's manager).
* ``stream`` / ``astream`` of chat models and LLMs and ``invoke`` / ``ainvoke`` of retrievers,
  whose code runs in the caller's context: a :class:`~._handler.Slot` lets the start hook
  attach the new run's span, and the wrapper detaches it when the call or the step returns;
  later steps of a stream attach and detach around each pull.

Each wrapper is installed only on a langchain-core (and LangGraph) version the bridge was tested
with and only where the wrapped function is what it expects; otherwise that feature is off and
one warning says so. Spans, attributes and custom events do not depend on these wrappers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from importlib import metadata
from typing import Any

from opentelemetry import context as otel_context

from ._handler import Bridge, Slot
from ._streams import RunBox, astepped, counted, stepped, waiting
from ._versions import supported, version_range

__all__ = ["Patches"]

logger = logging.getLogger("otel_runnables")

# Cancellations after which langchain-core sends a model or retriever call no end.
_ABANDONING = (asyncio.CancelledError, KeyboardInterrupt)


class Patches:
    """The wrappers of one instrumentation, installed and removed together."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.installed = False
        self._undo: list[Callable[[], None]] = []
        self._langgraph = False
        self._lock = threading.Lock()

    # -- installing ----------------------------------------------------------------------------
    def install(self) -> None:
        with self._lock:
            if self.installed:
                return
            self.installed = True
        if not supported("langchain-core"):
            logger.warning(
                "otel_runnables.langchain: langchain-core %s is not a version this bridge was"
                " tested with (%s); runs are traced, but a run's span is not made current for"
                " its code",
                metadata.version("langchain-core"),
                version_range("langchain-core"),
            )
            return
        from langchain_core.language_models import BaseChatModel, BaseLLM
        from langchain_core.retrievers import BaseRetriever
        from langchain_core.runnables import Runnable
        from langchain_core.runnables import config as lc_config

        self._wrap_config_context(lc_config)
        self._replace(Runnable, "_transform_stream_with_config", self._counting)
        self._replace(Runnable, "_atransform_stream_with_config", self._acounting)
        self._replace(BaseChatModel, "_generate_with_cache", self._in_span)
        self._replace(BaseChatModel, "_agenerate_with_cache", self._ain_span)
        self._replace(BaseLLM, "_generate_helper", self._in_span)
        self._replace(BaseLLM, "_agenerate_helper", self._ain_span)
        for owner, run_type in ((BaseChatModel, "chat_model"), (BaseLLM, "llm")):
            self._replace(owner, "stream", functools.partial(self._stream, run_type))
            self._replace(owner, "astream", functools.partial(self._astream, run_type))
        self._replace(BaseRetriever, "invoke", functools.partial(self._call, "retriever"))
        self._replace(BaseRetriever, "ainvoke", functools.partial(self._acall, "retriever"))
        self.langgraph_loaded()

    def langgraph_loaded(self) -> None:
        """Wrap LangGraph's ``set_config_context`` once its module is imported."""
        if self._langgraph or "langgraph._internal._runnable" not in sys.modules:
            return
        with self._lock:
            if self._langgraph or not self.installed:
                return
            self._langgraph = True
            if not supported("langgraph"):
                logger.warning(
                    "otel_runnables.langchain: langgraph %s is not a version this bridge was"
                    " tested with (%s); graph nodes are traced, but a node's span is not made"
                    " current for its code",
                    metadata.version("langgraph"),
                    version_range("langgraph"),
                )
                return
            module = sys.modules["langgraph._internal._runnable"]
            self._wrap_config_context(module)
            if sys.version_info < (3, 11):
                # LangGraph runs an async node with no config context of its own before
                # Python 3.11 (no create_task(context=)): the node's start attaches its span.
                self._replace(module.RunnableCallable, "ainvoke", self._traced_node)
                self._replace(
                    module.RunnableSeq, "ainvoke", functools.partial(self._acall, "chain")
                )

    def uninstall(self) -> None:
        with self._lock:
            for undo in reversed(self._undo):
                undo()
            self._undo.clear()
            self._langgraph = False
            self.installed = False

    def _replace(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__.get(name)
        if not callable(original):
            logger.warning(
                "otel_runnables.langchain: %s.%s not found; a %s run's span is not made current",
                owner.__name__,
                name,
                owner.__name__,
            )
            return
        wrapper = functools.wraps(original)(make(original))
        setattr(owner, name, wrapper)

        def undo() -> None:
            if owner.__dict__.get(name) is wrapper:
                setattr(owner, name, original)

        self._undo.append(undo)

    def _wrap_config_context(self, module: Any) -> None:
        """Wrap ``module.set_config_context`` and every module-level reference to it."""
        original = getattr(module, "set_config_context", None)
        if not callable(original):
            logger.warning("otel_runnables.langchain: %s.set_config_context not found", module)
            return
        wrapper = functools.wraps(original)(self._config_context(original))
        holders = [m for m in list(sys.modules.values()) if _holds(m, original)]
        for holder in holders:
            setattr(holder, "set_config_context", wrapper)  # noqa: B010 - any module

        def undo() -> None:
            for holder in holders:
                if getattr(holder, "set_config_context", None) is wrapper:
                    setattr(holder, "set_config_context", original)  # noqa: B010

        self._undo.append(undo)

    # -- the wrappers --------------------------------------------------------------------------
    def _config_context(self, original: Callable[..., Any]) -> Callable[..., Any]:
        bridge = self.bridge

        @contextlib.contextmanager
        def set_config_context(config: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
            with original(config, *args, **kwargs) as ctx:
                callbacks = config.get("callbacks") if isinstance(config, dict) else None
                run = bridge.run_of(getattr(callbacks, "parent_run_id", None))
                span_context = None if run is None else run.otel_context
                if span_context is None:
                    yield ctx
                    return
                token = ctx.run(otel_context.attach, span_context)
                try:
                    yield ctx
                finally:
                    ctx.run(otel_context.detach, token)

        return set_config_context

    def _counting(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """A streamed chain run reports each chunk, and a consumer that stops it early marks it
        cancelled, as for a native streamed run (langchain-core ends it as if it completed)."""
        bridge = self.bridge

        def transform_stream(
            self_: Any, inputs: Any, transformer: Any, *args: Any, **kwargs: Any
        ) -> Iterator[Any]:
            box = RunBox()
            stream = original(self_, inputs, counted(bridge, transformer, box), *args, **kwargs)
            try:
                # not yield from: on close it would close the stream before this frame sees
                # GeneratorExit, and langchain-core would end the run as completed
                for chunk in stream:  # noqa: UP028
                    yield chunk
            except GeneratorExit:
                box.cancel()
                raise
            finally:
                stream.close()

        return transform_stream

    def _acounting(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """Async twin of :meth:`_counting`."""
        bridge = self.bridge

        async def atransform_stream(
            self_: Any, inputs: Any, transformer: Any, *args: Any, **kwargs: Any
        ) -> AsyncIterator[Any]:
            box = RunBox()
            transform = counted(bridge, transformer, box)
            try:
                stream = original(self_, inputs, transform, *args, **kwargs)
                async for chunk in stream:
                    yield chunk
            except GeneratorExit:
                box.cancel()
                raise
            finally:
                await stream.aclose()

        return atransform_stream

    def _in_span(self, original: Callable[..., Any]) -> Callable[..., Any]:
        bridge = self.bridge

        def call(self_: Any, *args: Any, **kwargs: Any) -> Any:
            run = bridge.run_of(_run_id(args, kwargs))
            if run is None or run.otel_context is None:
                return original(self_, *args, **kwargs)
            token = otel_context.attach(run.otel_context)
            try:
                return original(self_, *args, **kwargs)
            finally:
                otel_context.detach(token)

        return call

    def _ain_span(self, original: Callable[..., Any]) -> Callable[..., Any]:
        bridge = self.bridge

        async def call(self_: Any, *args: Any, **kwargs: Any) -> Any:
            run = bridge.run_of(_run_id(args, kwargs))
            token = None
            if run is not None and run.otel_context is not None:
                token = otel_context.attach(run.otel_context)
            try:
                return await original(self_, *args, **kwargs)
            except _ABANDONING as exc:
                bridge.abandon(run, exc)
                raise
            finally:
                if token is not None:
                    otel_context.detach(token)

        return call

    @staticmethod
    def _call(run_type: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(self_: Any, *args: Any, **kwargs: Any) -> Any:
            slot = Slot(run_type)
            with waiting(slot):
                return original(self_, *args, **kwargs)

        return call

    def _acall(self, run_type: str, original: Callable[..., Any]) -> Callable[..., Any]:
        bridge = self.bridge

        async def call(self_: Any, *args: Any, **kwargs: Any) -> Any:
            slot = Slot(run_type)
            with waiting(slot):
                try:
                    return await original(self_, *args, **kwargs)
                except _ABANDONING as exc:
                    bridge.abandon(slot.run, exc)
                    raise

        return call

    def _traced_node(self, original: Callable[..., Any]) -> Callable[..., Any]:
        traced = self._acall("chain", original)

        async def ainvoke(self_: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(self_, "trace", False) and getattr(self_, "afunc", None) is not None:
                return await traced(self_, *args, **kwargs)
            return await original(self_, *args, **kwargs)

        return ainvoke

    @staticmethod
    def _stream(run_type: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def stream(self_: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
            return stepped(Slot(run_type), original(self_, *args, **kwargs))

        return stream

    @staticmethod
    def _astream(run_type: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def astream(self_: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            return astepped(Slot(run_type), original(self_, *args, **kwargs))

        return astream


def _holds(module: Any, function: Any) -> bool:
    """Whether ``module`` has its own reference to ``function``, read from its namespace: a
    module-level ``__getattr__`` (langchain-core's lazy imports) is never called."""
    namespace = getattr(module, "__dict__", None)
    return isinstance(namespace, dict) and namespace.get("set_config_context") is function


def _run_id(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The run id of the ``run_manager`` (or the one of ``run_managers``) a call got."""
    manager = kwargs.get("run_manager")
    if manager is None:
        managers = kwargs.get("run_managers")
        if managers is None:
            managers = next(
                (a for a in args if isinstance(a, list) and a and _is_manager(a[0])), None
            )
        if managers is not None and len(managers) == 1:
            manager = managers[0]
        else:
            manager = next((a for a in args if _is_manager(a)), None)
    return getattr(manager, "run_id", None)


def _is_manager(value: Any) -> bool:
    return hasattr(value, "run_id") and hasattr(value, "on_llm_end")
