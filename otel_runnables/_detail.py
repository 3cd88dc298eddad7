"""What another source of runs adds to the span of one of its runs: :class:`SpanDetail`.

The langchain-core bridge gives its model, tool and retriever runs one (``run.detail``); the span
sink asks it for the span name and kind and for attributes besides the run mapping. It is the one
extension point of the span sink.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from opentelemetry.trace import SpanKind

if TYPE_CHECKING:
    from ._run import Run

__all__ = ["SpanDetail"]


class SpanDetail(Protocol):
    """What another source of runs adds to one of its runs (a model, tool or retriever run of
    the langchain-core bridge): its span name and kind, attributes of its own besides the run
    mapping (each method gets the value length limit and whether inputs and outputs are hidden),
    and the payloads of its events in an event stream. It must not raise (the sinks log and
    carry on if it does)."""

    span_name: str
    kind: SpanKind

    def start_attributes(self, run: Run, limit: int, hide_io: bool) -> dict[str, Any]:
        """Attributes known at the start (request parameters, input messages ...)."""
        ...

    def end_attributes(self, run: Run, outputs: Any, limit: int, hide_io: bool) -> dict[str, Any]:
        """Attributes known at the end (usage, response, output messages ...)."""
        ...

    def output_value(self, outputs: Any) -> Any:
        """What ``output.value`` shows of ``outputs``."""
        ...

    def chunk_value(self, chunk: Any) -> Any:
        """What a ``chunk`` span event shows of one streamed chunk."""
        ...

    # What an event stream (``astream_events``) shows of the run, as langchain-core shows it.

    def event_input(self) -> Any:
        """The ``input`` of its start and end events."""
        ...

    def event_output(self, outputs: Any) -> Any:
        """The ``output`` of its end event."""
        ...

    def event_error(self, error: BaseException) -> dict[str, Any] | None:
        """The data of an error event, for the runs that have one (tools), else None."""
        ...
