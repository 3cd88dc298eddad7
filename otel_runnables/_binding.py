"""Wrappers around another runnable: RunnableBinding (config, kwargs, config factories,
custom types) and RunnableRetry."""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ._base import BatchConfig, Input, Output, Runnable, RunnableCalls
from ._compose import Composing
from ._config import (
    CONFIG_KEYS,
    DEFAULT_RECURSION_LIMIT,
    RunnableConfig,
    check_config,
    merge_configs,
)
from ._iter import aclosing_iter
from ._run import Run
from ._schema import Typed

if TYPE_CHECKING:
    from ._graph import Graph

ConfigFactory = Callable[[RunnableConfig], RunnableConfig]

__all__ = ["RunnableBinding", "RunnableRetry"]


class RunnableBinding(Runnable[Input, Output]):
    """Calls ``bound`` with a config merged into every call's config and extra kwargs.

    Made by ``with_config``, ``bind``, ``with_types`` and ``with_listeners``; it is not a run
    of its own. Each ``config_factories`` function makes more config from a call's merged
    config (``with_listeners`` adds its listeners' handler so); ``custom_input_type`` /
    ``custom_output_type`` replace the bound runnable's types and schemas. Attributes it does
    not have are the bound runnable's (a method taking ``config`` gets the merged config).

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
        config_factories: Sequence[ConfigFactory] | None = None,
        custom_input_type: Any | None = None,
        custom_output_type: Any | None = None,
    ) -> None:
        check_config(config)  # a wrong value fails here, where it is written
        self.bound = bound
        self.kwargs = dict(kwargs or {})
        self.config = cast(RunnableConfig, dict(config or {}))
        self.config_factories = list(config_factories or [])
        self.custom_input_type = custom_input_type
        self.custom_output_type = custom_output_type

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The bound runnable's name."""
        return self.bound.get_name(suffix, name=name or self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bound={self.bound!r}, config={self.config!r})"

    def _merge(self, config: RunnableConfig | None) -> RunnableConfig:
        merged = merge_configs(self.config, config)
        if not self.config_factories:
            return merged
        given = _as_langchain_merges(merged)
        return merge_configs(merged, *(make(given) for make in self.config_factories))

    def _copy(self, **changes: Any) -> RunnableBinding[Input, Output]:
        fields = {
            "bound": self.bound,
            "kwargs": self.kwargs,
            "config": self.config,
            "config_factories": self.config_factories,
            "custom_input_type": self.custom_input_type,
            "custom_output_type": self.custom_output_type,
        }
        return RunnableBinding(**{**fields, **changes})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in _OWN:  # (copying, pickling, a half-made object)
            raise AttributeError(name)
        attr = getattr(self.bound, name)
        if not callable(attr):
            return attr
        try:
            parameter = inspect.signature(attr).parameters.get("config")
        except (TypeError, ValueError):
            return attr
        if parameter is None or parameter.kind not in _CONFIG_KINDS:
            return attr
        index = list(inspect.signature(attr).parameters).index("config")

        @functools.wraps(attr)
        def with_merged_config(*args: Any, **kwargs: Any) -> Any:
            if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and len(args) > index:
                args = (*args[:index], merge_configs(self.config, args[index]), *args[index + 1 :])
                return attr(*args, **kwargs)
            kwargs["config"] = merge_configs(self.config, kwargs.get("config"))
            return attr(*args, **kwargs)

        return with_merged_config

    # -- wrapping a binding makes one binding, as in langchain-core ---------------------------
    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[Input, Output]:
        """A binding with ``config`` laid over this one's."""
        return self._copy(config=cast(RunnableConfig, {**self.config, **(config or {}), **kwargs}))

    def bind(self, **kwargs: Any) -> Runnable[Input, Output]:
        """A binding with ``kwargs`` added to this one's."""
        return self._copy(kwargs={**self.kwargs, **kwargs})

    def with_types(
        self, *, input_type: Any | None = None, output_type: Any | None = None
    ) -> Runnable[Input, Output]:
        """A binding with these types (the ones not given stay)."""
        return self._copy(
            custom_input_type=self.custom_input_type if input_type is None else input_type,
            custom_output_type=self.custom_output_type if output_type is None else output_type,
        )

    def _listened(self, method: str, *listeners: Any) -> Runnable[Input, Output]:
        """A binding that also calls these listeners."""
        from ._listeners import listeners_factory

        factory = listeners_factory(*listeners)
        return self._copy(config_factories=[factory, *self.config_factories])

    def with_retry(self, **kwargs: Any) -> Runnable[Input, Output]:
        """A binding of the bound runnable with retries (this binding stays outside)."""
        return self._copy(bound=self.bound.with_retry(**kwargs))

    # -- types, schemas, graph: the bound runnable's, unless given --------------------------
    @property
    def InputType(self) -> Any:
        """The custom input type, else the bound runnable's."""
        custom = self.custom_input_type
        return self.bound.InputType if custom is None else custom

    @property
    def OutputType(self) -> Any:
        """The custom output type, else the bound runnable's."""
        custom = self.custom_output_type
        return self.bound.OutputType if custom is None else custom

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """The schema of the custom input type, else the bound runnable's input schema."""
        if self.custom_input_type is not None:
            return Typed.get_input_schema(self, config)
        return self.bound.get_input_schema(merge_configs(self.config, config))

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """The schema of the custom output type, else the bound runnable's output schema."""
        if self.custom_output_type is not None:
            return Typed.get_output_schema(self, config)
        return self.bound.get_output_schema(merge_configs(self.config, config))

    @property
    def config_specs(self) -> list[Any]:
        """The bound runnable's."""
        return list(self.bound.config_specs)

    def get_graph(self, config: RunnableConfig | None = None) -> Graph:
        """The bound runnable's graph (its node's metadata: the merged config's, ``{}`` when
        none, as langchain-core shows it)."""
        merged = self._merge(config)
        merged["metadata"] = merged.get("metadata") or {}
        graph: Graph = self.bound.get_graph(merged)
        return graph

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


def _as_langchain_merges(config: RunnableConfig) -> RunnableConfig:
    """``config`` as langchain-core's merged configs are (what a config factory, so a listener,
    gets): with ``tags``, ``metadata`` and ``configurable``, unknown keys in ``configurable``,
    no default ``recursion_limit``."""
    out: dict[str, Any] = {"tags": [], "metadata": {}, "configurable": {}}
    for key, value in config.items():
        if value is None or (key == "recursion_limit" and value == DEFAULT_RECURSION_LIMIT):
            continue
        if key in CONFIG_KEYS:
            out[key] = value
        else:
            out["configurable"] = {**out["configurable"], key: value}
    return cast(RunnableConfig, out)


_OWN = frozenset(
    ("bound", "kwargs", "config", "config_factories", "custom_input_type", "custom_output_type")
)
_CONFIG_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


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
        retry_exception_types: tuple[type[BaseException], ...] | Callable[[BaseException], bool] = (
            Exception,
        ),
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

    def _retries(self, error: BaseException) -> bool:
        """Whether ``error`` is retried: one of the exception types, or the predicate says so."""
        rule = self.retry_exception_types
        if isinstance(rule, tuple):
            return isinstance(error, rule)
        return isinstance(error, Exception) and bool(rule(error))

    def _invoke(self, input: Input, run: Run, **kwargs: Any) -> Output:
        attempts = _Attempts(self, run)
        while True:
            try:
                return RunnableBinding.invoke(self, input, attempts.next_config(), **kwargs)
            except BaseException as exc:
                if not self._retries(exc):
                    raise
                time.sleep(attempts.wait_or_raise())

    async def _ainvoke(self, input: Input, run: Run, **kwargs: Any) -> Output:
        attempts = _Attempts(self, run)
        while True:
            try:
                config = attempts.next_config()
                return await RunnableBinding.ainvoke(self, input, config, **kwargs)
            except BaseException as exc:
                if not self._retries(exc):
                    raise
                await asyncio.sleep(attempts.wait_or_raise())

    # Wrapping a retry wraps it, as langchain-core does (a binding would merge into itself).
    with_config = Composing.with_config
    bind = Composing.bind
    with_types = Composing.with_types
    _listened = Composing._listened
    with_retry = Composing.with_retry  # type: ignore[assignment]

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
