"""Every example of the custom-events guide (reference/000), with only the import swapped.

Each example runs twice: as written for Python >= 3.11 (no ``config`` passed to the dispatch
calls, which langchain-core cannot support on Python 3.10 in async code, but we can) and in the
guide's "propagate config manually" form. The expected values come from the guide's printed
output, with run ids compared by identity instead of by value.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from otel_runnables import (
    AsyncCallbackHandler,
    BaseCallbackHandler,
    RunnableConfig,
    RunnableLambda,
    adispatch_custom_event,
    dispatch_custom_event,
)

# -- the guide's runnables -----------------------------------------------------------------


@RunnableLambda
async def foo(x: str) -> str:
    await adispatch_custom_event("event1", {"x": x})
    await adispatch_custom_event("event2", 5)
    return x


@RunnableLambda
async def bar(x: str, config: RunnableConfig) -> str:
    """An example that shows how to manually propagate config."""
    await adispatch_custom_event("event1", {"x": x}, config=config)
    await adispatch_custom_event("event2", 5, config=config)
    return x


@RunnableLambda
def sync_foo(x: int, config: RunnableConfig) -> int:
    dispatch_custom_event("event1", {"x": x})
    dispatch_custom_event("event2", {"x": x})
    return x


@RunnableLambda
def sync_foo_explicit(x: int, config: RunnableConfig) -> int:
    dispatch_custom_event("event1", {"x": x}, config=config)
    dispatch_custom_event("event2", {"x": x}, config=config)
    return x


# -- the guide's handlers (they print, as in the guide) ------------------------------------


class AsyncCustomCallbackHandler(AsyncCallbackHandler):
    async def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        print(
            f"Received event {name} with data: {data}, with tags: {tags}, with metadata:"
            f" {metadata} and run_id: {run_id}"
        )


class CustomHandler(BaseCallbackHandler):
    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: uuid.UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        print(
            f"Received event {name} with data: {data}, with tags: {tags}, with metadata:"
            f" {metadata} and run_id: {run_id}"
        )


class RunIds(BaseCallbackHandler):
    """Records the run id of every run that starts (to check the events' run_id)."""

    def __init__(self) -> None:
        self.started: list[uuid.UUID] = []

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: uuid.UUID, **kw: Any) -> None:
        self.started.append(run_id)


LINE = re.compile(
    r"^Received event (\w+) with data: (.*), with tags: (.*), with metadata: (.*)"
    r" and run_id: ([0-9a-f-]{36})$"
)


def printed_events(out: str) -> list[tuple[str, ...]]:
    lines = [line for line in out.splitlines() if line]
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    return [m.groups() for m in matches if m]


# -- Astream Events API --------------------------------------------------------------------


def expected_stream(
    name: str, run_id: str, tags: list[str], metadata: dict[str, Any]
) -> list[dict[str, Any]]:
    common = {"name": name, "tags": tags, "run_id": run_id, "metadata": metadata, "parent_ids": []}
    return [
        {"event": "on_chain_start", "data": {"input": "hello world"}, **common},
        {**common, "event": "on_custom_event", "name": "event1", "data": {"x": "hello world"}},
        {**common, "event": "on_custom_event", "name": "event2", "data": 5},
        {"event": "on_chain_stream", "data": {"chunk": "hello world"}, **common},
        {"event": "on_chain_end", "data": {"output": "hello world"}, **common},
    ]


@pytest.mark.parametrize(("runnable", "name"), [(foo, "foo"), (bar, "bar")], ids=["auto", "manual"])
async def test_astream_events_show_custom_events(runnable: Any, name: str) -> None:
    events = [e async for e in runnable.astream_events("hello world", version="v2")]

    run_id = events[0]["run_id"]
    uuid.UUID(run_id)  # a real run id, as a string
    assert events == expected_stream(name, run_id, [], {})


@pytest.mark.parametrize(("runnable", "name"), [(foo, "foo"), (bar, "bar")], ids=["auto", "manual"])
async def test_astream_events_with_explicit_config(runnable: Any, name: str) -> None:
    run_id = uuid.uuid4()
    config: RunnableConfig = {"tags": ["foo", "bar"], "metadata": {"user": "ada"}, "run_id": run_id}

    events = [e async for e in runnable.astream_events("hello world", config, version="v2")]

    assert events == expected_stream(name, str(run_id), ["foo", "bar"], {"user": "ada"})


# -- Async callback handler ----------------------------------------------------------------


@pytest.mark.parametrize("runnable", [foo, bar], ids=["auto", "manual"])
async def test_async_handler_receives_events_with_tags(
    runnable: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async_handler = AsyncCustomCallbackHandler()
    ids = RunIds()

    result = await runnable.ainvoke(1, {"callbacks": [async_handler, ids], "tags": ["foo", "bar"]})

    assert result == 1
    (run_id,) = ids.started
    assert printed_events(capsys.readouterr().out) == [
        ("event1", "{'x': 1}", "['foo', 'bar']", "{}", str(run_id)),
        ("event2", "5", "['foo', 'bar']", "{}", str(run_id)),
    ]


async def test_async_handler_receives_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    await foo.ainvoke(
        1,
        {"callbacks": [AsyncCustomCallbackHandler()], "tags": ["foo"], "metadata": {"k": "v"}},
    )

    assert [e[:4] for e in printed_events(capsys.readouterr().out)] == [
        ("event1", "{'x': 1}", "['foo']", "{'k': 'v'}"),
        ("event2", "5", "['foo']", "{'k': 'v'}"),
    ]


# -- Sync callback handler -----------------------------------------------------------------


@pytest.mark.parametrize("runnable", [sync_foo, sync_foo_explicit], ids=["auto", "manual"])
def test_sync_handler_receives_events_with_tags(
    runnable: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = CustomHandler()
    ids = RunIds()

    result = runnable.invoke(1, {"callbacks": [handler, ids], "tags": ["foo", "bar"]})

    assert result == 1
    (run_id,) = ids.started
    assert printed_events(capsys.readouterr().out) == [
        ("event1", "{'x': 1}", "['foo', 'bar']", "{}", str(run_id)),
        ("event2", "{'x': 1}", "['foo', 'bar']", "{}", str(run_id)),
    ]


@pytest.mark.parametrize("runnable", [sync_foo, sync_foo_explicit], ids=["auto", "manual"])
async def test_sync_example_through_ainvoke(
    runnable: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The sync function runs in a worker thread; both handler kinds still get the events.
    ids = RunIds()
    config: RunnableConfig = {
        "callbacks": [CustomHandler(), AsyncCustomCallbackHandler(), ids],
        "tags": ["foo", "bar"],
    }

    assert await runnable.ainvoke(1, config) == 1

    (run_id,) = ids.started
    event1 = ("event1", "{'x': 1}", "['foo', 'bar']", "{}", str(run_id))
    event2 = ("event2", "{'x': 1}", "['foo', 'bar']", "{}", str(run_id))
    # Each event reaches the sync handler, then the async one, before the next is dispatched.
    assert printed_events(capsys.readouterr().out) == [event1, event1, event2, event2]


def test_dispatch_needs_a_run() -> None:
    # "You MUST call dispatch_custom_event inside an existing Runnable."
    with pytest.raises(RuntimeError, match=r"^Unable to dispatch an adhoc event without a parent"):
        dispatch_custom_event("event1", {"x": 1})
