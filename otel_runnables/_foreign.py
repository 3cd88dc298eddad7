"""Where the core meets langchain-core's own runnables and callback managers (mixed pipelines).

The core never imports langchain-core: an object can only be one of its runnables or callback
managers once langchain-core is imported, so each check looks in ``sys.modules`` first, and the
langchain-core side of the work lives in ``otel_runnables.langchain._mixed``, imported on first
use. Three points:

* :func:`is_foreign_runnable` — a langchain-core runnable is a step of our pipelines as it is
  (``ours | lc``): our config's scope reads as a langchain-core callback manager.
* :func:`foreign_lineage` — a langchain-core callback manager in ``config["callbacks"]`` (one of
  our runnables inside a langchain-core pipeline) gives the run's parent, handlers and tags;
  :func:`foreign_config` is the config of the langchain-core run whose code calls ours.
* :func:`install` — our ``Runnable`` is registered as a virtual subclass of langchain-core's
  ``Runnable`` (an ABC), so that langchain-core composes ours (``lc | ours``) as its own; the
  registration waits, with an import hook, until langchain-core is imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._scope import Lineage

__all__ = [
    "crossing",
    "foreign_config",
    "foreign_lineage",
    "install",
    "is_foreign_handler",
    "is_foreign_manager",
    "is_foreign_runnable",
]

_LC_BASE = "langchain_core.runnables.base"
_LC_CALLBACKS = "langchain_core.callbacks.base"


def is_foreign_runnable(thing: Any) -> bool:
    """Whether ``thing`` is a langchain-core runnable (that is not one of ours)."""
    base = sys.modules.get(_LC_BASE)
    if base is None:
        return False
    from ._base import Runnable

    return isinstance(thing, base.Runnable) and not isinstance(thing, Runnable)


def crossing() -> None:
    """A pipeline mixes both kinds: get the bridge ready before any of its runs starts."""
    from .langchain._mixed import prepare

    prepare()


def foreign_config() -> Any:
    """The config langchain-core gives the code of its current run (None outside one)."""
    config = sys.modules.get("langchain_core.runnables.config")
    return None if config is None else config.var_child_runnable_config.get()


def is_foreign_handler(handler: Any) -> bool:
    """Whether ``handler`` is a langchain-core callback handler."""
    callbacks = sys.modules.get(_LC_CALLBACKS)
    return callbacks is not None and isinstance(handler, callbacks.BaseCallbackHandler)


def is_foreign_manager(callbacks: Any) -> bool:
    """Whether ``callbacks`` is a langchain-core callback manager."""
    manager_type = getattr(sys.modules.get(_LC_CALLBACKS), "BaseCallbackManager", None)
    return manager_type is not None and isinstance(callbacks, manager_type)


def foreign_lineage(callbacks: Any) -> Lineage | None:
    """The lineage of a run whose config holds a langchain-core callback manager, else None."""
    if not is_foreign_manager(callbacks):
        return None
    from .langchain._mixed import lineage_of

    return lineage_of(callbacks)


# -- registering our Runnable with langchain-core ---------------------------------------------

_lock = threading.Lock()
_registered = False


def _register(module: ModuleType) -> None:
    global _registered
    from ._base import Runnable

    with _lock:
        if not _registered:
            module.Runnable.register(Runnable)
            _registered = True


class _Loader(importlib.abc.Loader):
    """Runs the real loader, then registers our Runnable with the module just executed."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        create = getattr(self._loader, "create_module", None)
        module: ModuleType | None = None if create is None else create(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _register(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of langchain-core's ``runnables.base``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _LC_BASE:
            return None
        sys.meta_path.remove(self)  # once: find the real spec with the other finders
        spec: importlib.machinery.ModuleSpec | None = None
        for finder in list(sys.meta_path):
            find_spec = getattr(finder, "find_spec", None)
            spec = None if find_spec is None else find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Register our ``Runnable`` with langchain-core now, or when it is imported."""
    module = sys.modules.get(_LC_BASE)
    if module is not None:
        _register(module)
    elif not any(isinstance(finder, _AfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())
