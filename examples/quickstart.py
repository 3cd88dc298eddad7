"""Quickstart: a three-step pipeline with progress events, printed as a run tree.

Run it with no server at all:

    pip install -e ".[otlp]" && python examples/quickstart.py

Every run becomes a span and every ``dispatch_custom_event`` a span event; the console
renderer prints each finished trace. Swap ``show_run_trees()`` for ``configure_tracing()``
to send the same trace to Jaeger, Tempo or any OTLP backend.
"""

from __future__ import annotations

import asyncio

from otel_runnables import (
    RunnableLambda,
    RunnableParallel,
    adispatch_custom_event,
    dispatch_custom_event,
)
from otel_runnables.console import show_run_trees


def split_words(text: str) -> list[str]:
    words = text.split()
    dispatch_custom_event("progress", {"step": "split", "words": len(words)})
    return words


async def shout(words: list[str]) -> list[str]:
    loud = []
    for index, word in enumerate(words, start=1):
        loud.append(word.upper())
        await adispatch_custom_event("progress", {"done": index, "of": len(words)})
    return loud


def count_letters(words: list[str]) -> int:
    return sum(len(word) for word in words)


pipeline = (
    RunnableLambda(split_words)
    | RunnableParallel(loud=RunnableLambda(shout), letters=count_letters)
).with_config(run_name="quickstart")


async def main() -> None:
    provider = show_run_trees()
    result = await pipeline.ainvoke("every run is a span")
    provider.force_flush()
    print("result:", result)


if __name__ == "__main__":
    asyncio.run(main())
