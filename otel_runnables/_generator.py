"""RunnableGenerator: a runnable from a generator function over an input stream."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from ._base import Input, Output, StreamingRunnable
from ._config import RunnableConfig
from ._iter import aclosing_iter
from ._lambda import accepts_config
from ._run import Run

__all__ = ["RunnableGenerator"]


class RunnableGenerator(StreamingRunnable[Input, Output]):
    """Wraps ``transform(chunks)``: a (sync or async) generator function that receives an
    iterator of input chunks and yields output chunks. ``invoke`` adds the chunks up with ``+``.

    Example:
        >>> def words(chunks):
        ...     for text in chunks:
        ...         yield from text.split()
        >>> list(RunnableGenerator(words).stream("a b"))
        ['a', 'b']
    """

    def __init__(
        self,
        transform: Callable[..., Any],
        atransform: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        named: Any = None
        if atransform is not None:
            self._afunc = atransform
            named = atransform
        if inspect.isasyncgenfunction(transform):
            self._afunc = transform
            named = transform
        elif inspect.isgeneratorfunction(transform):
            self._func = transform
            named = transform
        else:
            raise TypeError(
                "Expected a generator function type for `transform`."
                f"Instead got an unsupported type: {type(transform)}"
            )
        self.name = name or getattr(named, "__name__", None) or "RunnableGenerator"

    def __repr__(self) -> str:
        return f"RunnableGenerator({self.name})"

    def _call(self, func: Callable[..., Any], chunks: Any, run: Run) -> Any:
        return func(chunks, config=run.current_config()) if accepts_config(func) else func(chunks)

    def _transform(self, chunks: Iterator[Any], run: Run) -> Iterator[Any]:
        return self._call(self._func, chunks, run)  # type: ignore[no-any-return]

    def _atransform(self, chunks: AsyncIterator[Any], run: Run) -> AsyncIterator[Any]:
        return self._call(self._afunc, chunks, run)  # type: ignore[no-any-return]

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Run the generator over the input stream."""
        if not hasattr(self, "_func"):
            raise NotImplementedError(f"{self!r} only supports async methods.")
        return self._transform_stream_with_config(input, self._transform, config)

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """The sum (``+``) of the streamed chunks."""
        final: Any = None
        for output in self.stream(input, config, **kwargs):
            final = output if final is None else final + output
        return final  # type: ignore[no-any-return]

    def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`transform`."""
        if not hasattr(self, "_afunc"):
            raise NotImplementedError(f"{self!r} only supports sync methods.")
        return self._atransform_stream_with_config(input, self._atransform, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async twin of :meth:`invoke`."""
        final: Any = None
        async with aclosing_iter(self.astream(input, config, **kwargs)) as stream:
            async for output in stream:
                final = output if final is None else final + output
        return final  # type: ignore[no-any-return]
