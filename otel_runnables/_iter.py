"""Iterator helpers for streaming: chunk accumulation, thread-safe tee, async tee, AddableDict."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

__all__ = ["Accumulator", "AddableDict", "aclosing_iter", "aiter_of", "atee", "tee"]

T = TypeVar("T")


class AddableDict(dict[str, Any]):
    """A dict whose ``+`` merges keys, adding values present on both sides (stream chunks).

    Example:
        >>> AddableDict(a="x") + AddableDict(a="y", b=1)
        {'a': 'xy', 'b': 1}
    """

    def __add__(self, other: dict[str, Any]) -> AddableDict:
        merged = AddableDict(self)
        for key, value in other.items():
            if key not in merged or merged[key] is None:
                merged[key] = value
            elif value is not None:
                try:
                    merged[key] = merged[key] + value
                except TypeError:
                    merged[key] = value
        return merged

    def __radd__(self, other: dict[str, Any]) -> AddableDict:
        return AddableDict(other) + self


class Accumulator:
    """Adds up streamed chunks with ``+``; a chunk that cannot be added replaces the value.

    With ``sticky=True`` (the rule for a run's final input/output), once a chunk could not be
    added every later chunk replaces the value as well. ``seen`` tells whether any chunk came.
    """

    __slots__ = ("addable", "seen", "sticky", "value")

    def __init__(self, *, sticky: bool) -> None:
        self.value: Any = None
        self.addable = True
        self.sticky = sticky
        self.seen = False

    @classmethod
    def of(cls, chunks: Iterable[Any]) -> Accumulator:
        """All of ``chunks`` added up (not sticky)."""
        total = cls(sticky=False)
        for chunk in chunks:
            total.add(chunk)
        return total

    @classmethod
    async def aof(cls, chunks: AsyncIterable[Any]) -> Accumulator:
        """Async twin of :meth:`of`."""
        total = cls(sticky=False)
        async for chunk in chunks:
            total.add(chunk)
        return total

    def add(self, chunk: Any) -> None:
        self.seen = True
        if self.value is None or (self.sticky and not self.addable):
            self.value = chunk
            return
        try:
            self.value = self.value + chunk
        except TypeError:
            self.value = chunk
            self.addable = False


class _TeeSource(Generic[T]):
    """What the copies of a tee share: the source, one buffer per copy, and a lock."""

    __slots__ = ("buffers", "iterator", "lock")

    def __init__(self, iterator: Any, n: int, lock: Any) -> None:
        self.iterator = iterator
        self.buffers: list[deque[T]] = [deque() for _ in range(n)]
        self.lock = lock

    def push(self, item: T) -> None:
        for buffer in self.buffers:
            buffer.append(item)


def _tee_child(source: _TeeSource[T], buffer: deque[T]) -> Iterator[T]:
    while True:
        if not buffer:
            with source.lock:
                if not buffer:  # (another copy may have pulled meanwhile)
                    try:
                        source.push(next(source.iterator))
                    except StopIteration:
                        return
        yield buffer.popleft()


def tee(iterator: Iterator[T], n: int = 2) -> tuple[Iterator[T], ...]:
    """``itertools.tee`` that may be consumed from several threads at once."""
    source: _TeeSource[T] = _TeeSource(iter(iterator), n, threading.Lock())
    return tuple(_tee_child(source, buffer) for buffer in source.buffers)


async def _atee_child(source: _TeeSource[T], buffer: deque[T]) -> AsyncIterator[T]:
    while True:
        if not buffer:
            async with source.lock:
                if not buffer:
                    try:
                        source.push(await anext(source.iterator))
                    except StopAsyncIteration:
                        return
        yield buffer.popleft()


def atee(iterator: AsyncIterator[T], n: int = 2) -> tuple[AsyncIterator[T], ...]:
    """Async twin of :func:`tee` (consumers may be concurrent tasks)."""
    source: _TeeSource[T] = _TeeSource(iterator, n, asyncio.Lock())
    return tuple(_atee_child(source, buffer) for buffer in source.buffers)


async def aiter_of(value: T) -> AsyncIterator[T]:
    """An async iterator yielding ``value`` once."""
    yield value


@asynccontextmanager
async def aclosing_iter(iterator: AsyncIterator[T]) -> AsyncGenerator[AsyncIterator[T], None]:
    """Like ``contextlib.aclosing`` for any async iterator: closes it if it can be closed.

    Wrapping generators use it so that a consumer that stops early closes the whole chain at
    once (ending every run in it), not whenever the event loop finalises abandoned generators.
    """
    try:
        yield iterator
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
