"""Mixed pipelines can be inspected: a langchain-core pipeline containing our steps has the
graph, schemas and config specs it would have with langchain-core's steps (langchain-core calls
our steps' ``get_graph``, ``get_input_schema`` ... as its own), and ours containing
langchain-core steps shows theirs."""

from __future__ import annotations

import pytest

lc = pytest.importorskip("langchain_core.runnables")

from langchain_core.prompts import PromptTemplate  # noqa: E402

import otel_runnables as ours  # noqa: E402


def add_one(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def shape(a: object, b: object) -> object:
    """lc | b | {"a": b, "b": passthrough}, the steps of library ``b`` where it says so."""
    return (
        lc.RunnableLambda(add_one)
        | b.RunnableLambda(double)  # type: ignore[attr-defined]
        | {"a": b.RunnableLambda(add_one), "b": lc.RunnablePassthrough()}  # type: ignore[attr-defined]
    )


def test_a_langchain_pipeline_with_our_steps() -> None:
    mixed, plain = shape(lc, ours), shape(lc, lc)
    assert type(mixed) is lc.RunnableSequence
    assert mixed.get_graph().draw_mermaid() == plain.get_graph().draw_mermaid()  # type: ignore[attr-defined]
    assert mixed.get_graph().to_json()["edges"] == plain.get_graph().to_json()["edges"]  # type: ignore[attr-defined]
    for method in ("get_input_jsonschema", "get_output_jsonschema", "get_config_jsonschema"):
        assert getattr(mixed, method)() == getattr(plain, method)()
    assert mixed.config_specs == plain.config_specs == []  # type: ignore[attr-defined]


def test_config_specs_of_our_steps_reach_langchains_pipeline() -> None:
    pick = ours.RunnablePick("a").configurable_fields(keys=ours.ConfigurableField(id="key"))
    mixed = lc.RunnableLambda(lambda x: {"a": x, "b": -x}) | pick
    assert [spec.id for spec in mixed.config_specs] == ["key"]
    assert mixed.invoke(1, {"configurable": {"key": "b"}}) == -1
    assert "key" in mixed.get_config_jsonschema()["$defs"]["Configurable"]["properties"]


def test_our_pipeline_with_langchain_steps() -> None:
    prompt = PromptTemplate.from_template("n={x}")
    seq = ours.RunnableLambda(add_one) | lc.RunnableLambda(lambda x: {"x": x}) | prompt
    assert type(seq) is ours.RunnableSequence
    graph = seq.get_graph()
    assert [node.name for node in graph.nodes.values()] == [
        "add_one_input", "add_one", "Lambda", "PromptTemplate", "PromptTemplateOutput",
    ]  # fmt: skip
    assert seq.get_input_jsonschema() == {"title": "add_one_input", "type": "integer"}
    assert seq.get_output_jsonschema()["title"] == "PromptTemplateOutput"
    assert seq.get_prompts() == [prompt]
    assert "| PromptTemplate |" in graph.draw_ascii()
