"""Export run trees to any OTLP backend with nothing but the standard OTEL_* variables.

    export OTEL_SERVICE_NAME=export-demo
    export OTEL_TRACES_EXPORTER=otlp                          # or console, none
    export OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317  # a Collector, Jaeger, Phoenix...
    export OTEL_EXPORTER_OTLP_PROTOCOL=grpc                   # or http/protobuf (port 4318)
    python examples/export_with_env.py

No endpoint, protocol or service name appears in the code: ``configure_tracing()`` reads
them all from the environment and installs the SDK with a batch span processor. The provider
is flushed at exit anyway; ``flush_tracing()`` here makes the script's last line say whether
the spans were delivered, and how many were not (it waits at most
``OTEL_RUNNABLES_FLUSH_TIMEOUT``, 3 s, so a backend that is down costs 3 s, not 30).
"""

from __future__ import annotations

import os

from otel_runnables import RunnableLambda, dispatch_custom_event
from otel_runnables.tracing import configure_tracing, flush_tracing


def tokenize(text: str) -> list[str]:
    tokens = text.split()
    dispatch_custom_event("tokenized", {"tokens": len(tokens), "first": tokens[0]})
    return tokens


def summarize(tokens: list[str]) -> str:
    return f"{len(tokens)} tokens, longest: {max(tokens, key=len)}"


chain = (RunnableLambda(tokenize) | summarize).with_config(run_name="export-demo")


def main() -> None:
    configure_tracing()
    print("result:", chain.invoke("spans travel over OTLP to any backend"))
    flushed = flush_tracing()  # true when every span was delivered
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "otlp")
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "(exporter default)")
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    print(f"exporter={exporter} protocol={protocol} endpoint={endpoint}")
    print(f"flushed={bool(flushed)}: {flushed.describe()}")


if __name__ == "__main__":
    main()
