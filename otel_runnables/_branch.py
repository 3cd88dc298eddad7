"""RunnableBranch: the first branch whose condition holds runs on the input, else the default."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from ._base import Input, Output, Runnable, RunnableCalls, coerce_to_runnable
from ._config import RunnableConfig
from ._foreign import is_foreign_runnable
from ._iter import aclosing_iter
from ._run import Run
from ._schema import Typed, json_schema
from ._shapes import unique_config_specs

__all__ = ["RunnableBranch"]


class RunnableBranch(RunnableCalls[Input, Output]):
    """Runs the runnable of the first ``(condition, runnable)`` pair whose condition is true
    for the input, else the default (the last argument).

    Each condition is a child run tagged ``condition:N``, the branch that runs a child run
    tagged ``branch:N`` (``branch:default`` for the default), as in langchain-core. Streaming
    streams the chosen branch (its conditions are invoked first).

    Example:
        >>> branch = RunnableBranch(
        ...     (lambda x: isinstance(x, str), lambda x: x.upper()),
        ...     (lambda x: isinstance(x, int), lambda x: x + 1),
        ...     lambda x: "goodbye",
        ... )
        >>> branch.invoke("hello"), branch.invoke(1), branch.invoke(None)
        ('HELLO', 2, 'goodbye')
    """

    def __init__(self, *branches: Any) -> None:
        # langchain-core's messages, word for word.
        if len(branches) < 2:
            raise ValueError("RunnableBranch requires at least two branches")
        default = branches[-1]
        if not (
            isinstance(default, (Runnable, Mapping))
            or callable(default)
            or is_foreign_runnable(default)
        ):
            raise TypeError("RunnableBranch default must be Runnable, callable or mapping.")
        self.default: Runnable[Input, Output] = coerce_to_runnable(default, "RunnableBranch")
        self.branches: list[tuple[Runnable[Input, Any], Runnable[Input, Output]]] = []
        for branch in branches[:-1]:
            if not isinstance(branch, (tuple, list)):
                raise TypeError(
                    f"RunnableBranch branches must be tuples or lists, not {type(branch)}"
                )
            if len(branch) != 2:
                raise ValueError(
                    "RunnableBranch branches must be tuples or lists of length 2,"
                    f" not {len(branch)}"
                )
            condition, runnable = branch
            self.branches.append(
                (
                    coerce_to_runnable(condition, "RunnableBranch condition"),
                    coerce_to_runnable(runnable, "RunnableBranch branch"),
                )
            )

    def __repr__(self) -> str:
        return f"RunnableBranch({len(self.branches)} branches and a default)"

    def _choose(self, input: Any, run: Run) -> tuple[Runnable[Input, Output], RunnableConfig]:
        """The branch to run (its conditions invoked in order) and its config."""
        for index, (condition, runnable) in enumerate(self.branches, start=1):
            if condition.invoke(input, run.child_config(f"condition:{index}")):
                return runnable, run.child_config(f"branch:{index}")
        return self.default, run.child_config("branch:default")

    async def _achoose(
        self, input: Any, run: Run
    ) -> tuple[Runnable[Input, Output], RunnableConfig]:
        """Async twin of :meth:`_choose`."""
        for index, (condition, runnable) in enumerate(self.branches, start=1):
            config = run.child_config(f"condition:{index}")
            if await condition.ainvoke(input, config):
                return runnable, run.child_config(f"branch:{index}")
        return self.default, run.child_config("branch:default")

    def _invoke(self, input: Input, run: Run, **kwargs: Any) -> Output:
        runnable, config = self._choose(input, run)
        return runnable.invoke(input, config, **kwargs)

    async def _ainvoke(self, input: Input, run: Run, **kwargs: Any) -> Output:
        runnable, config = await self._achoose(input, run)
        return await runnable.ainvoke(input, config, **kwargs)

    # -- streaming: a run with a known input, the chosen branch's chunks ---------------------
    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream the chosen branch."""
        return self._stream_with_config(self._stream, input, config, **kwargs)

    def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`stream`."""
        return self._astream_with_config(self._astream, input, config, **kwargs)

    def _stream(self, input: Any, run: Run, **kwargs: Any) -> Iterator[Any]:
        runnable, config = self._choose(input, run)
        stream = runnable.stream(input, config, **kwargs)
        try:
            yield from stream
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    async def _astream(self, input: Any, run: Run, **kwargs: Any) -> AsyncIterator[Any]:
        runnable, config = await self._achoose(input, run)
        async with aclosing_iter(runnable.astream(input, config, **kwargs)) as stream:
            async for chunk in stream:
                yield chunk

    # -- types and graph -------------------------------------------------------------------
    def _all(self) -> list[Runnable[Input, Any]]:
        return [self.default, *(r for _, r in self.branches), *(c for c, _ in self.branches)]

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """The input schema of the first of the default, the branches and the conditions
        whose input has a type."""
        for runnable in self._all():
            if json_schema(runnable.get_input_schema(config)).get("type") is not None:
                return runnable.get_input_schema(config)
        return Typed.get_input_schema(self, config)

    @property
    def config_specs(self) -> list[Any]:
        """The configurable fields of the default, the branches and the conditions."""
        return unique_config_specs(self._all())
