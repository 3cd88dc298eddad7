"""RunnableWithFallbacks: try a runnable, then its fallbacks in order, on handled errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from ._base import Input, Output, Runnable
from ._config import RunnableConfig, ensure_config, hop
from ._run import Run

__all__ = ["RunnableWithFallbacks"]


def _add(total: Any, chunk: Any) -> Any:
    """The streamed output so far; None once two chunks could not be added."""
    try:
        return total + chunk
    except TypeError:
        return None


class RunnableWithFallbacks(Runnable[Input, Output]):
    """Tries ``runnable``, then each fallback in order, on the handled exception types.

    When all fail, the first error is raised. With ``exception_key``, the input dict gets the
    previous error under that key before each fallback. Every attempt is a child run (a child
    span), also for ``invoke``, where langchain-core makes them siblings of this run.

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

    def _check(self, input: Any) -> None:
        if self.exception_key is not None and not isinstance(input, dict):
            raise ValueError(
                "If 'exception_key' is specified then input must be a dictionary."
                f"However found a type of {type(input)} for input"
            )

    def _invoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        first_error: BaseException | None = None
        last_error: BaseException | None = None
        for runnable in self.runnables:
            if self.exception_key and first_error is not None:
                input[self.exception_key] = last_error
            try:
                return runnable.invoke(input, run.current_config(), **kwargs)
            except self.exceptions_to_handle as exc:
                first_error = first_error or exc
                last_error = exc
        assert first_error is not None
        raise first_error

    async def _ainvoke(self, input: Any, run: Run, **kwargs: Any) -> Any:
        first_error: BaseException | None = None
        last_error: BaseException | None = None
        for runnable in self.runnables:
            if self.exception_key and first_error is not None:
                input[self.exception_key] = last_error
            try:
                return await hop(runnable.ainvoke, input, run.current_config(), **kwargs)
            except self.exceptions_to_handle as exc:
                first_error = first_error or exc
                last_error = exc
        assert first_error is not None
        raise first_error

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """The first successful output among the runnable and its fallbacks."""
        self._check(input)
        return self._call_with_config(self._invoke, input, config, **kwargs)  # type: ignore[no-any-return]

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async twin of :meth:`invoke`."""
        self._check(input)
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)  # type: ignore[no-any-return]

    # -- streaming: the first chunk decides which candidate streams -----------------------
    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream the first candidate that yields a first chunk without a handled error."""
        self._check(input)
        config = ensure_config(config)
        run = Run.start(config, self.get_name(), input)
        child = run.current_config()
        first_error: BaseException | None = None
        last_error: BaseException | None = None
        stream: Iterator[Any] | None = None
        chunk: Any = None
        for runnable in self.runnables:
            try:
                if self.exception_key and last_error is not None:
                    input[self.exception_key] = last_error  # type: ignore[index]
                with run:
                    stream = iter(runnable.stream(input, child, **kwargs))
                    chunk = next(stream)
            except self.exceptions_to_handle as exc:
                first_error = first_error or exc
                last_error = exc
            except BaseException as exc:
                run.error(exc)
                raise
            else:
                first_error = None
                break
        if first_error is not None or stream is None:
            error = first_error or ValueError("No error stored at end of fallbacks.")
            run.error(error)
            raise error
        output: Any = chunk
        try:
            yield chunk
            for chunk in stream:
                yield chunk
                output = _add(output, chunk)
        except BaseException as exc:
            run.error(exc)
            raise
        run.end(output)

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async twin of :meth:`stream`."""
        self._check(input)
        config = ensure_config(config)
        run = await Run.astart(config, self.get_name(), input)
        child = run.current_config()
        first_error: BaseException | None = None
        last_error: BaseException | None = None
        stream: AsyncIterator[Any] | None = None
        chunk: Any = None
        for runnable in self.runnables:
            try:
                if self.exception_key and last_error is not None:
                    input[self.exception_key] = last_error  # type: ignore[index]
                with run:
                    stream = runnable.astream(input, child, **kwargs)
                    chunk = await hop(anext, stream)
            except self.exceptions_to_handle as exc:
                first_error = first_error or exc
                last_error = exc
            except BaseException as exc:
                await run.aerror(exc)
                raise
            else:
                first_error = None
                break
        if first_error is not None or stream is None:
            error = first_error or ValueError("No error stored at end of fallbacks.")
            await run.aerror(error)
            raise error
        output: Any = chunk
        try:
            yield chunk
            async for chunk in stream:
                yield chunk
                output = _add(output, chunk)
        except BaseException as exc:
            await run.aerror(exc)
            raise
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        await run.aend(output)
