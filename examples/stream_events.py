"""Consume ``astream_events(version="v2")`` and forward it as Server-Sent Events lines.

    python examples/stream_events.py

A web handler would write these lines to its response (``text/event-stream``); here they go
to stdout. Token chunks of the streaming step, custom ``status`` events and the final output
each become one ``event: ...`` / ``data: {...}`` block, in the order they happened.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from otel_runnables import RunnableLambda, adispatch_custom_event


async def plan(question: str) -> str:
    await adispatch_custom_event("status", {"stage": "planning", "question": question})
    return f"Answer to {question!r}: spans nest as runs nest"


async def stream_words(text: str) -> AsyncIterator[str]:
    await adispatch_custom_event("status", {"stage": "streaming"})
    for word in text.split():
        await asyncio.sleep(0)
        yield word + " "


chain = (RunnableLambda(plan) | RunnableLambda(stream_words)).with_config(run_name="answer")


def sse(event: str, data: Any) -> str:
    """One Server-Sent Events message."""
    return f"event: {event}\ndata: {json.dumps(data)}\n"


async def sse_stream(question: str) -> AsyncIterator[str]:
    async for event in chain.astream_events(question, version="v2"):
        kind = event["event"]
        if kind == "on_custom_event":
            yield sse(event["name"], event["data"])
        elif kind == "on_chain_stream" and event["name"] == "stream_words":
            yield sse("token", {"text": event["data"]["chunk"]})
        elif kind == "on_chain_end" and not event["parent_ids"]:
            yield sse("done", {"output": event["data"]["output"], "run_id": event["run_id"]})


async def main() -> None:
    async for message in sse_stream("what is a run tree?"):
        print(message)


if __name__ == "__main__":
    asyncio.run(main())
