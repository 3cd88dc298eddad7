"""configurable_fields / configurable_alternatives: per-call attribute values and alternatives
from ``config["configurable"]``, their ``config_specs`` and config schema; neither is a run of
its own (the runnable it resolves to is)."""

from __future__ import annotations

from typing import Any

import pytest
from _support import Traced

from otel_runnables import (
    ConfigurableField,
    ConfigurableFieldMultiOption,
    ConfigurableFieldSingleOption,
    Runnable,
    RunnableConfig,
    RunnableLambda,
    RunnablePick,
)


class Greeter(Runnable[str, str]):
    """A user's runnable with a field."""

    def __init__(self, greeting: str = "hello", punctuation: str = "!") -> None:
        self.greeting = greeting
        self.punctuation = punctuation

    def invoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> str:
        return f"{self.greeting} {input}{self.punctuation}"


def test_fields_are_set_per_call() -> None:
    greeter = Greeter().configurable_fields(greeting=ConfigurableField(id="greeting"))
    assert greeter.invoke("ada") == "hello ada!"
    assert greeter.invoke("ada", {"configurable": {"greeting": "hi"}}) == "hi ada!"
    assert greeter.with_config(configurable={"greeting": "hey"}).invoke("ada") == "hey ada!"
    assert greeter.batch(["a", "b"], [{}, {"configurable": {"greeting": "yo"}}]) == [
        "hello a!",
        "yo b!",
    ]


async def test_fields_async() -> None:
    greeter = Greeter().configurable_fields(greeting=ConfigurableField(id="g"))
    assert await greeter.ainvoke("ada", {"configurable": {"g": "hi"}}) == "hi ada!"
    assert await greeter.abatch(["a"], {"configurable": {"g": "yo"}}) == ["yo a!"]


def test_option_fields() -> None:
    greeter = Greeter().configurable_fields(
        greeting=ConfigurableFieldSingleOption(
            id="tone", options={"formal": "good day", "casual": "hey"}, default="casual"
        ),
        punctuation=ConfigurableFieldMultiOption(
            id="marks", options={"bang": "!", "q": "?"}, default=["bang"]
        ),
    )
    assert greeter.invoke("ada") == "hey ada['!']"
    config: Any = {"configurable": {"tone": "formal", "marks": ["q"]}}
    assert greeter.invoke("ada", config) == "good day ada['?']"


def test_the_default_runnable_is_not_changed() -> None:
    default = Greeter()
    greeter = default.configurable_fields(greeting=ConfigurableField(id="g"))
    greeter.invoke("x", {"configurable": {"g": "hi"}})
    assert default.greeting == "hello"


def test_an_unknown_field_names_the_available_ones() -> None:
    with pytest.raises(ValueError, match=r"Configuration key colour not found .*'greeting'"):
        Greeter().configurable_fields(colour=ConfigurableField(id="c"))


def test_specs_and_config_schema() -> None:
    greeter = Greeter().configurable_fields(
        greeting=ConfigurableField(id="greeting", name="Greeting", description="how to greet")
    )
    (spec,) = greeter.config_specs
    assert (spec.id, spec.annotation, spec.default) == ("greeting", str, "hello")
    schema = greeter.get_config_jsonschema()
    assert schema["$defs"]["Configurable"]["properties"]["greeting"] == {
        "default": "hello",
        "description": "how to greet",
        "title": "Greeting",
        "type": "string",
    }


def test_alternatives() -> None:
    inc = RunnableLambda(lambda x: x + 1, name="inc")
    double = RunnableLambda(lambda x: x * 2, name="double")
    op = inc.configurable_alternatives(
        ConfigurableField(id="op"), double=double, negate=lambda: RunnableLambda(lambda x: -x)
    )
    assert op.invoke(3) == 4
    assert op.invoke(3, {"configurable": {"op": "double"}}) == 6
    assert op.invoke(3, {"configurable": {"op": "negate"}}) == -3
    with pytest.raises(ValueError, match="Unknown alternative: nope"):
        op.invoke(3, {"configurable": {"op": "nope"}})
    (spec,) = op.config_specs
    assert spec.id == "op" and spec.default == "default"
    assert sorted(m.value for m in spec.annotation) == ["default", "double", "negate"]


def test_alternatives_with_prefixed_keys() -> None:
    pick = RunnablePick("a").configurable_fields(keys=ConfigurableField(id="key"))
    chooser = RunnableLambda(lambda d: d).configurable_alternatives(
        ConfigurableField(id="which"), prefix_keys=True, picker=pick
    )
    config: Any = {"configurable": {"which": "picker", "which==picker/key": "b"}}
    assert chooser.invoke({"a": 1, "b": 2}, config) == 2
    assert {s.id for s in chooser.config_specs} == {"which", "which==picker/key"}


def test_the_run_is_the_resolved_runnables(traced: Traced) -> None:
    inc = RunnableLambda(lambda x: x + 1, name="inc")
    op = inc.configurable_alternatives(
        ConfigurableField(id="op"), double=RunnableLambda(lambda x: x * 2, name="double")
    )
    op.invoke(1, {"configurable": {"op": "double"}})
    assert traced.tree() == [("double", [])]


def test_in_a_pipeline_the_config_reaches_the_step() -> None:
    greeter = Greeter().configurable_fields(greeting=ConfigurableField(id="g"))
    seq = RunnableLambda(str.strip) | greeter
    assert seq.invoke("  ada ", {"configurable": {"g": "hi"}}) == "hi ada!"
    assert [s.id for s in seq.config_specs] == ["g"]


def test_conflicting_specs_raise() -> None:
    one = Greeter().configurable_fields(greeting=ConfigurableField(id="g"))
    two = Greeter(greeting="other").configurable_fields(greeting=ConfigurableField(id="g"))
    with pytest.raises(ValueError, match="conflicting config specs"):
        _ = (one | two).config_specs


def test_alternatives_with_the_same_field_keep_their_own_keys() -> None:
    def alternatives(*keys: str) -> Any:
        others = {key: RunnableLambda(lambda x: x) for key in keys}
        return RunnableLambda(lambda x: x).configurable_alternatives(
            ConfigurableField(id="op"), **others
        )

    first, second = alternatives("a"), alternatives("b", "c")
    (spec_one,), (spec_two,) = first.config_specs, second.config_specs
    assert sorted(m.value for m in spec_one.annotation) == ["a", "default"]
    assert sorted(m.value for m in spec_two.annotation) == ["b", "c", "default"]
