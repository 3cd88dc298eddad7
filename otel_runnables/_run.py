"""The run lifecycle, written once: ids, parenting, and every transition of a run on the bus.

A :class:`Run` is made from its :class:`~._scope.Lineage` (what :func:`~._scope.resolve` finds
in a config, or what another source of runs knows). It owns its id, its parent, its tags and
metadata, the handlers and sinks it inherited, and its span sink. Every transition (start,
chunk, custom event, end, error) goes first to the span sink, then to the other built-in sinks
(the event stream of ``astream_events``), then to the callback handlers (:mod:`._bus`).

Children do not receive the parent run through globals: a run gives its children a
:class:`~._scope.Scope` in ``config["callbacks"]`` (what langchain-core calls the child callback
manager), and while the run executes user code it is the current run in the ``ContextVar`` of
:mod:`._config`, whose entry points then derive its child config. That child config is made only
when something asks for it: a leaf step that neither takes a ``config`` nor starts a child nor
dispatches never pays for it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context

from ._bus import Notice, SinkCall, anotify, notify, settle, sink_failed, to_sinks
from ._callbacks import CHAIN_END, CHAIN_ERROR, CHAIN_START
from ._config import RunnableConfig, others_ready, patch_config, var_current_run
from ._ids import id_text, new_id_bits, uuid_from_bits
from ._otel import SPAN_SINK, SpanDetail, SpanSink
from ._scope import Lineage, Scope, resolve

if TYPE_CHECKING:
    from ._dispatch import EventTarget
    from ._sink import Sink

__all__ = ["MISSING", "PENDING_INPUT", "Run", "checked_run_id"]

MISSING: Any = object()
"""Default of the ``inputs`` argument of the end transitions: the run's input is final."""

_new_tuple = tuple.__new__

PENDING_INPUT = {"input": ""}
"""What handlers receive as the start input of a streamed run (langchain-core's convention);
sinks see ``run.input_pending`` instead."""


def checked_run_id(run_id: Any) -> uuid.UUID:
    if isinstance(run_id, uuid.UUID):
        return run_id
    try:
        return uuid.UUID(str(run_id))
    except (TypeError, ValueError):
        raise ValueError(f"config['run_id'] must be a UUID, got {run_id!r}") from None


class Run:
    """One execution of a runnable, from start to end or error.

    Example:
        >>> from otel_runnables import ensure_config
        >>> run = Run.start(ensure_config(), "demo", {"x": 1})
        >>> run.end({"y": 2})
    """

    __slots__ = (
        "__weakref__",  # the langchain-core bridge finds native parents by weak reference
        "_current_config",
        "_id_bits",
        "_id_text",
        "_otel_token",
        "_run_id",
        "_token",
        "cancelled",
        "child_errors",
        "chunks",
        "config",
        "depth",
        "detail",
        "event_target",
        "first_chunk_ns",
        "handlers",
        "inheritable_tags",
        "input_pending",
        "inputs",
        "metadata",
        "name",
        "observed",
        "otel_context",
        "parent",
        "run_type",
        "sinks",
        "span",
        "span_sink",
        "start_ns",
        "tags",
    )

    def __init__(
        self,
        lineage: Lineage,
        config: RunnableConfig,
        name: str,
        inputs: Any,
        run_id: Any = None,
        run_type: str = "chain",
        span_sink: SpanSink | None = None,
    ) -> None:
        parent, handlers, sinks, tags, inheritable, metadata = lineage
        if run_id is None:
            self._run_id: uuid.UUID | None = None
            self._id_bits = new_id_bits()
        else:
            self._run_id = run_id = checked_run_id(run_id)
            self._id_bits = run_id.int
        self._id_text: str | None = None
        self.config = config
        self._current_config: RunnableConfig | None = None
        self.event_target: EventTarget | None = None  # what dispatches from its code reach
        self.detail: SpanDetail | None = None  # what another source of runs adds to its span
        # Exceptions its children's spans recorded (the span sink links to them rather than
        # recording them again); dropped when the run ends.
        self.child_errors: dict[int, tuple[BaseException, str]] | None = None
        self.parent = parent
        self.depth: int = 0 if parent is None else parent.depth + 1  # how deeply nested
        self.span_sink: SpanSink = span_sink or (SPAN_SINK if parent is None else parent.span_sink)
        self.name = name
        self.run_type = run_type
        self.tags = tags
        self.inheritable_tags = inheritable
        self.metadata = metadata
        self.inputs = inputs
        self.input_pending = False  # a streamed run: its input is known only at its end
        self.handlers = handlers
        self.sinks = sinks
        # Seen by handlers or an event stream (else only by the span sink, and the async
        # transitions have no scheduling point to keep: they run synchronously).
        self.observed = bool(handlers or sinks)
        self.span: Any = None
        self.otel_context: Any = None
        self.start_ns = time.time_ns()
        self.chunks = 0
        self.first_chunk_ns = 0
        self.cancelled = False

    # -- construction ------------------------------------------------------------------
    @classmethod
    def start(cls, config: RunnableConfig, name: str, inputs: Any, pending: bool = False) -> Run:
        """A run of ``config`` (``run_name`` wins over ``name``), announced (sync handlers).

        ``pending``: a streamed run, whose ``inputs`` are known only at its end.
        """
        run = cls(
            resolve(config), config, config.get("run_name") or name, inputs, config.get("run_id")
        )
        run.input_pending = pending
        run.announce()
        return run

    @classmethod
    async def astart(
        cls, config: RunnableConfig, name: str, inputs: Any, pending: bool = False
    ) -> Run:
        """Async twin of :meth:`start` (async handlers awaited)."""
        run = cls(
            resolve(config), config, config.get("run_name") or name, inputs, config.get("run_id")
        )
        run.input_pending = pending
        await run.aannounce()
        return run

    def announce(self) -> None:
        """Tell every sink and handler that this run started."""
        try:
            self.span_sink.on_start(self)
        except Exception:
            sink_failed(self.span_sink)
        if self.observed:
            try:
                notify(self._start_notice())
            except BaseException as exc:  # a raise_error handler: the run ends here
                self._failed_start(exc)
                raise

    async def aannounce(self) -> None:
        """Async twin of :meth:`announce` (async handlers awaited)."""
        self._span_start()
        if not self.observed:
            return
        interrupted: list[Any] = []
        try:
            await anotify(self._start_notice(), trailing=False, interrupted=interrupted)
        except asyncio.CancelledError as exc:  # cancelled as the start was told: it ends
            final = self._release(MISSING)
            self._span_error(exc, final)
            notice = self._closing(False, exc, final, MISSING)
            heard = [h for h in notice.handlers if h not in interrupted]
            await anotify(notice._replace(handlers=heard))
            raise
        except BaseException as exc:  # a raise_error handler: the run ends here
            self._failed_start(exc)
            raise
        try:
            if self.sinks:  # an event stream: its consumer's turn, or space
                await settle(self.sinks)
            if self.handlers and others_ready():
                await asyncio.sleep(0)
        except BaseException as exc:  # cancelled once everybody has seen the start
            await self.aerror(exc)
            raise

    def _start_notice(self) -> Notice:
        inputs = PENDING_INPUT.copy() if self.input_pending else self.inputs
        return Notice(
            self.sinks,
            self._on_start,
            self.handlers,
            CHAIN_START,
            (None, inputs),
            self._start_kwargs,
        )

    def _on_start(self, sink: Sink) -> None:
        sink.on_start(self)

    def _failed_start(self, exc: BaseException) -> None:
        # The sinks close the run; the handlers, one of which raised, hear nothing more.
        self._span_error(exc, self.inputs)
        to_sinks(self.sinks, lambda sink: sink.on_error(self, exc, self.inputs))

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
        scope = (self, self.handlers, self.sinks, self.inheritable_tags, self.metadata, tag)
        return _new_tuple(Scope, scope)  # Scope(*scope), without its Python-level __new__

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

    # -- the span sink: first, at once, never raising ----------------------------------
    def _span_start(self) -> None:
        try:
            self.span_sink.on_start(self)
        except Exception:
            sink_failed(self.span_sink)

    def _span_end(self, outputs: Any, inputs: Any) -> None:
        self.child_errors = None  # (a child's error it caught: the exception holds the run)
        try:
            self.span_sink.on_end(self, outputs, inputs)
        except Exception:
            sink_failed(self.span_sink)

    def _span_error(self, error: BaseException, inputs: Any) -> None:
        try:
            self.span_sink.on_error(self, error, inputs)
        except Exception:
            sink_failed(self.span_sink)

    # -- transitions -------------------------------------------------------------------
    def chunk(self, chunk: Any, *, to_streams: bool = True) -> None:
        """Report one streamed output chunk (sinks only: handlers have no chunk hook).

        ``to_streams=False`` reports it to the span alone: langchain-core's event streams show
        the chunks of runs that transform a stream, not of a run streaming a known input.
        """
        if self.chunks == 0:
            self.first_chunk_ns = time.time_ns()
        self.chunks += 1
        try:
            self.span_sink.on_chunk(self, chunk)
        except Exception:
            sink_failed(self.span_sink)
        if not to_streams:
            return
        for sink in self.sinks:
            try:
                sink.on_chunk(self, chunk)
            except Exception:
                sink_failed(sink)

    def _release(self, inputs: Any) -> Any:
        # Both caches lead back to this run (the child config's scope, the event target):
        # dropping them once it has ended lets reference counting free it, with no cycle left
        # for the garbage collector. Returns the final input.
        self._current_config = None
        self.event_target = None
        return (None if self.input_pending else self.inputs) if inputs is MISSING else inputs

    def _closing(self, ok: bool, value: Any, final: Any, inputs: Any) -> Notice:
        """The end (``ok``) or error transition as the other sinks and the handlers get it."""
        if ok:
            call: SinkCall = lambda sink: sink.on_end(self, value, final)  # noqa: E731
            hook = CHAIN_END
        else:
            call = lambda sink: sink.on_error(self, value, final)  # noqa: E731
            hook = CHAIN_ERROR
        return Notice(
            self.sinks, call, self.handlers, hook, (value,), lambda: self._end_kwargs(inputs)
        )

    def end(self, outputs: Any, inputs: Any = MISSING) -> None:
        """The run returned ``outputs``; a streamed run passes its final ``inputs``."""
        self._current_config = None  # (as _release does; inlined on this hot path)
        self.event_target = None
        self.child_errors = None  # (as _span_end does)
        final = (None if self.input_pending else self.inputs) if inputs is MISSING else inputs
        try:
            self.span_sink.on_end(self, outputs, final)
        except Exception:
            sink_failed(self.span_sink)
        if self.observed:
            notify(self._closing(True, outputs, final, inputs))

    def error(self, error: BaseException, inputs: Any = MISSING) -> None:
        """The run raised ``error``."""
        final = self._release(inputs)
        self._span_error(error, final)
        if self.observed:
            notify(self._closing(False, error, final, inputs))

    async def aend(self, outputs: Any, inputs: Any = MISSING) -> None:
        """The run returned ``outputs`` (async handlers awaited)."""
        await self._aclose(True, outputs, inputs)

    async def aerror(self, error: BaseException, inputs: Any = MISSING) -> None:
        """The run raised ``error`` (async handlers awaited)."""
        await self._aclose(False, error, inputs)

    async def _aclose(self, ok: bool, value: Any, inputs: Any) -> None:
        if not self.observed:
            (self.end if ok else self.error)(value, inputs)
            return
        final = self._release(inputs)
        if ok:
            self._span_end(value, final)
        else:
            self._span_error(value, final)
        await anotify(self._closing(ok, value, final, inputs))

    def _end_kwargs(self, inputs: Any) -> dict[str, Any]:
        kwargs = self._handler_kwargs()
        if inputs is not MISSING:
            kwargs["inputs"] = inputs
        return kwargs
