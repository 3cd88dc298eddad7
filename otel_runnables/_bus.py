"""The fan-out of one bus transition to the built-in sinks and the callback handlers.

A run calls its span sink itself (first, always, and at once); these functions then reach the
other built-in sinks (``astream_events`` streams) and the callback handlers, in that order, with
the same data. A sink is reached through a typed call (``lambda sink: sink.on_end(...)``), a
handler through a :class:`~._callbacks.Hook` made from the handler method itself, so a misspelt
hook fails type checking and import, never at run time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from ._callbacks import Hook, acall_handlers, call_handlers
from ._config import others_ready
from ._sink import Sink

__all__ = ["Notice", "SinkCall", "anotify", "notify", "settle", "sink_failed", "to_sinks"]

logger = logging.getLogger("otel_runnables")

SinkCall = Callable[[Sink], None]
"""One transition as a sink receives it, e.g. ``lambda sink: sink.on_end(run, out, inputs)``."""

Kwargs = dict[str, Any] | Callable[[], dict[str, Any]]


def sink_failed(sink: Any) -> None:
    """Log the exception being handled, raised by ``sink`` (sinks never break a run)."""
    logger.exception("otel_runnables sink %s failed", type(sink).__name__)


def to_sinks(sinks: tuple[Sink, ...], call: SinkCall) -> None:
    """``call`` on every sink in order; a sink that raises is logged and skipped."""
    for sink in sinks:
        try:
            call(sink)
        except Exception:
            sink_failed(sink)


async def settle(sinks: tuple[Sink, ...], turn: bool = True) -> None:
    """Wait as each sink asks an async producer to after a transition (an event stream: for
    space while it is full; with ``turn``, until a consumer the event woke has run)."""
    for sink in sinks:
        while True:
            try:
                wait = sink.settle(turn)
            except Exception:
                sink_failed(sink)
                break
            if wait is None:
                break
            await wait


class Notice(NamedTuple):
    """One transition as the other sinks and the handlers receive it."""

    sinks: tuple[Sink, ...]
    call: SinkCall
    handlers: list[Any]
    hook: Hook
    args: tuple[Any, ...]
    kwargs: Kwargs
    """The hook's keyword arguments, or a function making them (called only for handlers)."""


def notify(notice: Notice) -> None:
    """One transition from sync code: the sinks, then the handlers (error policy applied)."""
    sinks, call, handlers, hook, args, kwargs = notice
    if sinks:
        to_sinks(sinks, call)
    if handlers:
        call_handlers(handlers, hook, args, kwargs() if callable(kwargs) else kwargs)


async def anotify(
    notice: Notice, *, trailing: bool = True, interrupted: list[Any] | None = None
) -> None:
    """One transition from async code.

    A cancellation that arrives meanwhile does not stop the delivery: every sink and handler
    gets the transition, then the cancellation goes on. Handlers with ``run_inline`` come
    first; the other handlers are then called between two scheduling points, where
    langchain-core runs them as tasks, so that concurrent runs
    interleave the same way on both in the common cases (the differential suite checks them).
    An ``astream_events`` stream adds a scheduling point only when it must: when the event
    woke its waiting consumer (which then sees it at once) or while it is full.
    ``trailing=False``: the caller settles the sinks and yields itself (a run's start).
    """
    sinks, call, handlers, hook, args, kwargs = notice
    if handlers:
        if callable(kwargs):
            kwargs = kwargs()
        cancelled = None
        inline = [h for h in handlers if getattr(h, "run_inline", False)]
        if inline:
            try:
                await acall_handlers(inline, hook, args, kwargs, interrupted, inline=True)
            except asyncio.CancelledError as exc:  # the other handlers still get it
                cancelled = exc
            handlers = [h for h in handlers if h not in inline]
        if handlers:
            if others_ready():
                try:
                    await asyncio.sleep(0)
                except asyncio.CancelledError as exc:  # deliver first, as langchain-core does
                    cancelled = exc
            to_sinks(sinks, call)
            await acall_handlers(handlers, hook, args, kwargs, interrupted)
            if cancelled is not None:
                raise cancelled
            if trailing:
                if sinks:
                    await settle(sinks)
                if others_ready():
                    await asyncio.sleep(0)
            return
        if cancelled is not None:
            to_sinks(sinks, call)
            raise cancelled
    to_sinks(sinks, call)
    if trailing and sinks:
        await settle(sinks)
