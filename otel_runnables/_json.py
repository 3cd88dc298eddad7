"""JSON text of any Python value, written only up to a length: the cost follows what is kept.

``json.dumps`` serialises a value whole before it could be cut, so a list of a million ints
costs a million items even when 16 KiB are kept. :func:`bounded_json` writes the same text as
``json.dumps(value, ensure_ascii=False)`` for ordinary values, but stops as soon as the text is
longer than its room, reads at most ``items`` items of any list, tuple, set or dict (the rest is
counted and shown as ``"...[N more]"``), and never raises: a cycle becomes ``"[...]"``, an object
whose ``__repr__`` raises (even a ``BaseException`` such as ``KeyboardInterrupt``) becomes
``"<unrepresentable Type>"``, bytes are decoded, sets listed, objects with ``model_dump()`` /
``dict()`` / ``to_dict()`` written as what that returns, other objects as their ``repr``.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "TRUNCATION_MARKER", "BoundedJson", "bounded_json", "safe_repr"]

TRUNCATION_MARKER = "...[truncated]"
MAX_DEPTH = 64
"""Containers nested deeper than this are written as the string ``"...[too deep]"``."""

_encode_str: Any = getattr(json.encoder, "c_encode_basestring", None) or (
    json.encoder.py_encode_basestring
)
_DUMPERS = ("model_dump", "dict", "to_dict")


def safe_repr(value: Any) -> str:
    """``repr(value)``, or a placeholder naming the type when ``__repr__`` itself raises."""
    try:
        return repr(value)
    except BaseException:  # telemetry must never raise, not even KeyboardInterrupt
        return f"<unrepresentable {type(value).__name__}>"


class _Full(Exception):
    """The text reached its room: stop writing."""


class BoundedJson:
    """One bounded JSON conversion; ``truncated`` / ``dropped_items`` tell what was cut."""

    __slots__ = ("_left", "_parts", "_path", "dropped_items", "items", "truncated")

    def __init__(self, room: int, items: int) -> None:
        self._left = room
        self._parts: list[str] = []
        self._path: set[int] = set()
        self.items = items
        self.truncated = False
        self.dropped_items = 0

    def text(self, value: Any) -> str:
        """The JSON text of ``value``, at most the room long (ending in the marker when cut)."""
        room = self._left
        try:
            self._value(value, 0)
        except _Full:
            self.truncated = True
        except BaseException:  # pragma: no cover - every step above is guarded
            self._parts = [_encode_str(f"<unrepresentable {type(value).__name__}>")]
        text = "".join(self._parts)
        if self.truncated:
            keep = room - len(TRUNCATION_MARKER)
            text = text[:keep] + TRUNCATION_MARKER if keep > 0 else text[:room]
        return text

    def _write(self, text: str) -> None:
        if len(text) > self._left:
            self._parts.append(text[: self._left])
            self._left = 0
            raise _Full
        self._parts.append(text)
        self._left -= len(text)

    def _string(self, text: str) -> None:
        # Escaping never shortens: encoding a slice one longer than the room is enough.
        self._write(_encode_str(text if len(text) <= self._left else text[: self._left + 1]))

    def _value(self, value: Any, depth: int) -> None:
        kind = type(value)
        if kind is str:
            self._string(value)
        elif value is None:
            self._write("null")
        elif kind is bool:
            self._write("true" if value else "false")
        elif kind is int:
            self._int(value)
        elif kind is float:
            self._float(value)
        elif kind is dict:
            self._container(value, depth, mapping=True)
        elif kind is list or kind is tuple:
            self._container(value, depth, mapping=False)
        else:
            self._other(value, depth)

    def _int(self, value: int) -> None:
        try:
            self._write(int.__repr__(value))
        except ValueError:  # more digits than sys.get_int_max_str_digits()
            self._string(f"<int of {value.bit_length()} bits>")

    def _float(self, value: float) -> None:
        if math.isfinite(value):
            self._write(float.__repr__(value))
        else:
            self._write("NaN" if value != value else ("Infinity" if value > 0 else "-Infinity"))

    def _other(self, value: Any, depth: int) -> None:
        if isinstance(value, str):
            self._string(str.__str__(value))
        elif isinstance(value, bool):
            self._write("true" if value else "false")
        elif isinstance(value, int):
            self._int(value)
        elif isinstance(value, float):
            self._float(value)
        elif isinstance(value, (bytes, bytearray)):
            head = bytes(value[: self._left + 1])
            self._string(head.decode("utf-8", "backslashreplace"))
            if len(head) < len(value):  # decoding may shorten: the cut must still show
                raise _Full
        elif isinstance(value, Mapping):
            self._container(value, depth, mapping=True)
        elif isinstance(value, (list, tuple, set, frozenset)):
            self._container(value, depth, mapping=False)
        else:
            self._object(value, depth)

    def _object(self, value: Any, depth: int) -> None:
        for attr in _DUMPERS:
            try:
                method = getattr(value, attr, None)
                dumped = method() if callable(method) else None
            except BaseException:  # a raising model_dump() falls back to repr
                continue
            if isinstance(dumped, dict):
                self._container(dumped, depth, mapping=True)
                return
        self._string(safe_repr(value))

    def _enter(self, value: Any, depth: int) -> bool:
        """Open a container; False (a marker written instead) for a cycle or too deep."""
        if id(value) in self._path:
            self._string("[...]")
            return False
        if depth >= MAX_DEPTH:
            self._string("...[too deep]")
            return False
        self._path.add(id(value))
        return True

    def _container(self, value: Any, depth: int, mapping: bool) -> None:
        """A mapping as a JSON object, or a list, tuple or set as a JSON array."""
        if not self._enter(value, depth):
            return
        try:
            try:
                size = len(value)
                items = list(itertools.islice(value.items() if mapping else value, self.items))
            except BaseException:  # a container whose iteration raises
                self._string(safe_repr(value))
                return
            self._write("{" if mapping else "[")
            for index, item in enumerate(items):
                if index:
                    self._write(", ")
                if mapping:
                    self._string(_key_text(item[0]))
                    self._write(": ")
                    item = item[1]
                self._value(item, depth + 1)
            if size > len(items):
                self._more(size - len(items), bool(items), '"...": ' if mapping else "")
            self._write("}" if mapping else "]")
        finally:
            self._path.discard(id(value))

    def _more(self, count: int, after_items: bool, prefix: str) -> None:
        self.dropped_items += count
        self._write(f'{", " if after_items else ""}{prefix}"...[{count} more]"')


def _key_text(key: Any) -> str:
    """A dict key as JSON writes it (str, numbers, bools, None), else its repr."""
    if isinstance(key, str):
        return str.__str__(key)
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return float.__repr__(key)
    if isinstance(key, int):
        try:
            return int.__repr__(key)
        except ValueError:
            return f"<int of {key.bit_length()} bits>"
    return safe_repr(key)


def bounded_json(value: Any, room: int, items: int) -> str:
    """The JSON text of ``value`` cut to ``room`` characters, at most ``items`` per container.

    Example:
        >>> bounded_json({"a": [1, 2, 3]}, 100, 2)
        '{"a": [1, 2, "...[1 more]"]}'
    """
    return BoundedJson(room, items).text(value)
