"""The run lifecycle, written once: ids, parenting, fan-out to the sinks, custom events.

A :class:`Run` is created from a resolved config. It owns its id, its parent, its tags and
metadata, and the list of handlers it inherited; every transition (start, chunk, custom event,
end, error) fans out to the span sink, to the built-in sinks it inherited (the event stream of
``astream_events``) and to the callback handlers, in that order and with the same data.

Children do not receive the parent run through globals: a run gives its children a
:class:`~._scope.Scope` in ``config["callbacks"]`` (what langchain-core calls the child callback
manager; :mod:`._scope` owns the inheritance rules), and while the run executes user code it is
the current run in the ``ContextVar`` of :mod:`._config`, whose entry points then derive its
child config. That child config is made only when something asks for it: a leaf step that
neither takes a ``config`` nor starts a child nor dispatches never pays for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context

from . import _otel
from ._callbacks import acall_handlers, call_handlers
from ._config import RunnableConfig, ensure_config, others_ready, patch_config, var_current_run
from ._ids import id_text, new_id_bits, uuid_from_bits
from ._scope import Scope, resolve
from ._sink import Sink

__all__ = ["Run", "adispatch_custom_event", "dispatch_custom_event"]

logger = logging.getLogger("otel_runnables")


_NO_PARENT_MESSAGE = (
    "Unable to dispatch an adhoc event without a parent run id."
    "This function can only be called from within an existing run (e.g.,"
    "inside a tool or a RunnableLambda or a RunnableGenerator.)"
    "If you are doing that and still seeing this error, try explicitly"
    "passing the config parameter to this function."
)
_MISSING: Any = object()


_SPAN_ONLY: list[Sink] = [_otel.SPAN_SINK]  # shared by every run without other sinks; never mutated


def _split(handlers: list[Any]) -> tuple[list[Sink], list[Any]]:
    if not handlers:
        return _SPAN_ONLY, handlers
    sinks: list[Sink] = [_otel.SPAN_SINK]
    callbacks: list[Any] = []
    for handler in handlers:
        (sinks if isinstance(handler, Sink) else callbacks).append(handler)
    return sinks, callbacks


def _each_sink(sinks: list[Sink], hook: str, *args: Any) -> None:
    for sink in sinks:
        try:
            getattr(sink, hook)(*args)
        except Exception:
            logger.exception("otel_runnables sink %s.%s failed", type(sink).__name__, hook)


async def _anotify(
    sinks: list[Sink],
    handlers: list[Any],
    sink_hook: str,
    sink_args: tuple[Any, ...],
    hook: str,
    ignore: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | Callable[[], dict[str, Any]],
    *,
    trailing: bool = True,
) -> None:
    """One bus transition from async code.

    The span sink runs at once. Handlers with ``run_inline`` follow; the other handlers are
    then called between two scheduling points, where langchain-core runs them as tasks, so
    that concurrent runs interleave the same way on both in the common cases (the
    differential suite checks them). An ``astream_events`` stream alone adds no scheduling
    point: that keeps its throughput high, and its consumer sees the same events in the same
    per-run order either way.
    """
    span_sink, others = sinks[0], sinks[1:]
    _each_sink([span_sink], sink_hook, *sink_args)
    if not handlers and not others:
        return
    if callable(kwargs):
        kwargs = kwargs()
    inline = [h for h in handlers if getattr(h, "run_inline", False)]
    if inline:
        await acall_handlers(inline, hook, ignore, args, kwargs)
        handlers = [h for h in handlers if h not in inline]
    if not handlers:
        _each_sink(others, sink_hook, *sink_args)
        return
    if others_ready():
        await asyncio.sleep(0)
    _each_sink(others, sink_hook, *sink_args)
    await acall_handlers(handlers, hook, ignore, args, kwargs)
    if trailing and others_ready():
        await asyncio.sleep(0)


class Run:
    """One execution of a runnable, from start to end or error.

    Example:
        >>> run = Run.start(ensure_config(), "demo", {"x": 1})
        >>> run.end({"y": 2})
    """

    __slots__ = (
        "_current_config",
        "_id_bits",
        "_id_text",
        "_otel_token",
        "_run_id",
        "_token",
        "cancelled",
        "chunks",
        "config",
        "event_target",
        "first_chunk_ns",
        "handlers",
        "inheritable_tags",
        "inputs",
        "metadata",
        "name",
        "observed",
        "otel_context",
        "parent",
        "run_type",
        "sinks",
        "span",
        "start_ns",
        "tags",
    )

    def __init__(
        self, config: RunnableConfig, name: str, inputs: Any, run_type: str = "chain"
    ) -> None:
        parent, handlers, tags, inheritable, metadata = resolve(config)
        run_id = config.get("run_id")
        if run_id is None:
            self._run_id: uuid.UUID | None = None
            self._id_bits = new_id_bits()
        else:
            if not isinstance(run_id, uuid.UUID):
                run_id = uuid.UUID(str(run_id))
            self._run_id = run_id
            self._id_bits = run_id.int
        self._id_text: str | None = None
        self.config = config
        self._current_config: RunnableConfig | None = None
        self.event_target: _EventTarget | None = None  # what dispatches from its code reach
        self.parent = parent
        self.name = config.get("run_name") or name
        self.run_type = run_type
        self.tags = tags
        self.inheritable_tags = inheritable
        self.metadata = metadata
        self.inputs = inputs
        # Seen by handlers or an event stream (else only by the span sink, and the async
        # transitions have no scheduling point to keep: they run synchronously).
        self.observed = bool(handlers)
        self.sinks, self.handlers = _split(handlers)
        self.span: Any = None
        self.otel_context: Any = None
        self.start_ns = time.time_ns()
        self.chunks = 0
        self.first_chunk_ns = 0
        self.cancelled = False

    # -- construction ------------------------------------------------------------------
    @classmethod
    def start(cls, config: RunnableConfig, name: str, inputs: Any, run_type: str = "chain") -> Run:
        """Create a run and announce it to every sink (sync handlers)."""
        run = cls(config, name, inputs, run_type)
        _each_sink(run.sinks, "on_start", run)
        if run.handlers:
            try:
                call_handlers(
                    run.handlers,
                    "on_chain_start",
                    "ignore_chain",
                    (None, inputs),
                    run._start_kwargs(),
                )
            except BaseException as exc:  # a raise_error handler: the run ends here
                _each_sink(run.sinks, "on_error", run, exc, inputs)
                raise
        return run

    @classmethod
    async def astart(
        cls, config: RunnableConfig, name: str, inputs: Any, run_type: str = "chain"
    ) -> Run:
        """Create a run and announce it to every sink (async handlers awaited)."""
        run = cls(config, name, inputs, run_type)
        if not run.observed:
            _each_sink(run.sinks, "on_start", run)
            return run
        try:
            await _anotify(
                run.sinks,
                run.handlers,
                "on_start",
                (run,),
                "on_chain_start",
                "ignore_chain",
                (None, inputs),
                run._start_kwargs,
                trailing=False,
            )
        except BaseException as exc:  # a raise_error handler, or cancelled before announcing
            _each_sink(run.sinks, "on_error", run, exc, inputs)
            raise
        if run.handlers and others_ready():
            try:
                await asyncio.sleep(0)
            except BaseException as exc:  # cancelled once everybody has seen the start
                await run.aerror(exc)
                raise
        return run

    def _start_kwargs(self) -> dict[str, Any]:
        kwargs = self._handler_kwargs()
        kwargs.update(metadata=self.metadata, run_type=None, name=self.name)
        return kwargs

    @property
    def run_id(self) -> uuid.UUID:
        """This run's id (what handlers receive as ``run_id``)."""
        run_id = self._run_id
        if run_id is None:
            run_id = self._run_id = uuid_from_bits(self._id_bits)
        return run_id

    @property
    def run_id_text(self) -> str:
        """``str(self.run_id)``, made once (spans and event streams carry the text)."""
        text = self._id_text
        if text is None:
            text = self._id_text = id_text(self._id_bits)
        return text

    @property
    def parent_run_id(self) -> uuid.UUID | None:
        """Id of the parent run, or None for a root run."""
        return None if self.parent is None else self.parent.run_id

    def _handler_kwargs(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "parent_run_id": self.parent_run_id, "tags": self.tags}

    # -- children ----------------------------------------------------------------------
    def child(self, tag: str | None = None) -> Scope:
        """The scope for a child run; ``tag`` (e.g. ``seq:step:1``) is given to it alone."""
        every = [*self.handlers, *self.sinks[1:]]
        return Scope(self, every, self.inheritable_tags, self.metadata, tag)

    def child_config(self, tag: str | None = None) -> RunnableConfig:
        """This run's config for a child run; ``tag`` (e.g. ``seq:step:1``) is its alone."""
        return patch_config(self.config, callbacks=self.child(tag))

    def current_config(self) -> RunnableConfig:
        """The config this run's own code runs under (an untagged child config).

        Made once, on first use: by a function that takes ``config``, by a child run started
        without one, by a dispatch.
        """
        config = self._current_config
        if config is None:
            config = self._current_config = self.child_config()
        return config

    # -- making the run current -------------------------------------------------------
    def __enter__(self) -> Run:
        """Make this run and its span current around one synchronous slice of its code.

        Only the run's own template enters it, one slice at a time (never nested), so the
        tokens live on the run.
        """
        self._token = var_current_run.set(self)
        span_context = self.otel_context
        self._otel_token = None if span_context is None else otel_context.attach(span_context)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._otel_token is not None:
            otel_context.detach(self._otel_token)
        var_current_run.reset(self._token)

    # -- transitions -------------------------------------------------------------------
    def chunk(self, chunk: Any) -> None:
        """Report one streamed output chunk (sinks only: handlers have no chunk hook)."""
        if self.chunks == 0:
            self.first_chunk_ns = time.time_ns()
        self.chunks += 1
        _each_sink(self.sinks, "on_chunk", self, chunk)

    def _release(self) -> None:
        # Both caches lead back to this run (the child config's scope, the event target):
        # dropping them once it has ended lets reference counting free it, with no cycle left
        # for the garbage collector.
        self._current_config = None
        self.event_target = None

    def end(self, outputs: Any, inputs: Any = _MISSING) -> None:
        """The run returned ``outputs``."""
        self._release()
        _each_sink(self.sinks, "on_end", self, outputs, self._final_inputs(inputs))
        if self.handlers:
            kwargs = self._end_kwargs(inputs)
            call_handlers(self.handlers, "on_chain_end", "ignore_chain", (outputs,), kwargs)

    async def aend(self, outputs: Any, inputs: Any = _MISSING) -> None:
        """The run returned ``outputs`` (async handlers awaited)."""
        if not self.observed:
            self.end(outputs, inputs)
            return
        self._release()
        await _anotify(
            self.sinks,
            self.handlers,
            "on_end",
            (self, outputs, self._final_inputs(inputs)),
            "on_chain_end",
            "ignore_chain",
            (outputs,),
            lambda: self._end_kwargs(inputs),
        )

    def error(self, error: BaseException, inputs: Any = _MISSING) -> None:
        """The run raised ``error``."""
        self._release()
        _each_sink(self.sinks, "on_error", self, error, self._final_inputs(inputs))
        if self.handlers:
            kwargs = self._end_kwargs(inputs)
            call_handlers(self.handlers, "on_chain_error", "ignore_chain", (error,), kwargs)

    async def aerror(self, error: BaseException, inputs: Any = _MISSING) -> None:
        """The run raised ``error`` (async handlers awaited)."""
        if not self.observed:
            self.error(error, inputs)
            return
        self._release()
        await _anotify(
            self.sinks,
            self.handlers,
            "on_error",
            (self, error, self._final_inputs(inputs)),
            "on_chain_error",
            "ignore_chain",
            (error,),
            lambda: self._end_kwargs(inputs),
        )

    def _final_inputs(self, inputs: Any) -> Any:
        return self.inputs if inputs is _MISSING else inputs

    def _end_kwargs(self, inputs: Any) -> dict[str, Any]:
        kwargs = self._handler_kwargs()
        if inputs is not _MISSING:
            kwargs["inputs"] = inputs
        return kwargs


_EventTarget = tuple[Run, list[Sink], list[Any], dict[str, Any]]


def _event_target(name: Any, config: RunnableConfig | None) -> _EventTarget:
    if not isinstance(name, str):
        raise TypeError(f"custom event name must be a str, got {type(name).__name__}: {name!r}")
    if config is None:
        # Every dispatch from one run's code reaches the same target: resolve it once.
        current = var_current_run.get()
        if isinstance(current, Run):
            target = current.event_target
            if target is None:
                target = current.event_target = _resolve_event_target(current.current_config())
            return target
    return _resolve_event_target(ensure_config(config))


def _resolve_event_target(config: RunnableConfig) -> _EventTarget:
    parent, handlers, tags, _, metadata = resolve(config)
    if parent is None:
        raise RuntimeError(_NO_PARENT_MESSAGE)
    sinks, callbacks = _split(handlers)
    kwargs = {"run_id": parent.run_id, "tags": tags, "metadata": metadata}
    return parent, sinks, callbacks, kwargs


def dispatch_custom_event(name: str, data: Any, *, config: RunnableConfig | None = None) -> None:
    """Dispatch a custom event from inside a run, to its span and every handler and stream.

    ``data`` reaches callback handlers and ``astream_events`` as the very same object; on the
    span it becomes event attributes (see the span-mapping reference). Outside a run it raises
    ``RuntimeError``; a name that is not a ``str`` raises ``TypeError``.

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> def step(x):
        ...     dispatch_custom_event("progress", {"done": 1, "of": 2})
        ...     return x
        >>> RunnableLambda(step).invoke(1)
        1
    """
    run, sinks, callbacks, kwargs = _event_target(name, config)
    _each_sink(sinks, "on_custom_event", run, name, data, kwargs["tags"], kwargs["metadata"])
    if callbacks:
        call_handlers(callbacks, "on_custom_event", "ignore_custom_event", (name, data), kwargs)


async def adispatch_custom_event(
    name: str, data: Any, *, config: RunnableConfig | None = None
) -> None:
    """Async twin of :func:`dispatch_custom_event` (async handlers are awaited).

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> async def step(x):
        ...     await adispatch_custom_event("progress", {"done": 1})
        ...     return x
    """
    run, sinks, callbacks, kwargs = _event_target(name, config)
    sink_args = (run, name, data, kwargs["tags"], kwargs["metadata"])
    await _anotify(
        sinks,
        callbacks,
        "on_custom_event",
        sink_args,
        "on_custom_event",
        "ignore_custom_event",
        (name, data),
        kwargs,
    )
