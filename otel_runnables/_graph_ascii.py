"""A graph as ASCII art, laid out here (no layout library needed).

Nodes are boxes in layers (a node sits one layer below the lowest of its predecessors), an edge
that skips layers passes through a point in each layer between, the order within a layer is
improved by a few barycenter sweeps, and each edge is a line of ``*`` from the bottom of one box
to the top of the next. The layout is not grandalf's (which langchain-core uses), so the
picture differs from langchain-core's in its geometry, not in what it shows.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["draw_ascii"]

_GAP_ROWS = 3  # rows between two layers of boxes
_GAP_COLUMNS = 3  # columns between two boxes of a layer
_SWEEPS = 4


def _layers(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's layer: 0 for a node nothing leads to, else one below its predecessors
    (edges that would close a cycle are ignored)."""
    successors: dict[str, list[str]] = {i: [] for i in ids}
    for source, target in edges:
        successors[source].append(target)
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    back: set[tuple[str, str]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        for target in successors[node]:
            if state.get(target) == 1:
                back.add((node, target))
            elif target not in state:
                visit(target)
        state[node] = 2
        order.append(node)

    for node in ids:
        if node not in state:
            visit(node)
    layer = dict.fromkeys(ids, 0)
    for node in reversed(order):  # a topological order
        for target in successors[node]:
            if (node, target) not in back:
                layer[target] = max(layer[target], layer[node] + 1)
    return layer


def _route(
    ids: list[str], edges: list[tuple[str, str]], layer: dict[str, int]
) -> tuple[list[list[str]], list[list[str]]]:
    """Rows of node ids (with a point ``~n`` for each layer an edge skips) and each edge's
    path through them."""
    rows: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for node in ids:
        rows[layer[node]].append(node)
    paths = []
    for n, (source, target) in enumerate(edges):
        low, high = sorted((layer[source], layer[target]))
        path = [source]
        for row in range(low + 1, high):
            point = f"~{n}:{row}"
            rows[row].append(point)
            path.append(point)
        paths.append([*path, target] if layer[source] <= layer[target] else [source, target])
    return rows, paths


def _order(rows: list[list[str]], paths: list[list[str]]) -> None:
    """Reorder each row by the mean position of its neighbours, sweeping down and up."""
    above: dict[str, list[str]] = {}
    below: dict[str, list[str]] = {}
    for path in paths:
        for a, b in itertools.pairwise(path):
            below.setdefault(a, []).append(b)
            above.setdefault(b, []).append(a)
    for sweep in range(_SWEEPS):
        downwards = sweep % 2 == 0
        sequence = range(1, len(rows)) if downwards else range(len(rows) - 2, -1, -1)
        for r in sequence:
            near = rows[r - 1] if downwards else rows[r + 1]
            where = {node: i for i, node in enumerate(near)}
            links = above if downwards else below
            current = {node: i for i, node in enumerate(rows[r])}

            def key(
                node: str,
                where: dict[str, int] = where,
                current: dict[str, int] = current,
                links: dict[str, list[str]] = links,
            ) -> float:
                seen = [where[n] for n in links.get(node, ()) if n in where]
                return sum(seen) / len(seen) if seen else float(current[node])

            rows[r].sort(key=key)


def draw_ascii(names: Mapping[str, str], edges: Sequence[Any]) -> str:
    """Boxes for ``names`` ({node id: label}) joined by ``edges`` (``.source``, ``.target``)."""
    if not names:
        return ""
    ids = list(names)
    pairs = [(e.source, e.target) for e in edges if e.source in names and e.target in names]
    layer = _layers(ids, pairs)
    rows, paths = _route(ids, pairs, layer)
    _order(rows, paths)

    def width(node: str) -> int:
        return len(names[node]) + 4 if node in names else 1

    row_widths = [sum(width(n) for n in row) + _GAP_COLUMNS * (len(row) - 1) for row in rows]
    total = max(row_widths)
    center: dict[str, int] = {}
    top: dict[str, int] = {}
    for r, row in enumerate(rows):
        x = (total - row_widths[r]) // 2
        for node in row:
            center[node] = x + width(node) // 2
            top[node] = r * (3 + _GAP_ROWS)
            x += width(node) + _GAP_COLUMNS
    height = len(rows) * (3 + _GAP_ROWS) - _GAP_ROWS
    canvas = [[" "] * total for _ in range(height)]
    for path in paths:
        for a, b in itertools.pairwise(path):
            start = (center[a], top[a] + 3)
            end = (center[b], top[b] - 1)
            if start[1] > end[1]:  # an edge back up: from the top of one box to the next
                start, end = (center[a], top[a] - 1), (center[b], top[b] + 3)
            _line(canvas, start, end)
            if b not in names:
                _line(canvas, (center[b], top[b] - 1), (center[b], top[b] + 3))
    for node in ids:
        label, x, y = names[node], center[node] - width(node) // 2, top[node]
        border = "+" + "-" * (len(label) + 2) + "+"
        for dy, text in enumerate((border, f"| {label} |", border)):
            canvas[y + dy][x : x + len(text)] = list(text)
    return "\n".join("".join(row).rstrip() for row in canvas)


def _line(canvas: list[list[str]], start: tuple[int, int], end: tuple[int, int]) -> None:
    """Plot ``*`` from ``start`` to ``end`` (x, y), one point per step of the longer axis."""
    (x0, y0), (x1, y1) = start, end
    steps = max(abs(x1 - x0), abs(y1 - y0))
    for i in range(steps + 1):
        x = x0 + round((x1 - x0) * i / steps) if steps else x0
        y = y0 + round((y1 - y0) * i / steps) if steps else y0
        if 0 <= y < len(canvas) and 0 <= x < len(canvas[y]):
            canvas[y][x] = "*"
