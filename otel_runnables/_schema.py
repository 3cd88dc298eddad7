"""Input, output and config schemas of runnables, derived from type hints.

As in langchain-core, ``get_input_schema()`` / ``get_output_schema()`` / ``config_schema()``
return pydantic models when pydantic 2 is installed (a root model named ``<Name>Input`` for a
plain type, the model itself for a pydantic model, a model with fields for dict inputs). The
runtime does not depend on pydantic: without it they return a :class:`~._jsonschema.Schema`
with the same name and the same ``model_json_schema()``. The ``*_jsonschema()`` forms work
either way.

:class:`Typed` holds the public methods (a mixin of ``Runnable``); the functions below are what
the kinds use to build their schemas from their steps' schemas, whichever of the two forms
those are (a langchain-core step in a mixed pipeline returns pydantic models).
"""

from __future__ import annotations

import functools
import inspect
import typing
import uuid
from collections.abc import Sequence
from types import GenericAlias
from typing import TYPE_CHECKING, Any, Generic

from ._generic import Input, Output
from ._jsonschema import FieldSpec, Schema

if TYPE_CHECKING:
    from ._config import RunnableConfig
    from ._config_specs import ConfigurableFieldSpec

__all__ = [
    "FieldSpec",
    "Schema",
    "Typed",
    "create_schema",
    "delegated_type",
    "hints_of",
    "item_type",
    "is_model_class",
    "json_schema",
    "root_of",
    "schema_fields",
]

NO_ROOT: Any = object()


@functools.cache
def _pydantic() -> Any:
    """The pydantic module when pydantic 2 is installed, else None (imported on first use)."""
    try:
        import pydantic
    except ImportError:
        return None
    return pydantic if hasattr(pydantic, "RootModel") else None


def hints_of(func: Any) -> tuple[Any, Any]:
    """The type hints of a function's first parameter and of its return, resolved (string
    annotations too); ``Any`` where there is none."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return Any, Any
    first = next(iter(signature.parameters.values()), None)
    hints: dict[str, Any] = {}
    for source in (func, getattr(func, "__call__", None)):  # noqa: B004
        try:
            hints = typing.get_type_hints(source)
            break
        except Exception:  # not a function, or a hint that does not resolve
            continue
    param = Any if first is None else hints.get(first.name, first.annotation)
    result = hints.get("return", signature.return_annotation)
    empty = inspect.Parameter.empty
    return (Any if param is empty else param), (Any if result is empty else result)


def item_type(hint: Any) -> Any:
    """The item type of an ``Iterator[...]`` / ``AsyncIterator[...]`` hint (``Any`` else)."""
    return getattr(hint, "__args__", (Any,))[0]


def is_model_class(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class (then it is its own schema)."""
    pydantic = _pydantic()
    return (
        pydantic is not None
        and inspect.isclass(tp)
        and not isinstance(tp, GenericAlias)
        and issubclass(tp, pydantic.BaseModel)
    )


def create_schema(
    name: str,
    *,
    root: Any = NO_ROOT,
    root_default: Any = ...,
    fields: dict[str, tuple[Any, Any]] | None = None,
    module: str | None = None,
) -> Any:
    """A schema named ``name``: of one ``root`` type, or of ``fields`` (``{key: (annotation,
    default)}``, default ``...`` when required). A pydantic model when pydantic is installed."""
    pydantic = _pydantic()
    if pydantic is None:
        if root is not NO_ROOT:
            return Schema(name, root=root, root_default=root_default)
        return Schema(name, fields=fields or {})
    if root is not NO_ROOT:
        try:
            return _root_model(name, root, root_default, module)
        except TypeError:  # an unhashable type: made without the cache
            return _root_model.__wrapped__(name, root, root_default, module)
    definitions = fields or {}
    try:
        return _fields_model(name, tuple(definitions.items()))
    except TypeError:
        return _fields_model.__wrapped__(name, tuple(definitions.items()))


@functools.lru_cache(maxsize=256)
def _root_model(name: str, root: Any, default: Any, module: str | None) -> Any:
    pydantic = _pydantic()

    def model_json_schema(cls: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super(cls, cls).model_json_schema(*args, **kwargs)
        schema["title"] = name  # the runnable's name, whatever the root type's title
        return schema

    namespace: dict[str, Any] = {
        "__annotations__": {"root": root},
        "model_config": pydantic.ConfigDict(arbitrary_types_allowed=True),
        "model_json_schema": classmethod(model_json_schema),
        "__module__": module or __name__,
    }
    if default is not ...:
        namespace["root"] = default
    return type(name, (pydantic.RootModel,), namespace)


_RESERVED: set[str] = set()


@functools.lru_cache(maxsize=256)
def _fields_model(name: str, definitions: tuple[tuple[str, tuple[Any, Any]], ...]) -> Any:
    pydantic = _pydantic()
    if not _RESERVED:
        _RESERVED.update(k for k in dir(pydantic.BaseModel) if not k.startswith("_"))
    fields: dict[str, Any] = {}
    for key, (annotation, default) in definitions:
        spec = default if isinstance(default, FieldSpec) else FieldSpec(default)
        field = pydantic.Field(spec.default, title=spec.title, description=spec.description)
        if key.startswith("_") or key in _RESERVED:  # a name pydantic keeps for itself
            title = spec.title or key.lstrip("_").replace("_", " ").title()
            field = pydantic.Field(spec.default, alias=key, serialization_alias=key, title=title)
            key = f"private_{key}"
        fields[key] = (annotation, field)
    config = pydantic.ConfigDict(arbitrary_types_allowed=True, frozen=True, protected_namespaces=())
    return pydantic.create_model(name, __config__=config, **fields)


def root_of(schema: Any) -> Any:
    """The root type of a root schema, or ``NO_ROOT`` for a schema with fields."""
    if isinstance(schema, Schema):
        return NO_ROOT if schema.fields is not None else schema.root
    pydantic = _pydantic()
    if pydantic is not None and issubclass(schema, pydantic.RootModel):
        return schema.model_fields["root"].annotation
    return NO_ROOT


def schema_fields(schema: Any) -> dict[str, tuple[Any, Any]]:
    """``{key: (annotation, default)}`` of a schema's fields (a root schema has one field,
    ``root``, as a pydantic root model has)."""
    if isinstance(schema, Schema):
        if schema.fields is None:
            return {"root": (schema.root, schema.root_default)}
        return {k: (schema.annotations[k], spec) for k, spec in schema.fields.items()}
    out: dict[str, tuple[Any, Any]] = {}
    for key, info in schema.model_fields.items():
        default = ... if info.is_required() else info.get_default(call_default_factory=True)
        out[key] = (info.annotation, default)
    return out


def json_schema(schema: Any) -> dict[str, Any]:
    """The JSON Schema of a schema (either form)."""
    result: dict[str, Any] = schema.model_json_schema()
    return result


# -- the public methods ----------------------------------------------------------------------

_CONFIG_HINTS: dict[str, Any] = {"callbacks": Any, "run_id": uuid.UUID | None}
"""``RunnableConfig``'s hints as config schemas show them (langchain-core's ``run_id`` type;
callbacks are not data)."""


def delegated_type(part: str, which: str) -> Any:
    """A property reading ``which`` (``"InputType"`` or ``"OutputType"``) of the runnable in the
    attribute ``part``: the kinds whose types are those of one of their parts."""

    def read(self: Any) -> Any:
        return getattr(getattr(self, part), which)

    return property(read, doc=f"The {which} of {part!r}.")


def _generic_args(runnable: Any) -> tuple[Any, ...] | None:
    for base in getattr(type(runnable), "__orig_bases__", ()):
        args = typing.get_args(base)
        if len(args) == 2:
            return args
    return None


class Typed(Generic[Input, Output]):
    """The type and schema methods of every runnable (a mixin of ``Runnable``)."""

    __slots__ = ()

    if TYPE_CHECKING:

        def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str: ...

    @property
    def InputType(self) -> Any:
        """The input type: the first type argument of ``Runnable[In, Out]`` in the class's
        bases (kinds derive it from their functions or steps)."""
        args = _generic_args(self)
        if args is None:
            # langchain-core's message, word for word.
            raise TypeError(
                f"Runnable {self.get_name()} doesn't have an inferable InputType. "
                "Override the InputType property to specify the input type."
            )
        return args[0]

    @property
    def OutputType(self) -> Any:
        """The output type: the second type argument of ``Runnable[In, Out]``."""
        args = _generic_args(self)
        if args is None:
            # langchain-core's message, word for word.
            raise TypeError(
                f"Runnable {self.get_name()} doesn't have an inferable OutputType. "
                "Override the OutputType property to specify the output type."
            )
        return args[1]

    @property
    def input_schema(self) -> Any:
        """``get_input_schema()``."""
        return self.get_input_schema()

    @property
    def output_schema(self) -> Any:
        """``get_output_schema()``."""
        return self.get_output_schema()

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """A schema of the input: a pydantic model when pydantic is installed (a root model
        named ``<Name>Input`` for a plain type), else a ``Schema`` with the same JSON Schema.

        Example:
            >>> from otel_runnables import RunnableLambda
            >>> def add_one(x: int) -> int:
            ...     return x + 1
            >>> RunnableLambda(add_one).get_input_jsonschema()
            {'title': 'add_one_input', 'type': 'integer'}
        """
        root = self.InputType
        if is_model_class(root):
            return root
        return create_schema(self.get_name("Input"), root=root, module=type(self).__module__)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """A schema of the output (see :meth:`get_input_schema`)."""
        root = self.OutputType
        if is_model_class(root):
            return root
        return create_schema(self.get_name("Output"), root=root, module=type(self).__module__)

    def get_input_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """The JSON Schema of the input (no pydantic needed)."""
        return json_schema(self.get_input_schema(config))

    def get_output_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """The JSON Schema of the output (no pydantic needed)."""
        return json_schema(self.get_output_schema(config))

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        """The configurable fields of this runnable and the runnables inside it."""
        return []

    def config_schema(self, *, include: Sequence[str] | None = None) -> Any:
        """A schema of the config: ``configurable`` (from :attr:`config_specs`) and the keys
        named in ``include``."""
        specs = self.config_specs
        fields: dict[str, tuple[Any, Any]] = {}
        if specs:
            configurable = create_schema(
                "Configurable",
                fields={
                    spec.id: (
                        spec.annotation,
                        FieldSpec(spec.default, spec.name, spec.description),
                    )
                    for spec in specs
                },
            )
            fields["configurable"] = (configurable, None)
        from ._config import RunnableConfig

        hints = typing.get_type_hints(RunnableConfig)
        for key, hint in hints.items():
            if include and key in include and key != "configurable":
                fields[key] = (_CONFIG_HINTS.get(key, hint), None)
        return create_schema(self.get_name("Config"), fields=fields)

    def get_config_jsonschema(self, *, include: Sequence[str] | None = None) -> dict[str, Any]:
        """The JSON Schema of the config (no pydantic needed)."""
        return json_schema(self.config_schema(include=include))
