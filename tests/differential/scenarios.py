"""Harness for the differential suite: library facades, the recorder and the scenario registry.

Every scenario is written once, as a function ``(lib, rec) -> None`` (sync) or an ``async``
function of the same shape.  ``lib`` is a :class:`Lib` facade exposing the public names of either
langchain-core (the oracle) or otel_runnables; ``rec`` is a :class:`Recorder` that collects
handler calls, ``astream_events`` events, streamed chunks and outcomes into one flat log.

The scenario bodies live in ``scenarios_*.py`` modules; :data:`SCENARIOS` lists them all.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

FACADE_NAMES = (
    "AsyncCallbackHandler",
    "BaseCallbackHandler",
    "ConfigurableField",
    "RouterRunnable",
    "RunnableBranch",
    "RunnableConfig",
    "RunnableEach",
    "RunnableGenerator",
    "RunnableLambda",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnablePick",
    "RunnableSequence",
    "adispatch_custom_event",
    "chain",
    "coerce_to_runnable",
    "dispatch_custom_event",
    "get_config_list",
    "run_in_executor",
)

_ORACLE_SOURCES = {
    "AsyncCallbackHandler": "langchain_core.callbacks",
    "BaseCallbackHandler": "langchain_core.callbacks",
    "RunnableEach": "langchain_core.runnables.base",
    "adispatch_custom_event": "langchain_core.callbacks",
    "coerce_to_runnable": "langchain_core.runnables.base",
    "dispatch_custom_event": "langchain_core.callbacks",
}

CHAIN_HOOKS = ("on_chain_start", "on_chain_end", "on_chain_error", "on_custom_event")


class Lib(SimpleNamespace):
    """The public surface a scenario may use (attribute access only)."""

    name: str
    RunnableLambda: Any
    RunnableSequence: Any
    RunnableParallel: Any
    RunnablePassthrough: Any
    RunnableGenerator: Any
    RunnableBranch: Any
    RouterRunnable: Any
    RunnableEach: Any
    RunnablePick: Any
    ConfigurableField: Any
    RunnableConfig: Any
    BaseCallbackHandler: Any
    AsyncCallbackHandler: Any
    chain: Any
    dispatch_custom_event: Any
    adispatch_custom_event: Any
    coerce_to_runnable: Any
    get_config_list: Any
    run_in_executor: Any


def load_oracle() -> Lib:
    values = {
        n: getattr(importlib.import_module(_ORACLE_SOURCES.get(n, "langchain_core.runnables")), n)
        for n in FACADE_NAMES
    }
    return Lib(name="langchain_core", **values)


def load_ours() -> Lib:
    """Import otel_runnables' facade; raises ImportError naming whatever is missing."""
    module = importlib.import_module("otel_runnables")
    missing = [n for n in FACADE_NAMES if not hasattr(module, n)]
    if missing:
        raise ImportError(f"otel_runnables does not export: {', '.join(missing)}")
    return Lib(name="otel_runnables", **{n: getattr(module, n) for n in FACADE_NAMES})


# --------------------------------------------------------------------------- recording handlers


class HandlerBoom(Exception):
    """Raised by a recording handler asked to fail."""


class _RecordingBase:
    """Shared by the sync and async recording handlers (mixed into each library's base)."""

    label: str
    sink: list[dict[str, Any]]
    fail_on: frozenset[str]

    def _record(self, hook: str, **fields: Any) -> None:
        self.sink.append({"src": self.label, "hook": hook, **fields})
        if hook in self.fail_on:
            raise HandlerBoom(f"{self.label} failed in {hook}")

    def _start(self, serialized: Any, inputs: Any, kw: dict[str, Any]) -> None:
        name = kw.get("name") or (serialized or {}).get("name")
        self._record(
            "on_chain_start",
            name=name,
            run_id=kw.get("run_id"),
            parent_run_id=kw.get("parent_run_id"),
            tags=list(kw.get("tags") or []),
            metadata=dict(kw.get("metadata") or {}),
            inputs=inputs,
        )

    def _end(self, outputs: Any, kw: dict[str, Any]) -> None:
        fields: dict[str, Any] = {
            "run_id": kw.get("run_id"),
            "parent_run_id": kw.get("parent_run_id"),
            "tags": list(kw.get("tags") or []),
            "outputs": outputs,
        }
        if "inputs" in kw:
            fields["inputs"] = kw["inputs"]
        self._record("on_chain_end", **fields)

    def _error(self, error: BaseException, kw: dict[str, Any]) -> None:
        self._record(
            "on_chain_error",
            run_id=kw.get("run_id"),
            parent_run_id=kw.get("parent_run_id"),
            tags=list(kw.get("tags") or []),
            error=error,
        )

    def _custom(self, name: str, data: Any, kw: dict[str, Any]) -> None:
        self._record(
            "on_custom_event",
            name=name,
            run_id=kw.get("run_id"),
            tags=list(kw.get("tags") or []),
            metadata=dict(kw.get("metadata") or {}),
            data=data,
        )


def _sync_hooks() -> dict[str, Callable[..., Any]]:
    def on_chain_start(self: Any, serialized: Any, inputs: Any, **kw: Any) -> None:
        self._start(serialized, inputs, kw)

    def on_chain_end(self: Any, outputs: Any, **kw: Any) -> None:
        self._end(outputs, kw)

    def on_chain_error(self: Any, error: BaseException, **kw: Any) -> None:
        self._error(error, kw)

    def on_custom_event(self: Any, name: str, data: Any, **kw: Any) -> None:
        self._custom(name, data, kw)

    return dict(
        zip(
            CHAIN_HOOKS,
            (on_chain_start, on_chain_end, on_chain_error, on_custom_event),
            strict=True,
        )
    )


def _async_hooks() -> dict[str, Callable[..., Any]]:
    async def on_chain_start(self: Any, serialized: Any, inputs: Any, **kw: Any) -> None:
        self._start(serialized, inputs, kw)

    async def on_chain_end(self: Any, outputs: Any, **kw: Any) -> None:
        self._end(outputs, kw)

    async def on_chain_error(self: Any, error: BaseException, **kw: Any) -> None:
        self._error(error, kw)

    async def on_custom_event(self: Any, name: str, data: Any, **kw: Any) -> None:
        self._custom(name, data, kw)

    return dict(
        zip(
            CHAIN_HOOKS,
            (on_chain_start, on_chain_end, on_chain_error, on_custom_event),
            strict=True,
        )
    )


# --------------------------------------------------------------------------- the recorder


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


SINKS_INDEPENDENT = (
    "an astream_events consumer and the handlers are fed from different tasks; only each "
    "source's own order is a contract, their interleaving follows event-loop scheduling"
)


class Recorder:
    """Collects one scenario's log; every entry is a flat dict with a ``src`` key."""

    def __init__(self, lib: Lib) -> None:
        self.lib = lib
        self.log: list[dict[str, Any]] = []

    def add(self, src: str, **fields: Any) -> None:
        self.log.append({"src": src, **fields})

    def handler(
        self,
        label: str = "h",
        *,
        is_async: bool = False,
        hooks: Iterable[str] = CHAIN_HOOKS,
        fail_on: Iterable[str] = (),
        **flags: bool,
    ) -> Any:
        """A handler subclassing the library's own base class, recording ``hooks`` into the log.

        ``flags`` (raise_error, run_inline, ignore_chain, ignore_custom_event, ...) become class
        attributes, as a user subclass would declare them.
        """
        base = self.lib.AsyncCallbackHandler if is_async else self.lib.BaseCallbackHandler
        all_hooks = _async_hooks() if is_async else _sync_hooks()
        namespace: dict[str, Any] = {h: all_hooks[h] for h in hooks}
        namespace.update(flags)
        cls = type(
            f"Recording{'Async' if is_async else ''}Handler", (_RecordingBase, base), namespace
        )
        handler = cls()
        handler.label = label
        handler.sink = self.log
        handler.fail_on = frozenset(fail_on)
        return handler

    # outcomes ---------------------------------------------------------------------------------

    def outcome(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            self.add("raised", error=exc)
            return exc
        self.add("result", value=value)
        return value

    async def aoutcome(self, awaitable: Awaitable[Any]) -> Any:
        try:
            value = await awaitable
        except Exception as exc:
            self.add("raised", error=exc)
            return exc
        self.add("result", value=value)
        return value

    def stream(self, runnable: Any, value: Any, config: Any = None, **kwargs: Any) -> None:
        """Record each chunk of ``runnable.stream`` and how the stream ended."""
        try:
            for chunk in runnable.stream(value, config, **kwargs):
                self.add("chunk", value=chunk)
        except Exception as exc:
            self.add("raised", error=exc)
        else:
            self.add("stream_end")

    async def astream(self, runnable: Any, value: Any, config: Any = None, **kwargs: Any) -> None:
        try:
            async for chunk in runnable.astream(value, config, **kwargs):
                self.add("chunk", value=chunk)
        except Exception as exc:
            self.add("raised", error=exc)
        else:
            self.add("stream_end")

    async def events(self, runnable: Any, value: Any, config: Any = None, **kwargs: Any) -> None:
        """Record every ``astream_events(version="v2")`` event and how the stream ended."""
        stream: AsyncIterator[Mapping[str, Any]] = runnable.astream_events(
            value, config, version="v2", **kwargs
        )
        try:
            async for event in stream:
                self.add_event(event)
        except Exception as exc:
            self.add("raised", error=exc)
        else:
            self.add("stream_end")

    def add_event(self, event: Mapping[str, Any]) -> None:
        ordered = ("event", "name", "run_id", "parent_ids", "tags", "metadata", "data")
        record: dict[str, Any] = {"src": "ev"}
        for key in ordered:
            record[key] = event.get(key, "<absent>")
        for key in event:
            if key not in ordered:
                record[key] = event[key]
        self.log.append(record)

    def capture_warnings_logged(self) -> _LogCapture:
        """Attach a root-logger capture (caller must ``release_capture`` it)."""
        capture = _LogCapture()
        logging.getLogger().addHandler(capture)
        return capture

    @staticmethod
    def release_capture(capture: _LogCapture) -> None:
        logging.getLogger().removeHandler(capture)


# --------------------------------------------------------------------------- registry

ScenarioFn = Callable[[Lib, Recorder], Awaitable[None] | None]


@dataclass(frozen=True)
class Scenario:
    name: str
    fn: ScenarioFn
    relaxed: str | None = None  # why the oracle's order is not deterministic
    per_sink: str | None = None  # why only each source's own order is compared
    quirk: str | None = None  # oracle behaviour that looks accidental (shown when ours differs)
    # A deliberate difference: (why, function turning our log into what the oracle logs).
    divergence: tuple[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] | None = None

    @property
    def mode(self) -> str:
        """Comparison mode for ``_normalise.differences``."""
        if self.relaxed:
            return "relaxed"
        return "per_sink" if self.per_sink else "exact"

    @property
    def mode_reason(self) -> str:
        return self.relaxed or self.per_sink or "order is deterministic in the oracle"

    def __str__(self) -> str:
        return self.name


_REGISTRY: dict[str, Scenario] = {}


def scenario(
    *,
    relaxed: str | None = None,
    per_sink: str | None = None,
    quirk: str | None = None,
    divergence: tuple[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] | None = None,
) -> Callable[[ScenarioFn], ScenarioFn]:
    """Register a scenario under its function name (without a leading ``s_``)."""

    def register(fn: ScenarioFn) -> ScenarioFn:
        name = fn.__name__.removeprefix("s_")
        if name in _REGISTRY:
            raise ValueError(f"duplicate scenario {name}")
        _REGISTRY[name] = Scenario(name, fn, relaxed, per_sink, quirk, divergence)
        return fn

    return register


def run_scenario(sc: Scenario, lib: Lib) -> list[dict[str, Any]]:
    """Run ``sc`` on ``lib`` in a fresh event loop (async) or directly (sync); return raw log."""
    rec = Recorder(lib)
    if inspect.iscoroutinefunction(sc.fn):
        asyncio.run(sc.fn(lib, rec))  # type: ignore[arg-type]
    else:
        sc.fn(lib, rec)
    return rec.log


def all_scenarios() -> list[Scenario]:
    from . import (  # noqa: F401  (imported for their registrations)
        scenarios_api,
        scenarios_callbacks,
        scenarios_events,
        scenarios_mixed,
        scenarios_runnables,
    )

    return list(_REGISTRY.values())
