"""RunnableGenerator: a runnable from a generator function over an input stream."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast

from ._base import Input, Output, RunnableKind
from ._config import RunnableConfig
from ._iter import aclosing_iter
from ._lambda import accepts_config
from ._run import Run
from ._schema import create_schema, hints_of, is_model_class, item_type

__all__ = ["RunnableGenerator"]


class RunnableGenerator(RunnableKind[Input, Output]):
    """Wraps ``transform(chunks)``: a (sync or async) generator function that receives an
    iterator of input chunks and yields output chunks. ``invoke`` adds the chunks up with ``+``.

    Example:
        >>> def words(chunks):
        ...     for text in chunks:
        ...         yield from text.split()
        >>> list(RunnableGenerator(words).stream("a b"))
        ['a', 'b']
    """

    _func: Callable[..., Iterator[Any]]
    _afunc: Callable[..., AsyncIterator[Any]]

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
            # langchain-core's message, word for word (the missing space included).
            raise TypeError(
                "Expected a generator function type for `transform`."
                f"Instead got an unsupported type: {type(transform)}"
            )
        self.name = name or getattr(named, "__name__", None) or "RunnableGenerator"
        self._function: Callable[..., Any] = named  # the sync one when there are both

    def __repr__(self) -> str:
        return f"RunnableGenerator({self.name})"

    # -- types and schemas from the generator function ------------------------------------
    @property
    def InputType(self) -> Any:
        """The item type of the first parameter's ``Iterator[...]`` hint (else ``Any``)."""
        return item_type(hints_of(self._function)[0])

    @property
    def OutputType(self) -> Any:
        """The item type of the ``Iterator[...]`` return hint (else ``Any``)."""
        return item_type(hints_of(self._function)[1])

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """From :attr:`InputType` (type hints resolved in the function's module)."""
        return self._schema("Input", self.InputType)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """From :attr:`OutputType`."""
        return self._schema("Output", self.OutputType)

    def _schema(self, suffix: str, root: Any) -> Any:
        if is_model_class(root):
            return root
        module = getattr(self._function, "__module__", None)
        return create_schema(self.get_name(suffix), root=root, module=module)

    # As in langchain-core, the keyword arguments of ``bind`` and of the call reach the
    # generator function, with ``config`` added when it takes one.
    def _transform(self, chunks: Iterator[Any], run: Run, **kwargs: Any) -> Iterator[Any]:
        func = self._func
        if accepts_config(func):
            kwargs["config"] = run.current_config()
        return func(chunks, **kwargs)

    def _atransform(
        self, chunks: AsyncIterator[Any], run: Run, **kwargs: Any
    ) -> AsyncIterator[Any]:
        func = self._afunc
        if accepts_config(func):
            kwargs["config"] = run.current_config()
        return func(chunks, **kwargs)

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Run the generator over the input stream (one run)."""
        self._require("_func", "async")
        return super().transform(input, config, **kwargs)

    def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        self._require("_afunc", "sync")
        return super().atransform(input, config, **kwargs)

    def _require(self, function: str, only: str) -> None:
        if not hasattr(self, function):
            raise NotImplementedError(f"{self!r} only supports {only} methods.")

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """The sum (``+``) of the streamed chunks."""
        final: Any = None
        for output in self.stream(input, config, **kwargs):
            final = output if final is None else final + output
        return cast(Output, final)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async twin of :meth:`invoke`."""
        final: Any = None
        async with aclosing_iter(self.astream(input, config, **kwargs)) as stream:
            async for output in stream:
                final = output if final is None else final + output
        return cast(Output, final)
