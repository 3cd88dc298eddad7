"""What a child run inherits: the Scope a parent passes in ``config["callbacks"]``.

This is langchain-core's "child callback manager": the parent run, the callback handlers, the
built-in sinks (an ``astream_events`` stream), the inheritable tags and metadata, and the one
tag (``seq:step:N``, ``map:key:K``, ``retry:attempt:N``) that belongs to that child alone.
:func:`resolve` turns a config into the :class:`Lineage` of a new run, following
langchain-core's rules exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from ._callbacks import BaseCallbackHandler

if TYPE_CHECKING:
    from ._config import RunnableConfig
    from ._run import Run
    from ._sink import Sink

__all__ = ["Callbacks", "Lineage", "Scope", "checked_handlers", "combine_callbacks", "resolve"]

Callbacks = Union[list[BaseCallbackHandler], "Scope", None]
"""What ``config["callbacks"]`` may hold: handlers, or the scope a parent run passes on."""

_NO_SINKS: tuple[Sink, ...] = ()


class Scope(NamedTuple):
    """What a child run inherits: the parent, handlers, built-in sinks, tags and metadata.

    A root scope (``parent`` None) carries the handlers and sinks of a root run, e.g. the
    stream of an ``astream_events`` call.
    """

    parent: Run | None
    handlers: list[Any]
    sinks: tuple[Sink, ...]
    tags: list[str]
    """The inheritable tags."""
    metadata: dict[str, Any]
    local_tag: str | None = None
    """The one tag of this child alone (``seq:step:N``, ``map:key:K``, ``retry:attempt:N``)."""

    def with_handlers(self, handlers: Sequence[Any]) -> Scope:
        """A copy with more handlers (inherited by every descendant)."""
        return self._replace(
            handlers=self.handlers + [h for h in handlers if h not in self.handlers]
        )

    def with_sink(self, sink: Sink) -> Scope:
        """A copy with one more built-in sink (inherited by every descendant)."""
        return self._replace(sinks=(*self.sinks, sink))


class Lineage(NamedTuple):
    """What :func:`resolve` finds for a new run."""

    parent: Run | None
    handlers: list[Any]
    """Callback handlers, in the order they were added."""
    sinks: tuple[Sink, ...]
    """Built-in sinks besides the span sink (``astream_events`` streams)."""
    tags: list[str]
    """The run's own tags."""
    inheritable_tags: list[str]
    """The tags its children inherit (the run's tags without its local tag)."""
    metadata: dict[str, Any]
    """The run's metadata (a fresh dict)."""


_new = tuple.__new__  # makes a Lineage or Scope with no Python-level __new__ (hot path)


def checked_handlers(callbacks: Sequence[Any]) -> list[Any]:
    """``callbacks`` as a list, after checking that each is a callback handler."""
    for handler in callbacks:
        if not isinstance(handler, BaseCallbackHandler):
            raise TypeError(
                "config['callbacks'] must hold BaseCallbackHandler instances,"
                f" got {type(handler).__name__}"
            )
    return list(callbacks)


def combine_callbacks(base: Callbacks, other: Callbacks) -> Callbacks:
    """Callbacks of ``base`` and ``other`` together (``other``'s scope wins)."""
    if base is None:
        return other
    if other is None:
        return base
    if isinstance(other, Scope):
        return other.with_handlers(base.handlers if isinstance(base, Scope) else base)
    if isinstance(base, Scope):
        return base.with_handlers(other)
    return [*base, *other]


def _add_tags(tags: list[str], new: Sequence[str]) -> list[str]:
    # langchain-core's rule: a tag that is added again moves to the end.
    if not new:
        return tags
    return [t for t in tags if t not in new] + list(new)


def resolve(config: RunnableConfig) -> Lineage:
    """The parent, handlers, sinks, tags and metadata of a run started with ``config``."""
    callbacks = config.get("callbacks")
    config_tags = config.get("tags") or ()
    sinks = _NO_SINKS
    if callbacks is None:
        parent, handlers, inheritable, metadata = None, [], [], {}
        tags: list[str] = []
    elif isinstance(callbacks, Scope):
        parent, handlers, sinks = callbacks.parent, callbacks.handlers, callbacks.sinks
        inheritable, metadata = callbacks.tags, dict(callbacks.metadata)
        local = callbacks.local_tag
        tags = inheritable if local is None else _add_tags(inheritable, (local,))
    elif isinstance(callbacks, (list, tuple)):
        parent, handlers, inheritable, metadata, tags = (
            None,
            checked_handlers(callbacks),
            [],
            {},
            [],
        )
    else:
        raise TypeError(
            "config['callbacks'] must be a list of callback handlers or None,"
            f" got {type(callbacks).__name__}"
        )
    if config_tags:
        tags = _add_tags(tags, config_tags)
        inheritable = _add_tags(inheritable, config_tags)
    config_metadata = config.get("metadata")
    if config_metadata:
        metadata.update(config_metadata)
    return _new(Lineage, (parent, handlers, sinks, tags, inheritable, metadata))
