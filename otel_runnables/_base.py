"""Runnable: the public methods as template methods over one run lifecycle.

Every runnable kind implements ``invoke`` (and, where it can do better than the defaults,
``ainvoke`` / ``transform`` / ``atransform``) by handing a function to one of four templates:
``_call_with_config`` / ``_acall_with_config`` for a call, ``_transform_stream_with_config`` /
``_atransform_stream_with_config`` for a stream. The templates own the run: start it, make it
and its span current around each synchronous slice of user code (never across a ``yield``),
report chunks, end or fail it exactly once, and close inner iterators.

The function receives the input and the run; it reads the run's own config (``run.config``)
and asks the run for the configs of its children (``run.child_config(tag)``) and for the config
to hand to user code (``run.current_config()``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._config import (
    RunnableConfig,
    ensure_config,
    get_config_list,
    get_executor_for_config,
    hop,
    run_in_executor,
)
from ._iter import Accumulator, aclosing_iter, aiter_of, atee, tee
from ._run import Run

if TYPE_CHECKING:
    from ._events import StreamEvent

__all__ = ["Input", "Other", "Output", "Runnable", "StreamingRunnable", "coerce_to_runnable"]

Input = TypeVar("Input")
Output = TypeVar("Output")
Other = TypeVar("Other")


class Runnable(Generic[Input, Output]):
    """A unit of work that can be invoked, batched, streamed and composed with ``|``.

    Every call is a run: a span for OpenTelemetry, a start/end pair for callback handlers and
    ``astream_events``.

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> (RunnableLambda(lambda x: x + 1) | (lambda x: x * 2)).invoke(1)
        4
    """

    name: str | None = None

    # -- naming ------------------------------------------------------------------------
    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The run name: ``name``, else this runnable's name, else its class name."""
        name = name or self.name or type(self).__name__
        if suffix:
            return f"{name}{suffix}" if name[0].isupper() else f"{name}_{suffix.lower()}"
        return name

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
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Invoke on each input in worker threads (``max_concurrency`` honoured), in order."""
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))

        def one(item: Input, item_config: RunnableConfig) -> Any:
            if return_exceptions:
                try:
                    return self.invoke(item, item_config, **kwargs)
                except Exception as exc:
                    return exc
            return self.invoke(item, item_config, **kwargs)

        if len(inputs) == 1:
            return [one(inputs[0], configs[0])]
        with get_executor_for_config(configs[0]) as executor:
            return list(executor.map(one, inputs, configs))

    async def abatch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async twin of :meth:`batch`: concurrent ``ainvoke`` calls, results in input order."""
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))

        async def one(item: Input, item_config: RunnableConfig) -> Any:
            if return_exceptions:
                try:
                    return await self.ainvoke(item, item_config, **kwargs)
                except Exception as exc:
                    return exc
            return await self.ainvoke(item, item_config, **kwargs)

        coros = [one(i, c) for i, c in zip(inputs, configs, strict=True)]
        return await gather_with_concurrency(configs[0].get("max_concurrency"), coros)

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
        total = Accumulator(sticky=False)
        got_any = False
        for chunk in input:
            total.add(chunk)
            got_any = True
        if got_any:
            yield from self.stream(total.value, config, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`transform`."""
        total = Accumulator(sticky=False)
        got_any = False
        async for chunk in input:
            total.add(chunk)
            got_any = True
        if got_any:
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
        from ._events import astream_events

        return astream_events(
            self,
            input,
            config,
            version=version,
            include_names=include_names,
            include_types=include_types,
            include_tags=include_tags,
            exclude_names=exclude_names,
            exclude_types=exclude_types,
            exclude_tags=exclude_tags,
            **kwargs,
        )

    # -- composition -------------------------------------------------------------------
    def __or__(self, other: Any) -> Runnable[Input, Any]:
        from ._sequence import RunnableSequence

        return RunnableSequence(self, coerce_to_runnable(other, "|"))

    def __ror__(self, other: Any) -> Runnable[Any, Output]:
        from ._sequence import RunnableSequence

        return RunnableSequence(coerce_to_runnable(other, "|"), self)

    def pipe(self, *others: Any, name: str | None = None) -> Runnable[Input, Any]:
        """``self | others[0] | ...`` as one sequence."""
        from ._sequence import RunnableSequence

        return RunnableSequence(self, *(coerce_to_runnable(o, "pipe()") for o in others), name=name)

    def pick(self, keys: str | list[str]) -> Runnable[Input, Any]:
        """Pipe into a step that keeps only ``keys`` of a dict output."""
        from ._passthrough import RunnablePick

        return self | RunnablePick(keys)

    def assign(self, **kwargs: Any) -> Runnable[Input, Any]:
        """Pipe into ``RunnablePassthrough.assign(**kwargs)``."""
        from ._parallel import RunnableParallel
        from ._passthrough import RunnableAssign

        return self | RunnableAssign(RunnableParallel(kwargs))

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[Input, Output]:
        """A copy bound to ``config`` (merged with the config given at call time)."""
        from ._binding import RunnableBinding

        merged = cast(RunnableConfig, {**(config or {}), **kwargs})
        return RunnableBinding(bound=self, config=merged)

    def bind(self, **kwargs: Any) -> Runnable[Input, Output]:
        """A copy that always passes ``kwargs`` to ``invoke``."""
        from ._binding import RunnableBinding

        return RunnableBinding(bound=self, kwargs=kwargs)

    def with_retry(
        self,
        *,
        retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,),
        wait_exponential_jitter: bool = True,
        exponential_jitter_params: Mapping[str, float] | None = None,
        stop_after_attempt: int = 3,
    ) -> Runnable[Input, Output]:
        """A copy that retries failed calls (each attempt is a child run)."""
        from ._binding import RunnableRetry

        return RunnableRetry(
            bound=self,
            retry_exception_types=retry_if_exception_type,
            wait_exponential_jitter=wait_exponential_jitter,
            exponential_jitter_params=exponential_jitter_params,
            max_attempt_number=stop_after_attempt,
        )

    def with_fallbacks(
        self,
        fallbacks: Sequence[Runnable[Input, Output]],
        *,
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
        exception_key: str | None = None,
    ) -> Runnable[Input, Output]:
        """A runnable that tries ``fallbacks`` in order when this one raises."""
        from ._fallbacks import RunnableWithFallbacks

        return RunnableWithFallbacks(
            runnable=self,
            fallbacks=fallbacks,
            exceptions_to_handle=exceptions_to_handle,
            exception_key=exception_key,
        )

    # -- templates ---------------------------------------------------------------------
    def _call_with_config(
        self,
        func: Callable[..., Any],
        input: Any,
        config: RunnableConfig | None,
        run_type: str = "chain",
        **kwargs: Any,
    ) -> Any:
        """Run ``func(input, run, **kwargs)`` as one run of this runnable."""
        config = ensure_config(config)
        run = Run.start(config, self.get_name(), input, run_type)
        try:
            with run:
                output = func(input, run, **kwargs)
        except BaseException as exc:
            run.error(exc)
            raise
        run.end(output)
        return output

    async def _acall_with_config(
        self,
        func: Callable[..., Awaitable[Any]],
        input: Any,
        config: RunnableConfig | None,
        run_type: str = "chain",
        **kwargs: Any,
    ) -> Any:
        """Async twin of :meth:`_call_with_config`."""
        config = ensure_config(config)
        run = await Run.astart(config, self.get_name(), input, run_type)
        try:
            with run:
                output = await hop(func, input, run, **kwargs)
        except BaseException as exc:
            await run.aerror(exc)
            raise
        await run.aend(output)
        return output

    def _transform_stream_with_config(
        self,
        inputs: Iterator[Any],
        transformer: Callable[..., Iterator[Any]],
        config: RunnableConfig | None,
        run_type: str = "chain",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run ``transformer(inputs, run)`` as one streamed run.

        As in langchain-core, the run starts once the first input chunk exists, its start
        carries ``{"input": ""}`` and its end the accumulated input and output.
        """
        for_tracing, for_transform = tee(inputs, 2)
        final_input = Accumulator(sticky=True)
        try:
            final_input.add(next(for_tracing, None))
        except BaseException:  # the upstream failed or this stream was closed meanwhile
            if hasattr(inputs, "close"):
                inputs.close()
            raise
        final_output = Accumulator(sticky=True)
        config = ensure_config(config)
        run = Run.start(config, self.get_name(), {"input": ""}, run_type)
        iterator = None
        finished = False
        try:
            with run:
                iterator = transformer(for_transform, run, **kwargs)
            while True:
                with run:
                    try:
                        chunk = next(iterator)
                    except StopIteration:
                        break
                run.chunk(chunk)
                yield chunk
                final_output.add(chunk)
            for chunk in for_tracing:
                final_input.add(chunk)
            finished = True
        except GeneratorExit:
            # The consumer stopped iterating: end the run with what it produced (as
            # langchain-core does), marked cancelled, without draining the input further.
            run.cancelled = True
            run.end(final_output.value, inputs=final_input.value)
            raise
        except BaseException as exc:
            run.error(exc, inputs=final_input.value)
            raise
        finally:
            if iterator is not None and hasattr(iterator, "close"):
                with run:
                    iterator.close()
            if not finished and hasattr(inputs, "close"):
                inputs.close()
        run.end(final_output.value, inputs=final_input.value)

    async def _atransform_stream_with_config(
        self,
        inputs: AsyncIterator[Any],
        transformer: Callable[..., AsyncIterator[Any]],
        config: RunnableConfig | None,
        run_type: str = "chain",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async twin of :meth:`_transform_stream_with_config`."""
        for_tracing, for_transform = atee(inputs, 2)
        final_input = Accumulator(sticky=True)
        try:
            final_input.add(await anext(for_tracing, None))
        except BaseException:  # the upstream failed or this stream was closed meanwhile
            if hasattr(inputs, "aclose"):
                await inputs.aclose()
            raise
        final_output = Accumulator(sticky=True)
        config = ensure_config(config)
        run = await Run.astart(config, self.get_name(), {"input": ""}, run_type)
        iterator = None
        finished = False
        try:
            with run:
                iterator = transformer(for_transform, run, **kwargs)
            while True:
                with run:
                    try:
                        chunk = await hop(anext, iterator)
                    except StopAsyncIteration:
                        break
                run.chunk(chunk)
                yield chunk
                final_output.add(chunk)
            async for chunk in for_tracing:
                final_input.add(chunk)
            finished = True
        except GeneratorExit:
            # The consumer stopped iterating: end the run with what it produced (as
            # langchain-core does), marked cancelled, without draining the input further.
            run.cancelled = True
            await run.aend(final_output.value, inputs=final_input.value)
            raise
        except BaseException as exc:
            await run.aerror(exc, inputs=final_input.value)
            raise
        finally:
            if iterator is not None and hasattr(iterator, "aclose"):
                with run:
                    await iterator.aclose()
            if not finished and hasattr(inputs, "aclose"):
                await inputs.aclose()
        await run.aend(final_output.value, inputs=final_input.value)


class StreamingRunnable(Runnable[Input, Output]):
    """A runnable whose ``transform`` / ``atransform`` are its real implementation:
    ``stream`` and ``astream`` feed them a one-chunk input stream."""

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream the output as the transform produces it."""
        return self.transform(iter([input]), config, **kwargs)

    def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`stream`."""
        return self.atransform(aiter_of(input), config, **kwargs)


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
    """A runnable from a runnable, a callable (function or generator) or a dict of those."""
    if isinstance(thing, Runnable):
        return thing
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
