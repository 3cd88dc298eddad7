"""A progress bar driven by custom events, through an ordinary callback handler.

    python examples/progress_bar.py

The step reports progress with ``dispatch_custom_event("progress", {"done": i, "total": n})``;
``ProgressBar`` (a ``BaseCallbackHandler``) draws a bar from those events. The same events are
span events on the step's span, so a tracing UI shows them too. Pass ``--plain`` to print one
line per update instead of redrawing the bar in place (what the smoke test uses).
"""

from __future__ import annotations

import sys
import time
from typing import Any
from uuid import UUID

from otel_runnables import BaseCallbackHandler, RunnableLambda, dispatch_custom_event


class ProgressBar(BaseCallbackHandler):
    """Draws ``[#####.....] 5/10 label`` for each ``progress`` custom event."""

    def __init__(self, width: int = 20, plain: bool = False) -> None:
        self.width = width
        self.plain = plain

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if name != "progress":
            return
        done, total = data["done"], data["total"]
        filled = self.width * done // total
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {done}/{total} {data.get('item', '')}".rstrip()
        if self.plain:
            print(line)
        else:
            end = "\n" if done == total else ""
            print("\r" + line, end=end, flush=True)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if kwargs.get("parent_run_id") is None:
            print(f"done: {outputs}")


def embed_all(documents: list[str]) -> list[int]:
    vectors = []
    for index, document in enumerate(documents, start=1):
        time.sleep(0.02)  # pretend to work
        vectors.append(len(document))
        dispatch_custom_event(
            "progress", {"done": index, "total": len(documents), "item": document}
        )
    return vectors


chain = RunnableLambda(embed_all).with_config(run_name="embed")


if __name__ == "__main__":
    docs = ["alpha", "beta", "gamma", "delta", "epsilon"]
    chain.invoke(docs, config={"callbacks": [ProgressBar(plain="--plain" in sys.argv)]})
