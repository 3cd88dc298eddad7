"""Schemas without pydantic: :class:`Schema` and its JSON Schema from type hints.

With pydantic installed, schemas are pydantic models and their JSON Schema is pydantic's. Without
it, the schema methods return a :class:`Schema`, whose ``model_json_schema()`` writes the same
JSON Schema (pydantic 2's layout: ``$defs`` and
``$ref`` for enums and nested schemas, ``anyOf`` for unions, a title per property) for the types
a pipeline's hints use: ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes``, ``Any``, type
variables, ``list`` / ``set`` / ``frozenset`` / ``tuple`` / ``dict`` and their ``typing`` and
``collections.abc`` forms, ``Optional`` / ``Union``, ``Literal``, ``Annotated``, enums, dates
and times, ``UUID``, and nested schemas. Any other type raises ``TypeError`` naming it.
"""

from __future__ import annotations

import collections.abc as abc
import datetime
import enum
import types
import typing
import uuid
from typing import Any

__all__ = ["FieldSpec", "Schema", "field_title"]


class FieldSpec(typing.NamedTuple):
    """A field's default (``...``: required) and, optionally, its title and description."""

    default: Any = ...
    title: str | None = None
    description: str | None = None


class Schema:
    """What the schema methods return when pydantic is not installed: a named schema of one
    root type, or of fields, with pydantic's ``model_json_schema()``.

    Example:
        >>> Schema("AddInput", root=int).model_json_schema()
        {'type': 'integer', 'title': 'AddInput'}
    """

    def __init__(
        self,
        name: str,
        *,
        root: Any = None,
        root_default: Any = ...,
        fields: dict[str, tuple[Any, Any]] | None = None,
    ) -> None:
        self.__name__ = name
        self.root = root
        self.root_default = root_default
        self.annotations: dict[str, Any] = {}
        self.fields: dict[str, FieldSpec] | None = None
        if fields is not None:
            self.fields = {}
            for key, (annotation, default) in fields.items():
                self.annotations[key] = annotation
                self.fields[key] = default if isinstance(default, FieldSpec) else FieldSpec(default)

    def __repr__(self) -> str:
        return f"<schema {self.__name__}>"

    def model_json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this schema, as pydantic writes it for the same model."""
        defs: dict[str, dict[str, Any]] = {}
        body = _model_body(self, defs)
        if defs:
            return {"$defs": {k: defs[k] for k in sorted(defs)}, **body}
        return body


_SCALARS: dict[Any, dict[str, Any]] = {
    type(None): {"type": "null"},
    None: {"type": "null"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bytes: {"format": "binary", "type": "string"},
    datetime.datetime: {"format": "date-time", "type": "string"},
    datetime.date: {"format": "date", "type": "string"},
    datetime.time: {"format": "time", "type": "string"},
    datetime.timedelta: {"format": "duration", "type": "string"},
    uuid.UUID: {"format": "uuid", "type": "string"},
}
_ARRAYS = {list, abc.Sequence, abc.MutableSequence, abc.Iterable, abc.Collection}
_SETS = {set, frozenset, abc.Set, abc.MutableSet}
_MAPPINGS = {dict, abc.Mapping, abc.MutableMapping}
_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def field_title(name: str) -> str:
    """pydantic's default title of a field: ``user_id`` -> ``User Id``."""
    return name.title().replace("_", " ").strip()


def _model_body(schema: Schema, defs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    name = schema.__name__
    if schema.fields is None:
        body = {**_type_schema(schema.root, defs), "title": name}
        if schema.root_default is not ...:
            body["default"] = schema.root_default
        return body
    properties: dict[str, Any] = {}
    required: list[str] = []
    for key, spec in schema.fields.items():
        prop = _type_schema(schema.annotations[key], defs)
        if "$ref" not in prop:
            prop["title"] = spec.title or field_title(key)
        elif spec.title:
            prop["title"] = spec.title
        if spec.description:
            prop["description"] = spec.description
        if spec.default is ...:
            required.append(key)
        else:
            prop["default"] = _json_default(spec.default)
        properties[key] = prop
    body = {"properties": properties, "title": name, "type": "object"}
    if required:
        body["required"] = required
    return body


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_json_default(v) for v in value]
    return value


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


def _type_schema(tp: Any, defs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if tp is Any or isinstance(tp, typing.TypeVar):
        return {}
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    if isinstance(tp, Schema):
        defs[tp.__name__] = _model_body(tp, defs)
        return _ref(tp.__name__)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        defs[tp.__name__] = _enum_body(tp)
        return _ref(tp.__name__)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return _type_schema(args[0], defs)
    if origin is typing.Union or origin is types.UnionType:
        return {"anyOf": [_type_schema(a, defs) for a in args]}
    if origin is typing.Literal:
        return _literal(args)
    container = origin or tp
    if container in _ARRAYS:
        return {"items": _type_schema(args[0], defs) if args else {}, "type": "array"}
    if container in _SETS:
        items = _type_schema(args[0], defs) if args else {}
        return {"items": items, "type": "array", "uniqueItems": True}
    if container is tuple:
        return _tuple(args, defs)
    if container in _MAPPINGS:
        value = _type_schema(args[1], defs) if len(args) == 2 else {}
        return {"additionalProperties": value if value else True, "type": "object"}
    raise TypeError(
        f"{tp!r} cannot be written as JSON Schema without pydantic (install pydantic>=2, or "
        "give the runnable plainer types with with_types())"
    )


def _tuple(args: tuple[Any, ...], defs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if not args:
        return {"items": {}, "type": "array"}
    if len(args) == 2 and args[1] is Ellipsis:
        return {"items": _type_schema(args[0], defs), "type": "array"}
    items = [_type_schema(a, defs) for a in args]
    return {"maxItems": len(items), "minItems": len(items), "prefixItems": items, "type": "array"}


def _json_type(values: list[Any]) -> dict[str, str]:
    kinds = {type(v) for v in values}
    if len(kinds) == 1 and (kind := kinds.pop()) in _JSON_TYPES:
        return {"type": _JSON_TYPES[kind]}
    return {}


def _literal(values: tuple[Any, ...]) -> dict[str, Any]:
    plain = [v.value if isinstance(v, enum.Enum) else v for v in values]
    if len(plain) == 1:
        return {"const": plain[0], **_json_type(plain)}
    return {"enum": plain, **_json_type(plain)}


def _enum_body(cls: type[enum.Enum]) -> dict[str, Any]:
    values = [member.value for member in cls]
    return {"enum": values, "title": cls.__name__, **_json_type(values)}
