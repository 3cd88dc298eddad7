"""The schemas of the composite kinds, from the schemas of their steps (langchain-core's rules).

A sequence takes its input schema from its first step and its output schema from its last,
looking through ``assign`` and ``pick`` at either end (an assign's keys are added to a dict
schema, a pick keeps keys of one); a parallel's input schema merges its steps' dict schemas and
its output schema has one field per key; an assign's output adds its mapper's fields to its
input's. Steps may be of either library (a langchain-core step's schemas are pydantic models).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._schema import NO_ROOT, create_schema, json_schema, root_of, schema_fields

__all__ = [
    "assign_input_schema",
    "assign_output_schema",
    "parallel_input_schema",
    "parallel_output_schema",
    "sequence_input_schema",
    "sequence_output_schema",
    "unique_config_specs",
]


def _assign_or_pick(step: Any) -> str | None:
    from ._passthrough import RunnableAssign, RunnablePick

    if isinstance(step, RunnableAssign):
        return "assign"
    if isinstance(step, RunnablePick):
        return "pick"
    return None


def sequence_input_schema(steps: Sequence[Any], config: Any) -> Any:
    """The input schema of a sequence of ``steps``."""
    first = steps[0]
    if len(steps) > 1:
        kind = _assign_or_pick(first)
        if kind == "assign":
            after = sequence_input_schema(steps[1:], config)
            if root_of(after) is NO_ROOT:  # a dict: what the assign does not add comes in
                fields = schema_fields(after)
                keys = first.mapper.steps__
                return create_schema(
                    "RunnableSequenceInput",
                    fields={k: v for k, v in fields.items() if k not in keys},
                )
        elif kind == "pick":
            return sequence_input_schema(steps[1:], config)
    return first.get_input_schema(config)


def sequence_output_schema(steps: Sequence[Any], config: Any) -> Any:
    """The output schema of a sequence of ``steps``.

    (langchain-core 1.x takes the *input* schema of the step before a final assign or pick
    when that is the first step; here it is that step's output schema.)
    """
    last = steps[-1]
    if len(steps) > 1:
        kind = _assign_or_pick(last)
        if kind is not None:
            before = sequence_output_schema(steps[:-1], config)
            if root_of(before) is NO_ROOT:
                fields = schema_fields(before)
                if kind == "assign":
                    added = schema_fields(last.mapper.get_output_schema(config))
                    return create_schema("RunnableSequenceOutput", fields={**fields, **added})
                if isinstance(last.keys, list):
                    kept = {k: v for k, v in fields.items() if k in last.keys}
                    return create_schema("RunnableSequenceOutput", fields=kept)
                if last.keys in fields:
                    return create_schema("RunnableSequenceOutput", root=fields[last.keys][0])
    return last.get_output_schema(config)


def parallel_input_schema(parallel: Any, steps: Sequence[Any], config: Any) -> Any:
    """A parallel's input schema: its steps' dict schemas merged, when they all take dicts."""
    if all(
        json_schema(s.get_input_schema(config)).get("type", "object") == "object" for s in steps
    ):
        fields: dict[str, tuple[Any, Any]] = {}
        for step in steps:
            schema = step.get_input_schema(config)
            root = root_of(schema)
            if root is not NO_ROOT and root is not Any:
                return _own_input_schema(parallel, config)
            fields.update(schema_fields(schema))
        return create_schema(parallel.get_name("Input"), fields=fields)
    return _own_input_schema(parallel, config)


def _own_input_schema(runnable: Any, config: Any) -> Any:
    from ._schema import Typed

    return Typed.get_input_schema(runnable, config)


def parallel_output_schema(parallel: Any, steps: dict[str, Any]) -> Any:
    """A parallel's output schema: one required field per key, of that step's output type."""
    fields = {key: (step.OutputType, ...) for key, step in steps.items()}
    return create_schema(parallel.get_name("Output"), fields=fields)


def assign_input_schema(assign: Any, config: Any) -> Any:
    """An assign's input schema: its mapper's, when that is a dict schema."""
    schema = assign.mapper.get_input_schema(config)
    return schema if root_of(schema) is NO_ROOT else _own_input_schema(assign, config)


def assign_output_schema(assign: Any, config: Any) -> Any:
    """An assign's output schema: the input's fields and the mapper's outputs."""
    from ._schema import Typed

    mapper_input = assign.mapper.get_input_schema(config)
    mapper_output = assign.mapper.get_output_schema(config)
    if root_of(mapper_output) is NO_ROOT:
        if root_of(mapper_input) is NO_ROOT:
            fields = {**schema_fields(mapper_input), **schema_fields(mapper_output)}
            return create_schema("RunnableAssignOutput", fields=fields)
        return mapper_output
    return Typed.get_output_schema(assign, config)


def unique_config_specs(runnables: Sequence[Any]) -> list[Any]:
    """The config specs of ``runnables``, one per id."""
    from ._config_specs import get_unique_config_specs

    return get_unique_config_specs(spec for r in runnables for spec in r.config_specs)
