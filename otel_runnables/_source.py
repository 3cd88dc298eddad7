"""What a function's source says about it: the dict keys it reads from its input, and the
runnables it calls (found by name among its globals and closure).

``RunnableLambda`` uses them as langchain-core does: a function without a type hint that reads
``x["a"]`` or ``x.get("b")`` has the input schema ``{a, b}``; a function that calls
``other.invoke(x)`` shows ``other`` in its graph and has ``other``'s configurable fields. Source
that cannot be read (built-ins, ``exec``) says nothing.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

__all__ = ["first_arg_dict_keys", "nonlocal_values"]


def _tree(func: Callable[..., Any]) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError, SystemError, IndentationError):
        return None


def _function_nodes(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda]:
    types = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
    return [node for node in ast.walk(tree) if isinstance(node, types)]


def first_arg_dict_keys(func: Callable[..., Any]) -> list[str] | None:
    """The constant keys the function reads from its first argument (``x["k"]``,
    ``x.get("k")``), sorted; None when there are none."""
    tree = _tree(func)
    if tree is None:
        return None
    keys: set[str] = set()
    for function in _function_nodes(tree):
        if not function.args.args:
            continue
        name = function.args.args[0].arg
        for node in ast.walk(function):
            key = _key_read(node, name)
            if key is not None:
                keys.add(key)
    return sorted(keys) if keys else None


def _key_read(node: ast.AST, name: str) -> str | None:
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name)
        and node.value.id == name
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == name
        and node.func.attr == "get"
        and len(node.args) in (1, 2)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _dotted(node: ast.Attribute) -> str | None:
    parts = [node.attr]
    value = node.value
    while isinstance(value, ast.Attribute):
        parts.append(value.attr)
        value = value.value
    if isinstance(value, ast.Name):
        return ".".join([value.id, *reversed(parts)])
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return _dotted(func)
    return None


def _free_names(function: ast.AST) -> list[str]:
    """Names (and dotted attribute paths) the function loads but does not assign."""
    loads: dict[str, None] = {}
    stores: set[str] = set()
    covered: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if id(node) in covered:
                continue
            dotted = _dotted(node)
            inner: ast.AST = node
            while isinstance(inner, ast.Attribute):
                covered.add(id(inner))
                inner = inner.value
            if isinstance(inner, ast.Name):
                covered.add(id(inner))
            if dotted is not None:
                loads[dotted] = None
        elif isinstance(node, ast.Name) and id(node) not in covered:
            if isinstance(node.ctx, ast.Load):
                loads[node.id] = None
            elif isinstance(node.ctx, ast.Store):
                stores.add(node.id)
    return [name for name in loads if name not in stores]


def nonlocal_values(func: Callable[..., Any]) -> list[Any]:
    """The values of the globals and closure variables the function reads (attribute paths
    like ``agent.chain.invoke`` followed to their value), in the order they are found."""
    try:
        return _cached_nonlocal_values(func)
    except TypeError:  # an unhashable callable: nothing to cache it by
        return _nonlocal_values(func)


def _nonlocal_values(func: Callable[..., Any]) -> list[Any]:
    tree = _tree(func)
    if tree is None:
        return []
    names: list[str] = []
    for function in _function_nodes(tree):
        names.extend(n for n in _free_names(function) if n not in names)
    target = getattr(func, "__wrapped__", func)
    try:
        closure = inspect.getclosurevars(target if callable(target) else func)
    except (TypeError, ValueError):
        return []
    values: list[Any] = []
    for key, value in {**closure.globals, **closure.nonlocals}.items():
        if key in names:
            values.append(value)
        for name in names:
            if "." in name and name.startswith(key + "."):
                found = _follow(value, name.split(".")[1:])
                if found is not _MISSING:
                    values.append(found)
    return values


_MISSING: Any = object()


def _follow(value: Any, path: list[str]) -> Any:
    for part in path:
        if value is None:
            return _MISSING
        try:
            value = getattr(value, part)
        except AttributeError:
            return _MISSING
    return value


_cached_nonlocal_values = functools.lru_cache(maxsize=256)(_nonlocal_values)
