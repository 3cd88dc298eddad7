"""What a child run inherits: the Scope a parent passes in ``config["callbacks"]``.

This is langchain-core's "child callback manager": the parent run, the handlers and built-in
sinks, the inheritable tags and metadata, and the one tag (``seq:step:N``, ``map:key:K``,
``retry:attempt:N``) that belongs to that child alone. :func:`resolve` turns a config into the
parent, handlers, tags and metadata of a new run, following langchain-core's rules exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

from ._callbacks import BaseCallbackHandler
from ._sink import Sink

if TYPE_CHECKING:
    from ._config import RunnableConfig
    from ._run import Run

__all__ = ["Callbacks", "Scope", "combine_callbacks", "resolve"]

Callbacks = Union[list[BaseCallbackHandler], "Scope", None]
"""What ``config["callbacks"]`` may hold: handlers, or the scope a parent run passes on."""


class Scope:
    """What a child run inherits from its parent: the parent, handlers, tags and metadata."""

    __slots__ = ("handlers", "local_tag", "metadata", "parent", "tags")

    def __init__(
        self,
        parent: Run | None,
        handlers: list[Any],
        tags: list[str],
        metadata: dict[str, Any],
        local_tag: str | None = None,
    ) -> None:
        self.parent = parent
        self.handlers = handlers
        self.tags = tags
        self.metadata = metadata
        self.local_tag = local_tag

    def with_handlers(self, handlers: Sequence[Any]) -> Scope:
        """A copy with more handlers (inherited by every descendant)."""
        merged = self.handlers + [h for h in handlers if h not in self.handlers]
        return Scope(self.parent, merged, self.tags, self.metadata, self.local_tag)


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


def resolve(
    config: RunnableConfig,
) -> tuple[Run | None, list[Any], list[str], list[str], dict[str, Any]]:
    """Parent, handlers, run tags, inheritable tags and metadata for a config."""
    callbacks = config.get("callbacks")
    config_tags = config.get("tags") or ()
    if callbacks is None:
        parent, handlers, inheritable, metadata = None, [], [], {}
        tags: list[str] = []
    elif isinstance(callbacks, Scope):
        parent, handlers = callbacks.parent, callbacks.handlers
        inheritable, metadata = callbacks.tags, dict(callbacks.metadata)
        local = callbacks.local_tag
        tags = inheritable if local is None else _add_tags(inheritable, (local,))
    elif isinstance(callbacks, (list, tuple)):
        for handler in callbacks:
            if not isinstance(handler, (BaseCallbackHandler, Sink)):
                raise TypeError(
                    "config['callbacks'] must hold BaseCallbackHandler instances,"
                    f" got {type(handler).__name__}"
                )
        parent, handlers, inheritable, metadata, tags = None, list(callbacks), [], {}, []
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
    return parent, handlers, tags, inheritable, metadata
