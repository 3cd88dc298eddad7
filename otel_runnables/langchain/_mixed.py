"""Mixed pipelines: otel_runnables' runnables and langchain-core's in one pipeline, one trace.

Crossing the boundary adds no run and no span; each side hands the other its own notion of a
parent:

* **ours → langchain-core.** A langchain-core runnable gets our config (as a step of our
  pipeline, or from a step's code). Its ``callbacks`` is our :class:`~otel_runnables._scope.Scope`,
  which reads as a callback manager (:func:`langchain_handlers`, :func:`manager_of`): the parent
  is our run, the handlers are ours (langchain-core drives them directly, in its own order) plus
  the process-wide :class:`~._handler.Bridge`, which puts the langchain-core runs on our bus:
  their spans nest under ours, and an ``astream_events`` of ours sees them.
* **langchain-core → ours.** One of our runnables gets a langchain-core config: its
  ``callbacks`` is a callback manager, which :func:`lineage_of` turns into the run's lineage (the
  langchain-core run as parent, its handlers, its tags and metadata). Our run reports to those
  handlers itself, langchain-core's ``astream_events`` included.

There is one bridge per process, shared with ``LangChainInstrumentor`` (langchain-core adds a
handler once, by identity, so nothing is recorded twice). The wrappers that make a
langchain-core run's span current for its code are installed at the first crossing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManager

from .._otel import SPAN_SINK
from .._scope import Lineage
from ._context import Patches
from ._handler import Bridge, BridgedRun

if TYPE_CHECKING:
    from .._run import Run
    from .._scope import Scope

__all__ = ["langchain_handlers", "lineage_of", "manager_of", "prepare", "shared"]

_new = tuple.__new__
_lock = threading.Lock()
_bridge: Bridge | None = None
_patches: Patches | None = None


def shared() -> tuple[Bridge, Patches]:
    """The process-wide bridge and its wrappers (made on first use)."""
    global _bridge, _patches
    if _bridge is None or _patches is None:
        with _lock:
            if _bridge is None or _patches is None:
                bridge = Bridge(SPAN_SINK)
                patches = Patches(bridge)
                bridge.on_graph = patches.langgraph_loaded
                _bridge, _patches = bridge, patches
    return _bridge, _patches


def prepare() -> Bridge:
    """The bridge, with its wrappers installed (at the first crossing between the two kinds)."""
    bridge, patches = shared()
    if not patches.installed:
        patches.install()
    return bridge


def langchain_handlers(scope: Scope) -> list[Any]:
    """The handlers a langchain-core run under ``scope`` reports to: ours and the bridge."""
    bridge = prepare()
    if scope.parent is not None:
        bridge.adopt(scope.parent)
    return [*scope.run_handlers, bridge]


def manager_of(scope: Scope) -> CallbackManager:
    """A langchain-core ``CallbackManager`` for the children of ``scope``."""
    handlers = langchain_handlers(scope)
    return CallbackManager(
        handlers=handlers,
        inheritable_handlers=list(handlers),
        parent_run_id=scope.parent_run_id,
        tags=list(scope.tags),
        inheritable_tags=list(scope.inherited_tags),
        metadata=dict(scope.inherited_metadata),
        inheritable_metadata=dict(scope.inherited_metadata),
    )


def lineage_of(manager: Any) -> Lineage:
    """The lineage of one of our runs whose config holds a langchain-core callback manager."""
    bridge = prepare()
    parent_run_id = manager.parent_run_id
    parent: Run | None = bridge.run_of(parent_run_id)
    if parent is None and parent_run_id is not None:
        parent = _untraced(parent_run_id, bridge)
    handlers = [h for h in manager.handlers if not isinstance(h, Bridge)]  # (our run is ours)
    sinks = () if parent is None else parent.sinks
    tags = list(manager.tags)
    return _new(
        Lineage,
        (parent, handlers, sinks, tags, list(manager.inheritable_tags), dict(manager.metadata)),
    )


def _untraced(run_id: Any, bridge: Bridge) -> Run:
    """A stand-in for a langchain-core run the bridge did not record (not instrumented): our
    run keeps its id as parent id, and its span, with no parent span, nests where the code is."""
    lineage = _new(Lineage, (None, [], (), [], [], {}))
    return BridgedRun(lineage, "", None, run_id, "chain", bridge.span_sink, None)
