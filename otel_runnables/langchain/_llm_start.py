"""The work-around of langchain-core's async ``on_llm_start`` that skips non-inline handlers."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["fix_async_llm_start"]


def fix_async_llm_start() -> Callable[[], None] | None:
    """Work around langchain-ai/langchain#39633, where it is present.

    With any ``run_inline`` handler (this bridge's is one), ``AsyncCallbackManager.on_llm_start``
    calls only the inline handlers: users' other handlers would lose ``on_llm_start`` of async
    completion LLMs. A probe decides; the fix calls the handlers the original skipped, after
    it, as langchain-core calls non-inline handlers after inline ones. Returns the undo.
    """
    from langchain_core.callbacks import AsyncCallbackManager
    from langchain_core.callbacks.manager import ahandle_event

    if not _drops_non_inline_llm_start():
        return None
    original = AsyncCallbackManager.__dict__["on_llm_start"]

    @functools.wraps(original)
    async def on_llm_start(
        self: Any, serialized: Any, prompts: list[str], run_id: Any = None, **kwargs: Any
    ) -> Any:
        managers = await original(self, serialized, prompts, run_id, **kwargs)
        skipped = [h for h in self.handlers if not h.run_inline]
        if skipped and len(skipped) < len(self.handlers):
            await asyncio.gather(
                *(
                    ahandle_event(
                        skipped,
                        "on_llm_start",
                        "ignore_llm",
                        serialized,
                        [prompt],
                        run_id=manager.run_id,
                        parent_run_id=self.parent_run_id,
                        tags=self.tags,
                        metadata=self.metadata,
                        **kwargs,
                    )
                    for prompt, manager in zip(prompts, managers, strict=True)
                )
            )
        return managers

    setattr(AsyncCallbackManager, "on_llm_start", on_llm_start)  # noqa: B010

    def undo() -> None:
        if AsyncCallbackManager.__dict__.get("on_llm_start") is on_llm_start:
            setattr(AsyncCallbackManager, "on_llm_start", original)  # noqa: B010

    return undo


def _drops_non_inline_llm_start() -> bool:
    """Run the probe of :func:`fix_async_llm_start` on a private loop in a worker thread."""
    from langchain_core.callbacks import AsyncCallbackManager, BaseCallbackHandler

    seen: list[str] = []

    class Probe(BaseCallbackHandler):
        def __init__(self, inline: bool) -> None:
            self.run_inline = inline

        def on_llm_start(self, *args: Any, **kwargs: Any) -> None:
            seen.append("inline" if self.run_inline else "other")

    manager = AsyncCallbackManager([Probe(True), Probe(False)])
    worker = threading.Thread(target=lambda: asyncio.run(manager.on_llm_start({}, ["probe"])))
    worker.start()
    worker.join()
    return "inline" in seen and "other" not in seen
