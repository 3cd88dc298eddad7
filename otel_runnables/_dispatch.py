"""Custom events: one more transition on the bus, reported by the run whose code dispatches.

The run is the one the config names as parent (an explicit ``config``, else the current run's
config). Its span gets a span event; its built-in sinks and callback handlers get the very same
data object.
"""

from __future__ import annotations

from typing import Any

from ._bus import Notice, SinkCall, anotify, sink_failed, to_sinks
from ._callbacks import CUSTOM_EVENT, call_handlers
from ._config import RunnableConfig, ensure_config, var_current_run
from ._run import Run
from ._scope import resolve
from ._sink import Sink

__all__ = ["EventTarget", "adispatch_custom_event", "dispatch_custom_event"]

# langchain-core's message, word for word (the missing spaces included): users match on it.
_NO_PARENT_MESSAGE = (
    "Unable to dispatch an adhoc event without a parent run id."
    "This function can only be called from within an existing run (e.g.,"
    "inside a tool or a RunnableLambda or a RunnableGenerator.)"
    "If you are doing that and still seeing this error, try explicitly"
    "passing the config parameter to this function."
)


class EventTarget:
    """Where the custom events of one run's code go: the run, its sinks and its handlers."""

    __slots__ = ("handlers", "kwargs", "metadata", "observed", "run", "sinks", "tags")

    def __init__(self, config: RunnableConfig) -> None:
        lineage = resolve(config)
        run = lineage.parent
        if run is None:
            raise RuntimeError(_NO_PARENT_MESSAGE)
        self.run: Run = run
        self.sinks: tuple[Sink, ...] = lineage.sinks
        self.handlers = lineage.handlers
        self.tags = lineage.tags
        self.metadata = lineage.metadata
        self.observed = bool(self.handlers or self.sinks)
        self.kwargs = {"run_id": run.run_id, "tags": self.tags, "metadata": self.metadata}

    def to_span(self, name: str, data: Any) -> None:
        """The event on the run's span (``dispatch_custom_event`` inlines this)."""
        run = self.run
        try:
            run.span_sink.on_custom_event(run, name, data, self.tags, self.metadata)
        except Exception:
            sink_failed(run.span_sink)

    def to_sinks(self, name: str, data: Any) -> SinkCall:
        """The event as the built-in sinks receive it."""
        run, tags, metadata = self.run, self.tags, self.metadata
        return lambda sink: sink.on_custom_event(run, name, data, tags, metadata)


def _target(name: Any, config: RunnableConfig | None) -> EventTarget:
    if not isinstance(name, str):
        raise TypeError(f"custom event name must be a str, got {type(name).__name__}: {name!r}")
    if config is None:
        # Every dispatch from one run's code reaches the same target: resolve it once.
        current = var_current_run.get()
        if isinstance(current, Run):
            target = current.event_target
            if target is None:
                target = current.event_target = EventTarget(current.current_config())
            return target
    return EventTarget(ensure_config(config))


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
    target = _target(name, config)
    run = target.run
    try:
        run.span_sink.on_custom_event(run, name, data, target.tags, target.metadata)
    except Exception:
        sink_failed(run.span_sink)
    if target.sinks:
        to_sinks(target.sinks, target.to_sinks(name, data))
    if target.handlers:
        call_handlers(target.handlers, CUSTOM_EVENT, (name, data), target.kwargs)


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
    target = _target(name, config)
    target.to_span(name, data)
    if target.observed:
        call, args = target.to_sinks(name, data), (name, data)
        await anotify(
            Notice(target.sinks, call, target.handlers, CUSTOM_EVENT, args, target.kwargs)
        )
