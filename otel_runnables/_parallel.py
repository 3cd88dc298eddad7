"""RunnableParallel: the same input to several runnables at once, outputs collected in a dict."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any

from ._base import Input, Runnable, RunnableKind, coerce_to_runnable
from ._config import RunnableConfig, get_executor_for_config, hop
from ._iter import AddableDict, atee, tee
from ._run import Run

if TYPE_CHECKING:
    from ._graph import Graph

__all__ = ["RunnableMap", "RunnableParallel"]


class RunnableParallel(RunnableKind[Input, dict[str, Any]]):
    """Runs each of its steps on the same input, concurrently, and returns ``{key: output}``.

    Each step is a child run tagged ``map:key:<key>``. Sync steps run in worker threads
    (``max_concurrency`` honoured), async steps as concurrent tasks. A dict in a sequence
    (``a | {"x": b, "y": c}``) is turned into a RunnableParallel.

    Example:
        >>> RunnableParallel(double=lambda x: 2 * x, same=lambda x: x).invoke(3)
        {'double': 6, 'same': 3}
    """

    def __init__(self, steps__: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        merged = {**(steps__ or {}), **kwargs}
        self.steps__: dict[str, Runnable[Any, Any]] = {
            key: coerce_to_runnable(value, f"RunnableParallel key {key!r}")
            for key, value in merged.items()
        }

    def _default_name(self) -> str:
        return f"RunnableParallel<{','.join(self.steps__)}>"

    def __repr__(self) -> str:
        return f"{{{', '.join(f'{k}: {v!r}' for k, v in self.steps__.items())}}}"

    @staticmethod
    def _step_config(run: Run, key: str) -> RunnableConfig:
        return run.child_config(f"map:key:{key}")

    # -- types, schemas and graph from the steps ---------------------------------------------
    @property
    def InputType(self) -> Any:
        """The first step's input type that is set (else ``Any``)."""
        for step in self.steps__.values():
            if step.InputType:
                return step.InputType
        return Any

    @property
    def OutputType(self) -> Any:
        """``dict[str, Any]``."""
        return dict[str, Any]

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """The fields of the steps' dict input schemas (or, if a step takes something else,
        the schema of :attr:`InputType`)."""
        from ._shapes import parallel_input_schema

        return parallel_input_schema(self, list(self.steps__.values()), config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """One field per key, of that step's output type."""
        from ._shapes import parallel_output_schema

        return parallel_output_schema(self, self.steps__)

    @property
    def config_specs(self) -> list[Any]:
        """The configurable fields of the steps."""
        from ._shapes import unique_config_specs

        return unique_config_specs(list(self.steps__.values()))

    def get_graph(self, config: RunnableConfig | None = None) -> Graph:
        """The steps' graphs side by side between the input and output schemas."""
        from ._graph import attach_between

        return attach_between(self, list(self.steps__.values()), config, step_config=False)

    # -- invoke ----------------------------------------------------------------------------
    def _invoke(self, input: Any, run: Run, **kwargs: Any) -> dict[str, Any]:
        with get_executor_for_config(run.config) as executor:
            futures = [
                executor.submit(step.invoke, input, self._step_config(run, key))
                for key, step in self.steps__.items()
            ]
            return {key: f.result() for key, f in zip(self.steps__, futures, strict=True)}

    async def _ainvoke(self, input: Any, run: Run, **kwargs: Any) -> dict[str, Any]:
        results = await asyncio.gather(
            *(
                hop(step.ainvoke, input, self._step_config(run, key))
                for key, step in self.steps__.items()
            )
        )
        return dict(zip(self.steps__, results, strict=True))

    # -- streaming ---------------------------------------------------------------------
    def _transform(self, chunks: Iterator[Any], run: Run, **kwargs: Any) -> Iterator[Any]:
        copies = list(tee(chunks, len(self.steps__)))
        generators = [
            (key, step.transform(copies.pop(), self._step_config(run, key)))
            for key, step in self.steps__.items()
        ]
        with get_executor_for_config(run.config) as executor:
            pending: dict[Future[Any], tuple[str, Iterator[Any]]] = {
                executor.submit(next, gen): (key, gen) for key, gen in generators
            }
            try:
                while pending:
                    wait(pending, return_when=FIRST_COMPLETED)
                    for future in [f for f in pending if f.done()]:  # in branch order
                        key, gen = pending.pop(future)
                        # (exception() first: a StopIteration raised here would link its
                        # traceback, this frame and the future in a reference cycle)
                        if isinstance(future.exception(), StopIteration):
                            continue
                        yield AddableDict({key: future.result()})
                        pending[executor.submit(next, gen)] = (key, gen)
            finally:
                for future in pending:
                    future.cancel()
                wait(pending)
                for _, gen in generators:
                    gen.close()  # type: ignore[attr-defined]

    async def _atransform(
        self, chunks: AsyncIterator[Any], run: Run, **kwargs: Any
    ) -> AsyncIterator[Any]:
        copies = list(atee(chunks, len(self.steps__)))
        generators = [
            (key, step.atransform(copies.pop(), self._step_config(run, key)))
            for key, step in self.steps__.items()
        ]
        pending: dict[asyncio.Task[Any], tuple[str, AsyncIterator[Any]]] = {
            asyncio.ensure_future(anext(gen)): (key, gen) for key, gen in generators
        }
        try:
            while pending:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in [t for t in pending if t.done()]:  # in branch order
                    key, gen = pending.pop(task)
                    if isinstance(task.exception(), StopAsyncIteration):  # (as in _transform)
                        continue
                    yield AddableDict({key: task.result()})
                    pending[asyncio.ensure_future(anext(gen))] = (key, gen)
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
            for _, gen in generators:
                await gen.aclose()  # type: ignore[attr-defined]


RunnableMap = RunnableParallel
"""langchain-core's other name of :class:`RunnableParallel`."""
