"""Composition: the methods of every runnable that make a new runnable from it.

``|`` and ``pipe`` (a sequence), ``pick`` / ``assign``, and the wrappers: ``with_config`` /
``bind`` / ``with_types`` / ``with_listeners`` (a ``RunnableBinding``), ``with_retry``,
``with_fallbacks``, ``map`` (a ``RunnableEach``), ``configurable_fields`` /
``configurable_alternatives``. :class:`Composing` is a mixin of ``Runnable``; each method
imports the kind it makes when called (the kinds import ``Runnable``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, cast

from ._generic import Input, Output

if TYPE_CHECKING:
    from ._base import Runnable
    from ._config import RunnableConfig
    from ._config_specs import AnyConfigurableField, ConfigurableField
    from ._listeners import AsyncListener, Listener

__all__ = ["Composing"]


class Composing(Generic[Input, Output]):
    """The composition methods of every runnable (a mixin of ``Runnable``)."""

    __slots__ = ()

    def _me(self) -> Runnable[Input, Output]:
        return cast("Runnable[Input, Output]", self)

    def __or__(self, other: Any) -> Runnable[Input, Any]:
        from ._base import coerce_to_runnable
        from ._sequence import RunnableSequence

        return RunnableSequence(self, coerce_to_runnable(other, "|"))

    def __ror__(self, other: Any) -> Runnable[Any, Output]:
        from ._base import coerce_to_runnable
        from ._sequence import RunnableSequence

        return RunnableSequence(coerce_to_runnable(other, "|"), self)

    def pipe(self, *others: Any, name: str | None = None) -> Runnable[Input, Any]:
        """``self | others[0] | ...`` as one sequence."""
        from ._base import coerce_to_runnable
        from ._sequence import RunnableSequence

        return RunnableSequence(self, *(coerce_to_runnable(o, "pipe()") for o in others), name=name)

    def pick(self, keys: str | list[str]) -> Runnable[Input, Any]:
        """Pipe into a step that keeps only ``keys`` of a dict output."""
        from ._passthrough import RunnablePick

        return self | RunnablePick(keys)

    def assign(self, **kwargs: Any) -> Runnable[Input, Any]:
        """Pipe into ``RunnablePassthrough.assign(**kwargs)``."""
        from ._parallel import RunnableParallel
        from ._passthrough import RunnableAssign

        return self | RunnableAssign(RunnableParallel(kwargs))

    # -- wrappers --------------------------------------------------------------------------
    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[Input, Output]:
        """A copy bound to ``config`` (merged with the config given at call time); a value of
        the wrong type raises here, naming its key."""
        from ._binding import RunnableBinding

        merged = cast("RunnableConfig", {**(config or {}), **kwargs})
        return RunnableBinding(bound=self._me(), config=merged)

    def bind(self, **kwargs: Any) -> Runnable[Input, Output]:
        """A copy that always passes ``kwargs`` to ``invoke`` (and so to the function)."""
        from ._binding import RunnableBinding

        return RunnableBinding(bound=self._me(), kwargs=kwargs)

    def with_types(
        self, *, input_type: Any | None = None, output_type: Any | None = None
    ) -> Runnable[Input, Output]:
        """A copy whose input and/or output type (and schemas) are the ones given."""
        from ._binding import RunnableBinding

        return RunnableBinding(
            bound=self._me(), custom_input_type=input_type, custom_output_type=output_type
        )

    def with_listeners(
        self,
        *,
        on_start: Listener | None = None,
        on_end: Listener | None = None,
        on_error: Listener | None = None,
    ) -> Runnable[Input, Output]:
        """A copy that calls ``on_start`` / ``on_end`` / ``on_error`` with its run (a
        ``ListenerRun``; a listener with a ``config`` parameter also gets the config)."""
        return self._listened("with_listeners", on_start, on_end, on_error)

    def with_alisteners(
        self,
        *,
        on_start: AsyncListener | None = None,
        on_end: AsyncListener | None = None,
        on_error: AsyncListener | None = None,
    ) -> Runnable[Input, Output]:
        """:meth:`with_listeners` for async listeners (awaited)."""
        return self._listened("with_alisteners", on_start, on_end, on_error)

    def _listened(self, method: str, *listeners: Any) -> Runnable[Input, Output]:
        """``with_listeners`` / ``with_alisteners`` (``method``): one listeners' handler serves
        both kinds of listener; kinds that pass listeners on to a part override this."""
        from ._binding import RunnableBinding
        from ._listeners import listeners_factory

        factory = listeners_factory(*listeners)
        return RunnableBinding(bound=self._me(), config_factories=[factory])

    def with_retry(
        self,
        *,
        retry_if_exception_type: tuple[type[BaseException], ...]
        | Callable[[BaseException], bool] = (Exception,),
        wait_exponential_jitter: bool = True,
        exponential_jitter_params: Mapping[str, float] | None = None,
        stop_after_attempt: int = 3,
    ) -> Runnable[Input, Output]:
        """A copy that retries failed calls (each attempt is a child run)."""
        from ._binding import RunnableRetry

        return RunnableRetry(
            bound=self._me(),
            retry_exception_types=retry_if_exception_type,
            wait_exponential_jitter=wait_exponential_jitter,
            exponential_jitter_params=exponential_jitter_params,
            max_attempt_number=stop_after_attempt,
        )

    def with_fallbacks(
        self,
        fallbacks: Sequence[Runnable[Input, Output]],
        *,
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
        exception_key: str | None = None,
    ) -> Runnable[Input, Output]:
        """A runnable that tries ``fallbacks`` in order when this one raises."""
        from ._fallbacks import RunnableWithFallbacks

        return RunnableWithFallbacks(
            runnable=self._me(),
            fallbacks=fallbacks,
            exceptions_to_handle=exceptions_to_handle,
            exception_key=exception_key,
        )

    def map(self) -> Runnable[Sequence[Input], list[Output]]:
        """A runnable that calls this one on each element of a list input (``RunnableEach``)."""
        from ._each import RunnableEach

        return RunnableEach(bound=self._me())

    def as_tool(
        self,
        args_schema: Any | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        arg_types: dict[str, type] | None = None,
    ) -> Any:
        """A langchain-core tool that invokes this runnable (langchain-core must be installed:
        a tool is a langchain-core object; its runs reach this package's spans)."""
        try:
            from langchain_core.tools import convert_runnable_to_tool
        except ImportError:
            raise ImportError(
                "as_tool() makes a langchain-core tool: install langchain-core "
                "(pip install 'otel-runnables[langchain]')"
            ) from None
        return convert_runnable_to_tool(
            self._me(),  # type: ignore[arg-type]
            args_schema=args_schema,
            name=name,
            description=description,
            arg_types=arg_types,
        )

    # -- configurable ----------------------------------------------------------------------
    def configurable_fields(self, **kwargs: AnyConfigurableField) -> Runnable[Input, Output]:
        """A copy whose attributes named in ``kwargs`` can be set per call, through
        ``config["configurable"][field.id]``."""
        from ._configurable import RunnableConfigurableFields

        return RunnableConfigurableFields.checked(self._me(), kwargs)

    def configurable_alternatives(
        self,
        which: ConfigurableField,
        *,
        default_key: str = "default",
        prefix_keys: bool = False,
        **kwargs: Runnable[Input, Output] | Callable[[], Runnable[Input, Output]],
    ) -> Runnable[Input, Output]:
        """A runnable that is this one, or one of ``kwargs``, as
        ``config["configurable"][which.id]`` says."""
        from ._configurable import RunnableConfigurableAlternatives

        return RunnableConfigurableAlternatives(
            which=which,
            default=self._me(),
            alternatives=kwargs,
            default_key=default_key,
            prefix_keys=prefix_keys,
        )
