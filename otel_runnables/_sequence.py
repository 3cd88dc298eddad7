"""RunnableSequence: steps run one after another (``a | b | c``), streaming end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ._base import Input, Output, Runnable, RunnableKind, coerce_to_runnable
from ._config import RunnableConfig, hop
from ._run import Run
from ._schema import delegated_type

if TYPE_CHECKING:
    from ._graph import Graph

__all__ = ["RunnableSequence"]


class RunnableSequence(RunnableKind[Input, Output]):
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

    # -- types, schemas and graph from the steps ---------------------------------------------
    InputType = delegated_type("first", "InputType")
    OutputType = delegated_type("last", "OutputType")

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """The first step's input schema (through a leading ``assign`` or ``pick``)."""
        from ._shapes import sequence_input_schema

        return sequence_input_schema(self.steps, config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """The last step's output schema (through a final ``assign`` or ``pick``)."""
        from ._shapes import sequence_output_schema

        return sequence_output_schema(self.steps, config)

    @property
    def config_specs(self) -> list[Any]:
        """The configurable fields of the steps."""
        from ._shapes import unique_config_specs

        return unique_config_specs(self.steps)

    def get_graph(self, config: RunnableConfig | None = None) -> Graph:
        """The steps' graphs, one after the other."""
        from ._graph import chain_graphs

        return chain_graphs(self.steps, config)

    def __or__(self, other: Any) -> Runnable[Input, Any]:
        return RunnableSequence(*self.steps, coerce_to_runnable(other, "|"), name=self.name)

    def __ror__(self, other: Any) -> Runnable[Any, Output]:
        return RunnableSequence(coerce_to_runnable(other, "|"), *self.steps, name=self.name)

    @staticmethod
    def _step_config(run: Run, index: int) -> RunnableConfig:
        return run.child_config(f"seq:step:{index + 1}")

    # -- invoke ----------------------------------------------------------------------------
    # As in langchain-core, the keyword arguments of a call go to the first step only.
    def _invoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        for index, step in enumerate(self.steps):
            if index == 0 and kwargs:
                input = step.invoke(input, self._step_config(run, index), **kwargs)
            else:
                input = step.invoke(input, self._step_config(run, index))
        return input

    async def _ainvoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        for index, step in enumerate(self.steps):
            config = self._step_config(run, index)
            if index == 0 and kwargs:
                input = await hop(step.ainvoke, input, config, **kwargs)
            else:
                input = await hop(step.ainvoke, input, config)
        return input

    # -- batch: one step at a time over the inputs still alive ---------------------------
    def _batch(
        self, inputs: Sequence[Any], runs: list[Run], return_exceptions: bool, **kwargs: Any
    ) -> list[Any]:
        batch = _StepBatch(inputs, runs, return_exceptions)
        for step, values, configs in batch.steps(self.steps):
            more = batch.first_step_kwargs(kwargs)
            batch.took(step.batch(values, configs, return_exceptions=return_exceptions, **more))
        return batch.values

    async def _abatch(
        self, inputs: Sequence[Any], runs: list[Run], return_exceptions: bool, **kwargs: Any
    ) -> list[Any]:
        batch = _StepBatch(inputs, runs, return_exceptions)
        for step, values, configs in batch.steps(self.steps):
            more = batch.first_step_kwargs(kwargs)
            outputs = await step.abatch(
                values, configs, return_exceptions=return_exceptions, **more
            )
            batch.took(outputs)
        return batch.values

    # -- streaming ---------------------------------------------------------------------
    def _transform(self, chunks: Iterator[Any], run: Run, **kwargs: Any) -> Iterator[Any]:
        stages = self._stages("transform", chunks, run, kwargs)
        try:
            yield from stages[-1]
        finally:
            for stage in reversed(stages):  # downstream first, as in the async twin
                close = getattr(stage, "close", None)
                if close is not None:
                    close()

    async def _atransform(
        self, chunks: AsyncIterator[Any], run: Run, **kwargs: Any
    ) -> AsyncIterator[Any]:
        stages = self._stages("atransform", chunks, run, kwargs)
        try:
            async for chunk in stages[-1]:
                yield chunk
        finally:
            # Close every stage, downstream first: a stage that never got to run its own
            # clean-up (closed before it started) must not leave the ones above it open.
            for stage in reversed(stages):
                aclose = getattr(stage, "aclose", None)
                if aclose is not None:
                    await aclose()

    def _stages(self, method: str, chunks: Any, run: Run, kwargs: dict[str, Any]) -> list[Any]:
        """Each step's ``transform`` (or ``atransform``) of the stage before it, first to last;
        ``kwargs`` go to the first step."""
        stages = []
        for index, step in enumerate(self.steps):
            more = kwargs if index == 0 else {}
            chunks = getattr(step, method)(chunks, self._step_config(run, index), **more)
            stages.append(chunks)
        return stages


class _StepBatch:
    """The inputs of a step-by-step batch: each input's value so far, or its exception."""

    __slots__ = ("alive", "failed", "index", "return_exceptions", "runs", "values")

    def __init__(self, inputs: Sequence[Any], runs: list[Run], return_exceptions: bool) -> None:
        self.values: list[Any] = list(inputs)
        self.runs = runs
        self.return_exceptions = return_exceptions
        self.failed: set[int] = set()
        self.alive: list[int] = []
        self.index = 0

    def steps(
        self, steps: list[Runnable[Any, Any]]
    ) -> Iterator[tuple[Runnable[Any, Any], list[Any], list[RunnableConfig]]]:
        """Each step with the values and configs (``seq:step:N``) of the inputs still alive."""
        for index, step in enumerate(steps):
            self.index = index
            self.alive = [i for i in range(len(self.values)) if i not in self.failed]
            if not self.alive:
                return
            tag = f"seq:step:{index + 1}"
            values = [self.values[i] for i in self.alive]
            yield step, values, [self.runs[i].child_config(tag) for i in self.alive]

    def first_step_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's keyword arguments for the first step, none for the others."""
        return kwargs if self.index == 0 else {}

    def took(self, outputs: list[Any]) -> None:
        """The outputs of the step just run, one per input alive."""
        for i, output in zip(self.alive, outputs, strict=True):
            self.values[i] = output
            if self.return_exceptions and isinstance(output, Exception):
                self.failed.add(i)
