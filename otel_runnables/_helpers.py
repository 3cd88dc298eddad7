"""langchain-core's helper functions of ``langchain_core.runnables``, with its signatures:
``run_in_executor(executor_or_config, func, ...)``, ``add`` and ``aadd``."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import AsyncIterable, Callable, Iterable
from concurrent.futures import Executor
from typing import Any, TypeVar

from ._callbacks import home_loop
from ._config import RunnableConfig
from ._config import run_in_executor as _in_default_executor

__all__ = ["aadd", "add", "run_in_executor"]

T = TypeVar("T")


async def run_in_executor(
    executor_or_config: Executor | RunnableConfig | None,
    func: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    """Run a sync function in a worker thread, in a copy of the current context (so the
    current run stays current there): in ``executor_or_config`` when it is an executor, else
    in the event loop's default executor. A ``StopIteration`` the function raises comes out as
    ``RuntimeError`` (it cannot cross a coroutine).

    Example:
        >>> import asyncio
        >>> asyncio.run(run_in_executor(None, sum, [1, 2]))
        3
    """

    def call() -> T:
        try:
            return func(*args, **kwargs)
        except StopIteration as exc:
            raise RuntimeError from exc

    if executor_or_config is None or isinstance(executor_or_config, dict):
        return await _in_default_executor(call)
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    context.run(home_loop.set, loop)
    return await loop.run_in_executor(executor_or_config, functools.partial(context.run, call))


def add(addables: Iterable[Any]) -> Any:
    """The sum (``+``) of ``addables`` in order; None when there are none.

    Example:
        >>> add(["a", "b", "c"])
        'abc'
    """
    total: Any = None
    for item in addables:
        total = item if total is None else total + item
    return total


async def aadd(addables: AsyncIterable[Any]) -> Any:
    """Async twin of :func:`add`.

    Example:
        >>> import asyncio
        >>> async def letters():
        ...     for letter in "ab":
        ...         yield letter
        >>> asyncio.run(aadd(letters()))
        'ab'
    """
    total: Any = None
    async for item in addables:
        total = item if total is None else total + item
    return total
