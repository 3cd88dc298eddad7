"""otel_runnables: LangChain-compatible runnables where every run is an OpenTelemetry span.

Every run (invoke, stream, batch ...) becomes a span and every custom event a span event, while
callback handlers and ``astream_events(version="v2")`` receive the same events in-process.

Example:
    >>> from otel_runnables import RunnableLambda, dispatch_custom_event
    >>> def step(x):
    ...     dispatch_custom_event("progress", {"x": x})
    ...     return x + 1
    >>> (RunnableLambda(step) | (lambda x: x * 2)).invoke(1)
    4
"""

from . import _foreign
from ._base import Runnable
from ._binding import RunnableBinding, RunnableRetry
from ._callbacks import AsyncCallbackHandler, BaseCallbackHandler
from ._config import RunnableConfig, ensure_config, merge_configs, patch_config
from ._dispatch import adispatch_custom_event, dispatch_custom_event
from ._events import StreamEvent
from ._fallbacks import RunnableWithFallbacks
from ._generator import RunnableGenerator
from ._iter import AddableDict
from ._lambda import RunnableLambda, chain
from ._parallel import RunnableParallel
from ._passthrough import RunnableAssign, RunnablePassthrough, RunnablePick
from ._sequence import RunnableSequence
from ._version import __version__

_foreign.install()  # langchain-core composes our runnables as its own (when it is imported)

__all__ = [
    "AddableDict",
    "AsyncCallbackHandler",
    "BaseCallbackHandler",
    "Runnable",
    "RunnableAssign",
    "RunnableBinding",
    "RunnableConfig",
    "RunnableGenerator",
    "RunnableLambda",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnablePick",
    "RunnableRetry",
    "RunnableSequence",
    "RunnableWithFallbacks",
    "StreamEvent",
    "__version__",
    "adispatch_custom_event",
    "chain",
    "dispatch_custom_event",
    "ensure_config",
    "merge_configs",
    "patch_config",
]
