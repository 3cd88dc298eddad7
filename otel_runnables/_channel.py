"""The bounded channel between the producers of one event stream and its consumer.

An ``astream_events`` call has one consumer (the caller's ``async for``, on its event loop) and
producers anywhere: async steps on the same loop, sync steps in worker threads. The channel
holds at most ``bound`` events for the consumer:

- an async producer reports a transition synchronously, then awaits :meth:`EventChannel.turn`:
  while the channel is full it waits for the consumer to take events, and when its event woke
  the consumer it lets the consumer run first (the consumer sees the event while the producer
  is still working, not when the producer next happens to yield); a producer that reports
  events in quick succession does so at most every ``_TURN_EVERY_S``, and the consumer then
  takes every event so far;
- a producer in another thread blocks in :meth:`EventChannel.put` while the channel is full,
  as long as the consumer's loop keeps running (a loop that has not run for a while may be
  waiting for that very thread: the producer then goes on rather than deadlock);
- sync code on the consumer's own thread never blocks (it would block the consumer too): what
  it reports between two awaits may exceed the bound.

Nothing is dropped while the consumer listens. No failure leaves the consumer waiting: waking
it takes a few frames, which :meth:`EventChannel.put` makes sure fit on the stack before it
changes anything (a producer whose stack is exhausted gets the ``RecursionError`` with the
channel as it was), and a stream that cannot deliver an event records the error by plain
assignment (:attr:`EventChannel.error`), which needs no stack at all: the consumer raises it
once it has taken the events before it.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
import types
from collections.abc import Awaitable, Generator
from typing import Any

__all__ = ["DEFAULT_EVENT_BUFFER", "EventChannel"]

DEFAULT_EVENT_BUFFER = 1000
"""How many events an event stream holds for its consumer by default."""

_TURN_EVERY_S = 0.0005
"""A producer that reports events faster lets the consumer go first at most this often."""
_LOOP_STUCK_S = 1.0
"""A thread producer stops waiting for space when the consumer's loop has not run this long."""
_WAIT_SLICE_S = 0.05
_HEADROOM = 24
"""Python frames that must fit on the stack for a producer to wake the consumer (the future's
callback is scheduled by the loop; its debug mode takes a few frames more)."""
_DONE: Any = object()


def _headroom(frames: int) -> bool:
    """Raises ``RecursionError`` unless ``frames`` more Python frames fit on the stack."""
    return frames <= 0 or _headroom(frames - 1)


@types.coroutine
def _yield_once() -> Generator[None, None, None]:
    """One turn of the event loop (``asyncio.sleep(0)``, with less on the way)."""
    yield


class EventChannel:
    """Events on their way to the one consumer of an event stream (see the module doc).

    Example:
        >>> async def demo():
        ...     channel = EventChannel(asyncio.get_running_loop(), 10)
        ...     channel.put("event")
        ...     channel.finish()
        ...     return [item async for item in channel]
        >>> asyncio.run(demo())
        ['event']
    """

    __slots__ = (
        "_blocked",
        "_items",
        "_lock",
        "_loop",
        "_not_full",
        "_ping_at",
        "_ping_pending",
        "_spaces",
        "_stopped",
        "_thread",
        "_turns",
        "_waiter",
        "_waking",
        "_woken",
        "_yielded_at",
        "bound",
        "error",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, bound: int = DEFAULT_EVENT_BUFFER) -> None:
        if not isinstance(bound, int) or bound < 1:
            raise ValueError(f"the event buffer must be a positive int, got {bound!r}")
        self.bound = bound
        self.error: BaseException | None = None
        """Set when the stream failed: later items are dropped, the consumer raises it once
        it has taken the items before it (assign it, then :meth:`poke`)."""
        self._loop = loop
        self._thread = threading.get_ident()
        self._items: collections.deque[Any] = collections.deque()
        self._lock = threading.Lock()
        self._not_full = threading.Condition(self._lock)
        self._waiter: asyncio.Future[None] | None = None  # the consumer, waiting for an item
        self._waking = False  # a thread producer scheduled the consumer's wake-up
        self._woken = False  # the consumer was woken and has not run yet
        self._yielded_at = 0.0  # when a producer last let the consumer go first
        self._turns: list[asyncio.Future[None]] = []  # producers letting the consumer go first
        self._spaces: list[asyncio.Future[None]] = []  # async producers waiting for space
        self._blocked = 0  # producers in other threads waiting for space
        self._ping_pending = False
        self._ping_at = 0.0
        self._stopped = False

    def __len__(self) -> int:
        return len(self._items)

    # -- producers -----------------------------------------------------------------------
    def put(self, item: Any) -> None:
        """Add ``item`` for the consumer (any thread; see the module doc for who waits)."""
        home = threading.get_ident() == self._thread
        if not home or self._waiter is not None:
            # Waking the consumer takes a few frames: make sure they fit before changing
            # anything (else RecursionError here, and the channel is as it was).
            _headroom(_HEADROOM)
        with self._lock:
            if self._stopped:
                return
            if self.error is None:
                self._items.append(item)
            waiter = self._waiter
            if waiter is None or self._waking:
                waiter = None
            elif home:
                self._waiter = None
                self._woken = True
            else:
                self._waking = True
        if waiter is not None:
            if home:
                if not waiter.done():  # (cancelled with its consumer)
                    waiter.set_result(None)
            else:
                try:
                    self._loop.call_soon_threadsafe(self._wake)
                except RuntimeError:  # the consumer's loop is closed: nobody will take events
                    self._stopped = True
                    return
        if not home and len(self._items) > self.bound:
            self._wait_for_space()

    def finish(self) -> None:
        """No more events will come."""
        self.put(_DONE)

    def poke(self) -> None:
        """Wake the consumer if it waits (after :attr:`error` was set)."""
        self.put(_DONE)  # (dropped: the error is set)

    def turn(self, consumer_first: bool = True) -> Awaitable[None] | None:
        """What an async producer on the consumer's loop awaits after reporting: the
        consumer's turn when an event just woke it (unless not ``consumer_first``), space
        while the channel is full, else None (go on at once)."""
        # (one future per waiting producer: a producer that is cancelled cancels its own)
        if self._stopped:
            return None
        if consumer_first:
            if self._woken:
                now = time.perf_counter()
                if now - self._yielded_at >= _TURN_EVERY_S:
                    self._yielded_at = now
                    return _yield_once()
            elif self._waking:
                turn = self._loop.create_future()
                self._turns.append(turn)
                return turn
        if len(self._items) >= self.bound:
            space = self._loop.create_future()
            self._spaces.append(space)
            return space
        return None

    def _wait_for_space(self) -> None:
        # A producer in another thread: wait while the channel is full and the consumer's
        # loop runs (it answers a ping at least every _LOOP_STUCK_S).
        with self._not_full:
            while len(self._items) > self.bound and not self._stopped:
                if not self._ping_pending:
                    self._ping_pending = True
                    self._ping_at = time.monotonic()
                    try:
                        self._loop.call_soon_threadsafe(self._pong)
                    except RuntimeError:  # the loop is closed: nobody will take events
                        return
                elif time.monotonic() - self._ping_at > _LOOP_STUCK_S:
                    return
                self._blocked += 1
                try:
                    self._not_full.wait(_WAIT_SLICE_S)
                finally:
                    self._blocked -= 1

    def _pong(self) -> None:
        with self._lock:
            self._ping_pending = False

    def _wake(self) -> None:
        # Run by the loop for a thread producer: wake the consumer, then the producers on
        # the loop that let it go first.
        with self._lock:
            self._waking = False
            waiter, self._waiter = self._waiter, None
            turns, self._turns = self._turns, []
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        _resolve(turns)

    # -- the consumer --------------------------------------------------------------------
    async def get(self) -> Any:
        """The next item; the stream's error once the items before it are taken;
        ``StopAsyncIteration`` once finished."""
        while True:
            with self._lock:
                if self._items:
                    item = self._items.popleft()
                    if (self._spaces or self._blocked) and len(self._items) <= self.bound // 2:
                        self._release()
                    break
                error = self.error
                if error is not None:
                    self.error = None
                    raise error
                waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
                self._woken = False
        if item is _DONE:
            raise StopAsyncIteration
        return item

    def __aiter__(self) -> EventChannel:
        return self

    __anext__ = get

    def _release(self) -> None:
        # (lock held, on the loop) there is space again: let the waiting producers go on.
        spaces, self._spaces = self._spaces, []
        _resolve(spaces)
        self._not_full.notify_all()

    def stop(self) -> None:
        """The consumer is gone: drop what is held and anything put later, free every
        producer that waits."""
        with self._lock:
            self._stopped = True
            self._items.clear()
            turns, self._turns = self._turns, []
            self._release()
        _resolve(turns)


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)
