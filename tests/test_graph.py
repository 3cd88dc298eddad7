"""get_graph: the nodes and edges of each kind, draw_mermaid's text, draw_ascii (drawn without
any layout library), to_json."""

from __future__ import annotations

import subprocess
import sys

import yaml

from otel_runnables import (
    Graph,
    RunnableBranch,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    _graph_mermaid,
)


def add_one(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def names(graph: Graph) -> list[str]:
    return [node.name for node in graph.nodes.values()]


def edges(graph: Graph) -> set[tuple[str, str]]:
    by_id = {node.id: node.name for node in graph.nodes.values()}
    return {(by_id[e.source], by_id[e.target]) for e in graph.edges}


def test_one_runnable() -> None:
    graph = RunnableLambda(add_one).get_graph()
    assert names(graph) == ["add_one_input", "add_one", "add_one_output"]
    assert graph.first_node() is not None and graph.first_node().name == "add_one_input"
    assert graph.last_node() is not None and graph.last_node().name == "add_one_output"


def test_a_sequence_joins_its_steps() -> None:
    graph = (RunnableLambda(add_one) | RunnableLambda(double)).get_graph()
    assert names(graph) == ["add_one_input", "add_one", "double", "double_output"]
    assert edges(graph) == {
        ("add_one_input", "add_one"),
        ("add_one", "double"),
        ("double", "double_output"),
    }


def test_a_parallel_fans_out_and_in() -> None:
    graph = (RunnableLambda(add_one) | {"a": double, "b": RunnablePassthrough()}).get_graph()
    assert ("Parallel<a,b>Input", "double") in edges(graph)
    assert ("Parallel<a,b>Input", "Passthrough") in edges(graph)
    assert ("Passthrough", "Parallel<a,b>Output") in edges(graph)


def test_assign_pick_branch_retry_fallbacks_and_bindings() -> None:
    seq = (
        RunnableLambda(add_one).with_retry().with_config(tags=["t"])
        | RunnablePassthrough.assign(x=double)
        | RunnableLambda(double).with_fallbacks([RunnableLambda(add_one)])
        | RunnableBranch((lambda x: True, add_one), double)
    ).pick("x")
    graph = seq.get_graph()
    assert names(graph) == [
        "add_one_input", "add_one", "Parallel<x>Input", "Parallel<x>Output", "double",
        "Passthrough", "WithFallbacks", "Branch", "Pick<x>", "Pick<x>Output",
    ]  # fmt: skip


def test_the_runnables_a_function_calls() -> None:
    inner = RunnableLambda(double)
    graph = RunnableLambda(lambda x: inner.invoke(x) + 1).get_graph()
    assert names(graph) == ["LambdaInput", "LambdaOutput", "double"]


def test_mermaid_text() -> None:
    graph = (RunnableLambda(add_one) | RunnableLambda(add_one)).get_graph()
    assert graph.draw_mermaid() == (
        "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n"
        "\tadd_one_input([add_one_input]):::first\n"
        "\tadd_one_1(add_one)\n"
        "\tadd_one_2(add_one)\n"
        "\tadd_one_output([add_one_output]):::last\n"
        "\tadd_one_input --> add_one_1;\n"
        "\tadd_one_2 --> add_one_output;\n"  # (each step's edges, then the edge between)
        "\tadd_one_1 --> add_one_2;\n"
        "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
        "\tclassDef first fill-opacity:0\n"
        "\tclassDef last fill:#bfb6fc\n"
    )
    safe = RunnableParallel(a=add_one).get_graph().draw_mermaid(with_styles=False)
    assert "Parallel\\3ca\\3eInput --> add_one;" in safe


def test_node_metadata_is_shown() -> None:
    graph = RunnableLambda(add_one).get_graph({"metadata": {"owner": "ada"}})
    assert "add_one(add_one<hr/><small><em>owner = ada</em></small>)" in graph.draw_mermaid()


def test_frontmatter_is_pyyamls() -> None:
    config = {
        "config": {
            "theme": "neutral",
            "look": "handDrawn",
            "themeVariables": {"primaryColor": "#e2e2e2", "fontSize": 14, "dark": False},
            "flowchart": {"htmlLabels": True},
        },
        "title": "my graph",
        "tags": ["a", "b"],
        "quoted": ["yes", "1.5", "#x", "a: b", " padded"],
    }
    ours = _graph_mermaid._yaml(config)
    assert ours == yaml.dump(config, default_flow_style=False)


def test_ascii_boxes_and_lines() -> None:
    text = (RunnableLambda(add_one) | {"a": double, "b": add_one}).get_graph().draw_ascii()
    lines = text.splitlines()
    assert "| add_one_input |" in lines[1]
    for name in ("Parallel<a,b>Input", "double", "add_one", "Parallel<a,b>Output"):
        assert f"| {name} |" in text
    assert "*" in text
    # the two branches sit side by side on one row
    row = next(line for line in lines if "| double |" in line)
    assert "| add_one |" in row


def test_ascii_needs_no_layout_library() -> None:
    code = (
        "import sys; sys.modules['grandalf'] = None\n"
        "from otel_runnables import RunnableLambda\n"
        "print(RunnableLambda(lambda x: x).get_graph().draw_ascii())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "| Lambda |" in out.stdout


def test_to_json() -> None:
    data = RunnableLambda(add_one).get_graph().to_json()
    assert data["edges"] == [{"source": 0, "target": 1}, {"source": 1, "target": 2}]
    assert data["nodes"][1]["type"] == "runnable"
    assert data["nodes"][1]["data"]["name"] == "add_one"
    assert data["nodes"][0] == {"id": 0, "type": "schema", "data": "add_one_input"}
    with_schemas = RunnableLambda(add_one).get_graph().to_json(with_schemas=True)
    assert with_schemas["nodes"][0]["data"] == {"title": "add_one_input", "type": "integer"}


def test_an_unhashable_callable_has_a_graph() -> None:
    class Step:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, x: int) -> int:
            return x

    assert names(RunnableLambda(Step()).get_graph()) == ["LambdaInput", "Lambda", "LambdaOutput"]
