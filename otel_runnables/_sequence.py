"""RunnableSequence: steps run one after another (``a | b | c``), streaming end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from ._base import Input, Output, Runnable, StreamingRunnable, coerce_to_runnable
from ._config import RunnableConfig, get_config_list, hop
from ._run import Run

__all__ = ["RunnableSequence"]


class RunnableSequence(StreamingRunnable[Input, Output]):
    """Runs its steps in order, each step's output being the next one's input.

    Each step is a child run tagged ``seq:step:N``. Streaming pipes the steps' transforms
    into each other, so a step that can stream starts before the previous one has finished.

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> seq = RunnableLambda(lambda x: x + 1) | (lambda x: x * 2)
        >>> seq.invoke(3)
        8
    """

    def __init__(self, *steps: Any, name: str | None = None) -> None:
        flat: list[Runnable[Any, Any]] = []
        for step in steps:
            runnable = coerce_to_runnable(step, "RunnableSequence")
            if isinstance(runnable, RunnableSequence):
                flat.extend(runnable.steps)
            else:
                flat.append(runnable)
        if len(flat) < 2:
            raise ValueError(f"RunnableSequence must have at least 2 steps, got {len(flat)}")
        self.steps: list[Runnable[Any, Any]] = flat
        if name is not None:
            self.name = name

    @property
    def first(self) -> Runnable[Any, Any]:
        """The first step."""
        return self.steps[0]

    @property
    def last(self) -> Runnable[Any, Any]:
        """The last step."""
        return self.steps[-1]

    @property
    def middle(self) -> list[Runnable[Any, Any]]:
        """The steps between the first and the last."""
        return self.steps[1:-1]

    def __repr__(self) -> str:
        return " | ".join(repr(step) for step in self.steps)

    def __or__(self, other: Any) -> Runnable[Input, Any]:
        return RunnableSequence(*self.steps, coerce_to_runnable(other, "|"), name=self.name)

    def __ror__(self, other: Any) -> Runnable[Any, Output]:
        return RunnableSequence(coerce_to_runnable(other, "|"), *self.steps, name=self.name)

    @staticmethod
    def _step_config(run: Run, index: int) -> RunnableConfig:
        return run.child_config(f"seq:step:{index + 1}")

    # -- invoke ----------------------------------------------------------------------------
    def _invoke(self, input: Any, run: Run) -> Any:
        for index, step in enumerate(self.steps):
            input = step.invoke(input, self._step_config(run, index))
        return input

    async def _ainvoke(self, input: Any, run: Run) -> Any:
        for index, step in enumerate(self.steps):
            input = await hop(step.ainvoke, input, self._step_config(run, index))
        return input

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """Run every step in order."""
        return self._call_with_config(self._invoke, input, config)  # type: ignore[no-any-return]

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async twin of :meth:`invoke`."""
        return await self._acall_with_config(self._ainvoke, input, config)  # type: ignore[no-any-return]

    # -- batch: one step at a time over all inputs ---------------------------------------
    def batch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Start a run per input, then batch each step over the inputs still alive."""
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        runs = [Run.start(c, self.get_name(), i) for c, i in zip(configs, inputs, strict=True)]
        values: list[Any] = list(inputs)
        failed: dict[int, BaseException] = {}
        try:
            for index, step in enumerate(self.steps):
                alive = [i for i in range(len(values)) if i not in failed]
                if not alive:
                    break
                outputs = step.batch(
                    [values[i] for i in alive],
                    [self._step_config(runs[i], index) for i in alive],
                    return_exceptions=return_exceptions,
                )
                for i, output in zip(alive, outputs, strict=True):
                    if return_exceptions and isinstance(output, Exception):
                        failed[i] = output
                    else:
                        values[i] = output
        except BaseException as exc:
            for run in runs:
                run.error(exc)
            raise
        for i, run in enumerate(runs):
            if i in failed:
                run.error(failed[i])
            else:
                run.end(values[i])
        return [failed.get(i, values[i]) for i in range(len(values))]

    async def abatch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async twin of :meth:`batch`."""
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        runs = [
            await Run.astart(c, self.get_name(), i) for c, i in zip(configs, inputs, strict=True)
        ]
        values: list[Any] = list(inputs)
        failed: dict[int, BaseException] = {}
        try:
            for index, step in enumerate(self.steps):
                alive = [i for i in range(len(values)) if i not in failed]
                if not alive:
                    break
                outputs = await step.abatch(
                    [values[i] for i in alive],
                    [self._step_config(runs[i], index) for i in alive],
                    return_exceptions=return_exceptions,
                )
                for i, output in zip(alive, outputs, strict=True):
                    if return_exceptions and isinstance(output, Exception):
                        failed[i] = output
                    else:
                        values[i] = output
        except BaseException as exc:
            for run in runs:
                await run.aerror(exc)
            raise
        for i, run in enumerate(runs):
            if i in failed:
                await run.aerror(failed[i])
            else:
                await run.aend(values[i])
        return [failed.get(i, values[i]) for i in range(len(values))]

    # -- streaming ---------------------------------------------------------------------
    def _transform(self, inputs: Iterator[Any], run: Run) -> Iterator[Any]:
        stages: list[Iterator[Any]] = []
        pipeline: Iterator[Any] = inputs
        for index, step in enumerate(self.steps):
            pipeline = step.transform(pipeline, self._step_config(run, index))
            stages.append(pipeline)
        try:
            yield from pipeline
        finally:
            for stage in reversed(stages):  # downstream first, as in the async twin
                close = getattr(stage, "close", None)
                if close is not None:
                    close()

    async def _atransform(self, inputs: AsyncIterator[Any], run: Run) -> AsyncIterator[Any]:
        stages: list[AsyncIterator[Any]] = []
        pipeline: AsyncIterator[Any] = inputs
        for index, step in enumerate(self.steps):
            pipeline = step.atransform(pipeline, self._step_config(run, index))
            stages.append(pipeline)
        try:
            async for chunk in pipeline:
                yield chunk
        finally:
            # Close every stage, downstream first: a stage that never got to run its own
            # clean-up (closed before it started) must not leave the ones above it open.
            for stage in reversed(stages):
                aclose = getattr(stage, "aclose", None)
                if aclose is not None:
                    await aclose()

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream through every step's transform."""
        return self._transform_stream_with_config(input, self._transform, config)

    def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`transform`."""
        return self._atransform_stream_with_config(input, self._atransform, config)
