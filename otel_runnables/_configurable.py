"""Runnables configured per call: ``configurable_fields`` and ``configurable_alternatives``.

A :class:`RunnableConfigurableFields` is its default runnable with some attributes replaced by
the values a call gives in ``config["configurable"]`` (under each field's id); a
:class:`RunnableConfigurableAlternatives` is its default runnable or one of its alternatives,
as ``config["configurable"][which.id]`` says. Neither is a run of its own: each call is a
call of the runnable it resolves to (``prepare``), as in langchain-core.

langchain-core configures the pydantic fields of its runnables; ours are plain classes, so a
field is any public attribute of the runnable (``configurable_fields`` raises naming the
available ones), and the configured runnable is a copy with those attributes replaced.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, cast

from ._base import BatchConfig, Input, Output, Runnable
from ._config import (
    RunnableConfig,
    ensure_config,
    get_config_list,
    merge_configs,
)
from ._config_specs import (
    AnyConfigurableField,
    ConfigurableField,
    ConfigurableFieldMultiOption,
    ConfigurableFieldSingleOption,
    ConfigurableFieldSpec,
    enum_of,
    get_unique_config_specs,
    options_spec,
)
from ._foreign import is_foreign_runnable
from ._iter import aclosing_iter
from ._schema import delegated_type

__all__ = ["DynamicRunnable", "RunnableConfigurableAlternatives", "RunnableConfigurableFields"]


class DynamicRunnable(Runnable[Input, Output]):
    """A runnable that resolves to another one per call (``prepare``); not a run itself."""

    def __init__(self, default: Runnable[Input, Output], config: RunnableConfig | None) -> None:
        self.default = default
        self.config = config

    def _prepare(self, config: RunnableConfig) -> tuple[Runnable[Input, Output], RunnableConfig]:
        raise NotImplementedError  # pragma: no cover - the two kinds define it

    def _remade(self, config: RunnableConfig) -> DynamicRunnable[Input, Output]:
        raise NotImplementedError  # pragma: no cover - the two kinds define it

    def prepare(
        self, config: RunnableConfig | None = None
    ) -> tuple[Runnable[Input, Output], RunnableConfig]:
        """The runnable this one is under ``config``, and the config to call it with."""
        runnable: Runnable[Input, Output] = self
        while isinstance(runnable, DynamicRunnable):
            runnable, config = runnable._prepare(
                ensure_config(merge_configs(runnable.config, config))
            )
        return runnable, ensure_config(config)

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[Input, Output]:
        """A copy that resolves with ``config`` merged in."""
        merged = merge_configs(self.config, config, cast(RunnableConfig, kwargs))
        return self._remade(merged)

    InputType = delegated_type("default", "InputType")
    OutputType = delegated_type("default", "OutputType")

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """The input schema of the runnable this one resolves to under ``config``."""
        runnable, config = self.prepare(config)
        return runnable.get_input_schema(config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """The output schema of the runnable this one resolves to under ``config``."""
        runnable, config = self.prepare(config)
        return runnable.get_output_schema(config)

    def get_graph(self, config: RunnableConfig | None = None) -> Any:
        """The graph of the runnable this one resolves to under ``config``."""
        runnable, config = self.prepare(config)
        return runnable.get_graph(config)

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """``invoke`` of the runnable this one resolves to."""
        runnable, config = self.prepare(config)
        return runnable.invoke(input, config, **kwargs)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async twin of :meth:`invoke`."""
        runnable, config = self.prepare(config)
        return await runnable.ainvoke(input, config, **kwargs)

    def batch(
        self, inputs: Sequence[Input], config: BatchConfig = None, **kwargs: Any
    ) -> list[Any]:
        """Each input with the runnable its config resolves to (one batch of the default
        runnable when every config resolves to it; ``return_exceptions`` passed on)."""
        configs = self._default_configs(inputs, config)
        if configs is None:
            return super().batch(inputs, config, **kwargs)
        return self.default.batch(inputs, configs, **kwargs)

    async def abatch(
        self, inputs: Sequence[Input], config: BatchConfig = None, **kwargs: Any
    ) -> list[Any]:
        """Async twin of :meth:`batch`."""
        configs = self._default_configs(inputs, config)
        if configs is None:
            return await super().abatch(inputs, config, **kwargs)
        return await self.default.abatch(inputs, configs, **kwargs)

    def _default_configs(
        self, inputs: Sequence[Input], config: BatchConfig
    ) -> list[RunnableConfig] | None:
        """The configs as the default runnable gets them, when every one resolves to it (else
        None: each input is invoked on its own and resolves again)."""
        prepared = [self.prepare(c) for c in get_config_list(config, len(inputs))]
        if prepared and all(runnable is self.default for runnable, _ in prepared):
            return [c for _, c in prepared]
        return None

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """``stream`` of the runnable this one resolves to."""
        runnable, config = self.prepare(config)
        return runnable.stream(input, config, **kwargs)

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`stream`."""
        runnable, config = self.prepare(config)
        async with aclosing_iter(runnable.astream(input, config, **kwargs)) as stream:
            async for chunk in stream:
                yield chunk

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """``transform`` of the runnable this one resolves to."""
        runnable, config = self.prepare(config)
        return runnable.transform(input, config, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`transform`."""
        runnable, config = self.prepare(config)
        async with aclosing_iter(runnable.atransform(input, config, **kwargs)) as stream:
            async for chunk in stream:
                yield chunk


class RunnableConfigurableFields(DynamicRunnable[Input, Output]):
    """A runnable whose attributes named in ``fields`` a call can set (made by
    ``configurable_fields``).

    Example:
        >>> from otel_runnables import ConfigurableField, RunnablePick
        >>> pick = RunnablePick("a").configurable_fields(keys=ConfigurableField(id="key"))
        >>> pick.invoke({"a": 1, "b": 2})
        1
    """

    def __init__(
        self,
        default: Runnable[Input, Output],
        fields: Mapping[str, AnyConfigurableField],
        config: RunnableConfig | None = None,
    ) -> None:
        super().__init__(default, config)
        self.fields = dict(fields)

    @classmethod
    def checked(
        cls, runnable: Runnable[Input, Output], fields: Mapping[str, AnyConfigurableField]
    ) -> RunnableConfigurableFields[Input, Output]:
        """``fields`` of ``runnable``, after checking that it has them."""
        available = _public_fields(runnable)
        for key in fields:
            if key not in available:
                raise ValueError(
                    f"Configuration key {key} not found in {runnable!r}: "
                    f"available keys are {sorted(available)}"
                )
        return cls(runnable, fields)

    def _remade(self, config: RunnableConfig) -> DynamicRunnable[Input, Output]:
        return RunnableConfigurableFields(self.default, self.fields, config)

    def configurable_fields(self, **kwargs: AnyConfigurableField) -> Runnable[Input, Output]:
        """More configurable fields of the same default runnable."""
        return self.default.configurable_fields(**{**self.fields, **kwargs})

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        """A spec per field (type from the field, else from the default value), and the
        default runnable's."""
        specs = []
        for key, spec in self.fields.items():
            if isinstance(spec, ConfigurableField):
                value = getattr(self.default, key)
                specs.append(
                    ConfigurableFieldSpec(
                        id=spec.id,
                        name=spec.name,
                        description=spec.description,
                        annotation=spec.annotation or _annotation(self.default, key, value),
                        default=value,
                        is_shared=spec.is_shared,
                    )
                )
            else:
                specs.append(options_spec(spec, None))
        return get_unique_config_specs([*specs, *self.default.config_specs])

    def _prepare(self, config: RunnableConfig) -> tuple[Runnable[Input, Output], RunnableConfig]:
        given = config.get("configurable", {})
        by_id = {spec.id: (key, spec) for key, spec in self.fields.items()}
        values: dict[str, Any] = {
            by_id[k][0]: v
            for k, v in given.items()
            if k in by_id and isinstance(by_id[k][1], ConfigurableField)
        }
        for key, spec in self.fields.items():
            if isinstance(spec, ConfigurableFieldSingleOption):
                values[key] = spec.options[given.get(spec.id) or spec.default]
            elif isinstance(spec, ConfigurableFieldMultiOption):
                values[key] = [spec.options[o] for o in given.get(spec.id, spec.default)]
        if not values:
            return self.default, config
        configured = copy.copy(self.default)
        for key, value in values.items():
            setattr(configured, key, value)
        return configured, config


def _public_fields(runnable: Any) -> set[str]:
    return {k for k in vars(runnable) if not k.startswith("_")}


def _annotation(runnable: Any, key: str, value: Any) -> Any:
    """A field's type: the hint of the constructor parameter of its name, else of the class
    attribute, else the type of its value."""
    for source in (type(runnable).__init__, type(runnable)):
        try:
            hints = typing.get_type_hints(source)
        except Exception:  # a hint that does not resolve
            continue
        if key in hints:
            return hints[key]
    return type(value)


class RunnableConfigurableAlternatives(DynamicRunnable[Input, Output]):
    """The default runnable or one of ``alternatives``, chosen per call by
    ``config["configurable"][which.id]`` (made by ``configurable_alternatives``).

    Example:
        >>> from otel_runnables import ConfigurableField, RunnableLambda
        >>> r = RunnableLambda(lambda x: x + 1).configurable_alternatives(
        ...     ConfigurableField(id="op"), double=RunnableLambda(lambda x: x * 2))
        >>> r.invoke(5), r.invoke(5, {"configurable": {"op": "double"}})
        (6, 10)
    """

    def __init__(
        self,
        *,
        which: ConfigurableField,
        default: Runnable[Input, Output],
        alternatives: Mapping[str, Runnable[Input, Output] | Callable[[], Runnable[Input, Output]]],
        default_key: str = "default",
        prefix_keys: bool = False,
        config: RunnableConfig | None = None,
    ) -> None:
        super().__init__(default, config)
        self.which = which
        self.alternatives = dict(alternatives)
        self.default_key = default_key
        self.prefix_keys = prefix_keys

    def _remade(self, config: RunnableConfig) -> DynamicRunnable[Input, Output]:
        return RunnableConfigurableAlternatives(
            which=self.which,
            default=self.default,
            alternatives=self.alternatives,
            default_key=self.default_key,
            prefix_keys=self.prefix_keys,
            config=config,
        )

    def configurable_fields(self, **kwargs: AnyConfigurableField) -> Runnable[Input, Output]:
        """The same alternatives, with configurable fields on the default runnable."""
        return RunnableConfigurableAlternatives(
            which=self.which,
            default=self.default.configurable_fields(**kwargs),
            alternatives=self.alternatives,
            default_key=self.default_key,
            prefix_keys=self.prefix_keys,
        )

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        """The choice (an enum of the keys), and the runnables' own specs (prefixed
        ``<which.id>==<key>/`` with ``prefix_keys``)."""
        keys = [*self.alternatives, self.default_key]
        choice = ConfigurableFieldSpec(
            id=self.which.id,
            name=self.which.name,
            description=self.which.description,
            annotation=enum_of((self.which, *keys), self.which.name or self.which.id, keys),
            default=self.default_key,
            is_shared=self.which.is_shared,
        )
        specs = [choice]
        runnables: list[tuple[str, Any]] = [(self.default_key, self.default)]
        runnables += [(k, r) for k, r in self.alternatives.items() if _is_runnable(r)]
        for key, runnable in runnables:
            for spec in runnable.config_specs:
                specs.append(
                    _prefixed(spec, f"{self.which.id}=={key}") if self.prefix_keys else spec
                )
        return get_unique_config_specs(specs)

    def _prepare(self, config: RunnableConfig) -> tuple[Runnable[Input, Output], RunnableConfig]:
        which = config.get("configurable", {}).get(self.which.id, self.default_key)
        if self.prefix_keys:
            prefix = f"{self.which.id}=={which}/"
            configurable = {k.removeprefix(prefix): v for k, v in config["configurable"].items()}
            config = {**config, "configurable": configurable}
        if which == self.default_key:
            return self.default, config
        if which in self.alternatives:
            alternative = self.alternatives[which]
            if _is_runnable(alternative):
                return cast("Runnable[Input, Output]", alternative), config
            return cast("Callable[[], Runnable[Input, Output]]", alternative)(), config
        # langchain-core's message, word for word.
        raise ValueError(f"Unknown alternative: {which}")


def _is_runnable(thing: Any) -> Any:
    return isinstance(thing, Runnable) or is_foreign_runnable(thing)


def _prefixed(spec: ConfigurableFieldSpec, prefix: str) -> ConfigurableFieldSpec:
    if spec.is_shared:
        return spec
    return spec._replace(id=f"{prefix}/{spec.id}", dependencies=None)
