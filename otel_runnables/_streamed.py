"""The state of one streamed run, shared by the sync and the async stream templates.

A :class:`StreamedRun` owns what a streamed run accumulates (its input, when it arrives as a
stream, and its output), reports each chunk, and decides how the run finishes: ended with what
it produced, ended marked cancelled when the consumer stopped early, or failed. It also closes
what the run was reading from. The templates in ``_base`` are short loops around it that differ
only by ``await``; every decision is here, once.

The order of a chunk's steps is langchain-core's: the chunk is reported to the sinks, yielded to
the consumer, and only then added to the output (a consumer that stops at a chunk has not taken
it, so the run's output does not include it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from ._config import RunnableConfig, ensure_config
from ._iter import Accumulator, atee, tee
from ._run import MISSING, Run
from ._stack import DEEP_RUNS, deep_stack, on_fresh_task, on_fresh_thread

__all__ = ["StreamedRun"]


class StreamedRun:
    """One streamed run, from the arguments that start it to its end.

    ``source`` is the input stream (closed when the run stops early), or None when the input
    is known at the start; ``tracing`` and ``feed`` are the two copies of the input stream.
    """

    __slots__ = (
        "config",
        "feed",
        "finished",
        "input",
        "name",
        "output",
        "run",
        "source",
        "tracing",
    )

    run: Run

    def __init__(self, config: RunnableConfig | None, name: str) -> None:
        self.config = config
        self.name = name
        self.source: Any = None
        self.tracing: Any = None
        self.feed: Any = None
        self.input = Accumulator(sticky=True)
        self.output = Accumulator(sticky=True)
        self.finished = False

    def known(self, input: Any) -> StreamedRun:
        """The run's input is ``input``, known at the start."""
        self.feed = input
        return self

    def reading(self, inputs: Iterator[Any]) -> StreamedRun:
        """The run reads a stream: one copy accumulates its input, the other feeds the run."""
        self.source = inputs
        self.tracing, self.feed = tee(inputs, 2)
        return self

    def areading(self, inputs: AsyncIterator[Any]) -> StreamedRun:
        """Async twin of :meth:`reading`."""
        self.source = inputs
        self.tracing, self.feed = atee(inputs, 2)
        return self

    # -- start -------------------------------------------------------------------------
    def start(self) -> Run:
        """Start the run: at once for a known input, else once the first input chunk exists
        (an upstream that fails first closes the input and starts no run)."""
        if self.tracing is None:
            run = Run.start(ensure_config(self.config), self.name, self.feed)
        else:
            try:
                self.input.add(next(self.tracing, None))
            except BaseException:  # the upstream failed or this stream was closed meanwhile
                self.close_source()
                raise
            config = ensure_config(self.config)
            run = Run.start(config, self.name, None, pending=True)
        self.run = run
        return run

    async def astart(self) -> Run:
        """Async twin of :meth:`start`."""
        if self.tracing is None:
            run = await Run.astart(ensure_config(self.config), self.name, self.feed)
        else:
            try:
                self.input.add(await anext(self.tracing, None))
            except BaseException:
                await self.aclose_source()
                raise
            config = ensure_config(self.config)
            run = await Run.astart(config, self.name, None, pending=True)
        self.run = run
        return run

    def drain(self) -> None:
        """The run's stream is exhausted: read the rest of its input (if it reads a stream)."""
        if self.tracing is not None:
            for chunk in self.tracing:
                self.input.add(chunk)
        self.finished = True

    async def adrain(self) -> None:
        """Async twin of :meth:`drain`."""
        if self.tracing is not None:
            async for chunk in self.tracing:
                self.input.add(chunk)
        self.finished = True

    def final_input(self) -> Any:
        """What the end transitions get as ``inputs`` (MISSING: the run's own input)."""
        return MISSING if self.tracing is None else self.input.value

    # -- output ------------------------------------------------------------------------
    def produced(self, chunk: Any) -> None:
        """The run produced ``chunk`` (reported before the consumer gets it)."""
        self.run.chunk(chunk, to_streams=self.tracing is not None)

    def taken(self, chunk: Any) -> None:
        """The consumer took ``chunk`` and asked for the next one."""
        self.output.add(chunk)

    # -- how it finishes ---------------------------------------------------------------
    def stopped(self) -> None:
        """The consumer stopped iterating: the run ends with what it produced, cancelled, and
        its input is not drained further (as langchain-core ends it, without draining)."""
        self.run.cancelled = True
        self.run.end(self.output.value, self.final_input())

    async def astopped(self) -> None:
        """Async twin of :meth:`stopped`."""
        self.run.cancelled = True
        await self.run.aend(self.output.value, self.final_input())

    def end(self) -> None:
        """The run's stream is exhausted and its input drained."""
        self.run.end(self.output.value, self.final_input())

    async def aend(self) -> None:
        """Async twin of :meth:`end`."""
        await self.run.aend(self.output.value, self.final_input())

    def fail(self, error: BaseException) -> None:
        """The run (or a stream it reads) raised ``error``."""
        self.run.error(error, self.final_input())

    async def afail(self, error: BaseException) -> None:
        """Async twin of :meth:`fail`."""
        await self.run.aerror(error, self.final_input())

    # -- closing -----------------------------------------------------------------------
    def close(self, iterator: Any) -> None:
        """Close the run's own iterator (inside the run), then its input unless exhausted."""
        close = getattr(iterator, "close", None)
        if close is not None:
            with self.run:
                if self.run.depth < DEEP_RUNS or not deep_stack(self.run.depth):
                    close()
                else:  # closing runs through every nested stream
                    on_fresh_thread(close)
        if not self.finished:
            self.close_source()

    async def aclose(self, iterator: Any) -> None:
        """Async twin of :meth:`close`."""
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with self.run:
                if self.run.depth < DEEP_RUNS or not deep_stack(self.run.depth):
                    await aclose()
                else:  # closing runs through every nested stream
                    await on_fresh_task(aclose)
        if not self.finished:
            await self.aclose_source()

    def close_source(self) -> None:
        """Close the input stream, if the run reads one that can be closed."""
        close = getattr(self.source, "close", None)
        if close is not None:
            close()

    async def aclose_source(self) -> None:
        """Async twin of :meth:`close_source`."""
        aclose = getattr(self.source, "aclose", None)
        if aclose is not None:
            await aclose()
