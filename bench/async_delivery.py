"""Async delivery under stress: deep nesting, the error path, event latency, memory, handlers.

Five probes, each run for otel_runnables and for langchain-core (untraced) side by side, every
measurement in a child interpreter of its own with a deadline (code that hangs is reported as
such and killed, not waited for):

    depth      a self-recursive RunnableLambda, each level a nested run dispatching one event,
               200 / 600 / 900 levels deep, with invoke, stream, ainvoke and astream_events
    errors     an error raised 100 / 200 / 400 levels deep (ainvoke, recursion limit raised to
               10,000 for both libraries), against the success path at the same depth, with and
               without an SDK; a runnable that invokes itself without end (RecursionError at
               the default recursion limit), sync and async
    latency    an async step doing 2 ms of work before each of 500 custom events: how long each
               event takes to reach the astream_events consumer; with 200,000 events and no
               work, when the first one arrives
    memory     events of 1 KiB to an astream_events consumer that sleeps 1 ms per event, from an
               async producer and from a sync one (a worker thread): memory above the start
               (tracemalloc peak, and the process's peak RSS)
    handlers   10 concurrent ainvoke runs, 5 custom events each, a sync handler sleeping 0.2 s
               per event: total time, and the longest gap between the ticks of a task that
               sleeps 5 ms at a time (how long the event loop was kept from running)

otel_runnables records into an SDK TracerProvider whose batch processor drops the spans (as in
bench/run.py), except where "no SDK" is said. The child imports the otel_runnables that
``python -c "import otel_runnables"`` finds: set PYTHONPATH to compare two trees.

    python bench/async_delivery.py                      # everything, about 4 minutes
    python bench/async_delivery.py depth latency        # some probes only
    python bench/async_delivery.py memory --events 200000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

PROBES = ("depth", "errors", "latency", "memory", "handlers")
LIBS = ("ours", "lc")


# --------------------------------------------------------------------------------------
# In the child: one measurement, printed as one JSON line
# --------------------------------------------------------------------------------------
def _library(lib: str, sdk: bool = True) -> SimpleNamespace:
    if lib == "lc":
        from langchain_core.callbacks import (
            BaseCallbackHandler,
            adispatch_custom_event,
            dispatch_custom_event,
        )
        from langchain_core.runnables import RunnableLambda
    else:
        from otel_runnables import (
            BaseCallbackHandler,
            RunnableLambda,
            adispatch_custom_event,
            dispatch_custom_event,
        )

        if sdk:
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import (
                BatchSpanProcessor,
                SpanExporter,
                SpanExportResult,
            )

            from otel_runnables.tracing import use_tracer_provider

            class Drop(SpanExporter):
                def export(self, spans: Any) -> SpanExportResult:
                    return SpanExportResult.SUCCESS

            provider = TracerProvider()
            provider.add_span_processor(BatchSpanProcessor(Drop(), max_queue_size=1 << 17))
            use_tracer_provider(provider)
    return SimpleNamespace(
        RunnableLambda=RunnableLambda,
        BaseCallbackHandler=BaseCallbackHandler,
        dispatch_custom_event=dispatch_custom_event,
        adispatch_custom_event=adispatch_custom_event,
    )


def _timed(func: Callable[[], Any]) -> tuple[float, str]:
    """(seconds, outcome): "ok", or the name of the exception ``func`` raised."""
    started = time.perf_counter()
    try:
        func()
        outcome = "ok"
    except BaseException as exc:
        outcome = type(exc).__name__
    return time.perf_counter() - started, outcome


def child_depth(lib: str, mode: str, depth: int) -> dict[str, Any]:
    L = _library(lib)
    got: list[int] = []

    def level(n: int) -> int:
        L.dispatch_custom_event("level", {"level": n})
        return n if n == 0 else nested.invoke(n - 1) + 1

    async def alevel(n: int) -> int:
        await L.adispatch_custom_event("level", {"level": n})
        return n if n == 0 else await anested.ainvoke(n - 1) + 1

    def slevel(n: int) -> Iterator[int]:
        L.dispatch_custom_event("level", {"level": n})
        if n == 0:
            yield 0
        else:
            yield from streamed.stream(n - 1)

    nested, anested, streamed = (L.RunnableLambda(f) for f in (level, alevel, slevel))

    async def events() -> None:
        async for event in anested.astream_events(depth, version="v2"):
            if event["event"] == "on_custom_event":
                got.append(event["data"]["level"])

    run: dict[str, Callable[[], Any]] = {
        "invoke": lambda: nested.invoke(depth),
        "stream": lambda: list(streamed.stream(depth)),
        "ainvoke": lambda: asyncio.run(anested.ainvoke(depth)),
        "astream_events": lambda: asyncio.run(events()),
    }
    seconds, outcome = _timed(run[mode])
    if outcome == "ok" and mode == "astream_events" and len(got) != depth + 1:
        outcome = f"{len(got)} of {depth + 1} events"
    return {"s": seconds, "outcome": outcome}


def child_error(lib: str, depth: int, kind: str, sdk: bool) -> dict[str, Any]:
    sys.setrecursionlimit(10_000)
    L = _library(lib, sdk)

    async def alevel(n: int) -> int:
        if n == 0:
            if fail:
                raise ValueError("at the bottom")
            return 0
        return await anested.ainvoke(n - 1)

    anested = L.RunnableLambda(alevel)
    fail = False
    asyncio.run(anested.ainvoke(10))  # warm-up
    fail = kind == "error"
    best, outcome, spent = float("inf"), "", 0.0
    for _ in range(5):  # the best of up to 5, within about 3 s
        seconds, outcome = _timed(lambda: asyncio.run(anested.ainvoke(depth)))
        best, spent = min(best, seconds), spent + seconds
        if spent > 3:
            break
    return {"s": best, "outcome": outcome}


def child_runaway(lib: str, mode: str) -> dict[str, Any]:
    L = _library(lib)
    deepest = [0]

    def level(n: int) -> int:
        deepest[0] = n
        return nested.invoke(n + 1)

    async def alevel(n: int) -> int:
        deepest[0] = n
        return await anested.ainvoke(n + 1)

    nested, anested = L.RunnableLambda(level), L.RunnableLambda(alevel)
    run = (lambda: nested.invoke(0)) if mode == "sync" else lambda: asyncio.run(anested.ainvoke(0))
    seconds, outcome = _timed(run)
    return {"s": seconds, "outcome": outcome, "depth": deepest[0]}


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def child_latency(lib: str, items: int, work_s: float) -> dict[str, Any]:
    L = _library(lib)

    async def step(x: int) -> int:
        for i in range(items):
            if work_s:
                _busy(work_s)
            await L.adispatch_custom_event("item", {"i": i, "sent": time.perf_counter()})
        return x

    async def consume() -> dict[str, Any]:
        start = time.perf_counter()
        latencies: list[float] = []
        first = None
        async for event in L.RunnableLambda(step).astream_events(1, version="v2"):
            if event["event"] == "on_custom_event":
                now = time.perf_counter()
                if first is None:
                    first = now - start
                latencies.append(now - event["data"]["sent"])
        total = time.perf_counter() - start
        return {
            "median_ms": statistics.median(latencies) * 1e3,
            "max_ms": max(latencies) * 1e3,
            "first_s": first,
            "total_s": total,
            "events": len(latencies),
        }

    return asyncio.run(consume())


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_memory(lib: str, producer: str, events: int, sleep_s: float) -> dict[str, Any]:
    L = _library(lib)
    blob = "x" * 1000

    async def aemit(x: int) -> int:
        for i in range(events):
            await L.adispatch_custom_event("item", {"i": i, "blob": blob + str(i)})
        return x

    def emit(x: int) -> int:
        for i in range(events):
            L.dispatch_custom_event("item", {"i": i, "blob": blob + str(i)})
        return x

    runnable = L.RunnableLambda(aemit if producer == "async" else emit)

    async def consume() -> tuple[int, bool]:
        got, in_order = 0, True
        async for event in runnable.astream_events(0, version="v2"):
            if event["event"] == "on_custom_event":
                in_order = in_order and event["data"]["i"] == got
                got += 1
                await asyncio.sleep(sleep_s)
        return got, in_order

    rss = _rss_mb()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    got, in_order = asyncio.run(consume())
    seconds = time.perf_counter() - started
    peak = (tracemalloc.get_traced_memory()[1] - base) / 1e6
    tracemalloc.stop()
    return {
        "peak_mb": peak,
        "rss_mb": _rss_mb() - rss,
        "got": got,
        "in_order": in_order,
        "s": seconds,
    }


def child_handlers(lib: str, runs: int, events: int, block_s: float) -> dict[str, Any]:
    L = _library(lib)

    class Blocking(L.BaseCallbackHandler):  # type: ignore[misc, name-defined]
        def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
            time.sleep(block_s)

    async def step(x: int) -> int:
        for i in range(events):
            await L.adispatch_custom_event("progress", i)
        return x

    async def main() -> dict[str, Any]:
        stall, done = [0.0], asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                stall[0] = max(stall[0], now - last)
                last = now

        ticking = asyncio.ensure_future(ticker())
        runnable, handler = L.RunnableLambda(step), Blocking()
        started = time.perf_counter()
        await asyncio.gather(*(runnable.ainvoke(i, {"callbacks": [handler]}) for i in range(runs)))
        total = time.perf_counter() - started
        done.set()
        await ticking
        return {"s": total, "stall_ms": stall[0] * 1e3}

    return asyncio.run(main())


def child_where() -> dict[str, Any]:
    import importlib.metadata

    import otel_runnables

    return {"ours": otel_runnables.__file__, "lc": importlib.metadata.version("langchain-core")}


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "where": child_where,
    "depth": child_depth,
    "error": child_error,
    "runaway": child_runaway,
    "latency": child_latency,
    "memory": child_memory,
    "handlers": child_handlers,
}


# --------------------------------------------------------------------------------------
# In the parent: one child per measurement, with a deadline
# --------------------------------------------------------------------------------------
def measure(name: str, *args: Any, timeout: float) -> dict[str, Any]:
    """Run ``CHILDREN[name](*args)`` in a child interpreter; {"hung": seconds} past ``timeout``."""
    command = [sys.executable, __file__, "--child", json.dumps([name, *args])]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"hung": timeout}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    return {"failed": (done.stderr.strip().splitlines() or ["no output"])[-1]}


def _outcome(result: dict[str, Any]) -> str:
    if "hung" in result:
        return f"no outcome in {result['hung']:.0f} s (killed)"
    if "failed" in result:
        return f"child failed: {result['failed']}"
    what = "completed" if result["outcome"] == "ok" else result["outcome"]
    depth = f" at depth {result['depth']}" if "depth" in result else ""
    return f"{what}{depth}, {result['s']:.2f} s"


def probe_depth(libs: list[str], args: argparse.Namespace) -> None:
    print("\n## 1. Nested runs (each level a nested run dispatching one event)\n")
    print("| mode | depth | " + " | ".join(libs) + " |")
    print("| --- | --- |" + " --- |" * len(libs))
    for mode in ("invoke", "stream", "ainvoke", "astream_events"):
        for depth in (200, 600, 900):
            cells = [
                _outcome(measure("depth", lib, mode, depth, timeout=args.timeout)) for lib in libs
            ]
            print(f"| {mode} | {depth} | " + " | ".join(cells) + " |", flush=True)


def probe_errors(libs: list[str], args: argparse.Namespace) -> None:
    print("\n## 2. The error path (ainvoke; recursion limit 10,000; best of up to 5)\n")
    print("| depth | lib | error | success | error / success | error, no SDK |")
    print("| --- | --- | --- | --- | --- | --- |")
    for depth in (100, 200, 400):
        for lib in libs:
            timeout = args.timeout * 6
            error = measure("error", lib, depth, "error", True, timeout=timeout)
            success = measure("error", lib, depth, "success", True, timeout=timeout)
            nosdk = (
                measure("error", lib, depth, "error", False, timeout=timeout)
                if lib == "ours"
                else None
            )
            ratio = f"{error['s'] / success['s']:.1f}x" if "s" in error and "s" in success else "-"
            print(
                f"| {depth} | {lib} | {_ms(error)} | {_ms(success)} | {ratio} | "
                f"{_ms(nosdk) if nosdk else '-'} |",
                flush=True,
            )
    print("\nA runnable that invokes itself without end (default recursion limit):\n")
    print("| mode | " + " | ".join(libs) + " |")
    print("| --- |" + " --- |" * len(libs))
    for mode in ("sync", "async"):
        cells = [_outcome(measure("runaway", lib, mode, timeout=args.timeout * 2)) for lib in libs]
        print(f"| {mode} | " + " | ".join(cells) + " |", flush=True)


def _ms(result: dict[str, Any]) -> str:
    if "s" not in result:
        return _outcome(result)
    bad = "" if result["outcome"] in ("ok", "ValueError") else f" ({result['outcome']})"
    return f"{result['s'] * 1e3:,.1f} ms{bad}"


def probe_latency(libs: list[str], args: argparse.Namespace) -> None:
    print("\n## 3. Event latency (astream_events, an async step)\n")
    print("| workload | lib | median latency | max latency | first event after | total |")
    print("| --- | --- | --- | --- | --- | --- |")
    for items, work in ((500, 0.002), (args.first_events, 0.0)):
        label = f"{items:,} events" + (f", {work * 1e3:g} ms work each" if work else ", no work")
        for lib in libs:
            r = measure("latency", lib, items, work, timeout=args.timeout * 12)
            if "median_ms" not in r:
                print(f"| {label} | {lib} | {_outcome(r)} | | | |", flush=True)
                continue
            print(
                f"| {label} | {lib} | {r['median_ms']:,.2f} ms | {r['max_ms']:,.1f} ms | "
                f"{r['first_s'] * 1e3:,.1f} ms | {r['total_s']:.2f} s |",
                flush=True,
            )


def probe_memory(libs: list[str], args: argparse.Namespace) -> None:
    n = args.events
    print(f"\n## 4. Memory: {n:,} events of 1 KiB, the consumer sleeps 1 ms per event\n")
    print("| producer | lib | tracemalloc peak | peak RSS growth | delivered | time |")
    print("| --- | --- | --- | --- | --- | --- |")
    for producer in ("async", "sync"):
        for lib in libs:
            r = measure("memory", lib, producer, n, 0.001, timeout=n * 0.01 + 120)
            if "peak_mb" not in r:
                print(f"| {producer} | {lib} | {_outcome(r)} | | | |", flush=True)
                continue
            order = "in order" if r["in_order"] else "OUT OF ORDER"
            print(
                f"| {producer} | {lib} | +{r['peak_mb']:,.1f} MB | +{r['rss_mb']:,.1f} MB | "
                f"{r['got']:,} of {n:,}, {order} | {r['s']:.1f} s |",
                flush=True,
            )


def probe_handlers(libs: list[str], args: argparse.Namespace) -> None:
    print("\n## 5. A blocking sync handler: 10 concurrent ainvoke, 5 events each, 0.2 s each\n")
    print("| lib | total | longest gap between 5 ms loop ticks |")
    print("| --- | --- | --- |")
    for lib in libs:
        r = measure("handlers", lib, 10, 5, 0.2, timeout=args.timeout * 3)
        if "s" not in r:
            print(f"| {lib} | {_outcome(r)} | |", flush=True)
            continue
        print(f"| {lib} | {r['s']:.2f} s | {r['stall_ms']:,.0f} ms |", flush=True)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        name, *child_args = json.loads(sys.argv[2])
        print(json.dumps(CHILDREN[name](*child_args)), flush=True)
        os._exit(0)  # (threads left running by code that failed must not keep us)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("probes", nargs="*", default=list(PROBES), help=f"some of {PROBES}")
    ap.add_argument("--lib", choices=(*LIBS, "both"), default="both")
    ap.add_argument("--events", type=int, default=20_000, help="memory probe events (20,000)")
    ap.add_argument(
        "--first-events", type=int, default=200_000, help="latency probe, first event (200,000)"
    )
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds a child may take (20)")
    args = ap.parse_args()
    unknown = set(args.probes) - set(PROBES)
    if unknown:
        print(f"unknown probes {sorted(unknown)}; known: {PROBES}", file=sys.stderr)
        return 2
    libs = list(LIBS) if args.lib == "both" else [args.lib]
    where = measure("where", timeout=args.timeout)
    print(
        f"otel_runnables from {where.get('ours')}; langchain-core {where.get('lc')}; "
        f"Python {sys.version.split()[0]}"
    )
    probes = {
        "depth": probe_depth,
        "errors": probe_errors,
        "latency": probe_latency,
        "memory": probe_memory,
        "handlers": probe_handlers,
    }
    for name in args.probes:
        probes[name](libs, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
