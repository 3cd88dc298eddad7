"""One recording callback handler for the whole suite, in a sync and an async flavour.

:class:`Recorder` records every hook call it gets as a :class:`Call`, in arrival order, with the
arguments as given (nothing is copied or converted: ``inputs``, ``outputs``, ``error`` and
``data`` are the very objects the run passed). :class:`AsyncRecorder` is the same handler with
``async`` hooks that really suspend (``await asyncio.sleep(0)``) before recording.

Handlers whose *behaviour* is the point of a test (one that raises, one with ``ignore_*`` or
``run_inline`` flags) subclass these or stay small local classes in their test module.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from otel_runnables import AsyncCallbackHandler, BaseCallbackHandler

__all__ = ["AsyncRecorder", "Call", "Recorder", "RunTree"]

RunTree = list[tuple[str, "RunTree"]]


@dataclass(frozen=True)
class Call:
    """One hook call. ``hook`` is ``start``, ``end``, ``error`` or ``custom``.

    ``name`` is the run name for ``start`` (the ``name`` keyword) and the event name for
    ``custom``; ``end`` and ``error`` are not given a name (see :meth:`Recorder.name_of`).
    ``inputs`` is the ``start`` argument, or the ``inputs`` keyword of ``end``/``error`` when
    given (streamed runs). Equality ignores ``thread`` and the remaining keywords.
    """

    hook: str
    run_id: UUID
    parent_run_id: UUID | None = None
    name: str | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None
    serialized: Any = None
    inputs: Any = None
    outputs: Any = None
    error: BaseException | None = None
    data: Any = None
    kwargs: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    thread: int = field(default=0, compare=False, repr=False)


class Recorder(BaseCallbackHandler):
    """A sync handler recording every hook call (thread-safe), with query helpers."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    # -- hooks ---------------------------------------------------------------------------
    def _add(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._add(
            Call(
                "start",
                run_id,
                parent_run_id,
                kwargs.get("name"),
                tags,
                metadata,
                serialized=serialized,
                inputs=inputs,
                kwargs=kwargs,
                thread=threading.get_ident(),
            )
        )

    def _closing(
        self,
        hook: str,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: list[str] | None,
        kwargs: dict[str, Any],
        **value: Any,
    ) -> None:
        """Records an ``end`` (``outputs=``) or ``error`` (``error=``) call."""
        self._add(
            Call(
                hook,
                run_id,
                parent_run_id,
                tags=tags,
                metadata=kwargs.get("metadata"),
                inputs=kwargs.get("inputs"),
                kwargs=kwargs,
                thread=threading.get_ident(),
                **value,
            )
        )

    def on_chain_end(
        self,
        outputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self._closing("end", run_id, parent_run_id, tags, kwargs, outputs=outputs)

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self._closing("error", run_id, parent_run_id, tags, kwargs, error=error)

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._add(
            Call(
                "custom",
                run_id,
                kwargs.get("parent_run_id"),
                name,
                tags,
                metadata,
                data=data,
                kwargs=kwargs,
                thread=threading.get_ident(),
            )
        )

    # -- queries -------------------------------------------------------------------------
    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def hooks(self) -> list[str]:
        """The short hook names in arrival order."""
        return [c.hook for c in self.snapshot()]

    def of(self, hook: str) -> list[Call]:
        """The calls of one hook, in arrival order."""
        return [c for c in self.snapshot() if c.hook == hook]

    def starts(self) -> list[Call]:
        return self.of("start")

    def ends(self) -> list[Call]:
        return self.of("end")

    def errors(self) -> list[Call]:
        return self.of("error")

    def custom_events(self) -> list[Call]:
        return self.of("custom")

    def names(self) -> list[str | None]:
        """Names of the started runs, in start order."""
        return [c.name for c in self.starts()]

    def start_of(self, name: str) -> Call:
        """The start of the one run called ``name``."""
        (call,) = [c for c in self.starts() if c.name == name]
        return call

    def run_id(self, name: str) -> UUID:
        """The run id of the one run called ``name``."""
        return self.start_of(name).run_id

    def name_of(self, run_id: UUID | None) -> str | None:
        """The name of the run ``run_id`` (None for None or a run this handler did not see)."""
        return next((c.name for c in self.starts() if c.run_id == run_id), None)

    def parent(self, name: str) -> str | None:
        """The name of the parent of the one run called ``name`` (None for a root)."""
        return self.name_of(self.start_of(name).parent_run_id)

    def tags_of(self, name: str) -> list[str] | None:
        return self.start_of(name).tags

    def metadata_of(self, name: str) -> dict[str, Any] | None:
        return self.start_of(name).metadata

    def log(self) -> list[tuple[str, str | None]]:
        """``(hook, name)`` per call: the run's name for start/end/error, the event's for
        custom events."""
        calls = self.snapshot()
        names = {c.run_id: c.name for c in calls if c.hook == "start"}
        return [
            (c.hook, c.name if c.hook in ("start", "custom") else names.get(c.run_id))
            for c in calls
        ]

    def by_run(self) -> dict[UUID, list[Call]]:
        """Calls grouped by run id (custom events under the run that dispatched them)."""
        out: dict[UUID, list[Call]] = {}
        for call in self.snapshot():
            out.setdefault(call.run_id, []).append(call)
        return out

    def runs(self) -> dict[str, tuple[str | None, str | None]]:
        """``{run_id: (parent_run_id, name)}`` as strings, for comparing with span attributes."""
        return {
            str(c.run_id): (None if c.parent_run_id is None else str(c.parent_run_id), c.name)
            for c in self.starts()
        }

    def tree(self) -> RunTree:
        """The run tree as nested ``(name, children)`` tuples, children in start order (the
        same shape as ``otel_spans.tree()``)."""
        starts = self.starts()
        seen = {c.run_id for c in starts}
        children: dict[UUID | None, list[Call]] = {}
        for call in starts:
            parent = call.parent_run_id if call.parent_run_id in seen else None
            children.setdefault(parent, []).append(call)

        def build(parent: UUID | None) -> RunTree:
            return [(str(c.name), build(c.run_id)) for c in children.get(parent, [])]

        return build(None)

    def unfinished(self) -> list[str | None]:
        """Names of the runs that started and got neither an end nor an error."""
        done = {c.run_id for c in self.snapshot() if c.hook in ("end", "error")}
        return [c.name for c in self.starts() if c.run_id not in done]

    def assert_every_run_finished_once(self, *, allow_none: bool = False) -> None:
        """Every started run got exactly one end or error, and nothing ended unstarted (and
        some run started, unless ``allow_none``)."""
        calls = self.snapshot()
        starts = [c.run_id for c in calls if c.hook == "start"]
        finished = [c for c in calls if c.hook in ("end", "error")]
        assert starts or allow_none, "no run started"
        assert len(set(starts)) == len(starts), f"a run started twice: {self.log()}"
        unstarted = [(c.hook, c.run_id) for c in finished if c.run_id not in set(starts)]
        assert not unstarted, f"finished without a start: {unstarted}"
        assert sorted(str(c.run_id) for c in finished) == sorted(map(str, starts)), (
            f"unfinished: {self.unfinished()}; {self.log()}"
        )


def _suspending(hook: Callable[..., None]) -> Callable[..., Coroutine[Any, Any, None]]:
    async def async_hook(self: Recorder, *args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0)  # a real scheduling point, as an async handler has
        hook(self, *args, **kwargs)

    async_hook.__name__ = hook.__name__
    async_hook.__qualname__ = f"AsyncRecorder.{hook.__name__}"
    return async_hook


class AsyncRecorder(Recorder, AsyncCallbackHandler):
    """:class:`Recorder` with async hooks that suspend once before recording."""

    on_chain_start = _suspending(Recorder.on_chain_start)  # type: ignore[assignment]
    on_chain_end = _suspending(Recorder.on_chain_end)  # type: ignore[assignment]
    on_chain_error = _suspending(Recorder.on_chain_error)  # type: ignore[assignment]
    on_custom_event = _suspending(Recorder.on_custom_event)  # type: ignore[assignment]
