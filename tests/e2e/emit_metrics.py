"""Run a native pipeline (one step fails) and a bridged chat model call, exporting as the OTEL_*
variables say; the run metrics are exported by the shutdown at exit.

Run in a subprocess by ``test_otlp_metrics.py`` (``configure_tracing()`` installs the global
providers, which can be set once per process). Prints one JSON line with the results.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/: the bridge tests' fake model

from bridge._support import ScriptedChatModel

from otel_runnables import RunnableLambda, RunnableParallel
from otel_runnables.langchain import LangChainInstrumentor
from otel_runnables.tracing import configure_tracing


def retrieve(question: str) -> list[str]:
    return ["doc-1", "doc-2"]


def count(docs: list[str]) -> int:
    return len(docs)


def explode(docs: list[str]) -> str:
    raise ValueError("no answer")


def main() -> dict[str, object]:
    configure_tracing()
    LangChainInstrumentor().instrument()
    pipeline = (RunnableLambda(retrieve) | RunnableParallel(total=count)).with_config(
        run_name="answer"
    )
    results: list[object] = [pipeline.invoke("q1"), pipeline.invoke("q2")]
    try:
        (RunnableLambda(retrieve) | RunnableLambda(explode)).with_config(run_name="failing").invoke(
            "q3"
        )
    except ValueError as exc:
        results.append(type(exc).__name__)
    results.append(str(ScriptedChatModel().invoke("what is 1 + 2?").content))
    return {"results": results}


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
