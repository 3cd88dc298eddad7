"""Configurable values: the fields a call can set, and the specs ``config_specs`` lists.

:class:`ConfigurableField` (a value given as it is), :class:`ConfigurableFieldSingleOption` and
:class:`ConfigurableFieldMultiOption` (values chosen by key among options) say what a call can
configure; :class:`ConfigurableFieldSpec` is what ``config_specs`` reports for each, and the
config schema's ``configurable`` field is made from those specs. Options become a string enum.
"""

from __future__ import annotations

import enum
import itertools
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

__all__ = [
    "AnyConfigurableField",
    "ConfigurableField",
    "ConfigurableFieldMultiOption",
    "ConfigurableFieldSingleOption",
    "ConfigurableFieldSpec",
    "enum_of",
    "get_unique_config_specs",
    "options_spec",
]


class ConfigurableField(NamedTuple):
    """A field whose value a call can set: ``config["configurable"][id]``.

    Example:
        >>> from otel_runnables import RunnablePick
        >>> pick = RunnablePick("a").configurable_fields(keys=ConfigurableField(id="key"))
        >>> pick.invoke({"a": 1, "b": 2}, {"configurable": {"key": "b"}})
        2
    """

    id: str
    name: str | None = None
    description: str | None = None
    annotation: Any | None = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, self.annotation))


class ConfigurableFieldSingleOption(NamedTuple):
    """A field set to one of ``options`` (by key; ``default`` is the default key).

    Example:
        >>> option = ConfigurableFieldSingleOption(id="k", options={"a": "a"}, default="a")
    """

    id: str
    options: Mapping[str, Any]
    default: str
    name: str | None = None
    description: str | None = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.options), self.default))


class ConfigurableFieldMultiOption(NamedTuple):
    """A field set to a list of ``options`` (by keys; ``default`` are the default keys).

    Example:
        >>> option = ConfigurableFieldMultiOption(id="k", options={"a": "a"}, default=["a"])
    """

    id: str
    options: Mapping[str, Any]
    default: Sequence[str]
    name: str | None = None
    description: str | None = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.options), tuple(self.default)))


AnyConfigurableField = (
    ConfigurableField | ConfigurableFieldSingleOption | ConfigurableFieldMultiOption
)


class ConfigurableFieldSpec(NamedTuple):
    """What ``config_specs`` lists: one configurable value, its type and default.

    Example:
        >>> ConfigurableFieldSpec(id="temperature", annotation=float, default=0.5).id
        'temperature'
    """

    id: str
    annotation: Any
    name: str | None = None
    description: str | None = None
    default: Any = None
    is_shared: bool = False
    dependencies: list[str] | None = None


def get_unique_config_specs(specs: Iterable[ConfigurableFieldSpec]) -> list[ConfigurableFieldSpec]:
    """One spec per id, sorted by id; two different specs with one id raise ``ValueError``."""
    ordered = sorted(specs, key=lambda s: (s.id, *(s.dependencies or [])))
    unique: list[ConfigurableFieldSpec] = []
    for spec_id, group in itertools.groupby(ordered, key=lambda s: s.id):
        first, *others = list(group)
        if any(other != first for other in others):
            # langchain-core's message, word for word (the missing space included).
            raise ValueError(
                "RunnableSequence contains conflicting config specs"
                f"for {spec_id}: {[first, *others]}"
            )
        unique.append(first)
    return unique


class StrEnum(str, enum.Enum):
    """The options of a configurable value, as a string enum (its type in the config schema)."""


_enums: weakref.WeakValueDictionary[Any, Any] = weakref.WeakValueDictionary()
_enums_lock = threading.Lock()


def enum_of(key: Any, name: str, values: Iterable[str]) -> Any:
    """A string enum of ``values`` named ``name``, one per ``key`` while it lives."""
    with _enums_lock:
        made = _enums.get(key)
        if made is None:
            made = StrEnum(name, [(v, v) for v in values])  # type: ignore[call-overload]
            _enums[key] = made
        return made


def options_spec(
    spec: ConfigurableFieldSingleOption | ConfigurableFieldMultiOption, description: str | None
) -> ConfigurableFieldSpec:
    """The spec of an option field: its type is the enum of the option keys."""
    options = enum_of(spec, spec.name or spec.id, spec.options)
    multi = isinstance(spec, ConfigurableFieldMultiOption)
    return ConfigurableFieldSpec(
        id=spec.id,
        name=spec.name,
        description=spec.description or description,
        annotation=Sequence[options] if multi else options,  # type: ignore[valid-type]
        default=spec.default,
        is_shared=spec.is_shared,
    )
