"""Wrappers around another runnable: RunnableBinding (config/kwargs) and RunnableRetry."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, cast

from ._base import BatchConfig, Input, Output, Runnable, RunnableCalls
from ._config import RunnableConfig, check_config, merge_configs
from ._iter import aclosing_iter
from ._run import Run

__all__ = ["RunnableBinding", "RunnableRetry"]


class RunnableBinding(Runnable[Input, Output]):
    """Calls ``bound`` with a config merged into every call's config and extra kwargs.

    Made by ``with_config`` and ``bind``; it is not a run of its own.

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> RunnableLambda(lambda x: x).with_config(tags=["t"]).invoke(1)
        1
    """

    def __init__(
        self,
        *,
        bound: Runnable[Input, Output],
        kwargs: Mapping[str, Any] | None = None,
        config: RunnableConfig | None = None,
    ) -> None:
        check_config(config)  # a wrong value fails here, where it is written
        self.bound = bound
        self.kwargs = dict(kwargs or {})
        self.config = cast(RunnableConfig, dict(config or {}))

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The bound runnable's name."""
        return self.bound.get_name(suffix, name=name or self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bound={self.bound!r}, config={self.config!r})"

    def _merge(self, config: RunnableConfig | None) -> RunnableConfig:
        return merge_configs(self.config, config)

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[Input, Output]:
        """A binding with ``config`` laid over this one's."""
        merged = cast(RunnableConfig, {**self.config, **(config or {}), **kwargs})
        return RunnableBinding(bound=self.bound, kwargs=self.kwargs, config=merged)

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """``bound.invoke`` with the merged config."""
        return self.bound.invoke(input, self._merge(config), **{**self.kwargs, **kwargs})

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """``bound.ainvoke`` with the merged config."""
        return await self.bound.ainvoke(input, self._merge(config), **{**self.kwargs, **kwargs})

    def _merge_list(self, config: BatchConfig, n: int) -> list[RunnableConfig]:
        if isinstance(config, Sequence) and not isinstance(config, dict):
            return [self._merge(c) for c in config]
        single = cast("RunnableConfig | None", config)
        return [self._merge(single) for _ in range(n)]

    def batch(
        self, inputs: Sequence[Input], config: BatchConfig = None, **kwargs: Any
    ) -> list[Any]:
        """``bound.batch`` with merged configs (``return_exceptions`` passed on)."""
        configs = self._merge_list(config, len(inputs))
        return self.bound.batch(inputs, configs, **{**self.kwargs, **kwargs})

    async def abatch(
        self, inputs: Sequence[Input], config: BatchConfig = None, **kwargs: Any
    ) -> list[Any]:
        """``bound.abatch`` with merged configs (``return_exceptions`` passed on)."""
        configs = self._merge_list(config, len(inputs))
        return await self.bound.abatch(inputs, configs, **{**self.kwargs, **kwargs})

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """``bound.stream`` with the merged config."""
        yield from self.bound.stream(input, self._merge(config), **{**self.kwargs, **kwargs})

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """``bound.astream`` with the merged config."""
        async with aclosing_iter(
            self.bound.astream(input, self._merge(config), **{**self.kwargs, **kwargs})
        ) as stream:
            async for chunk in stream:
                yield chunk

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """``bound.transform`` with the merged config."""
        yield from self.bound.transform(input, self._merge(config), **{**self.kwargs, **kwargs})

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """``bound.atransform`` with the merged config."""
        async with aclosing_iter(
            self.bound.atransform(input, self._merge(config), **{**self.kwargs, **kwargs})
        ) as stream:
            async for chunk in stream:
                yield chunk


class RunnableRetry(RunnableCalls[Input, Output], RunnableBinding[Input, Output]):
    """Retries ``bound`` on the given exception types; each attempt is a child run, attempts
    after the first tagged ``retry:attempt:N``. Waits grow exponentially with jitter
    (``initial`` 1 s, ``exp_base`` 2, ``jitter`` 1, ``max`` 60 s) unless disabled.

    As in langchain-core, only invoke/ainvoke/batch/abatch retry: streaming calls go to
    ``bound`` directly.

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> flaky = RunnableLambda(lambda x: x).with_retry(
        ...     stop_after_attempt=2, wait_exponential_jitter=False)
        >>> flaky.invoke(1)
        1
    """

    def __init__(
        self,
        *,
        bound: Runnable[Input, Output],
        retry_exception_types: tuple[type[BaseException], ...] = (Exception,),
        wait_exponential_jitter: bool = True,
        exponential_jitter_params: Mapping[str, float] | None = None,
        max_attempt_number: int = 3,
        kwargs: Mapping[str, Any] | None = None,
        config: RunnableConfig | None = None,
    ) -> None:
        super().__init__(bound=bound, kwargs=kwargs, config=config)
        if max_attempt_number < 1:
            raise ValueError(f"stop_after_attempt must be >= 1, got {max_attempt_number}")
        self.retry_exception_types = retry_exception_types
        self.wait_exponential_jitter = wait_exponential_jitter
        self.exponential_jitter_params = dict(exponential_jitter_params or {})
        self.max_attempt_number = max_attempt_number

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[Input, Output]:
        """A retry with ``config`` laid over this one's."""
        return RunnableRetry(
            bound=self.bound,
            retry_exception_types=self.retry_exception_types,
            wait_exponential_jitter=self.wait_exponential_jitter,
            exponential_jitter_params=self.exponential_jitter_params,
            max_attempt_number=self.max_attempt_number,
            kwargs=self.kwargs,
            config=cast(RunnableConfig, {**self.config, **(config or {}), **kwargs}),
        )

    def _invoke(self, input: Input, run: Run, **kwargs: Any) -> Output:
        attempts = _Attempts(self, run)
        while True:
            try:
                return RunnableBinding.invoke(self, input, attempts.next_config(), **kwargs)
            except self.retry_exception_types:
                time.sleep(attempts.wait_or_raise())

    async def _ainvoke(self, input: Input, run: Run, **kwargs: Any) -> Output:
        attempts = _Attempts(self, run)
        while True:
            try:
                config = attempts.next_config()
                return await RunnableBinding.ainvoke(self, input, config, **kwargs)
            except self.retry_exception_types:
                await asyncio.sleep(attempts.wait_or_raise())

    # Each input is invoked (with retries) on its own, not batched through ``bound``.
    batch = Runnable.batch
    abatch = Runnable.abatch


class _Attempts:
    """The attempts of one retried run: each one's config, and the wait after a failure."""

    __slots__ = ("number", "retry", "run")

    def __init__(self, retry: RunnableRetry[Any, Any], run: Run) -> None:
        self.retry = retry
        self.run = run
        self.number = 0

    def next_config(self) -> RunnableConfig:
        """The next attempt's config: a child of the run, tagged ``retry:attempt:N`` after
        the first."""
        self.number += 1
        return self.run.child_config(f"retry:attempt:{self.number}" if self.number > 1 else None)

    def wait_or_raise(self) -> float:
        """Called while the caller handles an attempt's error: re-raise that error after the
        last attempt, else return the seconds to wait (exponential with jitter unless
        disabled)."""
        retry = self.retry
        if self.number >= retry.max_attempt_number:
            raise  # the error the caller is handling
        if not retry.wait_exponential_jitter:
            return 0.0
        p = retry.exponential_jitter_params
        delay = p.get("initial", 1.0) * p.get("exp_base", 2.0) ** (self.number - 1)
        return min(delay + random.uniform(0, p.get("jitter", 1.0)), p.get("max", 60.0))
