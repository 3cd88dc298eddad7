"""Scenarios about custom events: the guide's examples, threads, filters, dispatch outside a run."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .scenarios import Lib, Recorder, scenario

# --------------------------------------------------------------------------- the guide, verbatim


@scenario()
async def s_guide_astream_events_foo(lib: Lib, rec: Recorder) -> None:
    """Guide: async ``foo`` dispatching without config, consumed by astream_events v2."""

    @lib.RunnableLambda
    async def foo(x: str) -> str:
        await lib.adispatch_custom_event("event1", {"x": x})
        await lib.adispatch_custom_event("event2", 5)
        return x

    await rec.events(foo, "hello world")


@scenario()
async def s_guide_astream_events_bar_explicit_config(lib: Lib, rec: Recorder) -> None:
    """Guide: ``bar`` propagates its config by hand."""

    @lib.RunnableLambda
    async def bar(x: str, config: lib.RunnableConfig) -> str:  # type: ignore[name-defined]
        await lib.adispatch_custom_event("event1", {"x": x}, config=config)
        await lib.adispatch_custom_event("event2", 5, config=config)
        return x

    await rec.events(bar, "hello world")


@scenario()
async def s_guide_async_handler_foo_tags(lib: Lib, rec: Recorder) -> None:
    """Guide: AsyncCallbackHandler overriding only on_custom_event, ainvoke with tags."""

    @lib.RunnableLambda
    async def foo(x: str) -> str:
        await lib.adispatch_custom_event("event1", {"x": x})
        await lib.adispatch_custom_event("event2", 5)
        return x

    handler = rec.handler(is_async=True, hooks=["on_custom_event"])
    await rec.aoutcome(foo.ainvoke(1, {"callbacks": [handler], "tags": ["foo", "bar"]}))


@scenario()
async def s_guide_async_handler_bar_tags(lib: Lib, rec: Recorder) -> None:
    """Guide variant: the explicit-config ``bar`` under an AsyncCallbackHandler."""

    @lib.RunnableLambda
    async def bar(x: str, config: lib.RunnableConfig) -> str:  # type: ignore[name-defined]
        await lib.adispatch_custom_event("event1", {"x": x}, config=config)
        await lib.adispatch_custom_event("event2", 5, config=config)
        return x

    handler = rec.handler(is_async=True, hooks=["on_custom_event"])
    await rec.aoutcome(bar.ainvoke(1, {"callbacks": [handler], "tags": ["foo", "bar"]}))


@scenario()
def s_guide_sync_handler_tags(lib: Lib, rec: Recorder) -> None:
    """Guide: sync CustomHandler, ``dispatch_custom_event`` without config, tags foo/bar."""

    @lib.RunnableLambda
    def foo(x: int, config: lib.RunnableConfig) -> int:  # type: ignore[name-defined]
        lib.dispatch_custom_event("event1", {"x": x})
        lib.dispatch_custom_event("event2", {"x": x})
        return x

    handler = rec.handler(hooks=["on_custom_event"])
    rec.outcome(foo.invoke, 1, {"callbacks": [handler], "tags": ["foo", "bar"]})


# --------------------------------------------------------------------------- sync steps, threads


@scenario()
async def s_custom_event_sync_step_astream_events(lib: Lib, rec: Recorder) -> None:
    """A sync step (run in a worker thread under astream_events) dispatches without config."""

    def step(x: int) -> int:
        lib.dispatch_custom_event("sync_progress", {"x": x, "stage": "half"})
        return x * 10

    seq = lib.RunnableLambda(lambda x: x + 1) | lib.RunnableLambda(step)
    await rec.events(seq, 1, {"metadata": {"req": "r1"}})


@scenario()
async def s_custom_event_sync_step_ainvoke_handler(lib: Lib, rec: Recorder) -> None:
    """Sync step under ainvoke with a sync handler: the event reaches the handler."""

    def step(x: int) -> int:
        lib.dispatch_custom_event("sync_progress", [x, x])
        return x

    handler = rec.handler()
    await rec.aoutcome(lib.RunnableLambda(step).ainvoke(3, {"callbacks": [handler]}))


@scenario()
def s_custom_event_raw_thread_explicit_config(lib: Lib, rec: Recorder) -> None:
    """A step starts its own threading.Thread and a ThreadPoolExecutor; both pass config."""

    def step(x: int, config: Any) -> int:
        thread = threading.Thread(
            target=lib.dispatch_custom_event,
            args=("from_thread", {"x": x}),
            kwargs={"config": config},
        )
        thread.start()
        thread.join()
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(lib.dispatch_custom_event, "from_pool", {"x": x}, config=config).result()
        return x

    handler = rec.handler()
    rec.outcome(
        lib.RunnableLambda(step, name="threaded").invoke,
        7,
        {"callbacks": [handler], "tags": ["t"], "metadata": {"m": 1}},
    )


@scenario()
async def s_custom_event_raw_thread_astream_events(lib: Lib, rec: Recorder) -> None:
    """Raw thread dispatch with explicit config while the root is consumed by astream_events."""

    def step(x: int, config: Any) -> int:
        thread = threading.Thread(
            target=lib.dispatch_custom_event,
            args=("from_thread", {"x": x}),
            kwargs={"config": config},
        )
        thread.start()
        thread.join()
        return x + 1

    await rec.events(lib.RunnableLambda(step, name="threaded"), 1)


@scenario()
def s_custom_event_raw_thread_without_config_fails(lib: Lib, rec: Recorder) -> None:
    """A raw thread gets no context: dispatching there without config is an error."""
    errors: list[BaseException] = []

    def dispatch() -> None:
        try:
            lib.dispatch_custom_event("lost", 1)
        except Exception as exc:
            errors.append(exc)

    def step(x: int) -> int:
        thread = threading.Thread(target=dispatch)
        thread.start()
        thread.join()
        return x

    handler = rec.handler()
    rec.outcome(lib.RunnableLambda(step).invoke, 1, {"callbacks": [handler]})
    rec.add("thread_errors", errors=errors)


@scenario()
def s_dispatch_outside_run(lib: Lib, rec: Recorder) -> None:
    """dispatch_custom_event outside any run: RuntimeError, message compared exactly."""
    rec.outcome(lib.dispatch_custom_event, "orphan", {"x": 1})


@scenario()
async def s_adispatch_outside_run(lib: Lib, rec: Recorder) -> None:
    """adispatch_custom_event outside any run: same RuntimeError."""
    await rec.aoutcome(lib.adispatch_custom_event("orphan", {"x": 1}))


class Opaque:
    """Not JSON-serialisable; compared by identity within one library."""

    def __repr__(self) -> str:
        return "Opaque()"


@scenario()
async def s_custom_event_object_identity(lib: Lib, rec: Recorder) -> None:
    """Non-JSON data reaches both the handler and astream_events as the very same object."""
    payload = Opaque()
    nested = {"obj": payload, "n": [1, 2]}

    async def step(x: int) -> int:
        await lib.adispatch_custom_event("obj_event", payload)
        await lib.adispatch_custom_event("nested_event", nested)
        return x

    handler = rec.handler(is_async=True)
    await rec.events(lib.RunnableLambda(step), 1, {"callbacks": [handler]})
    delivered = [
        r["data"]
        for r in rec.log
        if r.get("hook") == "on_custom_event" or r.get("event") == "on_custom_event"
    ]
    rec.add("identity", same=[d is payload or d is nested for d in delivered])


@scenario()
def s_metadata_inherited_into_custom_events(lib: Lib, rec: Recorder) -> None:
    """Metadata from call time, with_config of the parent and of the child merge into events."""

    def inner(x: int) -> int:
        lib.dispatch_custom_event("inner_event", {"x": x})
        return x

    child = lib.RunnableLambda(inner).with_config(metadata={"child": "c", "shared": "child"})

    def outer(x: int) -> int:
        lib.dispatch_custom_event("outer_event", {"x": x})
        return child.invoke(x)

    parent = lib.RunnableLambda(outer).with_config(
        metadata={"parent": "p", "shared": "parent"}, tags=["parent_tag"]
    )
    handler = rec.handler()
    rec.outcome(
        parent.invoke, 2, {"callbacks": [handler], "metadata": {"call": "k"}, "tags": ["call_tag"]}
    )


@scenario()
async def s_metadata_inherited_astream_events(lib: Lib, rec: Recorder) -> None:
    """Same inheritance seen through astream_events (async steps, no explicit config)."""

    async def inner(x: int) -> int:
        await lib.adispatch_custom_event("inner_event", {"x": x})
        return x

    child = lib.RunnableLambda(inner).with_config(metadata={"child": "c", "shared": "child"})

    async def outer(x: int) -> int:
        return await child.ainvoke(x)

    parent = lib.RunnableLambda(outer).with_config(metadata={"parent": "p", "shared": "parent"})
    await rec.events(parent, 2, {"metadata": {"call": "k"}, "tags": ["call_tag"]})


# --------------------------------------------------------------------------- astream_events filters


def _filter_chain(lib: Lib) -> Any:
    async def first(x: int) -> int:
        await lib.adispatch_custom_event("progress", {"step": "first"})
        return x + 1

    async def second(x: int) -> int:
        await lib.adispatch_custom_event("progress", {"step": "second"})
        return x * 2

    return (
        lib.RunnableLambda(first).with_config(tags=["keep"])
        | lib.RunnableLambda(second).with_config(run_name="Second", tags=["drop"])
    ).with_config(run_name="Root")


FIRST_EVENT_QUIRK = (
    "the oracle writes the root input into data['input'] of the first event it yields, even "
    "when that event is a child's start or a custom event (mutating the dispatched dict) and "
    "then drops 'input' from that run's end event"
)


def _filter_scenario(name: str, **filters: Any) -> None:
    async def run(lib: Lib, rec: Recorder) -> None:
        await rec.events(_filter_chain(lib), 1, **filters)

    run.__name__ = name
    run.__doc__ = f"astream_events with {filters}."
    scenario(quirk=FIRST_EVENT_QUIRK)(run)


_filter_scenario("filter_include_names", include_names=["Second"])
_filter_scenario("filter_include_types", include_types=["chain"])
_filter_scenario("filter_include_tags", include_tags=["keep"])
_filter_scenario("filter_exclude_names", exclude_names=["Second"])
_filter_scenario("filter_exclude_types", exclude_types=["chain"])
_filter_scenario("filter_exclude_tags", exclude_tags=["drop"])
_filter_scenario(
    "filter_include_and_exclude", include_tags=["keep", "drop"], exclude_names=["first"]
)
