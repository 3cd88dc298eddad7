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
from ._base import Runnable, coerce_to_runnable
from ._binding import RunnableBinding, RunnableRetry
from ._branch import RunnableBranch
from ._callbacks import AsyncCallbackHandler, BaseCallbackHandler
from ._config import RunnableConfig, ensure_config, get_config_list, merge_configs, patch_config
from ._config_specs import (
    ConfigurableField,
    ConfigurableFieldMultiOption,
    ConfigurableFieldSingleOption,
    ConfigurableFieldSpec,
)
from ._configurable import RunnableConfigurableAlternatives, RunnableConfigurableFields
from ._dispatch import adispatch_custom_event, dispatch_custom_event
from ._each import RunnableEach
from ._events import StreamEvent
from ._fallbacks import RunnableWithFallbacks
from ._generator import RunnableGenerator
from ._graph import Graph
from ._helpers import aadd, add, run_in_executor
from ._iter import AddableDict
from ._jsonschema import Schema
from ._lambda import RunnableLambda, chain
from ._listeners import ListenerRun
from ._parallel import RunnableMap, RunnableParallel
from ._passthrough import RunnableAssign, RunnablePassthrough, RunnablePick
from ._router import RouterInput, RouterRunnable
from ._sequence import RunnableSequence
from ._version import __version__

_foreign.install()  # langchain-core composes our runnables as its own (when it is imported)

__all__ = [
    "AddableDict",
    "AsyncCallbackHandler",
    "BaseCallbackHandler",
    "ConfigurableField",
    "ConfigurableFieldMultiOption",
    "ConfigurableFieldSingleOption",
    "ConfigurableFieldSpec",
    "Graph",
    "ListenerRun",
    "RouterInput",
    "RouterRunnable",
    "Runnable",
    "RunnableAssign",
    "RunnableBinding",
    "RunnableBranch",
    "RunnableConfig",
    "RunnableConfigurableAlternatives",
    "RunnableConfigurableFields",
    "RunnableEach",
    "RunnableGenerator",
    "RunnableLambda",
    "RunnableMap",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnablePick",
    "RunnableRetry",
    "RunnableSequence",
    "RunnableWithFallbacks",
    "Schema",
    "StreamEvent",
    "__version__",
    "aadd",
    "add",
    "adispatch_custom_event",
    "chain",
    "coerce_to_runnable",
    "dispatch_custom_event",
    "ensure_config",
    "get_config_list",
    "merge_configs",
    "patch_config",
    "run_in_executor",
]
