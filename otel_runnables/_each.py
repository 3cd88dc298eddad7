"""RunnableEach (``.map()``): a runnable applied to each element of a list input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._base import Input, Output, Runnable, RunnableCalls, coerce_to_runnable
from ._config import RunnableConfig
from ._run import Run
from ._schema import create_schema

if TYPE_CHECKING:
    from ._graph import Graph

__all__ = ["RunnableEach"]


class RunnableEach(RunnableCalls[Sequence[Input], list[Output]]):
    """Calls ``bound`` on each element of its input list (``bound.batch``), returning the list
    of outputs. It is one run, named ``RunnableEach<name>``; each element is a child run
    (untagged), as in langchain-core.

    ``bind``, ``with_config`` and ``with_listeners`` apply to ``bound`` (each element's run).

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> RunnableLambda(lambda x: x + 1).map().invoke([1, 2, 3])
        [2, 3, 4]
    """

    def __init__(self, *, bound: Runnable[Input, Output]) -> None:
        self.bound = coerce_to_runnable(bound, "RunnableEach")

    def _default_name(self) -> str:
        return f"RunnableEach<{self.bound.get_name()}>"

    def __repr__(self) -> str:
        return f"RunnableEach(bound={self.bound!r})"

    def _invoke(self, input: Sequence[Input], run: Run, **kwargs: Any) -> list[Output]:
        inputs = list(input)
        return self.bound.batch(inputs, [run.child_config() for _ in inputs], **kwargs)

    async def _ainvoke(self, input: Sequence[Input], run: Run, **kwargs: Any) -> list[Output]:
        inputs = list(input)
        return await self.bound.abatch(inputs, [run.child_config() for _ in inputs], **kwargs)

    # -- wrappers apply to the bound runnable ------------------------------------------------
    def bind(self, **kwargs: Any) -> RunnableEach[Input, Output]:
        """Each element's call gets ``kwargs``."""
        return RunnableEach(bound=self.bound.bind(**kwargs))

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RunnableEach[Input, Output]:
        """Each element's run gets ``config``."""
        return RunnableEach(bound=self.bound.with_config(config, **kwargs))

    def _listened(self, method: str, *listeners: Any) -> Runnable[Any, Any]:
        """The listeners hear each element's run (``bound``'s own ``method`` adds them)."""
        on_start, on_end, on_error = listeners
        bound = getattr(self.bound, method)(on_start=on_start, on_end=on_end, on_error=on_error)
        return RunnableEach(bound=bound)

    # -- types and graph -------------------------------------------------------------------
    @property
    def InputType(self) -> Any:
        """A list of the bound runnable's input type."""
        return list[self.bound.InputType]  # type: ignore[name-defined]

    @property
    def OutputType(self) -> Any:
        """A list of the bound runnable's output type."""
        return list[self.bound.OutputType]  # type: ignore[name-defined]

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """A list of the bound runnable's input schema (default None)."""
        item = self.bound.get_input_schema(config)
        return create_schema(
            self.get_name("Input"),
            root=list[item],  # type: ignore[valid-type]
            root_default=None,
            module=type(self).__module__,
        )

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """A list of the bound runnable's output schema."""
        item = self.bound.get_output_schema(config)
        return create_schema(
            self.get_name("Output"),
            root=list[item],  # type: ignore[valid-type]
            module=type(self).__module__,
        )

    @property
    def config_specs(self) -> list[Any]:
        """The bound runnable's."""
        return list(self.bound.config_specs)

    def get_graph(self, config: RunnableConfig | None = None) -> Graph:
        """The bound runnable's graph."""
        graph: Graph = self.bound.get_graph(config)
        return graph
