"""The run templates: every run of every kind is started, made current, ended or failed here.

One template per mode, each a sync/async pair that differs only by ``await``:

========================  ==================================  ==============================
mode                      templates                           the kind's function
========================  ==================================  ==============================
a call                    ``_call_with_config`` / ``_a...``   ``func(input, run, **kw)``
a batch, step by step     ``_batch_with_config`` / ``_a...``  ``func(inputs, runs, ...)``
a stream of input         ``_transform_stream_with_config``   ``transform(chunks, run, **kw)``
a known input, streamed   ``_stream_with_config`` / ``_a...`` ``func(input, run, **kw)``
========================  ==================================  ==============================

A template starts the run, makes it and its span current around each synchronous slice of the
kind's code (never across a ``yield``), reports chunks, ends or fails the run exactly once and
closes the iterators it opened. The kind's function gets the input and the run; it reads the
run's own config (``run.config``) and asks the run for its children's configs
(``run.child_config(tag)``) and for the config user code runs under (``run.current_config()``).
The streamed templates keep their state in a :class:`~._streamed.StreamedRun`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from ._bus import settle
from ._config import RunnableConfig, ensure_config, get_config_list, hop
from ._run import Run
from ._stack import DEEP_RUNS, deep_stack, on_fresh_task, on_fresh_thread
from ._streamed import StreamedRun

__all__ = ["BatchFunc", "RunTemplates"]

T = TypeVar("T")

BatchFunc = Callable[..., list[Any]]
"""``func(inputs, runs, return_exceptions, **kwargs)``: one output (or, with
``return_exceptions``, the exception) per input, in order."""


class RunTemplates:
    """The templates, as methods of every runnable (``get_name`` names the run)."""

    __slots__ = ()

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        raise NotImplementedError  # pragma: no cover - Runnable defines it

    # -- a call --------------------------------------------------------------------------
    def _call_with_config(
        self,
        func: Callable[..., T],
        input: Any,
        config: RunnableConfig | None,
        **kwargs: Any,
    ) -> T:
        """Run ``func(input, run, **kwargs)`` as one run of this runnable."""
        run = Run.start(ensure_config(config), self.get_name(), input)
        try:
            with run:
                if run.depth < DEEP_RUNS or not deep_stack(run.depth):
                    output = func(input, run, **kwargs) if kwargs else func(input, run)
                else:
                    output = on_fresh_thread(func, input, run, **kwargs)
        except BaseException as exc:
            run.error(exc)
            raise
        run.end(output)
        return output

    async def _acall_with_config(
        self,
        func: Callable[..., Awaitable[T]],
        input: Any,
        config: RunnableConfig | None,
        **kwargs: Any,
    ) -> T:
        """Async twin of :meth:`_call_with_config`."""
        run = await Run.astart(ensure_config(config), self.get_name(), input)
        try:
            with run:
                if run.depth < DEEP_RUNS or not deep_stack(run.depth):
                    output = await hop(func, input, run, **kwargs)
                else:
                    output = await on_fresh_task(func, input, run, **kwargs)
        except BaseException as exc:
            await run.aerror(exc)
            raise
        await run.aend(output)
        return output

    # -- a batch, step by step -----------------------------------------------------------
    def _batch_with_config(
        self,
        func: BatchFunc,
        inputs: Sequence[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None,
        return_exceptions: bool,
        **kwargs: Any,
    ) -> list[Any]:
        """Start one run per input, call ``func(inputs, runs, return_exceptions)``, then end
        each run with its output (or fail it with its exception)."""
        name = self.get_name()
        runs: list[Run] = []
        try:
            for c, i in zip(get_config_list(config, len(inputs)), inputs, strict=True):
                runs.append(Run.start(c, name, i))
            outputs = func(inputs, runs, return_exceptions, **kwargs)
        except BaseException as exc:
            for run in runs:
                run.error(exc)
            raise
        for run, output in zip(runs, outputs, strict=True):
            if return_exceptions and isinstance(output, Exception):
                run.error(output)
            else:
                run.end(output)
        return outputs

    async def _abatch_with_config(
        self,
        func: Callable[..., Awaitable[list[Any]]],
        inputs: Sequence[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None,
        return_exceptions: bool,
        **kwargs: Any,
    ) -> list[Any]:
        """Async twin of :meth:`_batch_with_config`."""
        name = self.get_name()
        runs: list[Run] = []
        try:
            for c, i in zip(get_config_list(config, len(inputs)), inputs, strict=True):
                runs.append(await Run.astart(c, name, i))
            outputs = await func(inputs, runs, return_exceptions, **kwargs)
        except BaseException as exc:
            for run in runs:
                await run.aerror(exc)
            raise
        for run, output in zip(runs, outputs, strict=True):
            failed = return_exceptions and isinstance(output, Exception)
            await (run.aerror(output) if failed else run.aend(output))
        return outputs

    # -- streams -------------------------------------------------------------------------
    def _transform_stream_with_config(
        self,
        inputs: Iterator[Any],
        transformer: Callable[..., Iterator[T]],
        config: RunnableConfig | None,
        **kwargs: Any,
    ) -> Iterator[T]:
        """Run ``transformer(chunks, run, **kwargs)`` as one run reading a stream of input.

        As in langchain-core, the run starts once the first input chunk exists, its input is
        pending until then (handlers get ``{"input": ""}``) and its end carries the
        accumulated input and output.
        """
        state = StreamedRun(config, self.get_name()).reading(inputs)
        return _drive(state, transformer, kwargs)

    def _atransform_stream_with_config(
        self,
        inputs: AsyncIterator[Any],
        transformer: Callable[..., AsyncIterator[T]],
        config: RunnableConfig | None,
        **kwargs: Any,
    ) -> AsyncIterator[T]:
        """Async twin of :meth:`_transform_stream_with_config`."""
        state = StreamedRun(config, self.get_name()).areading(inputs)
        return _adrive(state, transformer, kwargs)

    def _stream_with_config(
        self,
        func: Callable[..., Iterator[T]],
        input: Any,
        config: RunnableConfig | None,
        **kwargs: Any,
    ) -> Iterator[T]:
        """Run ``func(input, run, **kwargs)``, an iterator, as one run with a known input."""
        return _drive(StreamedRun(config, self.get_name()).known(input), func, kwargs)

    def _astream_with_config(
        self,
        func: Callable[..., AsyncIterator[T]],
        input: Any,
        config: RunnableConfig | None,
        **kwargs: Any,
    ) -> AsyncIterator[T]:
        """Async twin of :meth:`_stream_with_config`."""
        return _adrive(StreamedRun(config, self.get_name()).known(input), func, kwargs)


def _drive(
    state: StreamedRun, func: Callable[..., Iterator[T]], kwargs: dict[str, Any]
) -> Iterator[T]:
    """A streamed run: started at the first pull, each pull inside it, each chunk reported."""
    run = state.start()
    iterator = stream = None
    try:
        with run:
            iterator = func(state.feed, run, **kwargs)
        stream = _tapped(run, iterator, "tap_output_iter")
        deep = run.depth >= DEEP_RUNS
        while True:
            with run:
                try:
                    deeper = deep and deep_stack(run.depth)
                    chunk = on_fresh_thread(next, stream) if deeper else next(stream)
                except StopIteration:
                    break
            state.produced(chunk)
            yield chunk
            state.taken(chunk)
        state.drain()
    except GeneratorExit:
        state.stopped()
        raise
    except BaseException as exc:
        state.fail(exc)
        raise
    finally:
        if stream is not iterator:
            state.close(stream)
        state.close(iterator)
    state.end()


async def _adrive(
    state: StreamedRun, func: Callable[..., AsyncIterator[T]], kwargs: dict[str, Any]
) -> AsyncIterator[T]:
    """Async twin of :func:`_drive`."""
    run = await state.astart()
    iterator = stream = None
    try:
        with run:
            iterator = func(state.feed, run, **kwargs)
        stream = _tapped(run, iterator, "tap_output_aiter")
        deep = run.depth >= DEEP_RUNS
        while True:
            with run:
                try:
                    deeper = deep and deep_stack(run.depth)
                    chunk = await (on_fresh_task(anext, stream) if deeper else hop(anext, stream))
                except StopAsyncIteration:
                    break
            state.produced(chunk)
            if run.sinks:  # an event stream that is full (its consumer gets its turn at the
                await settle(run.sinks, turn=False)  # next scheduling point)
            yield chunk
            state.taken(chunk)
        await state.adrain()
    except GeneratorExit:
        await state.astopped()
        raise
    except BaseException as exc:
        await state.afail(exc)
        raise
    finally:
        if stream is not iterator:
            await state.aclose(stream)
        await state.aclose(iterator)
    await state.aend()


def _tapped(run: Run, iterator: Any, tap: str) -> Any:
    """The run's output as a langchain-core event stream among its handlers taps it (its
    ``on_chain_stream`` events come from there); the iterator itself otherwise."""
    for handler in run.handlers:
        method = getattr(handler, tap, None)
        if method is not None:
            return method(run.run_id, iterator)
    return iterator
