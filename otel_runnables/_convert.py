"""Any Python value converted into valid OTel attribute values, within the limits.

Conversion never raises (not even when a ``__repr__`` raises ``KeyboardInterrupt``): cycles,
bytes, NaN, non-str keys and huge values all become valid attribute values. Every value is
converted within the limits of ``_limits``: strings are cut with a visible marker, lists to a
number of items, the attributes of one event (or a run's tags and metadata) to a size and to
the attribute count limit, and the work done follows what is kept, not the size of the value.
What was cut is counted (``runnable.truncated_values``, ``runnable.dropped_attributes``,
``runnable.dropped_items``) on the span or event it was cut from, and each kind of cut is logged
once per process. The keys are named in ``_attributes``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ._attributes import (
    COUNT_KEYS,
    DROPPED_ATTRIBUTES,
    DROPPED_ITEMS,
    EMPTY_KEY,
    EVENT_DATA,
    METADATA_PREFIX,
    TAGS,
    TRUNCATED_VALUES,
    safe_repr,
    safe_str,
    truncate,
)
from ._json import BoundedJson
from ._limits import Limits, note_cut

__all__ = [
    "add_within",
    "event_attributes",
    "fit_text",
    "merge_counts",
    "metadata_attributes",
    "run_attributes",
    "value_and_mime",
]

_MAX_DEPTH = 8
_JSON = "application/json"
_TEXT = "text/plain"
_ITEM_SIZE = 8  # what an attribute, or an array item, counts besides its key and string bytes
_MIN_ROOM = 16  # below this many bytes left, an attribute is dropped rather than cut to nothing
_COUNTS_SIZE = sum(len(key) for key in COUNT_KEYS) + len(COUNT_KEYS) * _ITEM_SIZE
_SCALARS = frozenset((str, bool, int, float))
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_INFINITIES = (math.inf, -math.inf)


def _add(counts: dict[str, Any], key: str, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n


def fit_text(text: str, chars: int, size: int) -> tuple[str, int, bool]:
    """``(text, its UTF-8 size, cut)``: at most ``chars`` characters and ``size`` bytes.

    Text that is not valid UTF-8 (lone surrogates, which the OTLP encoder rejects) has those
    characters written as backslash escapes.
    """
    cut = False
    if len(text) > chars:
        text, cut = truncate(text, chars), True
    if text.isascii():
        return text, len(text), cut
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        encoded = text.encode("utf-8")
    while len(encoded) > size:
        chars = min(len(text) - 1, len(text) * size // len(encoded))
        text, cut = truncate(text, max(chars, 0)), True
        encoded = text.encode("utf-8")
    return text, len(encoded), cut


def _json_text(value: Any, chars: int, items: int, counts: dict[str, Any] | None) -> str:
    writer = BoundedJson(chars, items)
    text = writer.text(value)
    if counts is not None and (writer.truncated or writer.dropped_items):
        _add(counts, TRUNCATED_VALUES)
        if writer.dropped_items:
            _add(counts, DROPPED_ITEMS, writer.dropped_items)
            note_cut("list")
        if writer.truncated:
            note_cut("length")
    return text


def value_and_mime(
    value: Any, limits: Limits, counts: dict[str, Any] | None = None
) -> tuple[str, str]:
    """An input/output value as ``(text, mime type)``: str as text/plain, else JSON.

    The text is at most the value length limit long; a cut is counted into ``counts``.
    """
    kind = type(value)
    limit = limits.value_length
    if kind is str:
        if len(value) <= limit and value.isascii():
            return value, _TEXT
        return _fit_counted(value, limit, counts), _TEXT
    if kind is int and -(10**15) < value < 10**15:
        return str(value), _JSON
    if value is None:
        return "null", _JSON
    if kind is bool:
        return ("true" if value else "false"), _JSON
    if isinstance(value, str):
        return _fit_counted(str.__str__(value), limit, counts), _TEXT
    text = _json_text(value, limit, limits.list_length, counts)
    return _fit_counted(text, limit, counts), _JSON


def _fit_counted(text: str, limit: int, counts: dict[str, Any] | None) -> str:
    fitted, _, cut = fit_text(text, limit, 4 * limit)
    if cut and counts is not None:
        _add(counts, TRUNCATED_VALUES)
        note_cut("length")
    return fitted


class _Group:
    """Attributes made from one value (an event's data, a run's tags and metadata).

    They share a number of keys and a size in bytes; what does not fit is cut or left out, and
    counted into ``out`` when :meth:`finish` is called.
    """

    __slots__ = (
        "cause",
        "dropped",
        "items",
        "keys",
        "limits",
        "max_keys",
        "out",
        "size",
        "truncated",
    )

    def __init__(
        self, out: dict[str, Any], limits: Limits, keys: int, size: int, cause: str
    ) -> None:
        self.out = out
        self.limits = limits
        self.max_keys = self.keys = keys
        self.size = size - _COUNTS_SIZE
        self.cause = cause
        self.truncated = 0
        self.dropped = 0
        self.items = 0

    def finish(self) -> dict[str, Any]:
        """Add the counts of what was cut; the last attributes make room for them if needed."""
        out = self.out
        while True:
            used = self.max_keys - self.keys
            needed = (self.truncated > 0) + (self.dropped > 0) + (self.items > 0)
            if used + needed <= self.max_keys or used == 0:
                break
            out.popitem()  # the group's attributes are the last ones added to out
            self.keys += 1
            self.dropped += 1
        if self.truncated:
            _add(out, TRUNCATED_VALUES, self.truncated)
        if self.dropped:
            _add(out, DROPPED_ATTRIBUTES, self.dropped)
        if self.items:
            _add(out, DROPPED_ITEMS, self.items)
        return out

    def drop(self, count: int, cause: str) -> None:
        self.dropped += count
        note_cut(cause)

    def _room(self, key: str) -> int:
        """Bytes left for the value of ``key``; 0 (and the attribute counted dropped) if none."""
        if self.keys <= 0:
            self.drop(1, "count")
            return 0
        room = self.size - len(key) - _ITEM_SIZE
        if room < _MIN_ROOM:
            self.drop(1, self.cause)
            return 0
        return room

    def _cut(self, room: int) -> None:
        self.truncated += 1
        note_cut("length" if room >= self.limits.value_length else self.cause)

    def text(self, text: str, room: int) -> tuple[str, int]:
        """``text`` cut to the value length limit and to ``room`` bytes, and its size."""
        fitted, size, cut = fit_text(text, min(room, self.limits.value_length), room)
        if cut:
            self._cut(room)
        return fitted, size

    def put(self, key: str, value: Any) -> None:
        """Convert the leaf ``value`` and add it under ``key``, within the group's limits."""
        room = self._room(key)
        if not room:
            return
        try:
            converted, size = self._leaf(value, room)
        except BaseException:  # e.g. a Mapping whose truth value raises
            converted, size = self.text(safe_repr(value), room)
        self.out[key] = converted
        self.keys -= 1
        self.size -= len(key) + _ITEM_SIZE + size

    def _leaf(self, value: Any, room: int) -> tuple[Any, int]:
        if isinstance(value, (bool, int)):
            if isinstance(value, bool) or _INT_MIN <= value <= _INT_MAX:
                return value, 0
            try:
                return self.text(int.__repr__(value), room)
            except ValueError:  # more digits than sys.get_int_max_str_digits()
                return self.text(f"<int of {value.bit_length()} bits>", room)
        if isinstance(value, float):
            return (value, 0) if math.isfinite(value) else self.text(str(value), room)
        if isinstance(value, str):
            return self.text(str.__str__(value), room)
        if isinstance(value, (list, tuple)) and value:
            array = self._array(value, room)
            if array is not None:
                return array
        return self.json(value, room)

    def json(self, value: Any, room: int, dropped: int = 0) -> tuple[str, int]:
        """``value`` as JSON text within ``room`` (``dropped``: items already left out)."""
        limit = self.limits.value_length
        writer = BoundedJson(min(room, limit), self.limits.list_length)
        text, size, cut = fit_text(writer.text(value), min(room, limit), room)
        dropped += writer.dropped_items
        if writer.truncated or cut or dropped:
            self.truncated += 1
            if dropped:
                self.items += dropped
                note_cut("list")
            if writer.truncated or cut:
                note_cut("length" if room >= limit else self.cause)
        return text, size

    def _array(self, value: list[Any] | tuple[Any, ...], room: int) -> tuple[Any, int] | None:
        """A homogeneous list of str/bool/int/float as an array, or None to write JSON."""
        head = value[: self.limits.list_length]
        first = type(head[0])
        if first not in _SCALARS or not all(type(v) is first for v in head):
            return None
        if first is float and not all(math.isfinite(v) for v in head):
            return self.json([str(v) for v in head], room, len(value) - len(head))
        if first is int and not all(_INT_MIN <= v <= _INT_MAX for v in head):
            head = [str(v) for v in head]
            first = str
        kept: list[Any] = []
        size = 4
        if first is str:
            limit = self.limits.value_length
            for item in head:
                left = room - size - _ITEM_SIZE
                if left < _MIN_ROOM:
                    break
                text, n, cut = fit_text(item, min(limit, left), left)
                if cut:
                    self._cut(left)
                kept.append(text)
                size += n + _ITEM_SIZE
        else:
            fits = max(0, (room - size) // _ITEM_SIZE)
            kept = list(head[:fits])
            size += len(kept) * _ITEM_SIZE
        dropped = len(value) - len(kept)
        if dropped:
            self.truncated += 1
            self.items += dropped
            note_cut("list" if len(kept) == len(head) else self.cause)
        return kept, size

    def flatten(self, prefix: str, value: Mapping[Any, Any], depth: int) -> None:
        """One attribute per key of ``value`` (nested mappings dotted), within the limits."""
        try:
            total = len(value)
            pairs = iter(value.items())
        except BaseException:  # a mapping whose iteration raises
            self.put(prefix[:-1] or EVENT_DATA, safe_repr(value))
            return
        done = 0
        try:
            for key, item in pairs:
                if self.keys <= 0 or self.size < _MIN_ROOM:
                    break
                done += 1
                text = key if isinstance(key, str) else safe_repr(key)
                name = f"{prefix}{text or EMPTY_KEY}"
                try:
                    nested = isinstance(item, Mapping) and bool(item) and depth < _MAX_DEPTH
                except BaseException:  # a Mapping whose truth value raises
                    nested = False
                if nested:
                    self.flatten(name + ".", item, depth + 1)
                else:
                    self.put(name, item)
        except BaseException:  # the mapping changed or raised while iterated
            return
        if total > done:
            self.drop(total - done, "count" if self.keys <= 0 else self.cause)


def _flat_size(data: dict[Any, Any], limits: Limits, room: int) -> int:
    """The size of ``data`` when it is already valid, small attributes as it is; else -1."""
    if len(data) > limits.event_attribute_count:
        return -1
    limit = limits.value_length
    size = _ITEM_SIZE * len(data)
    for key, value in data.items():
        kind = type(value)
        if kind is str:
            if len(value) > limit or not value.isascii():
                return -1
            size += len(value)
        elif kind is int:
            if value < _INT_MIN or value > _INT_MAX:
                return -1
        elif kind is float:
            if value != value or value in _INFINITIES:
                return -1
        elif kind is not bool:
            return -1
        if type(key) is not str or not key:
            return -1
        size += len(key)
    return size if size <= room else -1


def event_attributes(
    data: Any, limits: Limits, room: int, cause: str = "size"
) -> tuple[dict[str, Any], int]:
    """Custom event data as span event attributes and their size, within ``room`` bytes.

    Dict keys are flattened (nested dicts dotted), anything else is stored under ``data``.
    ``cause`` names the limit that ``room`` comes from (``"size"``: the event size limit,
    ``"span"``: what is left of the span's).

    Example:
        >>> from otel_runnables._limits import DEFAULT_LIMITS
        >>> event_attributes({"a": {"b": 1}, "c": [1, 2]}, DEFAULT_LIMITS, 1000)[0]
        {'a.b': 1, 'c': [1, 2]}
    """
    if type(data) is dict:
        size = _flat_size(data, limits, room)
        if size >= 0:
            return data, size  # already valid attributes; the SDK copies them
    group = _Group({}, limits, limits.event_attribute_count, room, cause)
    try:
        if isinstance(data, Mapping):
            group.flatten("", data, 1)
        else:
            group.put(EVENT_DATA, data)
    except BaseException:  # pragma: no cover - the group does not raise
        group.out = {EVENT_DATA: truncate(safe_repr(data), limits.value_length)}
    return group.finish(), room - group.size


def metadata_attributes(metadata: Mapping[str, Any], group: _Group) -> None:
    """Run metadata as ``runnable.metadata.<key>`` attributes (nested dicts dotted)."""
    group.flatten(METADATA_PREFIX, metadata, 1)


def run_attributes(
    out: dict[str, Any], tags: list[str], metadata: Mapping[str, Any], limits: Limits, keys: int
) -> None:
    """A run's tags and metadata into ``out``: at most ``keys`` attributes and the event size."""
    group = _Group(out, limits, keys, limits.event_size, "size")
    if tags:
        values = [t if type(t) is str else safe_str(t) for t in tags]
        room = group._room(TAGS)
        if room:
            array, size = group._array(values, room) or ([], 0)
            out[TAGS] = array
            group.keys -= 1
            group.size -= len(TAGS) + _ITEM_SIZE + size
    if metadata:
        metadata_attributes(metadata, group)
    group.finish()


def merge_counts(out: dict[str, Any], previous: Any) -> None:
    """Add the counts a span already carries (``previous``: its attributes) to those in ``out``."""
    if not previous:
        return
    for key in COUNT_KEYS:
        if key in out:
            before = previous.get(key)
            if type(before) is int:
                out[key] += before


def add_within(out: dict[str, Any], extra: dict[str, Any], keys: int, previous: Any = None) -> None:
    """Add ``extra`` to ``out`` while ``out`` holds fewer than ``keys`` attributes.

    The rest is counted in ``runnable.dropped_attributes`` (added to the count ``previous``, a
    span's attributes, already carries): another source's attributes (the bridge's GenAI
    ones) stay within the attribute count limit, which the SDK enforces by dropping the oldest
    attributes and logging a warning for each.
    """
    room = keys - len(out) - 1  # one key for the count
    if len(extra) <= room + 1:
        out.update(extra)
        return
    for index, (key, value) in enumerate(extra.items()):
        if index >= room:
            break
        out[key] = value
    dropped = len(extra) - max(room, 0)
    before = previous.get(DROPPED_ATTRIBUTES) if previous else None
    out[DROPPED_ATTRIBUTES] = (
        out.get(DROPPED_ATTRIBUTES, 0) + dropped + (before if type(before) is int else 0)
    )
    note_cut("count")
