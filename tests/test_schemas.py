"""Input/output/config schemas from type hints: pydantic models when pydantic is installed, a
``Schema`` with the same JSON Schema when it is not (checked here against pydantic itself),
with_types overriding, sequences from their ends; importing the package imports no pydantic."""

from __future__ import annotations

import datetime
import enum
import functools
import operator
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, Optional, TypeVar, Union

import pydantic
import pytest

from otel_runnables import (
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    Schema,
    _schema,
)


class Colour(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


T = TypeVar("T")


class In(pydantic.BaseModel):
    text: str


class Out(pydantic.BaseModel):
    words: list[str]

TYPES: list[Any] = [
    int, float, str, bool, bytes, type(None), Any, T, list, list[int], set[str], frozenset[int],
    tuple, tuple[int, str], tuple[int, ...], dict, dict[str, Any], dict[str, list[int]],
    Optional[int], Union[int, str], int | None, float | int | None, Literal["a"],  # noqa: UP007, UP045
    Literal["a", "b"], Literal[1, "a"], Colour, list[Colour], Optional[Colour],  # noqa: UP045
    datetime.datetime, datetime.date, uuid.UUID, Sequence[int], Mapping[str, int],
]  # fmt: skip


@pytest.fixture
def no_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_schema, "_pydantic", functools.cache(lambda: None))


@pytest.mark.parametrize("tp", TYPES, ids=repr)
def test_a_root_schema_without_pydantic_is_pydantics(tp: Any) -> None:
    model = _schema.create_schema("X", root=tp)
    assert issubclass(model, pydantic.RootModel)
    assert Schema("X", root=tp).model_json_schema() == model.model_json_schema()


def test_a_schema_with_fields_without_pydantic_is_pydantics() -> None:
    inner = Schema("Inner", fields={"n": (int, ...)})
    inner_model = _schema.create_schema("Inner", fields={"n": (int, ...)})
    fields: dict[str, Any] = {
        "plain": (Any, ...),
        "user_id": (int, 3),
        "colour": (Colour, ...),
        "maybe": (Optional[int], None),  # noqa: UP045
        "many": (list[Colour], ...),
        "titled": (str, _schema.FieldSpec("x", "The Title", "what it is")),
    }
    ours = Schema("Fields", fields={**fields, "inner": (inner, ...)})
    theirs = _schema.create_schema("Fields", fields={**fields, "inner": (inner_model, ...)})
    assert ours.model_json_schema() == theirs.model_json_schema()


def test_with_pydantic_the_schemas_are_models() -> None:
    def add_one(x: int) -> int:
        return x + 1

    schema = RunnableLambda(add_one).get_input_schema()
    assert issubclass(schema, pydantic.BaseModel)
    assert schema.model_validate(3).root == 3
    assert RunnableLambda(add_one).input_schema is schema  # (made once)


def test_without_pydantic_the_schemas_are_schema_objects(no_pydantic: None) -> None:
    def add_one(x: int) -> int:
        return x + 1

    schema = RunnableLambda(add_one).get_input_schema()
    assert isinstance(schema, Schema) and schema.__name__ == "add_one_input"
    assert RunnableLambda(add_one).get_output_jsonschema() == {
        "title": "add_one_output",
        "type": "integer",
    }


def test_without_pydantic_an_unknown_type_is_named(no_pydantic: None) -> None:
    class Custom:
        pass

    def use(x: Custom) -> None:
        return None

    with pytest.raises(TypeError, match=r"Custom.*without pydantic"):
        RunnableLambda(use).get_input_jsonschema()


def test_lambda_schemas() -> None:
    def keys(d):  # type: ignore[no-untyped-def]  # (no hint: the keys it reads)
        return d["question"] + d.get("context", "")

    assert RunnableLambda(keys).get_input_jsonschema() == {
        "properties": {"context": {"title": "Context"}, "question": {"title": "Question"}},
        "required": ["context", "question"],
        "title": "keys_input",
        "type": "object",
    }
    getter = RunnableLambda(operator.itemgetter("a", "b"))
    assert getter.get_input_jsonschema()["required"] == ["a", "b"]

    def gen(x: str) -> Iterator[int]:
        yield len(x)

    assert RunnableLambda(gen).get_output_jsonschema()["type"] == "integer"


def test_generator_schemas_are_the_item_types() -> None:
    def lengths(chunks: Iterator[str]) -> Iterator[int]:
        for chunk in chunks:
            yield len(chunk)

    runnable = RunnableGenerator(lengths)
    assert runnable.InputType is str and runnable.OutputType is int
    assert runnable.get_input_jsonschema() == {"title": "lengths_input", "type": "string"}


def test_sequences_from_their_ends() -> None:
    def parse(x: str) -> int:
        return int(x)

    def show(x: int) -> list[str]:
        return [str(x)]

    seq = RunnableLambda(parse) | (lambda x: x) | RunnableLambda(show)
    assert seq.get_input_jsonschema() == {"title": "parse_input", "type": "string"}
    assert seq.get_output_jsonschema()["items"] == {"type": "string"}
    assert seq.InputType is str and seq.OutputType == list[str]


def test_a_final_assign_adds_to_the_previous_steps_output() -> None:
    # langchain-core 1.x takes the *input* schema of the step before the assign when that is
    # the first step; the output is what the step returns, plus the assigned keys.
    def split(x: In) -> Out:
        return Out(words=x.text.split())

    def count(d: dict[str, Any]) -> int:
        return len(d["words"])

    seq = RunnableLambda(split) | RunnablePassthrough.assign(n=RunnableLambda(count))
    assert set(seq.get_output_jsonschema()["properties"]) == {"words", "n"}


def test_with_types_overrides() -> None:
    untyped = RunnableLambda(lambda x: x, name="free")
    typed = untyped.with_types(input_type=int, output_type=list[str])
    assert typed.InputType is int and typed.OutputType == list[str]
    assert typed.get_input_jsonschema() == {"title": "free_input", "type": "integer"}
    assert typed.with_types(input_type=str).get_output_jsonschema()["type"] == "array"
    assert typed.invoke(5) == 5  # types do not change what it does


def test_parallel_and_config_schemas() -> None:
    def add_one(x: int) -> int:
        return x + 1

    parallel = RunnableParallel(a=RunnableLambda(add_one), b=lambda x: x)
    assert parallel.get_output_jsonschema()["required"] == ["a", "b"]
    config = parallel.get_config_jsonschema(include=["tags", "run_name"])
    assert set(config["properties"]) == {"tags", "run_name"}


def test_a_subclass_types_come_from_its_generic_base() -> None:
    from otel_runnables import Runnable

    class Typed(Runnable[int, str]):
        pass

    class Bare(Runnable):  # type: ignore[type-arg]
        pass

    assert (Typed().InputType, Typed().OutputType) == (int, str)
    assert Typed().get_output_jsonschema() == {"title": "TypedOutput", "type": "string"}
    assert isinstance(Bare().InputType, TypeVar)  # as in langchain-core: Runnable's own
    assert Bare().get_input_jsonschema() == {"title": "BareInput"}


def test_importing_the_package_imports_no_pydantic() -> None:
    code = "import sys, otel_runnables; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
