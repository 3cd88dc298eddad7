"""Streams of bridged runs: their chunks counted, their span current around each pull.

A model's or retriever's stream runs in its consumer's context, one pull at a time, so the span
of its run is attached and detached around each pull, never across a ``yield``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from opentelemetry import context as otel_context

from ._handler import Bridge, Slot, current_slot

__all__ = ["RunBox", "counted", "stepped", "astepped", "aclosed", "waiting"]


class RunBox:
    """The run of one streamed call, once its transformer is called."""

    __slots__ = ("run",)

    def __init__(self) -> None:
        self.run: Any = None

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancelled = True


def counted(bridge: Bridge, transformer: Callable[..., Any], box: RunBox) -> Callable[..., Any]:
    """``transformer`` whose output chunks are reported to its run (langchain-core hands a
    transformer that asks for it the run's manager, and the child config)."""
    from langchain_core.runnables.utils import accepts_config, accepts_run_manager

    wants_manager = accepts_run_manager(transformer)
    wants_config = accepts_config(transformer)

    def transformer_counted(
        chunks: Any, run_manager: Any = None, config: Any = None, **kwargs: Any
    ) -> Any:
        if wants_manager:
            kwargs["run_manager"] = run_manager
        if wants_config:
            kwargs["config"] = config
        output = transformer(chunks, **kwargs)
        run = box.run = bridge.run_of(getattr(run_manager, "run_id", None))
        if run is None:
            return output
        if hasattr(output, "__anext__"):
            return _acounting(run, output)
        return _counting_chunks(run, output)

    return transformer_counted


def _counting_chunks(run: Any, iterator: Iterator[Any]) -> Iterator[Any]:
    try:
        for chunk in iterator:
            run.chunk(chunk)
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


async def _acounting(run: Any, iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
    try:
        async for chunk in iterator:
            run.chunk(chunk)
            yield chunk
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


@contextlib.contextmanager
def waiting(slot: Slot) -> Iterator[None]:
    """Offer ``slot`` to the start hook; detach what it attached when the block exits."""
    reset = current_slot.set(slot)
    try:
        yield
    finally:
        if slot.token is not None:
            otel_context.detach(slot.token)
            slot.token = None
        current_slot.reset(reset)


@contextlib.contextmanager
def _step(slot: Slot) -> Iterator[None]:
    """One pull of a stream: its run's span current (attached here, or by the start hook)."""
    if slot.run is None:
        with waiting(slot):
            yield
        return
    span_context = slot.run.otel_context
    token = None if span_context is None else otel_context.attach(span_context)
    try:
        yield
    finally:
        if token is not None:
            otel_context.detach(token)


_END: Any = object()


def stepped(slot: Slot, iterator: Iterator[Any]) -> Iterator[Any]:
    try:
        while True:
            with _step(slot):
                chunk = next(iterator, _END)
            if chunk is _END:
                return
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        with _step(slot):
            if close is not None:
                close()


async def astepped(slot: Slot, iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
    try:
        while True:
            with _step(slot):
                chunk = await anext(iterator, _END)
            if chunk is _END:
                return
            yield chunk
    finally:
        await aclosed(slot, iterator)


async def aclosed(slot: Slot, iterator: AsyncIterator[Any]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with _step(slot):
            await aclose()
