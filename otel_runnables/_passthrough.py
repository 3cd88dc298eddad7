"""RunnablePassthrough (input unchanged), RunnableAssign (``.assign``) and RunnablePick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._base import RunnableKind
from ._config import RunnableConfig, ensure_config, get_executor_for_config, run_in_executor
from ._iter import Accumulator, AddableDict, aclosing_iter, atee, tee
from ._lambda import accepts_config
from ._parallel import RunnableParallel
from ._run import Run

if TYPE_CHECKING:
    from ._graph import Graph

__all__ = ["RunnableAssign", "RunnablePassthrough", "RunnablePick"]

# langchain-core's message, word for word (also for RunnablePick, as there).
_NOT_A_DICT = "The input to RunnablePassthrough.assign() must be a dict."


def _identity(chunks: Iterator[Any], run: Run) -> Iterator[Any]:
    return chunks


def _aidentity(chunks: AsyncIterator[Any], run: Run) -> AsyncIterator[Any]:
    return chunks


class RunnablePassthrough(RunnableKind[Any, Any]):
    """Returns its input unchanged, optionally calling ``func(input)`` for a side effect.

    Example:
        >>> from otel_runnables import RunnableParallel
        >>> RunnableParallel(orig=RunnablePassthrough(), n=lambda x: x + 1).invoke(1)
        {'orig': 1, 'n': 2}
    """

    def __init__(
        self,
        func: Callable[..., Any] | None = None,
        afunc: Callable[..., Any] | None = None,
        *,
        input_type: Any | None = None,
        name: str | None = None,
    ) -> None:
        self.func = func
        self.afunc = afunc
        self.input_type = input_type
        if name is not None:
            self.name = name

    def __repr__(self) -> str:
        return "RunnablePassthrough()"

    @property
    def InputType(self) -> Any:
        """``input_type`` (``Any`` unless given)."""
        return self.input_type or Any

    @property
    def OutputType(self) -> Any:
        """The input type: the input comes out unchanged."""
        return self.input_type or Any

    @classmethod
    def assign(cls, **kwargs: Any) -> RunnableAssign:
        """A runnable that adds ``kwargs``' outputs (computed from the input dict) to it.

        Example:
            >>> RunnablePassthrough.assign(total=lambda d: d["a"] + d["b"]).invoke({"a": 1, "b": 2})
            {'a': 1, 'b': 2, 'total': 3}
        """
        return RunnableAssign(RunnableParallel(kwargs))

    # As in langchain-core, ``func`` gets the call's keyword arguments (and ``config`` when it
    # takes one).
    def _side_effect(self, value: Any, config: RunnableConfig, kwargs: dict[str, Any]) -> None:
        if self.func is not None:
            if accepts_config(self.func):
                kwargs = {**kwargs, "config": config}
            self.func(value, **kwargs)

    async def _aside_effect(
        self, value: Any, config: RunnableConfig, kwargs: dict[str, Any]
    ) -> None:
        if self.afunc is not None:
            if accepts_config(self.afunc):
                kwargs = {**kwargs, "config": config}
            await self.afunc(value, **kwargs)
        elif self.func is not None:
            await run_in_executor(self._side_effect, value, config, kwargs)

    def _invoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        self._side_effect(input, run.current_config(), kwargs)
        return input

    async def _ainvoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        await self._aside_effect(input, run.current_config(), kwargs)
        return input

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Pass chunks through as they come; ``func`` sees the accumulated input at the end."""
        total = Accumulator(sticky=False)
        for chunk in self._transform_stream_with_config(input, _identity, config):
            yield chunk
            total.add(chunk)
        if total.value is not None:
            self._side_effect(total.value, ensure_config(config), kwargs)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async twin of :meth:`transform`."""
        total = Accumulator(sticky=False)
        async with aclosing_iter(
            self._atransform_stream_with_config(input, _aidentity, config)
        ) as stream:
            async for chunk in stream:
                yield chunk
                total.add(chunk)
        if total.value is not None:
            await self._aside_effect(total.value, ensure_config(config), kwargs)


class RunnableAssign(RunnableKind[Any, Any]):
    """Merges the outputs of a RunnableParallel (``mapper``) into the input dict.

    Example:
        >>> from otel_runnables import RunnableParallel
        >>> RunnableAssign(RunnableParallel(n=lambda d: len(d))).invoke({"a": 1})
        {'a': 1, 'n': 1}
    """

    def __init__(self, mapper: RunnableParallel[Any]) -> None:
        self.mapper = mapper

    def _default_name(self) -> str:
        return f"RunnableAssign<{','.join(self.mapper.steps__)}>"

    def __repr__(self) -> str:
        return f"RunnableAssign(mapper={self.mapper!r})"

    @property
    def InputType(self) -> Any:
        """``dict[str, Any]``."""
        return dict[str, Any]

    @property
    def OutputType(self) -> Any:
        """``dict[str, Any]``."""
        return dict[str, Any]

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """The mapper's input schema when it is a dict schema."""
        from ._shapes import assign_input_schema

        return assign_input_schema(self, config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """The input's fields and the mapper's outputs."""
        from ._shapes import assign_output_schema

        return assign_output_schema(self, config)

    @property
    def config_specs(self) -> list[Any]:
        """The mapper's configurable fields."""
        return list(self.mapper.config_specs)

    def get_graph(self, config: RunnableConfig | None = None) -> Graph:
        """The mapper's graph, with a passthrough node beside its steps."""
        graph = self.mapper.get_graph(config)
        first, last = graph.first_node(), graph.last_node()
        if first is not None and last is not None:
            passthrough = graph.add_node(RunnablePassthrough())
            graph.add_edge(first, passthrough)
            graph.add_edge(passthrough, last)
        return graph

    def _invoke(self, input: Any, run: Run, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(input, dict):
            raise ValueError(_NOT_A_DICT)
        return {**input, **self.mapper.invoke(input, run.child_config())}

    async def _ainvoke(self, input: Any, run: Run, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(input, dict):
            raise ValueError(_NOT_A_DICT)
        mapped = await self.mapper.ainvoke(input, run.child_config())
        return {**input, **mapped}

    def _transform(self, chunks: Iterator[Any], run: Run, **kwargs: Any) -> Iterator[Any]:
        keys = set(self.mapper.steps__)
        for_passthrough, for_map = tee(chunks, 2)
        map_output = self.mapper.transform(for_map, run.child_config())
        with get_executor_for_config(run.config) as executor:
            first = executor.submit(next, map_output, None)
            for chunk in for_passthrough:
                if not isinstance(chunk, dict):
                    raise ValueError(_NOT_A_DICT)
                kept = AddableDict({k: v for k, v in chunk.items() if k not in keys})
                if kept:
                    yield kept
            first_chunk = first.result()
            if first_chunk is not None:
                yield first_chunk
                yield from map_output

    async def _atransform(
        self, chunks: AsyncIterator[Any], run: Run, **kwargs: Any
    ) -> AsyncIterator[Any]:
        keys = set(self.mapper.steps__)
        for_passthrough, for_map = atee(chunks, 2)
        map_output = self.mapper.atransform(for_map, run.child_config())
        first = asyncio.ensure_future(anext(map_output, None))
        try:
            async for chunk in for_passthrough:
                if not isinstance(chunk, dict):
                    raise ValueError(_NOT_A_DICT)
                kept = AddableDict({k: v for k, v in chunk.items() if k not in keys})
                if kept:
                    yield kept
            first_chunk = await first
            if first_chunk is not None:
                yield first_chunk
                async for chunk in map_output:
                    yield chunk
        finally:
            if not first.done():
                first.cancel()
                await asyncio.wait([first])
            await map_output.aclose()  # type: ignore[attr-defined]


class RunnablePick(RunnableKind[Any, Any]):
    """Picks one key (returns its value) or several keys (returns a dict) from a dict input.

    Example:
        >>> RunnablePick("a").invoke({"a": 1, "b": 2})
        1
    """

    def __init__(self, keys: str | list[str]) -> None:
        self.keys = keys

    @property
    def InputType(self) -> Any:
        """``dict[str, Any]``."""
        return dict[str, Any]

    @property
    def OutputType(self) -> Any:
        """``Any``."""
        return Any

    def _default_name(self) -> str:
        keys = [self.keys] if isinstance(self.keys, str) else self.keys
        return f"RunnablePick<{','.join(keys)}>"

    def _pick(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(_NOT_A_DICT)
        if isinstance(self.keys, str):
            return value.get(self.keys)
        picked = {k: value[k] for k in self.keys if k in value}
        return AddableDict(picked) if picked else None

    def _invoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        return self._pick(input)

    async def _ainvoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        return self._pick(input)

    def _transform(self, chunks: Iterator[Any], run: Run, **kwargs: Any) -> Iterator[Any]:
        for chunk in chunks:
            picked = self._pick(chunk)
            if picked is not None:
                yield picked

    async def _atransform(
        self, chunks: AsyncIterator[Any], run: Run, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for chunk in chunks:
            picked = self._pick(chunk)
            if picked is not None:
                yield picked
