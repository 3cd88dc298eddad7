"""RouterRunnable: the runnable named by the input's ``key`` runs on its ``input``."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # pydantic reads the fields of typing_extensions' TypedDict only (before 3.12)
    try:
        from typing_extensions import TypedDict
    except ImportError:  # pragma: no cover - opentelemetry-api brings typing_extensions
        from typing import TypedDict

from ._base import BatchConfig, Output, Runnable, coerce_to_runnable
from ._config import RunnableConfig
from ._iter import aclosing_iter

__all__ = ["RouterInput", "RouterRunnable"]


class RouterInput(TypedDict):
    """The input of a :class:`RouterRunnable`: which runnable (``key``) and its ``input``.

    Example:
        >>> route: RouterInput = {"key": "add", "input": 1}
    """

    key: str
    input: Any


class RouterRunnable(Runnable[RouterInput, Output]):
    """Runs ``runnables[input["key"]]`` on ``input["input"]``. It is not a run of its own, as
    in langchain-core: the chosen runnable's run is the call's.

    Example:
        >>> router = RouterRunnable({"add": lambda x: x + 1, "square": lambda x: x**2})
        >>> router.invoke({"key": "square", "input": 3})
        9
    """

    def __init__(self, runnables: Mapping[str, Any]) -> None:
        self.runnables: dict[str, Runnable[Any, Output]] = {
            key: coerce_to_runnable(r, f"RouterRunnable key {key!r}")
            for key, r in runnables.items()
        }

    def _route(self, input: RouterInput) -> tuple[Runnable[Any, Output], Any]:
        key = input["key"]
        if key not in self.runnables:
            # langchain-core's message, word for word.
            raise ValueError(f"No runnable associated with key '{key}'")
        return self.runnables[key], input["input"]

    def _check_keys(self, inputs: Sequence[RouterInput]) -> None:
        if any(item["key"] not in self.runnables for item in inputs):
            # langchain-core's message, word for word.
            raise ValueError("One or more keys do not have a corresponding runnable")

    def invoke(
        self, input: RouterInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """The chosen runnable's ``invoke``."""
        runnable, value = self._route(input)
        return runnable.invoke(value, config)

    async def ainvoke(
        self, input: RouterInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async twin of :meth:`invoke`."""
        runnable, value = self._route(input)
        return await runnable.ainvoke(value, config)

    def batch(
        self, inputs: Sequence[RouterInput], config: BatchConfig = None, **kwargs: Any
    ) -> list[Any]:
        """Each input with its runnable (all keys are checked first)."""
        self._check_keys(inputs)
        return super().batch(inputs, config, **kwargs)

    async def abatch(
        self, inputs: Sequence[RouterInput], config: BatchConfig = None, **kwargs: Any
    ) -> list[Any]:
        """Async twin of :meth:`batch`."""
        self._check_keys(inputs)
        return await super().abatch(inputs, config, **kwargs)

    def stream(
        self, input: RouterInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """The chosen runnable's ``stream``."""
        runnable, value = self._route(input)
        yield from runnable.stream(value, config)

    async def astream(
        self, input: RouterInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`stream`."""
        runnable, value = self._route(input)
        async with aclosing_iter(runnable.astream(value, config)) as stream:
            async for chunk in stream:
                yield chunk

    @property
    def config_specs(self) -> list[Any]:
        """The configurable fields of the runnables."""
        from ._shapes import unique_config_specs

        return unique_config_specs(list(self.runnables.values()))
