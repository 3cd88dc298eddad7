"""RunnableConfig, its merge rules, the current-run context and context-copying executors.

The run that is executing lives in one ``ContextVar``. Every entry point (``invoke``,
``dispatch_custom_event`` ...) starts from :func:`ensure_config`, which merges that run's child
config (made only when something asks for it) with an explicit ``config`` argument (explicit
keys win). Because it is a
``ContextVar``, it follows asyncio tasks (each task copies the context when it is created, on
every supported Python) and the worker threads of :func:`run_in_executor` and
:class:`ContextThreadPoolExecutor`, which copy the caller's context on every hop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypedDict, TypeVar, cast

from ._callbacks import home_loop
from ._foreign import foreign_config, is_foreign_manager
from ._scope import Callbacks, Scope, checked_handlers, combine_callbacks

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_RECURSION_LIMIT",
    "ContextThreadPoolExecutor",
    "RunnableConfig",
    "check_config",
    "ensure_config",
    "get_config_list",
    "get_executor_for_config",
    "hop",
    "others_ready",
    "merge_configs",
    "patch_config",
    "run_in_executor",
    "var_current_run",
]

T = TypeVar("T")
DEFAULT_RECURSION_LIMIT = 25


class RunnableConfig(TypedDict, total=False):
    """Configuration of one run, with the same keys as langchain-core's ``RunnableConfig``.

    Example:
        >>> config: RunnableConfig = {"tags": ["demo"], "metadata": {"user": "ada"}}
    """

    tags: list[str]
    """Tags of this run and, inherited, of its child runs."""
    metadata: dict[str, Any]
    """Metadata of this run and, inherited, of its child runs."""
    callbacks: Callbacks
    """Callback handlers (a list), or the inherited scope the runtime passes to child runs."""
    run_name: str
    """Name of the run (and of its span); not inherited."""
    run_id: Any
    """UUID of the run; not inherited."""
    max_concurrency: int | None
    """Maximum number of parallel calls in batch/abatch and RunnableParallel."""
    recursion_limit: int
    """Maximum depth of nested runnables returned by functions (default 25)."""
    configurable: dict[str, Any]
    """Free-form values for runnables; unknown top-level keys are moved here."""


CONFIG_KEYS = frozenset(RunnableConfig.__annotations__)
_COPIED_KEYS = ("tags", "metadata", "configurable")
_METADATA_FROM_CONFIGURABLE = ("model", "checkpoint_ns")


class CurrentRun(Protocol):
    """What :data:`var_current_run` holds: the run whose code is executing."""

    def current_config(self) -> RunnableConfig:
        """The config its code runs under (its child config; made on first use)."""
        ...


var_current_run: contextvars.ContextVar[CurrentRun | None] = contextvars.ContextVar(
    "otel_runnables_current_run", default=None
)
"""The run whose code is executing; :func:`ensure_config` starts from its child config."""


def _check(config: dict[str, Any]) -> None:
    """Raise ``TypeError`` naming the first known key whose value has the wrong type."""
    for key, value in config.items():
        if value is None:
            continue
        if key == "tags":
            if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) for t in value):
                raise TypeError(f"config['tags'] must be a list of str, got {value!r}")
        elif key == "metadata" or key == "configurable":
            if not isinstance(value, dict):
                raise TypeError(f"config[{key!r}] must be a dict, got {type(value).__name__}")
        elif key == "max_concurrency":
            if not isinstance(value, int) or value < 1:
                raise TypeError(
                    f"config['max_concurrency'] must be a positive int or None, got {value!r}"
                )
        elif key == "recursion_limit" and not isinstance(value, int):
            raise TypeError(f"config['recursion_limit'] must be an int, got {value!r}")
        elif key == "run_name" and not isinstance(value, str):
            raise TypeError(f"config['run_name'] must be a str, got {value!r}")


def check_config(config: Any) -> None:
    """Raise naming the first key of ``config`` whose value has the wrong type.

    What ``with_config`` and ``RunnableBinding`` check when they are made, so that a wrong
    value fails where it is written (``with_config(tags="abc")`` raises at once instead of
    becoming three tags).
    """
    if config is None:
        return
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict (RunnableConfig), got {type(config).__name__}")
    _check(config)
    callbacks = config.get("callbacks")
    if isinstance(callbacks, (list, tuple)):
        checked_handlers(callbacks)
    elif (
        callbacks is not None and type(callbacks) is not Scope and not is_foreign_manager(callbacks)
    ):
        raise TypeError(
            "config['callbacks'] must be a list of callback handlers, a callback manager"
            f" or None, got {type(callbacks).__name__}"
        )
    run_id = config.get("run_id")
    if run_id is not None and not isinstance(run_id, uuid.UUID):
        try:
            uuid.UUID(str(run_id))
        except ValueError:
            raise ValueError(f"config['run_id'] must be a UUID, got {run_id!r}") from None


def ensure_config(config: RunnableConfig | None = None) -> RunnableConfig:
    """Return a complete config: defaults, then the current run's child config, then ``config``.

    Unknown top-level keys are moved under ``configurable`` (as langchain-core does); a known
    key of the wrong type raises ``TypeError`` naming the key.

    Example:
        >>> ensure_config({"tags": ["a"]})["recursion_limit"]
        25
    """
    out: dict[str, Any] = {
        "tags": [],
        "metadata": {},
        "callbacks": None,
        "recursion_limit": DEFAULT_RECURSION_LIMIT,
        "configurable": {},
    }
    current = var_current_run.get()
    inherited = None
    if current is not None:
        inherited = current.current_config()
    elif "langchain_core" in sys.modules:  # called from a langchain-core run's code
        inherited = foreign_config()
    if inherited is not None:
        for key, value in cast("dict[str, Any]", inherited).items():
            if value is not None:
                out[key] = value.copy() if key in _COPIED_KEYS else value
    if config is not None:
        if type(config) is not dict and not isinstance(config, dict):
            raise TypeError(f"config must be a dict (RunnableConfig), got {type(config).__name__}")
        items = cast("dict[str, Any]", config)
        if items and type(items.get("callbacks")) is not Scope:  # not a config made for a child
            _check(items)
        extra = None
        for key, value in items.items():
            if value is None:
                continue
            if key in CONFIG_KEYS:
                if key in _COPIED_KEYS:
                    value = list(value) if key == "tags" else value.copy()
                out[key] = value
            else:
                if extra is None:
                    extra = {}
                extra[key] = value
        if extra:
            out["configurable"] = {**out["configurable"], **extra}
    configurable = out["configurable"]
    if configurable:
        for key in _METADATA_FROM_CONFIGURABLE:
            value = configurable.get(key)
            if isinstance(value, str) and key not in out["metadata"]:
                out["metadata"][key] = value
    return cast(RunnableConfig, out)


def merge_configs(*configs: RunnableConfig | None) -> RunnableConfig:
    """Merge configs left to right: tags are united (sorted), dicts updated, callbacks combined.

    Example:
        >>> merge_configs({"tags": ["b"]}, {"tags": ["a"]})["tags"]
        ['a', 'b']
    """
    base: dict[str, Any] = {}
    for config in configs:
        if not config:
            continue
        items: dict[str, Any] = dict(config)
        if type(items.get("callbacks")) is not Scope:  # not a config made for a child
            _check(items)
        for key, value in items.items():
            if value is None:
                continue
            if key == "tags":
                base["tags"] = sorted(set(base.get("tags", ())) | set(value))
            elif key in ("metadata", "configurable"):
                base[key] = {**base.get(key, {}), **value}
            elif key == "callbacks":
                base["callbacks"] = combine_callbacks(base.get("callbacks"), value)
            elif key == "recursion_limit":
                if value != DEFAULT_RECURSION_LIMIT or "recursion_limit" not in base:
                    base["recursion_limit"] = value
            else:
                base[key] = value
    return cast(RunnableConfig, base)


_UNSET: Any = object()


def patch_config(
    config: RunnableConfig | None,
    *,
    callbacks: Callbacks = _UNSET,
    recursion_limit: int | None = None,
    max_concurrency: int | None = None,
    run_name: str | None = None,
    configurable: dict[str, Any] | None = None,
) -> RunnableConfig:
    """Copy ``config`` with some keys replaced; new callbacks drop ``run_name`` and ``run_id``.

    Example:
        >>> patch_config({"run_name": "x"}, callbacks=None)
        {'callbacks': None}
    """
    out = cast("dict[str, Any]", ensure_config(config) if config is None else dict(config))
    if callbacks is not _UNSET:
        out["callbacks"] = callbacks
        out.pop("run_name", None)
        out.pop("run_id", None)
    if recursion_limit is not None:
        out["recursion_limit"] = recursion_limit
    if max_concurrency is not None:
        out["max_concurrency"] = max_concurrency
    if run_name is not None:
        out["run_name"] = run_name
    if configurable is not None:
        out["configurable"] = {**out.get("configurable", {}), **configurable}
    return cast(RunnableConfig, out)


def get_config_list(
    config: RunnableConfig | Sequence[RunnableConfig] | None, length: int
) -> list[RunnableConfig]:
    """One config per batch input; a single ``run_id`` applies to the first input only.

    Example:
        >>> len(get_config_list({"tags": ["t"]}, 3))
        3
    """
    if length < 0:
        raise ValueError(f"batch length must be >= 0, got {length}")
    if isinstance(config, Sequence) and not isinstance(config, dict):
        if len(config) != length:
            raise ValueError(
                f"config must be a single config or a list of {length} configs,"
                f" got a list of {len(config)}"
            )
        return [ensure_config(c) for c in config]
    config = cast("RunnableConfig | None", config)
    if config is not None and config.get("run_id") is not None:
        first = cast(RunnableConfig, dict(config))
        rest = cast(RunnableConfig, {k: v for k, v in config.items() if k != "run_id"})
        return [ensure_config(first)] + [ensure_config(rest) for _ in range(length - 1)]
    return [ensure_config(config) for _ in range(length)]


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitting thread's context.

    Example:
        >>> with ContextThreadPoolExecutor(max_workers=1) as pool:
        ...     pool.submit(lambda: 1).result()
        1
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        ctx = contextvars.copy_context()
        return super().submit(ctx.run, functools.partial(fn, *args, **kwargs))

    def map(self, fn: Callable[..., T], *iterables: Any, **kwargs: Any) -> Iterator[T]:
        contexts = [contextvars.copy_context() for _ in iterables[0]]

        def run(ctx: contextvars.Context, *args: Any) -> T:
            return ctx.run(fn, *args)

        return super().map(run, contexts, *iterables, **kwargs)


def get_executor_for_config(config: RunnableConfig | None) -> ContextThreadPoolExecutor:
    """A context-copying executor limited to the config's ``max_concurrency``."""
    limit = (config or {}).get("max_concurrency")
    return ContextThreadPoolExecutor(max_workers=limit)


def run_in_executor(func: Callable[..., T], *args: Any, **kwargs: Any) -> Awaitable[T]:
    """Run a sync function in the loop's default executor, in a copy of the current context."""
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    ctx.run(home_loop.set, loop)
    return loop.run_in_executor(None, ctx.run, functools.partial(func, *args, **kwargs))


async def hop(func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """``await func(*args, **kwargs)`` with the scheduling points of a separate task.

    langchain-core runs each step call and each stream pull of an async run as its own task;
    the event loop therefore switches to other ready tasks just before the awaited work and
    again just after it. Yielding at the same two points makes concurrent branches interleave
    exactly as they do there, at a fraction of the cost of a task. The awaitable is created
    only after the first point, so a task cancelled there leaves nothing un-awaited.
    """
    if others_ready():
        await asyncio.sleep(0)
    try:
        result = await func(*args, **kwargs)
    except Exception:
        if others_ready():
            await asyncio.sleep(0)
        raise
    if others_ready():
        await asyncio.sleep(0)
    return result


def others_ready() -> bool:
    """Whether yielding to the event loop now could let another callback run first.

    With nothing in the loop's ready queue, ``await asyncio.sleep(0)`` resumes this task
    before anything else (I/O and timers found by the next poll are queued behind it), so
    skipping it changes no order. Loops without an inspectable ready queue always yield.
    """
    ready = getattr(asyncio.get_running_loop(), "_ready", None)
    return ready is None or bool(ready)
