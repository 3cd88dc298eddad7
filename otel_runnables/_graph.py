"""The graph of a runnable: ``get_graph()``, with ``draw_ascii()`` and ``draw_mermaid()``.

A :class:`Graph` holds :class:`Node` s (a runnable, or the schema of an input or output) and
:class:`Edge` s, with langchain-core's fields and methods, so that each library's graphs extend
the other's in a mixed pipeline. Node ids are random hex UUIDs; a node's name is the runnable's
name without a leading ``Runnable`` (``RunnableParallel<a,b>`` -> ``Parallel<a,b>``), or the
schema's name. ``draw_mermaid`` writes langchain-core's Mermaid text; ``draw_ascii`` lays the
graph out itself (no extra dependency).

:class:`Drawable` is the mixin of ``Runnable`` with the default ``get_graph`` (input schema ->
the runnable -> output schema); the kinds build theirs from their steps' graphs with the
functions below.
"""

from __future__ import annotations

import inspect
import sys
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ._config import RunnableConfig

__all__ = [
    "Drawable",
    "Edge",
    "Graph",
    "Node",
    "attach_between",
    "chain_graphs",
    "is_uuid",
    "node_data_str",
]


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID (a node id that was generated, not chosen)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_runnable(data: Any) -> bool:
    return not inspect.isclass(data) and callable(getattr(data, "get_name", None))


def node_data_str(id: str, data: Any) -> str:
    """A node's name: its id when chosen, else the runnable's or schema's name (a leading
    ``Runnable`` removed)."""
    if not is_uuid(id) or data is None:
        return id
    name: str = data.get_name() if _is_runnable(data) else data.__name__
    return name[8:] if name.startswith("Runnable") else name


class Edge(NamedTuple):
    """An edge from node id ``source`` to ``target``, with optional ``data`` (its label)."""

    source: str
    target: str
    data: Any = None
    conditional: bool = False

    def copy(self, *, source: str | None = None, target: str | None = None) -> Edge:
        """A copy with a new source and/or target."""
        return Edge(source or self.source, target or self.target, self.data, self.conditional)


class Node(NamedTuple):
    """A node: a runnable or a schema (``data``), its ``id``, ``name`` and ``metadata``."""

    id: str
    name: str
    data: Any
    metadata: dict[str, Any] | None

    def copy(self, *, id: str | None = None, name: str | None = None) -> Node:
        """A copy with a new id and/or name."""
        return Node(id or self.id, name or self.name, self.data, self.metadata)


class Graph:
    """Nodes and edges of a runnable's graph.

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> graph = (RunnableLambda(lambda x: x) | RunnableLambda(lambda x: x)).get_graph()
        >>> [node.name for node in graph.nodes.values()]
        ['LambdaInput', 'Lambda', 'Lambda', 'LambdaOutput']
    """

    def __init__(
        self, nodes: dict[str, Node] | None = None, edges: list[Edge] | None = None
    ) -> None:
        self.nodes: dict[str, Node] = nodes if nodes is not None else {}
        self.edges: list[Edge] = edges if edges is not None else []

    def __bool__(self) -> bool:
        return bool(self.nodes)

    def __repr__(self) -> str:
        return f"Graph(nodes={list(self.nodes)!r}, edges={self.edges!r})"

    def next_id(self) -> str:
        """A new node id."""
        return uuid.uuid4().hex

    def add_node(
        self, data: Any, id: str | None = None, *, metadata: dict[str, Any] | None = None
    ) -> Node:
        """Add a node for ``data`` (a runnable or a schema) and return it."""
        if id is not None and id in self.nodes:
            raise ValueError(f"Node with id {id} already exists")
        node_id = id or self.next_id()
        node = Node(node_id, node_data_str(node_id, data), data, metadata)
        self.nodes[node_id] = node
        return node

    def remove_node(self, node: Node) -> None:
        """Remove ``node`` and its edges."""
        self.nodes.pop(node.id)
        self.edges = [e for e in self.edges if node.id not in (e.source, e.target)]

    def add_edge(
        self, source: Node, target: Node, data: Any = None, conditional: bool = False
    ) -> Edge:
        """Add an edge between two nodes of this graph and return it."""
        for role, node in (("Source", source), ("Target", target)):
            if node.id not in self.nodes:
                raise ValueError(f"{role} node {node.id} not in graph")
        edge = Edge(source.id, target.id, data, conditional)
        self.edges.append(edge)
        return edge

    def extend(self, graph: Any, *, prefix: str = "") -> tuple[Node | None, Node | None]:
        """Add the nodes and edges of ``graph`` (node ids prefixed ``prefix:`` unless they are
        all generated); return its first and last node, as added."""
        if all(is_uuid(node.id) for node in graph.nodes.values()):
            prefix = ""

        def prefixed(node_id: str) -> str:
            return f"{prefix}:{node_id}" if prefix else node_id

        for key, node in graph.nodes.items():
            self.nodes[prefixed(key)] = node.copy(id=prefixed(key))
        self.edges.extend(
            e.copy(source=prefixed(e.source), target=prefixed(e.target)) for e in graph.edges
        )
        first, last = graph.first_node(), graph.last_node()
        return (
            first.copy(id=prefixed(first.id)) if first else None,
            last.copy(id=prefixed(last.id)) if last else None,
        )

    def reid(self) -> Graph:
        """A copy whose generated node ids are replaced by the nodes' names (``name_1``,
        ``name_2`` ... where names repeat)."""
        by_name: dict[str, list[str]] = {}
        for node in self.nodes.values():
            by_name.setdefault(node.name, []).append(node.id)
        labels = {
            node_id: name if len(ids) == 1 else f"{name}_{i + 1}"
            for name, ids in by_name.items()
            for i, node_id in enumerate(ids)
        }

        def new_id(node_id: str) -> str:
            return labels[node_id] if is_uuid(node_id) else node_id

        return Graph(
            {new_id(k): n.copy(id=new_id(k)) for k, n in self.nodes.items()},
            [e.copy(source=new_id(e.source), target=new_id(e.target)) for e in self.edges],
        )

    def first_node(self) -> Node | None:
        """The one node that no edge leads to (None if there is not exactly one)."""
        return _end_node(self, first=True)

    def last_node(self) -> Node | None:
        """The one node that no edge leaves (None if there is not exactly one)."""
        return _end_node(self, first=False)

    def trim_first_node(self) -> None:
        """Remove the first node if it has one edge out and another node would be first."""
        self._trim(first=True)

    def trim_last_node(self) -> None:
        """Remove the last node if it has one edge in and another node would be last."""
        self._trim(first=False)

    def _trim(self, *, first: bool) -> None:
        node = self.first_node() if first else self.last_node()
        if node is None or not _end_node(self, first=first, exclude=node.id):
            return
        edges = {e for e in self.edges if (e.source if first else e.target) == node.id}
        if len(edges) == 1:
            self.remove_node(node)

    def to_json(self, *, with_schemas: bool = False) -> dict[str, list[dict[str, Any]]]:
        """The graph as JSON data (generated ids become indexes)."""
        from ._graph_mermaid import graph_json

        return graph_json(self, with_schemas)

    def draw_ascii(self) -> str:
        """The graph as text boxes joined by lines of ``*``."""
        from ._graph_ascii import draw_ascii

        return draw_ascii({n.id: n.name for n in self.nodes.values()}, self.edges)

    def print_ascii(self) -> None:
        """Print :meth:`draw_ascii`."""
        print(self.draw_ascii())

    def draw_mermaid(
        self,
        *,
        with_styles: bool = True,
        curve_style: Any = "linear",
        node_colors: Any = None,
        wrap_label_n_words: int = 9,
        frontmatter_config: dict[str, Any] | None = None,
    ) -> str:
        """The graph as Mermaid text (langchain-core's, the same options)."""
        from ._graph_mermaid import draw_mermaid

        graph = self.reid()
        first, last = graph.first_node(), graph.last_node()
        return draw_mermaid(
            graph.nodes,
            graph.edges,
            first_node=first.id if first else None,
            last_node=last.id if last else None,
            with_styles=with_styles,
            curve_style=getattr(curve_style, "value", curve_style),
            node_colors=node_colors,
            wrap_label_n_words=wrap_label_n_words,
            frontmatter_config=frontmatter_config,
        )


def _end_node(graph: Any, *, first: bool, exclude: str | None = None) -> Node | None:
    if first:
        reached = {e.target for e in graph.edges if e.source != exclude}
    else:
        reached = {e.source for e in graph.edges if e.target != exclude}
    found = [n for n in graph.nodes.values() if n.id != exclude and n.id not in reached]
    return found[0] if len(found) == 1 else None


# -- graphs of the kinds ------------------------------------------------------------------------


def _schema_node(graph: Graph, runnable: Any, suffix: str, config: Any) -> Node:
    from ._schema import create_schema

    try:
        get = runnable.get_input_schema if suffix == "Input" else runnable.get_output_schema
        schema = get(config)
    except TypeError:  # no inferable type
        schema = create_schema(runnable.get_name(suffix), fields={})
    return graph.add_node(schema)


def chain_graphs(steps: Sequence[Any], config: RunnableConfig | None) -> Graph:
    """A sequence's graph: each step's graph, joined end to start (the inner schema nodes
    trimmed)."""
    graph = Graph()
    for index, step in enumerate(steps):
        current_last = graph.last_node()
        step_graph = step.get_graph(config)
        if index > 0:
            step_graph.trim_first_node()
        if index < len(steps) - 1:
            step_graph.trim_last_node()
        step_first, _ = graph.extend(step_graph)
        if not step_first:
            raise ValueError(f"Runnable {step} has no first node")
        if current_last:
            graph.add_edge(current_last, step_first)
    return graph


def attach_between(
    runnable: Any, parts: Sequence[Any], config: RunnableConfig | None, *, step_config: bool
) -> Graph:
    """A graph of ``parts`` side by side between ``runnable``'s input and output schema
    nodes (a parallel's steps, the runnables a function calls)."""
    graph = Graph()
    input_node = _schema_node(graph, runnable, "Input", config)
    output_node = _schema_node(graph, runnable, "Output", config)
    for part in parts:
        part_graph = part.get_graph(config) if step_config else part.get_graph()
        part_graph.trim_first_node()
        part_graph.trim_last_node()
        if not part_graph:
            graph.add_edge(input_node, output_node)
            continue
        part_first, part_last = graph.extend(part_graph)
        if not part_first:
            raise ValueError(f"Runnable {part} has no first node")
        if not part_last:
            raise ValueError(f"Runnable {part} has no last node")
        graph.add_edge(input_node, part_first)
        graph.add_edge(part_last, output_node)
    return graph


class Drawable:
    """``get_graph`` and ``get_prompts`` of every runnable (a mixin of ``Runnable``)."""

    __slots__ = ()

    def get_graph(self, config: RunnableConfig | None = None) -> Graph:
        """This runnable's graph: input schema -> this runnable -> output schema (the kinds
        show their steps).

        Example:
            >>> from otel_runnables import RunnableLambda
            >>> def add_one(x: int) -> int:
            ...     return x + 1
            >>> print(RunnableLambda(add_one).get_graph().draw_mermaid(with_styles=False))
            graph TD;
                add_one_input --> add_one;
                add_one --> add_one_output;
            <BLANKLINE>
        """
        graph = Graph()
        input_node = _schema_node(graph, self, "Input", config)
        node = graph.add_node(self, metadata=config.get("metadata") if config else None)
        output_node = _schema_node(graph, self, "Output", config)
        graph.add_edge(input_node, node)
        graph.add_edge(node, output_node)
        return graph

    def get_prompts(self, config: RunnableConfig | None = None) -> list[Any]:
        """The langchain-core prompt templates among the nodes of :meth:`get_graph` (none
        unless the pipeline has langchain-core steps)."""
        prompts = sys.modules.get("langchain_core.prompts.base")
        if prompts is None:
            return []
        template = prompts.BasePromptTemplate
        return [
            n.data for n in self.get_graph(config).nodes.values() if isinstance(n.data, template)
        ]
