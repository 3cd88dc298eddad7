"""RunnableLambda: a runnable from a sync or async function (generator functions included)."""

from __future__ import annotations

import collections.abc
import functools
import inspect
import operator
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from ._base import Input, Output, Runnable, RunnableKind
from ._config import RunnableConfig, patch_config, run_in_executor
from ._iter import Accumulator, aclosing_iter
from ._run import Run
from ._schema import Typed, create_schema, hints_of, is_model_class, item_type
from ._source import first_arg_dict_keys, nonlocal_values

if TYPE_CHECKING:
    from ._graph import Graph

__all__ = ["RunnableLambda", "accepts_config", "chain"]


def accepts_config(func: Callable[..., Any]) -> bool:
    """True when ``func`` has a parameter named ``config`` (it then receives the run config)."""
    try:
        return "config" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


_ITERATORS = (collections.abc.Iterator, collections.abc.AsyncIterator)


def _is_runnable(value: Any) -> bool:
    from ._foreign import is_foreign_runnable

    return isinstance(value, Runnable) or is_foreign_runnable(value)


def _is_async(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


class RunnableLambda(RunnableKind[Input, Output]):
    """A runnable that calls ``func`` (sync) and/or ``afunc`` (async) on its input.

    The function may take a ``config`` argument to receive the run's config; it may return
    another runnable, which is then invoked on the same input (up to ``recursion_limit``).

    Example:
        >>> RunnableLambda(lambda x: x + 1).invoke(1)
        2
    """

    def __init__(
        self,
        func: Callable[..., Any],
        afunc: Callable[..., Any] | None = None,
        name: str | None = None,
    ) -> None:
        if afunc is not None:
            if not (_is_async(afunc) or inspect.isasyncgenfunction(afunc)):
                raise TypeError(
                    f"afunc must be an async function or async generator function, got {afunc!r}"
                )
            self.afunc = afunc
        if _is_async(func) or inspect.isasyncgenfunction(func):
            if afunc is not None:
                raise TypeError(
                    "func is async, so afunc must not be given: pass the sync version as func"
                )
            self.afunc = func
            named = func
        elif callable(func):
            self.func = func
            named = func
        else:
            # langchain-core's message, word for word (the missing space included).
            raise TypeError(
                f"Expected a callable type for `func`.Instead got an unsupported type: {type(func)}"
            )
        if name is not None:
            self.name = name
        else:
            func_name = getattr(named, "__name__", None)
            if func_name and func_name != "<lambda>":
                self.name = func_name
        self._func_is_generator = inspect.isgeneratorfunction(func)
        self._afunc_is_generator = inspect.isasyncgenfunction(getattr(self, "afunc", None))
        self._func_takes_config = accepts_config(func)
        self._afunc_takes_config = accepts_config(afunc) if afunc else self._func_takes_config
        self._function: Callable[..., Any] = named  # func, sync or async

    def __repr__(self) -> str:
        return f"RunnableLambda({self.get_name()})"

    # -- types, schemas and graph from the function ---------------------------------------
    @property
    def InputType(self) -> Any:
        """The type hint of the function's first parameter (``Any`` without one)."""
        return hints_of(self._function)[0]

    @property
    def OutputType(self) -> Any:
        """The function's return hint (the item type of an ``Iterator`` / ``AsyncIterator``)."""
        hint = hints_of(self._function)[1]
        return item_type(hint) if getattr(hint, "__origin__", None) in _ITERATORS else hint

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """From the first parameter's hint; without one, the keys the function reads from its
        input (``x["a"]``, ``x.get("b")``, an ``itemgetter``'s keys) as fields."""
        func = self._function
        if isinstance(func, operator.itemgetter):
            items = repr(func).removeprefix("operator.itemgetter(")[:-1].split(", ")
            if all(i[0] == i[-1] == "'" and i != "''" for i in items):
                fields = {i[1:-1]: (Any, ...) for i in items}
                return create_schema(self.get_name("Input"), fields=fields)
            return create_schema(self.get_name("Input"), root=list[Any])
        if self.InputType is Any and (keys := first_arg_dict_keys(func)):
            return create_schema(self.get_name("Input"), fields=dict.fromkeys(keys, (Any, ...)))
        return Typed.get_input_schema(self, config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """From the function's return hint."""
        root = self.OutputType
        if is_model_class(root):
            return root
        module = getattr(self._function, "__module__", None)
        return create_schema(self.get_name("Output"), root=root, module=module)

    @functools.cached_property
    def deps(self) -> list[Runnable[Any, Any]]:
        """The runnables the function calls (found by name in its globals and closure)."""
        found: list[Runnable[Any, Any]] = []
        for value in nonlocal_values(self._function):
            if _is_runnable(value):
                found.append(value)
            elif _is_runnable(getattr(value, "__self__", None)):
                found.append(value.__self__)
        return found

    @property
    def config_specs(self) -> list[Any]:
        """The configurable fields of the runnables the function calls."""
        from ._shapes import unique_config_specs

        return unique_config_specs(self.deps)

    def get_graph(self, config: RunnableConfig | None = None) -> Graph:
        """The function's node, or the graphs of the runnables it calls side by side."""
        from ._graph import Drawable, attach_between

        if self.deps:
            return attach_between(self, self.deps, config, step_config=False)
        return Drawable.get_graph(self, config)

    # -- calling the user's function -----------------------------------------------------
    # As in langchain-core, the keyword arguments of ``bind`` and of the call reach the
    # function, with ``config`` added when it takes one.
    def _call_func(self, input: Any, run: Run, kwargs: dict[str, Any]) -> Any:
        if self._func_takes_config:
            kwargs = {**kwargs, "config": run.current_config()}
        return self.func(input, **kwargs) if kwargs else self.func(input)

    def _call_afunc(self, input: Any, run: Run, kwargs: dict[str, Any]) -> Any:
        if self._afunc_takes_config:
            kwargs = {**kwargs, "config": run.current_config()}
        return self.afunc(input, **kwargs) if kwargs else self.afunc(input)

    def _check_recursion(self, run: Run, input: Any) -> RunnableConfig:
        limit = run.config.get("recursion_limit", 25)
        if limit <= 0:
            # langchain-core's message, word for word.
            raise RecursionError(
                f"Recursion limit reached when invoking {self} with input {input}."
            )
        return patch_config(run.current_config(), recursion_limit=limit - 1)

    def _sync_output(self, input: Any, run: Run, kwargs: dict[str, Any]) -> Any:
        if self._func_is_generator:
            return Accumulator.of(self._call_func(input, run, kwargs)).value
        return self._call_func(input, run, kwargs)

    # -- invoke ----------------------------------------------------------------------------
    def _invoke(self, input: Input, run: Run, **kwargs: Any) -> Output:
        output: Output = self._sync_output(input, run, kwargs)
        if isinstance(output, Runnable):
            output = output.invoke(input, self._check_recursion(run, input))
        return output

    async def _ainvoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        if not hasattr(self, "afunc"):
            output = await run_in_executor(self._sync_output, input, run, kwargs)
        elif self._afunc_is_generator:
            async with aclosing_iter(self._call_afunc(input, run, kwargs)) as stream:
                output = (await Accumulator.aof(stream)).value
        else:
            output = await self._call_afunc(input, run, kwargs)
        if isinstance(output, Runnable):
            output = await output.ainvoke(input, self._check_recursion(run, input))
        return output

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """Call the function on ``input`` (an async-only lambda raises ``TypeError``)."""
        if not hasattr(self, "func"):
            # langchain-core's message, word for word (the missing space included).
            raise TypeError(
                "Cannot invoke a coroutine function synchronously.Use `ainvoke` instead."
            )
        return self._call_with_config(self._invoke, input, config, **kwargs)

    # -- streaming ---------------------------------------------------------------------
    def _transform(self, chunks: Iterator[Any], run: Run, **kwargs: Any) -> Iterator[Any]:
        final = Accumulator.of(chunks).value
        if self._func_is_generator:
            output = None
            total = Accumulator(sticky=False)
            for chunk in self._call_func(final, run, kwargs):
                yield chunk
                total.add(chunk)
            output = total.value
        else:
            output = self._call_func(final, run, kwargs)
        if isinstance(output, Runnable):
            yield from output.stream(final, self._check_recursion(run, final))
        elif not self._func_is_generator:
            yield output

    async def _atransform(
        self, chunks: AsyncIterator[Any], run: Run, **kwargs: Any
    ) -> AsyncIterator[Any]:
        final = (await Accumulator.aof(chunks)).value
        streamed = False
        if not hasattr(self, "afunc"):
            if self._func_is_generator:
                # langchain-core's message, word for word (the missing space included).
                raise TypeError(
                    "Cannot stream from a generator function asynchronously.Use .stream() instead."
                )
            output = await run_in_executor(self._call_func, final, run, kwargs)
        elif self._afunc_is_generator:
            streamed = True
            total = Accumulator(sticky=False)
            async with aclosing_iter(self._call_afunc(final, run, kwargs)) as stream:
                async for chunk in stream:
                    yield chunk
                    total.add(chunk)
            output = total.value
        else:
            output = await self._call_afunc(final, run, kwargs)
        if isinstance(output, Runnable):
            async with aclosing_iter(
                output.astream(final, self._check_recursion(run, final))
            ) as stream:
                async for chunk in stream:
                    yield chunk
        elif not streamed:
            yield output

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Add up the input stream, call the function, stream its output."""
        if not hasattr(self, "func"):
            # langchain-core's message, word for word (the missing space included).
            raise TypeError(
                "Cannot stream a coroutine function synchronously.Use `astream` instead."
            )
        yield from self._transform_stream_with_config(input, self._transform, config, **kwargs)


def chain(func: Callable[..., Any]) -> Runnable[Any, Any]:
    """Decorator: make a function a runnable (a ``RunnableLambda`` named after it).

    Example:
        >>> @chain
        ... def shout(text: str) -> str:
        ...     return text.upper()
        >>> shout.invoke("hi")
        'HI'
    """
    return RunnableLambda(func)
