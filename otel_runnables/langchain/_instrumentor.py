"""LangChainInstrumentor: one line that traces every langchain-core and LangGraph run.

It follows the OpenTelemetry instrumentor conventions (``opentelemetry-instrumentation``'s
``BaseInstrumentor``: one instance per class, ``instrument(tracer_provider=...)`` /
``uninstrument()``, ``instrumentation_dependencies()``, a warning when instrumenting twice) without
depending on that package, which pins ``opentelemetry-api`` to one release. It is registered under
the ``opentelemetry_instrumentor`` entry point as ``otel_runnables_langchain``, so
``opentelemetry-instrument python app.py`` loads it.

How it hooks in: langchain-core's public ``register_configure_hook`` adds the bridge's handler
to the callback manager of every run, in every thread (langchain-core has no way to unregister
a hook, so the hook reads a switch that ``uninstrument`` turns off, after which langchain-core
does not even call the bridge). The wrappers of :mod:`._context` make a run's span current for
its code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from contextvars import ContextVar
from importlib import metadata
from typing import Any

from opentelemetry import trace

from .._otel import SPAN_SINK, SpanSink
from ._handler import Bridge
from ._llm_start import fix_async_llm_start
from ._mixed import shared
from ._versions import supported, version_range

__all__ = ["LangChainInstrumentor"]

logger = logging.getLogger("otel_runnables")

_DEPENDENCY = "langchain-core >= 1.0, < 2"


class _Switch:
    """What the configure hook reads: the bridge's handler, or None (not instrumented)."""

    __slots__ = ("handler",)

    def __init__(self) -> None:
        self.handler: Bridge | None = None

    def get(self) -> Bridge | None:
        return self.handler


class _Forward:
    """The hook's handler on a langchain-core version the switch was not tested with: a
    ``ContextVar`` must hold it, so it stays and forwards to the bridge while there is one."""

    def __init__(self, switch: _Switch) -> None:
        self._switch = switch

    def __getattr__(self, name: str) -> Any:
        handler = self._switch.handler
        if handler is not None:
            return getattr(handler, name)
        if name.startswith("on_"):
            return _ignore
        return getattr(Bridge, name)


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


_SWITCH = _Switch()
_registered = False


def _register() -> None:
    """Register the configure hook, once per process."""
    global _registered
    if _registered:
        return
    from langchain_core.tracers.context import register_configure_hook

    if supported("langchain-core"):
        register_configure_hook(_SWITCH, inheritable=True)  # type: ignore[arg-type]
    else:
        forward = _Forward(_SWITCH)  # one object for the process, never mutated through the var
        var: ContextVar[Any] = ContextVar("otel_runnables_langchain", default=forward)
        register_configure_hook(var, inheritable=True)
    _registered = True


class LangChainInstrumentor:
    """Traces langchain-core and LangGraph applications: every run a span, with the mapping of
    otel_runnables' own runs, every custom event a span event.

    Example:
        >>> from otel_runnables.langchain import LangChainInstrumentor
        >>> LangChainInstrumentor().instrument()      # doctest: +SKIP
        >>> chain.invoke("hi")                         # doctest: +SKIP
        >>> LangChainInstrumentor().uninstrument()    # doctest: +SKIP
    """

    _instance: LangChainInstrumentor | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> LangChainInstrumentor:
        if cls._instance is None:
            cls._instance = object.__new__(cls)
            cls._instance._undo = []
            cls._instance._on = False
        return cls._instance

    _undo: list[Callable[[], None]]
    _on: bool

    @property
    def is_instrumented_by_opentelemetry(self) -> bool:
        """Whether :meth:`instrument` is in effect."""
        return self._on

    def instrumentation_dependencies(self) -> Collection[str]:
        """The distributions this instruments (requirement strings)."""
        return (_DEPENDENCY,)

    def instrument(self, **kwargs: Any) -> None:
        """Start tracing langchain-core runs.

        ``tracer_provider`` sends the spans of langchain-core runs to that provider (default:
        the provider of otel_runnables' own runs, the global one unless set with
        ``otel_runnables.tracing.use_tracer_provider``). Instrumenting twice warns and does
        nothing. A missing or unsupported langchain-core logs an error and instruments nothing
        (``skip_dep_check=True`` skips that check). Never raises: a failure is logged.
        """
        if self._on:
            logger.warning("Attempting to instrument while already instrumented")
            return
        if not kwargs.pop("skip_dep_check", False) and not self._dependencies_met():
            return
        try:
            self._instrument(kwargs.get("tracer_provider"))
        except Exception:
            logger.exception("otel_runnables.langchain: instrumenting langchain-core failed")
            self._uninstrument()

    def uninstrument(self, **kwargs: Any) -> None:
        """Stop tracing: new langchain-core runs are no longer seen (runs in flight end)."""
        if not self._on:
            logger.warning("Attempting to uninstrument while already uninstrumented")
            return
        self._uninstrument()

    # -- the work -------------------------------------------------------------------------------
    def _dependencies_met(self) -> bool:
        try:
            version = metadata.version("langchain-core")
        except metadata.PackageNotFoundError:
            logger.error(
                "otel_runnables.langchain instruments %r, but langchain-core is not installed:"
                " nothing is instrumented (pip install 'otel-runnables[langchain]')",
                _DEPENDENCY,
            )
            return False
        if supported("langchain-core"):
            return True
        logger.error(
            "otel_runnables.langchain instruments langchain-core %s, but %s is installed:"
            " nothing is instrumented",
            version_range("langchain-core"),
            version,
        )
        return False

    def _instrument(self, tracer_provider: trace.TracerProvider | None) -> None:
        bridge, patches = shared()
        if tracer_provider is not None:
            bridge.span_sink = SpanSink(options=SPAN_SINK.options, tracer_provider=tracer_provider)
        self._on = True
        self._undo.append(self._switch_off)
        patches.install()
        self._undo.append(patches.uninstall)
        undo_fix = fix_async_llm_start()
        if undo_fix is not None:
            self._undo.append(undo_fix)
        _register()
        _SWITCH.handler = bridge

    def _switch_off(self) -> None:
        _SWITCH.handler = None
        shared()[0].span_sink = SPAN_SINK
        self._on = False

    def _uninstrument(self) -> None:
        while self._undo:
            self._undo.pop()()
