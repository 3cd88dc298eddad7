"""Overhead benchmark for otel_runnables and its langchain-core bridge (issues 6 and 14).

One process, interleaved rounds: every round samples each operation for every variant back to
back, in a rotating order, so that the noise of a shared 2-core machine hits all variants alike.
Reported figures are medians over rounds; only the ratios from one run mean anything.

    python bench/run.py                 # full run (< 10 minutes)
    python bench/run.py --quick         # smoke run for CI (< 30 s)
    python bench/run.py --json out.json # also write the results as JSON

Every variant is checked to record what it claims: spans and span events reaching its
exporter are counted per sample, and custom events reaching the counting handler too.
A variant that records nothing where it should is an error (exit status 1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

N_EVENTS = 100  # custom events dispatched by the event steps
BATCH = 100  # inputs per batch() call
PAYLOAD = {"index": 7, "label": "progress", "ratio": 0.5, "done": False}  # same everywhere


# --------------------------------------------------------------------------------------
# Span sinks: where a variant's spans go, and how many arrived
# --------------------------------------------------------------------------------------
class CountingExporter(SpanExporter):
    """Counts spans and span events, then drops them: no I/O in the measured path."""

    def __init__(self) -> None:
        self.spans = 0
        self.events = 0

    def export(self, spans: Any) -> SpanExportResult:
        self.spans += len(spans)
        self.events += sum(len(s.events) for s in spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class Sink:
    """A TracerProvider set-up plus a way to read (and reset) what it recorded."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.provider: Any
        if kind == "nosdk":
            self.provider = None  # the global provider: the API's proxy to no-op tracers
            return
        self.provider = TracerProvider()
        if kind == "batch":
            self.exporter: Any = CountingExporter()
            # a queue large enough that no span is dropped while a sample runs
            self.provider.add_span_processor(
                BatchSpanProcessor(self.exporter, max_queue_size=1 << 17)
            )
        elif kind == "simple":
            self.exporter = InMemorySpanExporter()
            self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        else:
            raise ValueError(kind)

    def take(self) -> tuple[int, int] | None:
        """(spans, span events) exported since the last take(); None if unknowable."""
        if self.kind == "nosdk":
            return None
        self.provider.force_flush()
        if self.kind == "batch":
            counts = (self.exporter.spans, self.exporter.events)
            self.exporter.spans = self.exporter.events = 0
            return counts
        spans = self.exporter.get_finished_spans()
        self.exporter.clear()
        return len(spans), sum(len(s.events) for s in spans)


class GuardSink:
    """For untraced langchain-core: the sum of the instrumentors' sinks, which must be 0."""

    kind = "guard"

    def __init__(self, sinks: list[Sink]) -> None:
        self.sinks = sinks

    def take(self) -> tuple[int, int]:
        counts = [s.take() or (0, 0) for s in self.sinks]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)


# --------------------------------------------------------------------------------------
# Operations, written once against a langchain-like namespace L
# --------------------------------------------------------------------------------------
@dataclass
class Op:
    name: str
    label: str
    runs: int  # runs (= spans when traced) per call, as langchain-core makes them
    events: int = 0  # custom events per call
    is_async: bool = False
    roots: int = 1  # root runs per call (what an instrumentation tracing only those records)


OPS = [
    Op("invoke1", "invoke, 1 step", 1),
    Op("invoke3", "invoke a|b|c", 4),
    Op("invoke3_mixed", "invoke a|b|c, b langchain", 4),
    Op("batch100", f"batch of {BATCH}", BATCH, roots=BATCH),
    Op("ainvoke_async", "ainvoke, async fn", 1, is_async=True),
    Op("ainvoke_sync", "ainvoke, sync fn", 1, is_async=True),
    Op("events_sync", f"invoke, {N_EVENTS} events", 1, N_EVENTS),
    Op("events_async", f"ainvoke, {N_EVENTS} events", 1, N_EVENTS, is_async=True),
    Op("astream_events", f"astream_events, {N_EVENTS} ev", 1, N_EVENTS, is_async=True),
]
RAW_OPS = [
    Op("raw_span", "raw: start_span+end", 1),
    Op("raw_span_current", "raw: as_current_span", 1),
    Op("raw_span_attrs", "raw: span + a run's attributes", 1),
    Op("raw_events", f"raw: span+{N_EVENTS} add_event", 1, N_EVENTS),
]
ALL_OPS = {op.name: op for op in OPS + RAW_OPS}
# the order of a round: each raw op right after the operation it is compared with
ROUND_ORDER = ["invoke1", "raw_span", "raw_span_current", "raw_span_attrs", "invoke3",
               "invoke3_mixed", "batch100", "ainvoke_async", "ainvoke_sync", "events_sync",
               "raw_events", "events_async", "astream_events"]
assert sorted(ROUND_ORDER) == sorted(ALL_OPS)


@dataclass
class Call:
    fn: Callable[[], Any]
    delivered: Callable[[], int] | None = None  # custom events that reached the consumer


def build_calls(L: Any, config: dict[str, Any], foreign: Any = None) -> dict[str, Call]:
    """The measured callables. `config` is merged into every invoke's config; `foreign`, a
    langchain-core namespace, adds the mixed a|b|c whose step b is langchain-core's."""

    def add_one(x: int) -> int:
        return x + 1

    async def aadd_one(x: int) -> int:
        return x + 1

    def emit(x: int) -> int:
        for _ in range(N_EVENTS):
            L.dispatch_custom_event("progress", PAYLOAD)
        return x

    async def aemit(x: int) -> int:
        for _ in range(N_EVENTS):
            await L.adispatch_custom_event("progress", PAYLOAD)
        return x

    class Counter(L.BaseCallbackHandler):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self.n = 0

        def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
            self.n += 1

    class ACounter(L.AsyncCallbackHandler):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self.n = 0

        async def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
            self.n += 1

    step = L.RunnableLambda(add_one)
    abc = L.RunnableLambda(add_one) | L.RunnableLambda(add_one) | L.RunnableLambda(add_one)
    astep = L.RunnableLambda(aadd_one)
    emitter, aemitter = L.RunnableLambda(emit), L.RunnableLambda(aemit)
    counter, acounter, streamed = Counter(), ACounter(), [0]
    cfg = dict(config)
    cfg_sync = {**cfg, "callbacks": [counter]}
    cfg_async = {**cfg, "callbacks": [acounter]}
    inputs = list(range(BATCH))

    async def stream() -> None:
        async for ev in aemitter.astream_events(1, cfg, version="v2"):
            if ev["event"] == "on_custom_event":
                streamed[0] += 1

    calls = {
        "invoke1": Call(lambda: step.invoke(1, cfg)),
        "invoke3": Call(lambda: abc.invoke(1, cfg)),
        "batch100": Call(lambda: step.batch(inputs, cfg)),
        "ainvoke_async": Call(lambda: astep.ainvoke(1, cfg)),
        "ainvoke_sync": Call(lambda: step.ainvoke(1, cfg)),
        "events_sync": Call(lambda: emitter.invoke(1, cfg_sync), lambda: counter.n),
        "events_async": Call(lambda: aemitter.ainvoke(1, cfg_async), lambda: acounter.n),
        "astream_events": Call(stream, lambda: streamed[0]),
    }
    if foreign is not None:
        mixed = L.RunnableLambda(add_one) | foreign.RunnableLambda(add_one) | L.RunnableLambda(
            add_one)
        calls["invoke3_mixed"] = Call(lambda: mixed.invoke(1, cfg))
    return calls


_RAW_OUTPUT = {"output.value": "1", "output.mime_type": "application/json"}


def raw_run_span(tracer: Any, context: Any = None) -> Any:
    """A raw span carrying what a traced run records at its start, set the way a plain
    instrumentation would: the floor for "recording everything" with the SDK."""
    return tracer.start_span("step", context=context, attributes={
        "runnable.run_id": str(uuid.uuid4()), "runnable.run_type": "chain",
        "openinference.span.kind": "CHAIN", "input.value": "1",
        "input.mime_type": "application/json"})


def raw_runs(tracer: Any, children: int) -> None:
    """A raw run span with its output attributes, and `children` such spans under it."""
    root = raw_run_span(tracer)
    context = trace.set_span_in_context(root) if children else None
    for _ in range(children):
        span = raw_run_span(tracer, context)
        span.set_attributes(_RAW_OUTPUT)
        span.end()
    root.set_attributes(_RAW_OUTPUT)
    root.end()


def build_raw_calls(provider: Any) -> dict[str, Call]:
    tracer = provider.get_tracer("bench.raw")

    def span() -> None:
        tracer.start_span("step").end()

    def span_current() -> None:
        with tracer.start_as_current_span("step"):
            pass

    def span_attrs() -> None:
        raw_runs(tracer, 0)

    def events() -> None:
        s = tracer.start_span("step")
        for _ in range(N_EVENTS):
            s.add_event("progress", PAYLOAD)
        s.end()

    return {"raw_span": Call(span), "raw_span_current": Call(span_current),
            "raw_span_attrs": Call(span_attrs), "raw_events": Call(events)}


def langchain_namespace() -> Any:
    from langchain_core.callbacks import (
        AsyncCallbackHandler,
        BaseCallbackHandler,
        adispatch_custom_event,
        dispatch_custom_event,
    )
    from langchain_core.runnables import RunnableLambda

    return SimpleNamespace(
        RunnableLambda=RunnableLambda, BaseCallbackHandler=BaseCallbackHandler,
        AsyncCallbackHandler=AsyncCallbackHandler, dispatch_custom_event=dispatch_custom_event,
        adispatch_custom_event=adispatch_custom_event,
    )


# --------------------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------------------
@dataclass
class Variant:
    key: str  # column name
    title: str
    calls: dict[str, Call]
    sink: Any = None  # Sink / GuardSink / None
    records_spans: bool = False  # spans are expected in the sink
    records_events: bool = False  # custom events are expected as span events
    enter: Callable[[], None] = lambda: None  # called before each round (instrument)
    leave: Callable[[], None] = lambda: None  # called after each round (uninstrument)
    strict: bool = False  # a span count other than one per run is an error, not a warning
    roots_only: bool = False  # what it claims is one span per root run (OTel contrib)
    left_wrapped: set[str] = field(default_factory=set)  # what its uninstrument() left in place
    samples: dict[str, list[float]] = field(default_factory=dict)  # seconds per call
    counts: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)


# What the peers wrap for the whole process (module, class, attribute). OpenLLMetry's
# uninstrument() leaves every one of its wrappers in place: it passes dotted attribute names
# ("BaseCallbackManager.__init__", "Pregel.stream") to unwrap(), which silently does nothing
# with them. Left alone, its wrappers would trace later rounds of the other langchain-core
# variants (BaseCallbackManager.__init__), and the wrappers of LangGraph's Pregel.stream would
# pile up round after round, under which the OTel contrib instrumentor's instrument() (which
# takes inspect.signature() of what it wraps) soon takes seconds, then minutes.
PATCHED = (
    ("langchain_core.callbacks", "BaseCallbackManager", "__init__"),
    ("langgraph.pregel", "Pregel", "stream"),
    ("langgraph.pregel", "Pregel", "astream"),
    ("langgraph.types", "Command", "__init__"),
    ("langgraph.prebuilt.chat_agent_executor", None, "create_react_agent"),
    ("langgraph.prebuilt", None, "create_react_agent"),
)


def originals() -> list[tuple[Any, str, Any]]:
    """(owner, attribute, original value) of every PATCHED attribute that exists here."""
    out = []
    for module, cls, attr in PATCHED:
        try:
            owner: Any = importlib.import_module(module)
            if cls is not None:
                owner = getattr(owner, cls)
        except Exception:  # LangGraph is optional
            continue
        if attr in vars(owner):
            out.append((owner, attr, vars(owner)[attr]))
    return out


def instrumentor_variant(key: str, title: str, make: Callable[[], Any], sink: Sink,
                         **options: Any) -> Variant:
    """langchain-core + an instrumentor that is switched on only during its own rounds.

    After each uninstrument() every PATCHED attribute is put back as it was (see there); what
    an instrumentor left in place is named in a note. That no tracing is left on is checked:
    the untraced langchain-core variant counts every span these sinks receive and must see
    none. `options` go to instrument() (the contrib instrumentor needs skip_dep_check: it
    checks for the `langchain` package, not langchain-core).
    """
    saved = originals()
    instrumentor = make()

    def enter() -> None:
        instrumentor.instrument(tracer_provider=sink.provider, **options)

    def leave() -> None:
        instrumentor.uninstrument()
        for owner, attr, original in saved:
            if vars(owner).get(attr) is not original:
                variant.left_wrapped.add(f"{owner.__name__.rpartition('.')[2]}.{attr}")
                setattr(owner, attr, original)

    variant = Variant(key, title, build_calls(langchain_namespace(), {}), sink, True, False,
                      enter=enter, leave=leave)
    return variant


def span_per_run_variant(sink: Sink) -> Variant:
    """langchain-core + the minimal span-per-run handler of bench/span_per_run.py: the floor."""
    import span_per_run

    return Variant("lc+min", "langchain-core + a minimal span-per-run handler (the floor)",
                   build_calls(langchain_namespace(), {}), sink, True, False,
                   enter=lambda: span_per_run.install(sink.provider),
                   leave=span_per_run.uninstall)


# ---- otel_runnables adapter: the only code that knows how otel_runnables is wired ----------
def otel_runnables_variants() -> tuple[list[Variant], str | None]:
    """The three otel_runnables variants, or ([], reason) when the package is not importable.

    otel_runnables.tracing.use_tracer_provider() sets the provider for the whole process, so
    each variant points it at its own provider when its round starts. The no-SDK variant uses
    the global provider, which nobody in this process sets: the API's proxy, i.e. no-op tracers.
    """
    try:
        import otel_runnables as orun
        from otel_runnables.tracing import use_tracer_provider
    except Exception as exc:  # the package may not exist yet
        return [], f"otel_runnables not importable ({type(exc).__name__}: {exc})"
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        raise RuntimeError("a global tracer provider is set: the no-SDK variant would trace")
    try:
        foreign = langchain_namespace()
        from otel_runnables.langchain._mixed import shared
    except Exception:  # langchain-core not installed: no mixed pipeline
        foreign = None

    def leave() -> None:
        use_tracer_provider(None)
        if foreign is not None:  # the mixed a|b|c's crossing wrapped langchain-core's context
            shared()[1].uninstall()  # functions: untraced langchain-core must not run wrapped
    out = []
    for key, title, kind in (
        ("or-noSDK", "otel_runnables, no SDK (API no-op tracer)", "nosdk"),
        ("or+batch", "otel_runnables + SDK + BatchSpanProcessor", "batch"),
        ("or+simple", "otel_runnables + SDK + Simple + InMemory", "simple"),
    ):
        sink = Sink(kind)
        traced = kind != "nosdk"
        out.append(Variant(
            key, title, build_calls(orun, {}, foreign), sink if traced else None, traced, traced,
            enter=lambda p=sink.provider: use_tracer_provider(p), leave=leave,
        ))
    return out, None


def bridge_variant(sink: Sink) -> Variant:
    """langchain-core traced by otel_runnables.langchain (the bridge), into its own provider.

    The bridge is instrumented at the start of each of its rounds with that provider and
    uninstrumented at the end (its configure hook then hands langchain-core no handler, and its
    wrappers are removed). It must record one span per langchain-core run and one span event
    per custom event.
    """
    from otel_runnables.langchain import LangChainInstrumentor

    instrumentor = LangChainInstrumentor()
    return Variant(
        "lc+OR", "langchain-core + otel_runnables.langchain (the bridge)",
        build_calls(langchain_namespace(), {}), sink, True, True, strict=True,
        enter=lambda: instrumentor.instrument(tracer_provider=sink.provider),
        leave=instrumentor.uninstrument,
    )


# --------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------
async def _timed_async(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        await fn()
    return time.perf_counter() - t0


def timed(call: Call, op: Op, n: int, loop: asyncio.AbstractEventLoop) -> float:
    """Wall time of n calls."""
    if op.is_async:
        return loop.run_until_complete(_timed_async(call.fn, n))
    fn = call.fn
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - t0


def calibrate(call: Call, op: Op, target: float, loop: asyncio.AbstractEventLoop) -> int:
    """Calls per sample so that one sample lasts about `target` seconds."""
    timed(call, op, 3, loop)  # first calls pay for imports, caches, thread pools: not timed
    n = 1
    while True:
        elapsed = timed(call, op, n, loop)
        if elapsed >= target / 4 or n >= 1 << 20:
            return max(1, round(n * target / max(elapsed, 1e-9)))
        n *= 4


def freeze_heap() -> None:
    """Moves what is alive now (modules, variants, caches) out of the collector's sight: the
    gc.collect() before each sample then walks only what runs left behind, in milliseconds
    instead of a tenth of a second over the heap of ten variants' imports."""
    gc.collect()
    gc.freeze()


@dataclass
class Bench:
    variants: list[Variant]
    rounds: int
    target: float
    loop: asyncio.AbstractEventLoop
    sizes: dict[tuple[str, str], int] = field(default_factory=dict)

    def sample(self, v: Variant, op_name: str, n: int, record: bool) -> None:
        call, op = v.calls[op_name], ALL_OPS[op_name]
        before = call.delivered() if call.delivered else 0
        if v.sink is not None:
            v.sink.take()  # start from zero
        gc.collect()
        gc.disable()  # as timeit does: the collector's pauses depend on this process' heap
        try:
            elapsed = timed(call, op, n, self.loop)
        finally:
            gc.enable()
        got = v.sink.take() if v.sink is not None else None
        delivered = (call.delivered() - before) if call.delivered else -1
        if record:
            v.samples.setdefault(op_name, []).append(elapsed / n)
            spans, events = got if got is not None else (-1, -1)
            v.counts.setdefault(op_name, []).append((n, spans, events, delivered))

    def run(self, progress: Callable[[str], None], deadline: float) -> int:
        """Warm-up, then the measured rounds; stops early (after 3) past `deadline`."""
        for v in self.variants:  # warm-up round: calibrates n per (variant, op)
            v.enter()
            try:
                for op_name, call in v.calls.items():
                    n = calibrate(call, ALL_OPS[op_name], self.target, self.loop)
                    self.sizes[v.key, op_name] = n
                    self.sample(v, op_name, n, record=False)
            finally:
                v.leave()
        freeze_heap()
        for r in range(self.rounds):
            if r >= 3 and time.perf_counter() > deadline:
                progress(f"time budget spent: stopping after {r} rounds")
                return r
            progress(f"round {r + 1}/{self.rounds}")
            for i, op_name in enumerate(ROUND_ORDER):
                # one operation for every variant back to back, so that the samples compared
                # with each other are taken close together; the order rotates every time
                having = [v for v in self.variants if op_name in v.calls]
                k = (r + i) % max(1, len(having))
                for v in having[k:] + having[:k]:
                    v.enter()
                    try:
                        self.sample(v, op_name, self.sizes[v.key, op_name], record=True)
                    finally:
                        v.leave()
        return self.rounds


def peak_allocation(fn: Callable[[], Any], runs: int) -> float:
    """Median over `runs` calls of the peak traced allocation during one call (tracing on)."""
    for _ in range(runs):
        fn()
    peaks = []
    for _ in range(runs):
        gc.collect()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
    return statistics.median(peaks)


def measure_memory(v: Variant, growth_runs: int, peak_runs: int) -> dict[str, float]:
    """Peak traced allocation of one run, and what stays allocated after many runs."""
    out: dict[str, float] = {}
    v.enter()
    try:
        tracemalloc.start()
        for op_name in ("invoke1", "invoke3"):
            out[f"peak_{op_name}"] = peak_allocation(v.calls[op_name].fn, peak_runs)
        fn = v.calls["invoke1"].fn
        for _ in range(min(1000, growth_runs)):  # let caches and pools settle first
            fn()
        if v.sink is not None:
            v.sink.take()  # exported and (in-memory exporter) cleared: not the runtime's memory
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(growth_runs):
            fn()
        if v.sink is not None:
            v.sink.take()
        gc.collect()
        out["growth"] = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
        v.leave()
    return out


def measure_raw_memory(provider: Any, peak_runs: int) -> dict[str, float]:
    """The SDK's own share: peaks of raw run spans shaped like the 1-step and a|b|c runs."""
    tracer = provider.get_tracer("bench.raw")
    tracemalloc.start()
    try:
        return {"peak_invoke1": peak_allocation(lambda: raw_runs(tracer, 0), peak_runs),
                "peak_invoke3": peak_allocation(lambda: raw_runs(tracer, 3), peak_runs)}
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------
def median(v: Variant | None, op: str) -> float | None:
    if v is None or op not in v.samples:
        return None
    return statistics.median(v.samples[op])


def verify(variants: list[Variant]) -> tuple[list[str], list[str], list[str], list[str]]:
    """A grid of what reached each sink per call, plus errors, warnings and notes."""
    errors, warnings, notes = [], [], []
    head = f"{'recorded per call':<30}" + "".join(f"{v.key:>13}" for v in variants)
    grid = {op: f"{ALL_OPS[op].label:<30}" for op in ALL_OPS}
    for v in variants:
        silent = []
        for op_name, op in ALL_OPS.items():
            samples = v.counts.get(op_name)
            if not samples:
                grid[op_name] += f"{'':>13}"
                continue
            n = sum(s[0] for s in samples)
            spans, events, deliv = (sum(s[i] for s in samples) for i in (1, 2, 3))
            cell = "/".join("-" if x < 0 else f"{x / n:g}" for x in (spans, events, deliv))
            grid[op_name] += f"{cell:>13}"
            where = f"{v.key} {op_name}"
            if op.events and deliv >= 0 and deliv != op.events * n:
                errors.append(f"{where}: consumer got {deliv / n:g} custom events per call,"
                              f" expected {op.events}")
            if spans < 0:
                continue
            expected = op.roots if v.roots_only else op.runs
            if v.records_spans and spans == 0:
                errors.append(f"{where}: recorded no spans")
            elif v.records_spans and spans != expected * n:
                (errors if v.strict else warnings).append(
                    f"{where}: {spans / n:g} spans per call, expected {expected}"
                    + (" (one per root run)" if v.roots_only else
                       f" (langchain-core makes {op.runs} runs)"))
            elif not v.records_spans and spans:
                errors.append(f"{where}: {spans / n:g} spans per call where none are expected")
            if op.events and v.records_events and events != op.events * n:
                errors.append(f"{where}: {events / n:g} span events per call,"
                              f" expected {op.events}")
            elif op.events and v.records_spans and not v.records_events and events == 0:
                silent.append(op_name)
        if silent:
            notes.append(f"{v.key} records no custom events (0 span events in {', '.join(silent)})")
        if v.left_wrapped:
            notes.append(f"{v.key}: uninstrument() left {', '.join(sorted(v.left_wrapped))}"
                         " wrapped (run.py put the originals back)")
        if v.roots_only:
            notes.append(f"{v.key} records root runs only (one span per call of a|b|c, whose"
                         " langchain-core makes 4 runs): it makes no span for chain steps")
    rows = [head, "-" * len(head), *(row for row in grid.values() if row[30:].strip())]
    legend = "(spans / span events / custom events delivered to the handler or stream;"
    rows.append(legend + " '-' = nothing to count)")
    return rows, errors, warnings, notes


def fmt_us(x: float | None) -> str:
    return "-" if x is None else f"{x * 1e6:,.1f}"


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def report(variants: list[Variant], memory: dict[str, dict[str, float]]) -> dict[str, Any]:
    by = {v.key: v for v in variants}
    lc, raw = by.get("lc"), by.get("raw")
    cols = [v for v in variants if v.key != "raw"]
    if not cols:
        return {}
    raw_span = median(raw, "raw_span")
    raw_event = div((median(raw, "raw_events") or 0) - (raw_span or 0), N_EVENTS) \
        if raw_span is not None else None
    head = f"{'operation (µs/call, median)':<30}" + "".join(f"{v.key:>11}" for v in cols)
    print("\n" + head + "\n" + "-" * len(head))
    for op in OPS:
        print(f"{op.label:<30}" + "".join(f"{fmt_us(median(v, op.name)):>11}" for v in cols))
    for op in RAW_OPS:
        print(f"{op.label:<30}{fmt_us(median(raw, op.name)):>11}   (raw OTel, SDK + batch)")

    def per_event(v: Variant | None, events: str, plain: str) -> float | None:
        with_events, without = median(v, events), median(v, plain)
        return div(with_events - without, N_EVENTS) if with_events and without else None

    # what a custom event costs in otel_runnables' own runs plus langchain-core's dispatch
    own_plus_lc = {
        mode: (a + b) if a is not None and b is not None else None
        for mode, a, b in (
            ("sync", per_event(by.get("or+batch"), "events_sync", "invoke1"),
             per_event(lc, "events_sync", "invoke1")),
            ("async", per_event(by.get("or+batch"), "events_async", "ainvoke_async"),
             per_event(lc, "events_async", "ainvoke_async")),
        )
    }
    derived: dict[str, dict[str, float | None]] = {}
    for v in cols:
        inv1, ainv = median(v, "invoke1"), median(v, "ainvoke_async")
        per_ev_s = per_event(v, "events_sync", "invoke1")
        per_ev_a = per_event(v, "events_async", "ainvoke_async")
        stream = median(v, "astream_events")
        derived[v.key] = {
            "invoke1 / raw span": div(inv1, raw_span),
            "invoke1 / raw span + same attributes": div(inv1, median(raw, "raw_span_attrs")),
            "a|b|c / 4 raw spans": div(median(v, "invoke3"), 4 * raw_span if raw_span else None),
            "custom event, sync / raw add_event": div(per_ev_s, raw_event),
            "custom event, async / raw add_event": div(per_ev_a, raw_event),
            "invoke1 / untraced lc": div(inv1, median(lc, "invoke1")),
            "invoke a|b|c / untraced lc": div(median(v, "invoke3"), median(lc, "invoke3")),
            "mixed a|b|c / lc+OR a|b|c": div(median(v, "invoke3_mixed"),
                                             median(by.get("lc+OR"), "invoke3")),
            "batch / untraced lc": div(median(v, "batch100"), median(lc, "batch100")),
            "ainvoke async / untraced lc": div(ainv, median(lc, "ainvoke_async")),
            "ainvoke sync / untraced lc": div(median(v, "ainvoke_sync"),
                                              median(lc, "ainvoke_sync")),
            "astream_events ev/s / untraced lc": div(median(lc, "astream_events"), stream),
            "custom event sync / (or+batch + lc)": div(per_ev_s, own_plus_lc["sync"]),
            "custom event async / (or+batch + lc)": div(per_ev_a, own_plus_lc["async"]),
            "_custom event sync µs": per_ev_s,
            "_custom event async µs": per_ev_a,
            "_astream_events ev/s": div(N_EVENTS, stream),
        }
    print(f"\nraw floor: span start+end {fmt_us(raw_span)} µs, add_event {fmt_us(raw_event)} µs,"
          f" start_as_current_span {fmt_us(median(raw, 'raw_span_current'))} µs,"
          f" span + a run's attributes {fmt_us(median(raw, 'raw_span_attrs'))} µs"
          f" ({div(median(raw, 'raw_span_attrs'), raw_span) or 0:.2f}x the bare span)")
    head = f"{'ratio (medians)':<38}" + "".join(f"{v.key:>11}" for v in cols)
    print("\n" + head + "\n" + "-" * len(head))
    for name in derived[cols[0].key]:
        if not name.startswith("_"):
            print(f"{name:<38}" + "".join(f"{fmt_ratio(derived[v.key][name]):>11}" for v in cols))
    print(f"{'custom event, sync (µs each)':<38}"
          + "".join(f"{fmt_us(derived[v.key]['_custom event sync µs']):>11}" for v in cols))
    print(f"{'custom event, async (µs each)':<38}"
          + "".join(f"{fmt_us(derived[v.key]['_custom event async µs']):>11}" for v in cols))
    print(f"{'astream_events custom events/s':<38}" + "".join(
        f"{derived[v.key]['_astream_events ev/s'] or 0:>11,.0f}" for v in cols))
    if memory:
        print()
        head = f"{'memory (tracemalloc)':<38}" + "".join(f"{k:>11}" for k in memory)
        print(head + "\n" + "-" * len(head))
        for name, label in (("peak_invoke1", "peak per invoke, 1 step (KiB)"),
                            ("peak_invoke3", "peak per invoke a|b|c (KiB)"),
                            ("growth", "growth after growth runs (KiB)")):
            print(f"{label:<38}" + "".join(f"{m[name] / 1024:>11,.1f}" for m in memory.values()))
    return derived


TARGETS = [  # (label, derived key, comparison, bound, variant it applies to)
    ("traced invoke <= 1.5x raw span", "invoke1 / raw span", "<=", 1.5, "or+batch"),
    ("traced a|b|c <= 1.5x 4 raw spans", "a|b|c / 4 raw spans", "<=", 1.5, "or+batch"),
    ("custom event sync <= 1.5x add_event", "custom event, sync / raw add_event", "<=", 1.5,
     "or+batch"),
    ("custom event async <= 2.5x add_event", "custom event, async / raw add_event", "<=", 2.5,
     "or+batch"),
    ("astream_events >= 3x lc events/s", "astream_events ev/s / untraced lc", ">=", 3.0,
     "or+batch"),
    ("traced invoke <= 1/3 untraced lc", "invoke1 / untraced lc", "<=", 1 / 3, "or+batch"),
    ("traced ainvoke <= 1/3 untraced lc", "ainvoke async / untraced lc", "<=", 1 / 3,
     "or+batch"),
    ("no-SDK invoke < 1/5 untraced lc", "invoke1 / untraced lc", "<", 1 / 5, "or-noSDK"),
]
BRIDGE_TARGETS = [  # issue 14: langchain-core traced by the bridge, against untraced
    ("traced invoke <= 1.4x untraced lc", "invoke1 / untraced lc", "<=", 1.4, "lc+OR"),
    ("traced a|b|c <= 1.4x untraced lc", "invoke a|b|c / untraced lc", "<=", 1.4, "lc+OR"),
    ("custom event sync <= or+batch + lc", "custom event sync / (or+batch + lc)", "<=", 1.0,
     "lc+OR"),
    ("custom event async <= or+batch + lc", "custom event async / (or+batch + lc)", "<=", 1.0,
     "lc+OR"),
    ("astream_events >= 0.9x lc events/s", "astream_events ev/s / untraced lc", ">=", 0.9,
     "lc+OR"),
]
MIXED_TARGETS = [  # issue 15: a|b|c with one langchain-core step, against the bridge's a|b|c
    ("mixed a|b|c <= lc+OR a|b|c", "mixed a|b|c / lc+OR a|b|c", "<=", 1.0, "or+batch"),
]


def target_table(title: str, targets: list[tuple[str, str, str, float, str]],
                 derived: dict[str, dict[str, float | None]], peers: list[str]
                 ) -> list[dict[str, Any]]:
    """Prints one targets table (the peers' values beside) and returns its verdicts."""
    head = f"{title:<40}{'variant':>10}{'value':>9}{'ok':>5}" + "".join(
        f"{k:>10}" for k in peers)
    print("\n" + head + "\n" + "-" * len(head))
    out = []
    for label, key, cmp, bound, vkey in targets:
        value = derived.get(vkey, {}).get(key)
        ok = None if value is None else (value <= bound if cmp == "<=" else
                                         value >= bound if cmp == ">=" else value < bound)
        mark = "-" if ok is None else ("yes" if ok else "NO")
        print(f"{label:<40}{vkey:>10}{fmt_ratio(value):>9}{mark:>5}"
              + "".join(f"{fmt_ratio(derived[k].get(key)):>10}" for k in peers))
        out.append({"target": label, "variant": vkey, "value": value, "ok": ok})
    return out


def print_targets(derived: dict[str, dict[str, float | None]],
                  memory: dict[str, dict[str, float]], growth_runs: int,
                  raw_memory: dict[str, float]) -> list[dict[str, Any]]:
    peers = [k for k in ("lc", "lc+OI", "lc+OLLM") if k in derived]
    out = target_table("target (issue 6)", TARGETS, derived, peers)
    mem_rows = (  # label, metric, unit divisor, unit, test against langchain-core's value
        ("peak per 1-step run < lc", "peak_invoke1", 1024, "K", lambda x, ref: x < ref),
        ("peak per a|b|c run < lc", "peak_invoke3", 1024, "K", lambda x, ref: x < ref),
        ("retained after runs < 10 B/run", "growth", growth_runs, "B", lambda x, ref: x < 10),
    )
    for label, metric, scale, unit, test in mem_rows if "lc" in memory else ():
        for vkey in ("or+batch", "or-noSDK"):
            if vkey in memory:
                value, ref = memory[vkey][metric] / scale, memory["lc"][metric] / scale
                ok = bool(test(value, ref))
                print(f"{label:<40}{vkey:>10}{value:>8.1f}{unit}{'yes' if ok else 'NO':>5}"
                      + "".join(f"{memory[k][metric] / scale:>9.1f}{unit}" for k in peers))
                out.append({"target": label, "variant": vkey, "value": value, "ok": ok})
    if raw_memory and "lc" in memory:
        one, abc = raw_memory["peak_invoke1"] / 1024, raw_memory["peak_invoke3"] / 1024
        lc_abc = memory["lc"]["peak_invoke3"] / 1024
        print(f"raw floor memory: a span with a run's attributes {one:.1f}K, four shaped as"
              f" a|b|c {abc:.1f}K: {lc_abc - abc:.1f}K of untraced lc's {lc_abc:.1f}K left for"
              " the runtime of a traced a|b|c")
    if "lc+OR" in derived:
        peers = [k for k in ("lc+min", "lc+OI", "lc+OLLM", "lc+OTel") if k in derived]
        out += target_table("target (issue 14)", BRIDGE_TARGETS, derived, peers)
        own = {k: derived.get(k, {}) for k in ("lc+OR", "or+batch", "lc")}
        for mode in ("sync", "async"):
            per = {k: d.get(f"_custom event {mode} µs") for k, d in own.items()}
            print(f"custom event, {mode} (µs each): lc+OR {fmt_us(per['lc+OR'])},"
                  f" or+batch {fmt_us(per['or+batch'])} + lc {fmt_us(per['lc'])}")
        if "or+batch" in derived:
            out += target_table("target (issue 15)", MIXED_TARGETS, derived, ["or+simple"])
    return out


def machine_info() -> dict[str, Any]:
    cpu = platform.processor()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    versions = {}
    for dist in ("otel-runnables", "langchain-core", "opentelemetry-api", "opentelemetry-sdk",
                 "openinference-instrumentation-langchain",
                 "opentelemetry-instrumentation-langchain",
                 "opentelemetry-instrumentation-genai-langchain"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpu": cpu,
            "cores": os.cpu_count(), "packages": versions}


PEERS = (  # key, title, module, class, instrument() options, records root runs only
    ("lc+OI", "langchain-core + OpenInference instrumentor",
     "openinference.instrumentation.langchain", "LangChainInstrumentor", {}, False),
    ("lc+OLLM", "langchain-core + OpenLLMetry instrumentor",
     "opentelemetry.instrumentation.langchain", "LangchainInstrumentor", {}, False),
    ("lc+OTel", "langchain-core + OpenTelemetry's instrumentation (genai-langchain)",
     "opentelemetry.instrumentation.genai.langchain", "LangChainInstrumentor",
     {"skip_dep_check": True}, True),
)


def langchain_variants(problems: list[str]) -> list[Variant]:
    """Untraced langchain-core, and langchain-core traced by the bridge, by the minimal
    span-per-run handler and by each peer instrumentation, as far as installed."""
    try:
        from langchain_core.callbacks import BaseCallbackManager
    except ImportError as exc:  # langchain-core 1.x needs Python 3.11+
        problems.append(f"langchain-core variants skipped: {exc}")
        return []
    lc = Variant("lc", "langchain-core, untraced", build_calls(langchain_namespace(), {}))
    traced: list[Variant] = []
    try:
        traced.append(bridge_variant(Sink("batch")))
    except Exception as exc:
        problems.append(f"lc+OR skipped: otel_runnables.langchain not importable"
                        f" ({type(exc).__name__}: {exc})")
    traced.append(span_per_run_variant(Sink("batch")))
    for key, title, module, cls, options, roots_only in PEERS:
        try:
            make = getattr(__import__(module, fromlist=[cls]), cls)
        except Exception as exc:
            problems.append(f"{key} skipped: cannot import {module} ({exc})")
            continue
        peer = instrumentor_variant(key, title, make, Sink("batch"), **options)
        peer.roots_only = roots_only
        traced.append(peer)
    # checks that every uninstrument() really switched tracing off
    lc.sink = GuardSink([v.sink for v in traced])
    assert not hasattr(BaseCallbackManager.__init__, "__wrapped__"), "langchain-core is patched"
    return [lc, *traced]


def make_variants(problems: list[str]) -> list[Variant]:
    peers = langchain_variants(problems)
    ours, why = otel_runnables_variants()
    if why:
        problems.append(why)
    raw_sink = Sink("batch")
    raw = Variant("raw", "raw OTel floor (SDK + BatchSpanProcessor)",
                  build_raw_calls(raw_sink.provider), raw_sink, True, True)
    return [*peers, *ours, raw]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run (< 30 s), e.g. for CI")
    ap.add_argument("--json", metavar="PATH", help="write results as JSON")
    ap.add_argument("--rounds", type=int, help="measured rounds (default 21, quick 2)")
    ap.add_argument("--target-time", type=float, help="seconds per sample (default 0.06)")
    ap.add_argument("--growth-runs", type=int, help="runs for memory growth (default 10000)")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    ap.add_argument("--budget", type=float, default=300.0,
                    help="seconds after which no new round starts (default 300; memory follows)")
    args = ap.parse_args()
    for var in ("LANGCHAIN_TRACING_V2", "LANGSMITH_TRACING", "LANGCHAIN_TRACING"):
        os.environ.pop(var, None)  # never let langchain-core's own tracer run
    rounds = args.rounds or (2 if args.quick else 21)
    target = args.target_time or (0.01 if args.quick else 0.06)
    growth_runs = args.growth_runs or (200 if args.quick else 10_000)
    t_start = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    problems: list[str] = []
    variants = make_variants(problems)
    freeze_heap()
    info = machine_info()
    print(f"python {info['python']} on {info['platform']}, {info['cores']} cores, {info['cpu']}")
    print(", ".join(f"{k} {v}" for k, v in info["packages"].items()))
    print(f"up to {rounds} interleaved rounds, ~{target * 1e3:.0f} ms per sample; variants:")
    for v in variants:
        print(f"  {v.key:<10} {v.title}")
    loop = asyncio.new_event_loop()
    try:
        rounds = Bench(variants, rounds, target, loop).run(progress, t_start + args.budget)
    finally:
        loop.close()
    memory: dict[str, dict[str, float]] = {}
    raw_memory: dict[str, float] = {}
    if not args.no_memory:
        for v in variants:
            if "invoke1" in v.calls:
                progress(f"memory {v.key}")
                memory[v.key] = measure_memory(v, growth_runs, 5 if args.quick else 15)
        raw_sink = variants[-1].sink
        assert raw_sink is not None and variants[-1].key == "raw"
        raw_memory = measure_raw_memory(raw_sink.provider, 5 if args.quick else 15)
        raw_sink.take()
    rows, errors, warnings, notes = verify(variants)
    derived = report(variants, memory)
    if memory:
        print(f"(growth: {growth_runs} invokes of 1 step, after gc, exporters drained)")
    targets = print_targets(derived, memory, growth_runs, raw_memory)
    print("\n" + "\n".join(rows))
    problems += notes
    for msg in problems:
        print(f"NOTE: {msg}")
    for msg in warnings:
        print(f"WARNING: {msg}")
    for msg in errors:
        print(f"ERROR: {msg}")
    print(f"\n{rounds} rounds, total {time.perf_counter() - t_start:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({
                "machine": info, "rounds": rounds, "target_time": target,
                "growth_runs": growth_runs,
                "variants": {v.key: {"title": v.title, "samples_s": v.samples,
                                     "median_s": {op: median(v, op) for op in v.samples},
                                     "counts": v.counts} for v in variants},
                "derived": derived, "memory": memory, "raw_memory": raw_memory,
                "targets": targets,
                "notes": problems, "warnings": warnings, "errors": errors,
            }, f, indent=1)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
