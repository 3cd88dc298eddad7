"""Mermaid text and JSON data of a graph, as langchain-core writes them.

The text is langchain-core's, character for character, for the same graph: the YAML
frontmatter (written here, for the plain values Mermaid's configuration uses), one line per
node (first and last node as stadiums, metadata under the name), one per edge, a ``subgraph``
block per ``prefix:`` of node ids, and the three ``classDef`` styles.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING, Any

from ._graph import is_uuid, node_data_str

if TYPE_CHECKING:
    from ._graph import Edge, Graph, Node

__all__ = ["draw_mermaid", "graph_json"]

_STYLES = (
    ("default", "fill:#f2f0ff,line-height:1.2"),
    ("first", "fill-opacity:0"),
    ("last", "fill:#bfb6fc"),
)
_MARKDOWN = tuple("*_`")
_ESCAPES = {
    "[": "#91;",
    "]": "#93;",
    "(": "#40;",
    ")": "#41;",
    "{": "#123;",
    "}": "#125;",
    '"': "#quot;",
    "<": "#60;",
    ">": "#62;",
    "|": "#124;",
}
_SAFE = set(string.ascii_letters + string.digits + "_-")


def _escape(text: str) -> str:
    text = text.replace("#", "#35;")
    for char, entity in _ESCAPES.items():
        text = text.replace(char, entity)
    return text


def _safe_id(label: str) -> str:
    """A Mermaid node id: other characters than ``[A-Za-z0-9_-]`` become ``\\<hex>``."""
    return "".join(c if c in _SAFE else f"\\{ord(c):x}" for c in label)


def _metadata_lines(metadata: dict[str, Any]) -> list[str]:
    scalars = (str, int, float, bool)
    lines = []
    for key, value in metadata.items():
        if isinstance(value, scalars):
            text = str(value)
        elif isinstance(value, (list, tuple, set)) and all(isinstance(v, scalars) for v in value):
            items = [str(v) for v in value]
            text = ", ".join(sorted(items) if isinstance(value, set) else items)
        else:
            continue
        lines.append(_escape(f"{key} = {text}"))
    return lines


_PLAIN = re.compile(r"^[A-Za-z_]([A-Za-z0-9_ .,/()-]*[A-Za-z0-9_.,/()-])?$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return "'" + text.replace("'", "''") + "'"


def _yaml(value: Any, indent: str = "") -> str:
    """YAML block style with sorted keys (what ``yaml.dump(default_flow_style=False)`` writes
    for nested dicts, lists and scalars)."""
    out = ""
    for key in sorted(value):
        item = value[key]
        if isinstance(item, dict) and item:
            out += f"{indent}{key}:\n" + _yaml(item, indent + "  ")
        elif isinstance(item, (list, tuple)) and item:
            out += f"{indent}{key}:\n" + "".join(f"{indent}- {_yaml_scalar(v)}\n" for v in item)
        else:
            empty = "{}" if isinstance(item, dict) else "[]" if isinstance(item, list) else None
            out += f"{indent}{key}: {empty or _yaml_scalar(item)}\n"
    return out


def draw_mermaid(
    nodes: dict[str, Node],
    edges: list[Edge],
    *,
    first_node: str | None,
    last_node: str | None,
    with_styles: bool,
    curve_style: str,
    node_colors: Any,
    wrap_label_n_words: int,
    frontmatter_config: dict[str, Any] | None,
) -> str:
    """Mermaid text for a re-identified graph's nodes and edges."""
    given = frontmatter_config or {}
    config = given.get("config", {})
    frontmatter = {
        **given,
        "config": {**config, "flowchart": {**config.get("flowchart", {}), "curve": curve_style}},
    }
    text = f"---\n{_yaml(frontmatter)}---\ngraph TD;\n" if with_styles else "graph TD;\n"
    inner: dict[str, dict[str, Node]] = {}  # nodes of each subgraph, by prefix
    outer: dict[str, Node] = {}
    for key, node in nodes.items():
        if ":" in key:
            inner.setdefault(key.rsplit(":", 1)[0], {})[key] = node
        else:
            outer[key] = node
    shapes = {first_node: "{0}([{1}]):::first", last_node: "{0}([{1}]):::last"}

    def node_line(key: str, node: Node) -> str:
        name = node.name.split(":")[-1]
        label = (
            f"<p>{name}</p>" if name.startswith(_MARKDOWN) and name.endswith(_MARKDOWN) else name
        )
        lines = _metadata_lines(node.metadata or {})
        if lines:
            label += "<hr/><small><em>" + "\n".join(lines) + "</em></small>"
        return "\t" + shapes.get(key, "{0}({1})").format(_safe_id(key), label) + "\n"

    if with_styles:
        text += "".join(node_line(k, n) for k, n in outer.items())
    groups: dict[str, list[Edge]] = {}
    for edge in edges:
        pairs = zip(edge.source.split(":"), edge.target.split(":"), strict=False)
        groups.setdefault(":".join(s for s, t in pairs if s == t), []).append(edge)
    seen: set[str] = set()

    def edge_line(edge: Edge) -> str:
        if edge.data is None:
            arrow = " -.-> " if edge.conditional else " --> "
        else:
            words = str(edge.data).split()
            label = str(edge.data)
            if len(words) > wrap_label_n_words:
                n = wrap_label_n_words
                label = "&nbsp<br>&nbsp".join(
                    " ".join(words[i : i + n]) for i in range(0, len(words), n)
                )
            arrow = (
                f" -. &nbsp;{label}&nbsp; .-> "
                if edge.conditional
                else f" -- &nbsp;{label}&nbsp; --> "
            )
        return f"\t{_safe_id(edge.source)}{arrow}{_safe_id(edge.target)};\n"

    def subgraph(group: list[Edge], prefix: str) -> str:
        out = ""
        self_loop = len(group) == 1 and group[0].source == group[0].target
        if prefix and not self_loop:
            name = prefix.rsplit(":", 1)[-1]
            if name in seen:
                raise ValueError(
                    f"Found duplicate subgraph '{name}' -- this likely means that you're "
                    "reusing a subgraph node with the same name. Please adjust your graph to "
                    "have subgraph nodes with unique names."
                )
            seen.add(name)
            out += f"\tsubgraph {name}\n"
            if with_styles:
                out += "".join(node_line(k, n) for k, n in inner.get(prefix, {}).items())
        out += "".join(edge_line(e) for e in group)
        for nested, nested_group in groups.items():
            one_level_down = nested.startswith(prefix + ":") and nested != prefix
            if one_level_down and ":" not in nested[len(prefix) + 1 :]:
                out += subgraph(nested_group, nested)
        if prefix and not self_loop:
            out += "\tend\n"
        return out

    text += subgraph(groups.get("", []), "")
    for prefix, group in groups.items():
        if prefix and ":" not in prefix:
            text += subgraph(group, prefix)
            seen.add(prefix)
    if with_styles:
        for prefix, members in inner.items():
            if ":" not in prefix and prefix not in seen:
                text += f"\tsubgraph {prefix}\n"
                text += "".join(node_line(k, n) for k, n in members.items())
                text += "\tend\n"
                seen.add(prefix)
        styles = dict(_STYLES)
        if node_colors is not None:
            styles = {k: getattr(node_colors, k, v) for k, v in styles.items()}
        text += "".join(f"\tclassDef {name} {style}\n" for name, style in styles.items())
    return text


def graph_json(graph: Graph, with_schemas: bool) -> dict[str, list[dict[str, Any]]]:
    """``Graph.to_json``: nodes with their kind and name (or schema), edges by index."""
    stable = {n.id: i if is_uuid(n.id) else n.id for i, n in enumerate(graph.nodes.values())}
    nodes = []
    for node in graph.nodes.values():
        data = node.data
        entry: dict[str, Any] = {"id": stable[node.id]}
        if data is None:
            pass
        elif not isinstance(data, type) and callable(getattr(data, "get_name", None)):
            kind = type(data)
            ident = [*kind.__module__.split("."), kind.__name__]
            entry.update(type="runnable", data={"id": ident, "name": node_data_str(node.id, data)})
        elif hasattr(data, "model_json_schema"):
            shown = data.model_json_schema() if with_schemas else node_data_str(node.id, data)
            entry.update(type="schema", data=shown)
        else:
            entry.update(type="unknown", data=node_data_str(node.id, data))
        if node.metadata is not None:
            entry["metadata"] = node.metadata
        nodes.append(entry)
    edges = []
    for edge in graph.edges:
        item: dict[str, Any] = {"source": stable[edge.source], "target": stable[edge.target]}
        if edge.data is not None:
            item["data"] = edge.data
        if edge.conditional:
            item["conditional"] = True
        edges.append(item)
    return {"nodes": nodes, "edges": edges}
