"""Instructions per call, counted by valgrind (callgrind): the noise-free view of bench/run.py.

Wall times on a shared 2-core machine swing by several percent between runs; instruction counts
do not (they repeat to within 1%). Each case runs in its own interpreter under
callgrind, once with 0 and once with N calls after the same warm-up (fixed hash seed, no export
while counting); the difference divided by N is what one call costs. Instructions are not time
(allocation and cache behaviour differ between code), but their ratios move with the code, not
with the machine's load.

    python bench/instructions.py            # needs valgrind; about 10 minutes on 2 cores
    python bench/instructions.py invoke lc  # some cases only
    python bench/instructions.py lc lc_abc lc_or lc_or_abc lc_min lc_min_abc \
        invoke events lc_events lc_or_events  # the langchain-core bridge's cases

Cases (SDK + BatchSpanProcessor whose exporter drops spans, as in bench/run.py):
    raw      a raw span carrying a traced run's attributes (its floor with the SDK)
    minimal  a traced run written by hand: run id, attributes, span and run made current
             around the function, output attributes (what any runtime must do at least)
    invoke   otel_runnables, 1-step invoke
    nosdk    otel_runnables, 1-step invoke, no SDK (the API's no-op tracer)
    lc       langchain-core, 1-step invoke, untraced
    abc      otel_runnables, a|b|c invoke
    lc_abc   langchain-core, a|b|c invoke, untraced
    ainvoke  otel_runnables, 1-step ainvoke of an async function (calls awaited one after the
             other in one coroutine, as in bench/run.py); lc_ainvoke: langchain-core's
    span     a bare raw span; span100: with 100 add_event (the payload of bench/run.py)
    events   otel_runnables, a step dispatching 100 custom events to a counting handler
             (per event: (events - invoke) / 100, against (span100 - span) / 100)

langchain-core traced by the bridge (otel_runnables.langchain, instrumented with the provider
above) and by the minimal span-per-run handler of bench/span_per_run.py (the floor), beside
untraced langchain-core (`lc`, `lc_abc`, `lc_events`; no configure hook registered there):
    lc_or, lc_or_abc    1-step and a|b|c invoke, bridge; lc_min, lc_min_abc: minimal handler
    lc_events           langchain-core, a step dispatching 100 custom events to a counting
                        handler, untraced; lc_or_events: traced by the bridge (per event:
                        (lc_or_events - lc_or) / 100, against otel_runnables' own
                        (events - invoke) / 100 plus langchain-core's (lc_events - lc) / 100)
    lc_min_events       the same with the minimal handler, which has no on_custom_event of its
                        own: what langchain-core's dispatch costs for one more handler
    mixed_abc           a mixed a|b|c: otel_runnables steps a and c around a langchain-core
                        step b (traced without instrument(): the pipeline carries its span
                        sink across), against lc_or_abc, the all-langchain a|b|c of the bridge

Run metrics:
    invoke_m, abc_m  invoke and abc with an SDK MeterProvider too (run metrics recorded; an
             in-memory reader, never collected while counting)
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys

CASES = (
    "raw",
    "minimal",
    "invoke",
    "nosdk",
    "lc",
    "abc",
    "lc_abc",
    "ainvoke",
    "lc_ainvoke",
    "span",
    "span100",
    "events",
    "lc_or",
    "lc_or_abc",
    "lc_min",
    "lc_min_abc",
    "lc_events",
    "lc_or_events",
    "lc_min_events",
    "mixed_abc",
    "invoke_m",
    "abc_m",
)
BENCH = os.path.dirname(os.path.abspath(__file__))

_CHILD = r"""
import contextvars, sys, time, uuid
from opentelemetry import context as otel_context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

class Drop(SpanExporter):
    def export(self, spans):
        return SpanExportResult.SUCCESS

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(  # never exports while counting
    Drop(), schedule_delay_millis=600_000, max_queue_size=100_000, max_export_batch_size=100_000))
tracer = provider.get_tracer("bench.instructions")
case, n = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[3])  # bench/, for span_per_run
step = lambda x: x + 1
current = contextvars.ContextVar("current", default=None)

def raw():
    span = tracer.start_span("step", attributes={
        "runnable.run_id": str(uuid.uuid4()), "runnable.run_type": "chain",
        "openinference.span.kind": "CHAIN", "input.value": "1",
        "input.mime_type": "application/json"})
    span.set_attributes({"output.value": "2", "output.mime_type": "application/json"})
    span.end()

def minimal(x=1):
    run_id = str(uuid.uuid4())
    span = tracer.start_span("step", attributes={
        "runnable.run_id": run_id, "runnable.run_type": "chain",
        "openinference.span.kind": "CHAIN", "input.value": str(x),
        "input.mime_type": "application/json"}, start_time=time.time_ns())
    token, otel_token = current.set(run_id), otel_context.attach(trace.set_span_in_context(span))
    try:
        out = step(x)
    finally:
        otel_context.detach(otel_token)
        current.reset(token)
    span.set_attributes({"output.value": str(out), "output.mime_type": "application/json"})
    span.end()

PAYLOAD = {"index": 7, "label": "progress", "ratio": 0.5, "done": False}

def span():
    tracer.start_span("step").end()

def span100():
    span = tracer.start_span("step")
    for _ in range(100):
        span.add_event("progress", PAYLOAD)
    span.end()

SHAPES = {"invoke": "one", "nosdk": "one", "lc": "one", "lc_or": "one", "lc_min": "one",
          "abc": "abc", "lc_abc": "abc", "lc_or_abc": "abc", "lc_min_abc": "abc",
          "ainvoke": "async", "lc_ainvoke": "async",
          "events": "events", "lc_events": "events", "lc_or_events": "events",
          "lc_min_events": "events", "mixed_abc": "mixed",
          "invoke_m": "one", "abc_m": "abc"}
shape = SHAPES.get(case)
if shape == "mixed":
    from langchain_core.runnables import RunnableLambda as LcLambda
    from otel_runnables import RunnableLambda
    from otel_runnables.tracing import use_tracer_provider
    use_tracer_provider(provider)
    runnable = RunnableLambda(step) | LcLambda(step) | RunnableLambda(step)
    call = lambda: runnable.invoke(1, {})
elif shape is not None and not case.startswith("lc"):
    from otel_runnables import BaseCallbackHandler, RunnableLambda, dispatch_custom_event
    from otel_runnables.tracing import use_tracer_provider
    if case != "nosdk":
        use_tracer_provider(provider)
    if case.endswith("_m"):
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from otel_runnables.tracing import use_meter_provider
        use_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
elif shape is not None:
    from langchain_core.callbacks import BaseCallbackHandler, dispatch_custom_event
    from langchain_core.runnables import RunnableLambda
    if case.startswith("lc_or"):
        from otel_runnables.langchain import LangChainInstrumentor
        LangChainInstrumentor().instrument(tracer_provider=provider)
    elif case.startswith("lc_min"):
        import span_per_run
        span_per_run.install(provider)
if shape in (None, "mixed"):
    pass
elif shape == "one":
    runnable = RunnableLambda(step)
    call = lambda: runnable.invoke(1, {})
elif shape == "abc":
    runnable = RunnableLambda(step) | RunnableLambda(step) | RunnableLambda(step)
    call = lambda: runnable.invoke(1, {})
elif shape == "async":
    import asyncio

    async def astep(x):
        return x + 1

    runnable = RunnableLambda(astep)

    async def calls(k):
        for _ in range(k):
            await runnable.ainvoke(1, {})

    loop = asyncio.new_event_loop()
    call = lambda: None
    loop.run_until_complete(calls(200))
    loop.run_until_complete(calls(n))
    n = 0
elif shape == "events":

    class Counter(BaseCallbackHandler):
        n = 0

        def on_custom_event(self, name, data, **kwargs):
            self.n += 1

    def emit(x):
        for _ in range(100):
            dispatch_custom_event("progress", PAYLOAD)
        return x

    emitter, config = RunnableLambda(emit), {"callbacks": [Counter()]}
    call = lambda: emitter.invoke(1, config)
if shape is None:
    call = {"raw": raw, "minimal": minimal, "span": span, "span100": span100}[case]
for _ in range(200):
    call()
for _ in range(n):
    call()
"""


def _count(case: str, calls: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            _CHILD,
            case,
            str(calls),
            BENCH,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},  # the same dict layouts in every run
    ).stderr
    match = re.search(r"Collected : (\d+)", out)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output for {case!r}:\n{out}")
    return int(match.group(1))


def per_call(case: str, calls: int) -> float:
    """Instructions of one call of `case` (N calls minus none, same start-up and warm-up)."""
    return (_count(case, calls) - _count(case, 0)) / calls


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=500, help="calls per measurement (500)")
    ap.add_argument("cases", nargs="*", default=list(CASES), help=f"some of {CASES}")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    unknown = set(args.cases) - set(CASES)
    if unknown:
        print(f"unknown cases {sorted(unknown)}; known: {CASES}", file=sys.stderr)
        return 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda case: per_call(case, args.calls), args.cases)
        counts = dict(zip(args.cases, results, strict=True))
    for case, value in counts.items():
        print(f"{case:<14} {value:>11,.0f} instructions/call")
    pairs = [
        ("invoke", "lc"),
        ("minimal", "lc"),
        ("invoke", "minimal"),
        ("invoke", "raw"),
        ("nosdk", "lc"),
        ("abc", "lc_abc"),
        ("ainvoke", "lc_ainvoke"),
        ("lc_or", "lc"),
        ("lc_or_abc", "lc_abc"),
        ("lc_min", "lc"),
        ("lc_min_abc", "lc_abc"),
        ("lc_or", "lc_min"),
        ("lc_or_abc", "lc_min_abc"),
        ("mixed_abc", "lc_or_abc"),
        ("mixed_abc", "lc_abc"),
        ("invoke_m", "invoke"),
        ("abc_m", "abc"),
    ]
    for a, b in pairs:
        if a in counts and b in counts:
            print(f"{a} / {b}: {counts[a] / counts[b]:.3f}")
    if {"events", "invoke", "span", "span100"} <= set(counts):
        event = (counts["events"] - counts["invoke"]) / 100
        add_event = (counts["span100"] - counts["span"]) / 100
        print(
            f"custom event (span event + handler call) / raw add_event: {event / add_event:.3f}"
            f" ({event:,.0f} / {add_event:,.0f})"
        )
    if {"lc_or_events", "lc_or", "events", "invoke", "lc_events", "lc"} <= set(counts):
        bridged = (counts["lc_or_events"] - counts["lc_or"]) / 100
        own = (counts["events"] - counts["invoke"]) / 100
        dispatch = (counts["lc_events"] - counts["lc"]) / 100
        print(
            f"custom event, bridge / (otel_runnables' own + langchain-core's dispatch):"
            f" {bridged / (own + dispatch):.3f} ({bridged:,.0f} / ({own:,.0f} + {dispatch:,.0f}))"
        )
        if {"lc_min_events", "lc_min"} <= set(counts):
            one_more = (counts["lc_min_events"] - counts["lc_min"]) / 100 - dispatch
            print(
                f"custom event, bridge's share {bridged - dispatch:,.0f}: langchain-core"
                f" calling one more handler {one_more:,.0f}, the bridge's hook and span event"
                f" {bridged - dispatch - one_more:,.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
