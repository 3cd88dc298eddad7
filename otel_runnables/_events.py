"""StreamEvent and the event-stream sink behind ``astream_events(version="v2")``.

The sink is attached to the root run's handlers (so every descendant inherits it, exactly like a
callback handler) and turns bus transitions into langchain-core's v2 event dicts. Events are put
on an in-process queue owned by the consumer's event loop; transitions that happen in worker
threads are handed over with ``call_soon_threadsafe``, which keeps their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from ._config import RunnableConfig, ensure_config
from ._scope import Scope
from ._sink import Sink

if TYPE_CHECKING:
    from ._base import Runnable
    from ._run import Run

__all__ = ["EventStreamSink", "StreamEvent", "astream_events"]

SUPPORTED_VERSIONS = ("v2",)


class StreamEvent(TypedDict):
    """One event of ``astream_events(version="v2")``.

    ``event`` is ``on_<run_type>_start|_stream|_end`` or ``on_custom_event``; ``data`` holds
    ``input`` / ``chunk`` / ``output`` for run events and the dispatched object for custom
    events; ``parent_ids`` lists the ancestors' run ids, root first.

    Example:
        >>> event: StreamEvent = {"event": "on_custom_event", "name": "progress",
        ...     "run_id": "...", "tags": [], "metadata": {}, "data": 1, "parent_ids": []}
    """

    event: str
    name: str
    run_id: str
    tags: list[str]
    metadata: dict[str, Any]
    data: Any
    parent_ids: list[str]


class _Filter:
    __slots__ = (
        "exclude_names",
        "exclude_tags",
        "exclude_types",
        "include_names",
        "include_tags",
        "include_types",
        "passes_all",
    )

    include_names: frozenset[str] | None
    include_types: frozenset[str] | None
    include_tags: frozenset[str] | None
    exclude_names: frozenset[str] | None
    exclude_types: frozenset[str] | None
    exclude_tags: frozenset[str] | None

    def __init__(self, **filters: Sequence[str] | None) -> None:
        for key, value in filters.items():
            if value is not None and (isinstance(value, str) or not isinstance(value, Sequence)):
                raise TypeError(f"{key} must be a list of str, got {value!r}")
            setattr(self, key, None if value is None else frozenset(value))
        self.passes_all = all(v is None for v in filters.values())

    def __call__(self, name: str, tags: list[str], kind: str) -> bool:
        if self.passes_all:
            return True
        include = (
            self.include_names is None and self.include_types is None and self.include_tags is None
        )
        if self.include_names is not None:
            include = include or name in self.include_names
        if self.include_types is not None:
            include = include or kind in self.include_types
        if self.include_tags is not None:
            include = include or any(tag in self.include_tags for tag in tags)
        if self.exclude_names is not None:
            include = include and name not in self.exclude_names
        if self.exclude_types is not None:
            include = include and kind not in self.exclude_types
        if self.exclude_tags is not None:
            include = include and all(tag not in self.exclude_tags for tag in tags)
        return include


_DONE: Any = object()


class EventStreamSink(Sink):
    """Collects v2 stream events for one ``astream_events`` call."""

    __slots__ = ("_filter", "_infos", "_loop", "_parents", "_thread", "queue", "root_id")

    def __init__(self, loop: asyncio.AbstractEventLoop, event_filter: _Filter) -> None:
        self._loop = loop
        self._thread = threading.get_ident()
        self._filter = event_filter
        # Runs are known by the text of their id, which is what the events carry.
        self._parents: dict[str, str | None] = {}
        self._infos: dict[str, dict[str, Any]] = {}
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.root_id: str | None = None

    def _put(self, item: Any) -> None:
        if threading.get_ident() == self._thread:
            self.queue.put_nowait(item)
        else:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def _send(self, event: dict[str, Any], kind: str) -> None:
        if self._filter(event["name"], event["tags"], kind):
            self._put(event)

    def close(self) -> None:
        """Tell the consumer that no more events will come."""
        self._put(_DONE)

    def _parent_ids(self, run_id: str) -> list[str]:
        ids: list[str] = []
        parent = self._parents.get(run_id)
        while parent is not None and len(ids) <= len(self._parents):
            ids.append(parent)
            parent = self._parents.get(parent)
        ids.reverse()
        return ids

    def on_start(self, run: Run) -> None:
        run_id = run.run_id_text
        self._parents[run_id] = None if run.parent is None else run.parent.run_id_text
        info = {
            "name": run.name,
            "tags": list(run.tags),
            "metadata": dict(run.metadata),
            "run_type": run.run_type,
        }
        data: dict[str, Any] = {}
        inputs = run.inputs
        if not (type(inputs) is dict and inputs == {"input": ""}):
            data["input"] = inputs
            info["inputs"] = inputs
        self._infos[run_id] = info
        self._send(
            {
                "event": f"on_{run.run_type}_start",
                "data": data,
                "name": info["name"],
                "tags": info["tags"],
                "run_id": run_id,
                "metadata": info["metadata"],
                "parent_ids": self._parent_ids(run_id),
            },
            run.run_type,
        )

    def on_chunk(self, run: Run, chunk: Any) -> None:
        run_id = run.run_id_text
        if run_id != self.root_id:  # the root's chunks are tapped where they come out
            self.stream_chunk(run_id, chunk)

    def stream_event(self, run_id: str) -> tuple[str, dict[str, Any]] | None:
        """(run type, stream event fields) of a run that has not ended yet, else None."""
        info = self._infos.get(run_id)
        if info is None:
            return None
        fields = {
            "event": f"on_{info['run_type']}_stream",
            "run_id": run_id,
            "name": info["name"],
            "tags": info["tags"],
            "metadata": info["metadata"],
        }
        return info["run_type"], fields

    def stream_chunk(
        self,
        run_id: str,
        chunk: Any,
        template: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        """Send one chunk of ``run_id`` (fields from ``template`` when given)."""
        template = template or self.stream_event(run_id)
        if template is not None:
            run_type, fields = template
            event = {**fields, "data": {"chunk": chunk}, "parent_ids": self._parent_ids(run_id)}
            self._send(event, run_type)

    def on_end(self, run: Run, outputs: Any, inputs: Any) -> None:
        run_id = run.run_id_text
        info = self._infos.pop(run_id, None)
        if info is None:
            return
        try:
            if not inputs:
                inputs = info.get("inputs") or {}
        except Exception:  # an input whose truth value is ambiguous
            pass
        self._send(
            {
                "event": f"on_{run.run_type}_end",
                "data": {"output": outputs, "input": inputs},
                "run_id": run_id,
                "name": info["name"],
                "tags": info["tags"],
                "metadata": info["metadata"],
                "parent_ids": self._parent_ids(run_id),
            },
            run.run_type,
        )

    def on_error(self, run: Run, error: BaseException, inputs: Any) -> None:
        # v2 has no error event: the exception propagates out of astream_events instead.
        self._infos.pop(run.run_id_text, None)

    def on_custom_event(
        self, run: Run, name: str, data: Any, tags: list[str], metadata: dict[str, Any]
    ) -> None:
        run_id = run.run_id_text
        self._send(
            {
                "event": "on_custom_event",
                "run_id": run_id,
                "name": name,
                "tags": list(tags),
                "metadata": dict(metadata),
                "data": data,
                "parent_ids": self._parent_ids(run_id),
            },
            name,
        )


def astream_events(
    runnable: Runnable[Any, Any],
    input: Any,
    config: RunnableConfig | None = None,
    *,
    version: str,
    include_names: Sequence[str] | None = None,
    include_types: Sequence[str] | None = None,
    include_tags: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    exclude_types: Sequence[str] | None = None,
    exclude_tags: Sequence[str] | None = None,
    **kwargs: Any,
) -> AsyncIterator[StreamEvent]:
    """Validate the arguments now, then return the event stream of one ``astream`` call."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"astream_events version {version!r} is not supported; supported versions:"
            f" {', '.join(repr(v) for v in SUPPORTED_VERSIONS)}"
        )
    event_filter = _Filter(
        include_names=include_names,
        include_types=include_types,
        include_tags=include_tags,
        exclude_names=exclude_names,
        exclude_types=exclude_types,
        exclude_tags=exclude_tags,
    )
    config = ensure_config(config)
    return _stream(runnable, input, config, event_filter, kwargs)


async def _stream(
    runnable: Runnable[Any, Any],
    input: Any,
    config: RunnableConfig,
    event_filter: _Filter,
    kwargs: dict[str, Any],
) -> AsyncIterator[StreamEvent]:
    sink = EventStreamSink(asyncio.get_running_loop(), event_filter)
    config.setdefault("run_id", uuid.uuid4())
    root_id = config["run_id"]
    sink.root_id = str(root_id if isinstance(root_id, uuid.UUID) else uuid.UUID(str(root_id)))
    callbacks = config.get("callbacks")
    if callbacks is None:
        config["callbacks"] = [sink]  # type: ignore[list-item]
    elif isinstance(callbacks, Scope):
        config["callbacks"] = callbacks.with_handlers([sink])
    else:
        config["callbacks"] = [*callbacks, sink]  # type: ignore[list-item]

    async def consume() -> None:
        # The root's chunks are reported as they come out of astream, as long as the root
        # run was still open at the first one (a run that streams by invoking first has not).
        stream = runnable.astream(input, config, **kwargs)
        root_event: tuple[str, dict[str, Any]] | None = None
        first = True
        try:
            async for chunk in stream:
                if first:
                    first = False
                    root_event = sink.stream_event(sink.root_id)  # type: ignore[arg-type]
                if root_event is not None:
                    sink.stream_chunk(sink.root_id, chunk, root_event)  # type: ignore[arg-type]
        finally:
            try:
                await stream.aclose()  # type: ignore[attr-defined]
            finally:
                sink.close()

    task = asyncio.ensure_future(consume())
    first_run_id = None
    try:
        while True:
            event = await sink.queue.get()
            if event is _DONE:
                break
            if first_run_id is None:
                # The root's input is known here even when the run streams its input.
                if isinstance(event["data"], dict):
                    event["data"]["input"] = input
                first_run_id = event["run_id"]
            elif event["run_id"] == first_run_id and event["event"].endswith("_end"):
                event["data"].pop("input", None)
            yield event
        await task
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
