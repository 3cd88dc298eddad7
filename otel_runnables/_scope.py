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
from ._foreign import foreign_lineage, is_foreign_handler

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

    A scope also reads as a langchain-core callback manager (``parent_run_id``, ``handlers``,
    ``inheritable_tags`` ...; ``copy()`` makes a real one): a langchain-core runnable that gets
    our config, as a step of our pipeline or from a step's code, starts its runs as this
    scope's children, and they reach the same handlers, event streams and spans.
    """

    parent: Run | None
    run_handlers: list[Any]
    """Callback handlers, in the order they were added."""
    sinks: tuple[Sink, ...]
    inherited_tags: list[str]
    inherited_metadata: dict[str, Any]
    local_tag: str | None = None
    """The one tag of this child alone (``seq:step:N``, ``map:key:K``, ``retry:attempt:N``)."""

    def with_handlers(self, handlers: Sequence[Any]) -> Scope:
        """A copy with more handlers (inherited by every descendant)."""
        mine = self.run_handlers
        return self._replace(run_handlers=mine + [h for h in handlers if h not in mine])

    def with_sink(self, sink: Sink) -> Scope:
        """A copy with one more built-in sink (inherited by every descendant)."""
        return self._replace(sinks=(*self.sinks, sink))

    # -- the langchain-core callback manager view (duck-typed by langchain-core) ---------
    @property
    def parent_run_id(self) -> Any:
        return None if self.parent is None else self.parent.run_id

    @property
    def handlers(self) -> list[Any]:
        from .langchain._mixed import langchain_handlers

        return langchain_handlers(self)

    @property
    def inheritable_handlers(self) -> list[Any]:
        return self.handlers

    @property
    def tags(self) -> list[str]:
        tags = self.inherited_tags
        local = self.local_tag
        return tags if local is None else _add_tags(tags, (local,))

    @property
    def inheritable_tags(self) -> list[str]:
        return self.inherited_tags

    @property
    def metadata(self) -> dict[str, Any]:
        return self.inherited_metadata

    @property
    def inheritable_metadata(self) -> dict[str, Any]:
        return self.inherited_metadata

    def copy(self) -> Any:
        """A langchain-core ``CallbackManager`` with this scope's children's view."""
        from .langchain._mixed import manager_of

        return manager_of(self)

    def merge(self, other: Any) -> Any:
        """langchain-core's ``merge`` of two managers, on a real one."""
        return self.copy().merge(other)


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
    """``callbacks`` as a list, after checking that each is a callback handler (ours, or
    langchain-core's: both are driven through the same hooks)."""
    for handler in callbacks:
        if not isinstance(handler, BaseCallbackHandler) and not is_foreign_handler(handler):
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
        return other.with_handlers(base.run_handlers if isinstance(base, Scope) else base)
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
        parent, handlers, sinks = callbacks.parent, callbacks.run_handlers, callbacks.sinks
        inheritable, metadata = callbacks.inherited_tags, dict(callbacks.inherited_metadata)
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
        foreign = foreign_lineage(callbacks)  # a langchain-core callback manager
        if foreign is None:
            raise TypeError(
                "config['callbacks'] must be a list of callback handlers, a callback manager"
                f" or None, got {type(callbacks).__name__}"
            )
        parent, handlers, sinks, tags, inheritable, metadata = foreign
    if config_tags:
        tags = _add_tags(tags, config_tags)
        inheritable = _add_tags(inheritable, config_tags)
    config_metadata = config.get("metadata")
    if config_metadata:
        metadata.update(config_metadata)
    return _new(Lineage, (parent, handlers, sinks, tags, inheritable, metadata))
