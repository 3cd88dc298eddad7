"""StreamEvent and the event-stream sink behind ``astream_events(version="v2")``.

The sink is attached to the root run's handlers (so every descendant inherits it, exactly like a
callback handler) and turns bus transitions into langchain-core's v2 event dicts. Events go
through a bounded :class:`~._channel.EventChannel` to the consumer's event loop, in the order
the transitions happened, from the loop or from worker threads. An error in delivering an event
(the sink's own, or the channel's) ends the stream: the consumer raises it after the events
before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from ._channel import DEFAULT_EVENT_BUFFER, EventChannel
from ._config import RunnableConfig, ensure_config
from ._iter import aclosing_iter
from ._run import checked_run_id
from ._scope import Scope, checked_handlers
from ._sink import Sink

if TYPE_CHECKING:
    from ._base import Runnable
    from ._run import Run

__all__ = [
    "EVENT_BUFFER_VARIABLE",
    "EventFilter",
    "EventStreamSink",
    "StreamEvent",
    "astream_events",
]

SUPPORTED_VERSIONS = ("v2",)

EVENT_BUFFER_VARIABLE = "OTEL_RUNNABLES_EVENT_BUFFER"
"""How many events an ``astream_events`` stream holds for a consumer that falls behind
(default 1000), read when the stream is made."""


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


Names = Sequence[str] | None
Set = frozenset[str] | None


class EventFilter:
    """Which events an ``astream_events`` call yields: langchain-core's include/exclude rules
    by run name, run type (the event name for custom events) and tags."""

    __slots__ = ("exclude", "include", "passes_all")

    def __init__(
        self, include: tuple[Names, Names, Names], exclude: tuple[Names, Names, Names]
    ) -> None:
        """``include`` and ``exclude``: (names, types, tags), each a list of str or None."""
        self.include = _as_sets("include", include)
        self.exclude = _as_sets("exclude", exclude)
        self.passes_all = self.include == self.exclude == (None, None, None)

    def __call__(self, name: str, tags: list[str], kind: str) -> bool:
        if self.passes_all:
            return True
        names, types, tag_set = self.include
        include = names is None and types is None and tag_set is None
        if names is not None:
            include = include or name in names
        if types is not None:
            include = include or kind in types
        if tag_set is not None:
            include = include or any(tag in tag_set for tag in tags)
        names, types, tag_set = self.exclude
        if names is not None:
            include = include and name not in names
        if types is not None:
            include = include and kind not in types
        if tag_set is not None:
            include = include and all(tag not in tag_set for tag in tags)
        return include


def _as_sets(which: str, given: tuple[Names, Names, Names]) -> tuple[Set, Set, Set]:
    names, types, tags = given
    return (
        _as_set(which, "names", names),
        _as_set(which, "types", types),
        _as_set(which, "tags", tags),
    )


def _as_set(which: str, kind: str, value: Names) -> Set:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{which}_{kind} must be a list of str, got {value!r}")
    return frozenset(value)


def event_buffer() -> int:
    """The bound of a new event stream's channel (``OTEL_RUNNABLES_EVENT_BUFFER``)."""
    raw = os.environ.get(EVENT_BUFFER_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_EVENT_BUFFER
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{EVENT_BUFFER_VARIABLE} must be a positive integer, got {raw!r}")
    return value


F = TypeVar("F", bound=Callable[..., None])


def _delivering(hook: F) -> F:
    """A hook whose failure ends the stream (the consumer raises it) instead of losing the
    event silently; recording it takes no call, so it works with the stack exhausted."""

    @functools.wraps(hook)
    def wrapper(self: EventStreamSink, *args: Any) -> None:
        try:
            hook(self, *args)
        except Exception as exc:
            channel = self.channel
            if channel.error is None:
                channel.error = exc
            channel.poke()

    return wrapper  # type: ignore[return-value]


class EventStreamSink(Sink):
    """Collects v2 stream events for one ``astream_events`` call."""

    __slots__ = ("_filter", "_infos", "_parents", "channel", "root_id")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        event_filter: EventFilter,
        root_id: str,
        bound: int = DEFAULT_EVENT_BUFFER,
    ) -> None:
        self._filter = event_filter
        # Runs are known by the text of their id, which is what the events carry.
        self._parents: dict[str, str | None] = {}
        self._infos: dict[str, dict[str, Any]] = {}
        self.channel = EventChannel(loop, bound)
        self.root_id = root_id

    def _send(self, event: dict[str, Any], kind: str) -> None:
        if self._filter(event["name"], event["tags"], kind):
            self.channel.put(event)

    def settle(self, turn: bool = True) -> Awaitable[None] | None:
        return self.channel.turn(turn)

    def close(self) -> None:
        """Tell the consumer that no more events will come."""
        self.channel.finish()

    def _parent_ids(self, run_id: str) -> list[str]:
        ids: list[str] = []
        parent = self._parents.get(run_id)
        while parent is not None and len(ids) <= len(self._parents):
            ids.append(parent)
            parent = self._parents.get(parent)
        ids.reverse()
        return ids

    @_delivering
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
        if run.detail is not None:  # a model, tool or retriever run of langchain-core
            data["input"] = info["inputs"] = run.detail.event_input()
        elif not run.input_pending:
            data["input"] = info["inputs"] = run.inputs
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

    @_delivering
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

    @_delivering
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

    @_delivering
    def on_end(self, run: Run, outputs: Any, inputs: Any) -> None:
        run_id = run.run_id_text
        info = self._infos.pop(run_id, None)
        if info is None:
            return
        if run.detail is not None:
            outputs, inputs = run.detail.event_output(outputs), info.get("inputs")
        else:
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

    @_delivering
    def on_error(self, run: Run, error: BaseException, inputs: Any) -> None:
        # v2 has no error event for chains (the exception propagates out of astream_events
        # instead); langchain-core's tools have one.
        run_id = run.run_id_text
        info = self._infos.pop(run_id, None)
        if info is None or run.detail is None:
            return
        data = run.detail.event_error(error)
        if data is not None:
            event = {
                "event": f"on_{run.run_type}_error",
                "data": data,
                "run_id": run_id,
                "name": info["name"],
                "tags": info["tags"],
                "metadata": info["metadata"],
                "parent_ids": self._parent_ids(run_id),
            }
            self._send(event, run.run_type)

    @_delivering
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
    config: RunnableConfig | None,
    version: str,
    event_filter: EventFilter,
    kwargs: dict[str, Any],
) -> AsyncIterator[StreamEvent]:
    """Validate the arguments now, then return the event stream of one ``astream`` call."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"astream_events version {version!r} is not supported; supported versions:"
            f" {', '.join(repr(v) for v in SUPPORTED_VERSIONS)}"
        )
    config = ensure_config(config)
    run_id = config.get("run_id")
    run_id = uuid.uuid4() if run_id is None else checked_run_id(run_id)
    config["run_id"] = run_id
    callbacks = config.get("callbacks")
    if isinstance(callbacks, Scope):
        scope = callbacks
    else:
        handlers = [] if callbacks is None else checked_handlers(callbacks)
        scope = Scope(None, handlers, (), [], {})
    bound = event_buffer()
    return _stream(runnable, input, config, scope, event_filter, str(run_id), bound, kwargs)


async def _stream(
    runnable: Runnable[Any, Any],
    input: Any,
    config: RunnableConfig,
    scope: Scope,
    event_filter: EventFilter,
    root_id: str,
    bound: int,
    kwargs: dict[str, Any],
) -> AsyncIterator[StreamEvent]:
    sink = EventStreamSink(asyncio.get_running_loop(), event_filter, root_id, bound)
    config["callbacks"] = scope.with_sink(sink)
    channel = sink.channel

    async def consume() -> None:
        # The root's chunks are reported as they come out of astream, as long as the root
        # run was still open at the first one (a run that streams by invoking first has not).
        root_event: tuple[str, dict[str, Any]] | None = None
        first = True
        try:
            async with aclosing_iter(runnable.astream(input, config, **kwargs)) as stream:
                async for chunk in stream:
                    if first:
                        first = False
                        root_event = sink.stream_event(root_id)
                    if root_event is not None:
                        sink.stream_chunk(root_id, chunk, root_event)
                        wait = channel.turn(False)
                        while wait is not None:  # the channel is full
                            await wait
                            wait = channel.turn(False)
        finally:
            sink.close()

    task = asyncio.ensure_future(consume())
    first_run_id = None
    try:
        async for event in channel:
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
        channel.stop()  # frees a producer waiting for space
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
