"""The contract between the run bus and its built-in sinks (spans, the event stream).

Callback handlers are driven through the langchain-compatible hooks in ``_callbacks``; built-in
sinks implement :class:`Sink` instead and receive the :class:`~otel_runnables._run.Run` object
itself. Hooks are called synchronously, on the thread where the run event happened, in bus order
(start, then any custom events and chunks, then exactly one of end/error). A hook must not block
and must not raise: the bus logs an exception from a sink and carries on with the other sinks.
A sink that needs an async producer to wait (the bounded channel of an event stream) says so
in :meth:`Sink.settle`, which the async bus awaits after the hook.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._run import Run

__all__ = ["Sink"]


class Sink:
    """A built-in consumer of the run bus; every hook does nothing unless overridden."""

    __slots__ = ()

    def on_start(self, run: Run) -> None:
        """``run`` started; ``run.inputs`` holds its input unless ``run.input_pending`` (a
        streamed run, whose input is known only at its end)."""

    def on_end(self, run: Run, outputs: Any, inputs: Any) -> None:
        """``run`` ended with ``outputs``; ``inputs`` is its final input."""

    def on_error(self, run: Run, error: BaseException, inputs: Any) -> None:
        """``run`` raised ``error`` (or was cancelled: ``CancelledError``, ``GeneratorExit``);
        ``inputs`` is its final input (None while still pending)."""

    def on_custom_event(
        self, run: Run, name: str, data: Any, tags: list[str], metadata: dict[str, Any]
    ) -> None:
        """``run`` dispatched a custom event; ``data`` is the caller's object, unchanged."""

    def on_chunk(self, run: Run, chunk: Any) -> None:
        """``run`` produced one streamed output chunk."""

    def settle(self, turn: bool = True) -> Awaitable[None] | None:
        """What an async producer on the event loop awaits after a hook of this sink, asked
        again until None: an event stream waits for space while it is full, and (``turn``)
        lets a consumer that the event woke go first."""
        return None
