"""The floor of tracing langchain-core with callbacks: one bare span per chain run, nothing else.

`bench/run.py` (column `lc+min`) and `bench/instructions.py` (cases `lc_min`, `lc_min_abc`)
measure it beside the bridge (`otel_runnables.langchain`) and the other instrumentations. The
handler starts a span in `on_chain_start`, under the span of `parent_run_id` taken from a
run_id -> span dict (the current span for a root run), and ends it in `on_chain_end` /
`on_chain_error`. No attributes, no status, no span events, no current span for the run's
code: whatever a real instrumentation does beyond this costs more.

It is installed the way the bridge installs itself: through langchain-core's public
`register_configure_hook`, with a switch object in place of the `ContextVar` (langchain-core
only calls its `get()`), registered once per process. `install()` points the switch at a
handler, `uninstall()` back to None; langchain-core then adds no handler at all. The handler
is `run_inline`, as the bridge's is, so that async runs call it in place rather than in a
thread pool.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tracers.context import register_configure_hook
from opentelemetry import trace

__all__ = ["SpanPerRun", "install", "uninstall"]


class SpanPerRun(BaseCallbackHandler):
    """One span per chain run, parented through a run_id -> span dict."""

    run_inline = True

    def __init__(self, tracer_provider: Any) -> None:
        self.tracer = tracer_provider.get_tracer("bench.span_per_run")
        self.spans: dict[UUID, Any] = {}

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        parent = self.spans.get(parent_run_id) if parent_run_id is not None else None
        context = None if parent is None else trace.set_span_in_context(parent)
        self.spans[run_id] = self.tracer.start_span(kwargs.get("name") or "chain", context)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        span = self.spans.pop(run_id, None)
        if span is not None:
            span.end()

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        span = self.spans.pop(run_id, None)
        if span is not None:
            span.end()


class _Switch:
    """What the configure hook reads: the handler, or None (not installed)."""

    def __init__(self) -> None:
        self.handler: SpanPerRun | None = None

    def get(self) -> SpanPerRun | None:
        return self.handler


_SWITCH = _Switch()
_registered = False


def install(tracer_provider: Any) -> None:
    """Trace every langchain-core chain run from now on, into `tracer_provider`."""
    global _registered
    if not _registered:
        register_configure_hook(_SWITCH, inheritable=True)  # type: ignore[arg-type]
        _registered = True
    _SWITCH.handler = SpanPerRun(tracer_provider)


def uninstall() -> None:
    """Stop: langchain-core adds the handler to no new run."""
    _SWITCH.handler = None
