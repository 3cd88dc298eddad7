"""RunnableWithFallbacks: try a runnable, then its fallbacks in order, on handled errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from ._base import Input, Output, Runnable, RunnableCalls
from ._config import RunnableConfig, hop
from ._iter import aclosing_iter
from ._run import Run
from ._schema import delegated_type

__all__ = ["RunnableWithFallbacks"]


class RunnableWithFallbacks(RunnableCalls[Input, Output]):
    """Tries ``runnable``, then each fallback in order, on the handled exception types.

    When all fail, the first error is raised. With ``exception_key``, the input dict gets the
    previous error under that key before each fallback. Every attempt is a child run (a child
    span), also for ``invoke``, where langchain-core makes them siblings of this run.

    Streaming tries each candidate until one yields its first chunk without a handled error;
    that candidate then streams to the end.

    Example:
        >>> from otel_runnables import RunnableLambda
        >>> def broken(x):
        ...     raise ValueError("down")
        >>> RunnableLambda(broken).with_fallbacks([RunnableLambda(lambda x: "backup")]).invoke(1)
        'backup'
    """

    def __init__(
        self,
        *,
        runnable: Runnable[Input, Output],
        fallbacks: Sequence[Runnable[Input, Output]],
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
        exception_key: str | None = None,
    ) -> None:
        self.runnable = runnable
        self.fallbacks = list(fallbacks)
        self.exceptions_to_handle = exceptions_to_handle
        self.exception_key = exception_key

    @property
    def runnables(self) -> list[Runnable[Input, Output]]:
        """The runnable, then the fallbacks."""
        return [self.runnable, *self.fallbacks]

    InputType = delegated_type("runnable", "InputType")
    OutputType = delegated_type("runnable", "OutputType")

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        """The runnable's input schema."""
        return self.runnable.get_input_schema(config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        """The runnable's output schema."""
        return self.runnable.get_output_schema(config)

    @property
    def config_specs(self) -> list[Any]:
        """The configurable fields of the runnable and the fallbacks."""
        from ._shapes import unique_config_specs

        return unique_config_specs(self.runnables)

    def _check(self, input: Any) -> None:
        if self.exception_key is not None and not isinstance(input, dict):
            # langchain-core's message, word for word (the missing space included).
            raise ValueError(
                "If 'exception_key' is specified then input must be a dictionary."
                f"However found a type of {type(input)} for input"
            )

    def _invoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        attempts = _Attempts(self, input)
        for runnable in self.runnables:
            try:
                return attempts.done(
                    runnable.invoke(attempts.input(), run.current_config(), **kwargs)
                )
            except self.exceptions_to_handle as exc:
                attempts.failed(exc)
        raise attempts.error()

    async def _ainvoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        attempts = _Attempts(self, input)
        for runnable in self.runnables:
            config = run.current_config()
            try:
                return attempts.done(
                    await hop(runnable.ainvoke, attempts.input(), config, **kwargs)
                )
            except self.exceptions_to_handle as exc:
                attempts.failed(exc)
        raise attempts.error()

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """The first successful output among the runnable and its fallbacks."""
        self._check(input)
        return super().invoke(input, config, **kwargs)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async twin of :meth:`invoke`."""
        self._check(input)
        return await super().ainvoke(input, config, **kwargs)

    # -- streaming: the first chunk decides which candidate streams -----------------------
    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream the first candidate that yields a first chunk without a handled error."""
        self._check(input)
        return self._stream_with_config(self._stream, input, config, **kwargs)

    def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`stream`."""
        self._check(input)
        return self._astream_with_config(self._astream, input, config, **kwargs)

    def _stream(self, input: Any, run: Run, **kwargs: Any) -> Iterator[Any]:
        attempts = _Attempts(self, input)
        for runnable in self.runnables:
            try:
                stream = iter(runnable.stream(attempts.input(), run.current_config(), **kwargs))
                chunk = next(stream)
            except self.exceptions_to_handle as exc:
                attempts.failed(exc)
                continue
            attempts.done(None)
            try:
                yield chunk
                yield from stream
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
            return
        raise attempts.error()

    async def _astream(self, input: Any, run: Run, **kwargs: Any) -> AsyncIterator[Any]:
        attempts = _Attempts(self, input)
        for runnable in self.runnables:
            try:
                stream = runnable.astream(attempts.input(), run.current_config(), **kwargs)
                chunk = await hop(anext, stream)
            except self.exceptions_to_handle as exc:
                attempts.failed(exc)
                continue
            attempts.done(None)
            async with aclosing_iter(stream):
                yield chunk
                async for chunk in stream:
                    yield chunk
            return
        raise attempts.error()


class _Attempts:
    """The errors of the candidates tried so far, and the input of the next one."""

    __slots__ = ("_input", "exception_key", "first", "last")

    def __init__(self, owner: RunnableWithFallbacks[Any, Any], input: Any) -> None:
        self._input = input
        self.exception_key = owner.exception_key
        self.first: BaseException | None = None
        self.last: BaseException | None = None

    def input(self) -> Any:
        """The next candidate's input: with ``exception_key``, the last error added to it."""
        if self.exception_key and self.last is not None:
            self._input[self.exception_key] = self.last
        return self._input

    def failed(self, error: BaseException) -> None:
        self.first = self.first or error
        self.last = error

    def done(self, output: Any) -> Any:
        """A candidate succeeded with ``output``: forget the errors (each one's traceback leads
        back to the frame that holds this object, a cycle that would keep the runs alive)."""
        self.first = self.last = None
        return output

    def error(self) -> BaseException:
        """What to raise once every candidate failed: the first error."""
        # langchain-core's message, word for word.
        return self.first or ValueError("No error stored at end of fallbacks.")
