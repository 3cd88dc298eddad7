"""Runnable: the public methods, composition, and the base of the runnable kinds.

:class:`Runnable` has langchain-core's public methods with langchain-core's defaults for a
subclass that implements ``invoke`` only (``ainvoke`` in a worker thread, ``batch`` in a thread
pool, ``stream`` yielding the output of ``invoke``). :class:`RunnableKind`, the base of the
kinds of this package, makes each public method a run template (``_templates``) over what the
kind defines: ``_invoke`` / ``_ainvoke`` for a call, ``_transform`` / ``_atransform`` for a
stream, and optionally ``_batch`` / ``_abatch`` for a batch that runs step by step.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from typing import TYPE_CHECKING, Any, ClassVar, Generic, cast

from ._compose import Composing
from ._config import RunnableConfig, get_config_list, get_executor_for_config, run_in_executor
from ._foreign import crossing, is_foreign_runnable
from ._generic import Input, Other, Output
from ._graph import Drawable
from ._iter import Accumulator, aclosing_iter, aiter_of
from ._schema import Typed
from ._templates import RunTemplates

if TYPE_CHECKING:
    from ._events import StreamEvent
    from ._run import Run

__all__ = [
    "Input",
    "Other",
    "Output",
    "Runnable",
    "RunnableCalls",
    "RunnableKind",
    "coerce_to_runnable",
]

BatchConfig = RunnableConfig | Sequence[RunnableConfig] | None


class Runnable(
    RunTemplates, Composing[Input, Output], Typed[Input, Output], Drawable, Generic[Input, Output]
):
    """A unit of work that can be invoked, batched, streamed and composed with ``|``.

    Every call is a run: a span for OpenTelemetry, a start/end pair for callback handlers and
    ``astream_events``. The composition methods (``|``, ``with_config``, ``map`` ...) come
    from ``_compose``, the type and schema methods from ``_schema``, ``get_graph`` from
    ``_graph``.

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> (RunnableLambda(lambda x: x + 1) | (lambda x: x * 2)).invoke(1)
        4
    """

    name: str | None = None
    _batch: ClassVar[Callable[..., list[Any]] | None] = None
    """A kind that batches step by step defines ``_batch`` and ``_abatch`` (see
    ``_templates.BatchFunc``); else ``batch`` invokes each input in a worker thread."""
    _abatch: ClassVar[Callable[..., Awaitable[list[Any]]] | None] = None

    # -- naming ------------------------------------------------------------------------
    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The run name: ``name``, else this runnable's name, else its default name."""
        name = name or self.name or self._default_name()
        if suffix:
            return f"{name}{suffix}" if name[0].isupper() else f"{name}_{suffix.lower()}"
        return name

    def _default_name(self) -> str:
        """The name of an unnamed runnable: its class name (kinds named by their parts say so)."""
        return type(self).__name__

    # -- calls -------------------------------------------------------------------------
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """Run on one input and return its output."""
        raise NotImplementedError(f"{type(self).__name__} does not implement invoke")

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async twin of :meth:`invoke` (default: ``invoke`` in a worker thread)."""
        return await run_in_executor(self.invoke, input, config, **kwargs)

    def batch(
        self,
        inputs: Sequence[Input],
        config: BatchConfig = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Invoke on each input in worker threads (``max_concurrency`` honoured), in order."""
        if not inputs:
            return []
        if self._batch is not None:
            return self._batch_with_config(self._batch, inputs, config, return_exceptions, **kwargs)
        configs = get_config_list(config, len(inputs))
        one = _guarded(self.invoke, return_exceptions, kwargs)
        if len(inputs) == 1:
            return [one(inputs[0], configs[0])]
        with get_executor_for_config(configs[0]) as executor:
            return list(executor.map(one, inputs, configs))

    async def abatch(
        self,
        inputs: Sequence[Input],
        config: BatchConfig = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async twin of :meth:`batch`: concurrent ``ainvoke`` calls, results in input order."""
        if not inputs:
            return []
        if self._abatch is not None:
            func = self._abatch
            return await self._abatch_with_config(func, inputs, config, return_exceptions, **kwargs)
        configs = get_config_list(config, len(inputs))
        one = _aguarded(self.ainvoke, return_exceptions, kwargs)
        coros = [one(i, c) for i, c in zip(inputs, configs, strict=True)]
        return await gather_with_concurrency(configs[0].get("max_concurrency"), coros)

    def batch_as_completed(
        self,
        inputs: Sequence[Input],
        config: BatchConfig = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[int, Any]]:
        """Invoke on each input in worker threads; yield ``(index, output)`` as each finishes.

        Example:
            >>> from otel_runnables import RunnableLambda
            >>> sorted(RunnableLambda(lambda x: x * 2).batch_as_completed([1, 2]))
            [(0, 2), (1, 4)]
        """
        if not inputs:
            return
        configs = get_config_list(config, len(inputs))
        one = _guarded(self.invoke, return_exceptions, kwargs)
        if len(inputs) == 1:
            yield (0, one(inputs[0], configs[0]))
            return
        with get_executor_for_config(configs[0]) as executor:
            futures = {
                executor.submit(_indexed, one, i, item, c): i
                for i, (item, c) in enumerate(zip(inputs, configs, strict=True))
            }
            try:
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=futures.__getitem__):  # ties: input order
                        del futures[future]
                        yield future.result()
            finally:
                for future in futures:
                    future.cancel()

    async def abatch_as_completed(
        self,
        inputs: Sequence[Input],
        config: BatchConfig = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, Any]]:
        """Async twin of :meth:`batch_as_completed` (concurrent ``ainvoke`` calls)."""
        if not inputs:
            return
        configs = get_config_list(config, len(inputs))
        limit = configs[0].get("max_concurrency")
        semaphore = asyncio.Semaphore(limit) if limit else None
        one = _aguarded(self.ainvoke, return_exceptions, kwargs)

        async def indexed(i: int, item: Any, config: RunnableConfig) -> tuple[int, Any]:
            if semaphore is None:
                return (i, await one(item, config))
            async with semaphore:
                return (i, await one(item, config))

        pairs = enumerate(zip(inputs, configs, strict=True))
        tasks = [asyncio.ensure_future(indexed(i, *pair)) for i, pair in pairs]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:  # (the ones still running when the consumer stopped)
                task.cancel()

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Yield the output in chunks (default: one chunk, the output of ``invoke``)."""
        yield self.invoke(input, config, **kwargs)

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`stream`."""
        yield await self.ainvoke(input, config, **kwargs)

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream output from a stream of input (default: add up the input, then stream)."""
        total = Accumulator.of(input)
        if total.seen:
            yield from self.stream(total.value, config, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`transform`."""
        total = await Accumulator.aof(input)
        if total.seen:
            async with aclosing_iter(self.astream(total.value, config, **kwargs)) as stream:
                async for output in stream:
                    yield output

    def astream_events(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        version: str = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[StreamEvent]:
        """Stream every run event (start, stream, end, custom) of this run and its children.

        Only ``version="v2"`` exists. Filters select events by run name, run type (the event
        name for custom events) and tags, as in langchain-core.

        Example:
            >>> async def show(runnable):
            ...     async for event in runnable.astream_events("hi", version="v2"):
            ...         print(event["event"], event["name"])
        """
        from ._events import EventFilter, astream_events

        event_filter = EventFilter(
            (include_names, include_types, include_tags),
            (exclude_names, exclude_types, exclude_tags),
        )
        return astream_events(self, input, config, version, event_filter, kwargs)


class RunnableCalls(Runnable[Input, Output]):
    """A runnable whose ``invoke`` / ``ainvoke`` are runs: it defines ``_invoke(input, run,
    **kwargs)`` and, where it does better than a worker thread, ``_ainvoke``."""

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """Run on one input and return its output (one run)."""
        return self._call_with_config(self._invoke, input, config, **kwargs)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async twin of :meth:`invoke`."""
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def _invoke(self, input: Input, run: Run, **kwargs: Any) -> Output:
        raise NotImplementedError(f"{type(self).__name__} does not implement invoke")

    async def _ainvoke(self, input: Input, run: Run, **kwargs: Any) -> Output:
        """Default: ``_invoke`` in a worker thread (the run stays current there)."""
        return await run_in_executor(self._invoke, input, run, **kwargs)


class RunnableKind(RunnableCalls[Input, Output]):
    """The base of this package's runnable kinds: each public method is a run template.

    Besides ``_invoke`` / ``_ainvoke``, a kind that streams defines ``_transform(chunks, run,
    **kwargs)`` and ``_atransform`` (``stream`` feeds them a one-chunk input stream).
    """

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream the output as the kind produces it (one run)."""
        return self.transform(iter((input,)), config, **kwargs)

    def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`stream`."""
        return self.atransform(aiter_of(input), config, **kwargs)

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream output from a stream of input (one run, started at the first input chunk)."""
        return self._transform_stream_with_config(input, self._transform, config, **kwargs)

    def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`transform`."""
        return self._atransform_stream_with_config(input, self._atransform, config, **kwargs)

    def _transform(self, chunks: Iterator[Input], run: Run, **kwargs: Any) -> Iterator[Output]:
        """Default: add up the input, then yield the output of ``_invoke``."""
        yield self._invoke(Accumulator.of(chunks).value, run, **kwargs)

    async def _atransform(
        self, chunks: AsyncIterator[Input], run: Run, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Default: add up the input, then yield the output of ``_ainvoke``."""
        yield await self._ainvoke((await Accumulator.aof(chunks)).value, run, **kwargs)


def _guarded(
    invoke: Callable[..., Any], return_exceptions: bool, kwargs: dict[str, Any]
) -> Callable[[Any, RunnableConfig], Any]:
    """``invoke(input, config, **kwargs)``, returning its exception with ``return_exceptions``."""
    if not return_exceptions:
        return lambda item, config: invoke(item, config, **kwargs)

    def one(item: Any, config: RunnableConfig) -> Any:
        try:
            return invoke(item, config, **kwargs)
        except Exception as exc:
            return exc

    return one


def _indexed(
    one: Callable[[Any, RunnableConfig], Any], i: int, item: Any, config: RunnableConfig
) -> tuple[int, Any]:
    return (i, one(item, config))


def _aguarded(
    ainvoke: Callable[..., Awaitable[Any]], return_exceptions: bool, kwargs: dict[str, Any]
) -> Callable[[Any, RunnableConfig], Awaitable[Any]]:
    """Async twin of :func:`_guarded`."""

    async def one(item: Any, config: RunnableConfig) -> Any:
        try:
            return await ainvoke(item, config, **kwargs)
        except Exception as exc:
            if return_exceptions:
                return exc
            raise

    return one


async def gather_with_concurrency(limit: int | None, coros: Sequence[Awaitable[Any]]) -> list[Any]:
    """``asyncio.gather`` with at most ``limit`` coroutines running at once."""
    if not limit:
        return list(await asyncio.gather(*coros))
    semaphore = asyncio.Semaphore(limit)

    async def guarded(coro: Awaitable[Any]) -> Any:
        async with semaphore:
            return await coro

    return list(await asyncio.gather(*(guarded(c) for c in coros)))


def coerce_to_runnable(thing: Any, where: str = "|") -> Runnable[Any, Any]:
    """A runnable from a runnable, a callable (function or generator) or a dict of those.

    Example:
        >>> coerce_to_runnable({"double": lambda x: 2 * x}).invoke(3)
        {'double': 6}
    """
    if isinstance(thing, Runnable):
        return thing
    if is_foreign_runnable(thing):  # a langchain-core runnable: a step as it is
        crossing()
        return cast("Runnable[Any, Any]", thing)
    if inspect.isasyncgenfunction(thing) or inspect.isgeneratorfunction(thing):
        from ._generator import RunnableGenerator

        return RunnableGenerator(thing)
    if callable(thing):
        from ._lambda import RunnableLambda

        return RunnableLambda(thing)
    if isinstance(thing, dict):
        from ._parallel import RunnableParallel

        return RunnableParallel(thing)
    raise TypeError(
        f"Expected a Runnable, callable or dict in {where}, got {type(thing).__name__}: {thing!r}"
    )
