"""Deeply nested runs: where a run's code goes on with a fresh stack.

Every nested run costs a few Python frames (the template, the kind, the user's function), so
runs nested a few hundred deep would exhaust the recursion limit long before their own code
does. langchain-core runs each async step as its own task, whose stack starts afresh; doing
that for every step would cost a task per step. Instead, a run nested at least
:data:`DEEP_RUNS` deep measures the stack, and only when a quarter of the recursion limit is
used up does its code (a call, one pull of a stream, closing a stream) continue on a fresh
stack: a new task in async code, a new thread in sync code (the caller waits for it). The
context goes along (a copy, as for every task and worker thread), so the current run, its
span and the config are found there as before; what the code changes in the context stays
there, as it does in langchain-core, which runs every step in a copy of the context.

Each run counts as one frame against the recursion limit: a run nested as deep as the limit
(1000 by default) goes on where it is, so that runaway recursion of runs ends in
``RecursionError`` a few levels further down, as it does in plain Python.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["DEEP_RUNS", "deep_stack", "on_fresh_task", "on_fresh_thread"]

T = TypeVar("T")

DEEP_RUNS = 8
"""Run nesting below which the stack is never measured (its frames are few)."""


def deep_stack(depth: int) -> bool:
    """Whether the code of a run nested ``depth`` deep goes on with a fresh stack: when a
    quarter of the recursion limit is used up by the frames on the stack, unless the run is
    nested as deep as the recursion limit itself (runaway recursion then meets the limit, as
    plain Python recursion does, instead of taking a thread or a task per few levels without
    end)."""
    limit = sys.getrecursionlimit()
    if depth >= limit:
        return False
    try:
        sys._getframe(limit // 4)
    except ValueError:
        return False
    return True


def on_fresh_thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in a new thread, in a copy of the context; waits for it and
    returns its result or raises its exception."""
    context = contextvars.copy_context()
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(context.run(func, *args, **kwargs))
        except BaseException as exc:
            outcome.append(exc)
            outcome.append(None)  # (two items: an exception)

    thread = threading.Thread(target=target, name="otel-runnables-deep", daemon=True)
    thread.start()
    thread.join()
    if len(outcome) == 1:
        return outcome.pop()  # type: ignore[no-any-return]
    error = outcome[0]
    outcome.clear()  # the traceback's frame holds this list: no cycle left behind
    raise error


async def on_fresh_task(func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """``await func(*args, **kwargs)`` as a new task (a copy of the context, a fresh stack);
    cancelling the caller cancels the task, and the caller waits until it has finished."""
    return await asyncio.get_running_loop().create_task(_awaited(func(*args, **kwargs)))


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable
