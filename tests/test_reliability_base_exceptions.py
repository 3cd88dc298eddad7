"""A ``__repr__`` (or ``model_dump``) raising a ``BaseException`` such as ``KeyboardInterrupt``
inside event data or a run's input never escapes: the span sink converts it to a placeholder and
every handler still gets the event."""

from __future__ import annotations

from typing import Any

import pytest

from otel_runnables import (
    BaseCallbackHandler,
    RunnableLambda,
    adispatch_custom_event,
    dispatch_custom_event,
)
from otel_runnables.testing import SpanRecorder

RAISED = [KeyboardInterrupt, SystemExit, GeneratorExit]


def _raising(kind: type[BaseException]) -> Any:
    class Hostile:
        def __repr__(self) -> str:
            raise kind("from __repr__")

        def model_dump(self) -> dict[str, Any]:
            raise kind("from model_dump")

    return Hostile()


class Collect(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append((name, data))


@pytest.mark.parametrize("kind", RAISED)
@pytest.mark.parametrize("how", ["sync", "async"])
async def test_raising_repr_in_event_data(
    otel_spans: SpanRecorder, kind: type[BaseException], how: str
) -> None:
    hostile = _raising(kind)
    data = {"x": hostile, "ok": 1}
    handler = Collect()

    def step(x: int) -> int:
        dispatch_custom_event("dict", data)
        dispatch_custom_event("bare", hostile)
        return x

    async def astep(x: int) -> int:
        await adispatch_custom_event("dict", data)
        await adispatch_custom_event("bare", hostile)
        return x

    if how == "sync":
        assert RunnableLambda(step).invoke(1, {"callbacks": [handler]}) == 1
    else:
        assert await RunnableLambda(astep).ainvoke(1, {"callbacks": [handler]}) == 1
    assert handler.events == [("dict", data), ("bare", hostile)]
    assert handler.events[1][1] is hostile
    (span,) = otel_spans.spans()
    dict_event, bare_event = span.events
    assert dict_event.attributes["ok"] == 1
    assert dict_event.attributes["x"] == '"<unrepresentable Hostile>"'
    assert bare_event.attributes["data"] == '"<unrepresentable Hostile>"'


@pytest.mark.parametrize("kind", RAISED)
async def test_raising_repr_in_astream_events(
    otel_spans: SpanRecorder, kind: type[BaseException]
) -> None:
    hostile = _raising(kind)

    async def astep(x: int) -> int:
        await adispatch_custom_event("bare", hostile)
        return x

    events = [e async for e in RunnableLambda(astep).astream_events(1, version="v2")]
    custom = [e for e in events if e["event"] == "on_custom_event"]
    assert len(custom) == 1 and custom[0]["data"] is hostile


@pytest.mark.parametrize("kind", RAISED)
def test_raising_repr_as_run_input(otel_spans: SpanRecorder, kind: type[BaseException]) -> None:
    hostile = _raising(kind)
    assert RunnableLambda(lambda x: x).invoke(hostile) is hostile
    (span,) = otel_spans.spans()
    assert span.attributes["input.value"] == '"<unrepresentable Hostile>"'
    assert span.attributes["output.value"] == '"<unrepresentable Hostile>"'
