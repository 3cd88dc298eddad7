"""RunnableBinding and RunnableRetry as in langchain-core: wrapping a binding makes one binding
(the retry inside it), wrapping a retry wraps it, a binding forwards what it does not have to
the bound runnable (with its config), and ``retry_if_exception_type`` may be a predicate."""

from __future__ import annotations

from typing import Any

import pytest
from _support import Traced

from otel_runnables import RunnableBinding, RunnableConfig, RunnableLambda, RunnableRetry
from otel_runnables import _attributes as attrs


def flaky(failures: int) -> RunnableLambda[Any, Any]:
    calls = {"n": 0}

    def step(x: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ValueError(f"attempt {calls['n']}")
        return x

    return RunnableLambda(step, name="flaky")


def test_a_config_bound_outside_a_retry_tags_the_retry_run(traced: Traced) -> None:
    for wrapped in (
        flaky(1).with_retry(wait_exponential_jitter=False).with_config(tags=["outer"]),
        flaky(1).with_config(tags=["outer"]).with_retry(wait_exponential_jitter=False),
    ):
        traced.clear()
        assert wrapped.invoke(1) == 1
        spans = traced.spans()
        root = next(s for s in spans if s.parent is None or s.parent.span_id not in
                    {x.context.span_id for x in spans})  # fmt: skip
        assert "outer" in tuple(root.attributes[attrs.TAGS])
        assert len(spans) == 3  # the retry run and its two attempts


def test_binding_a_binding_makes_one_binding() -> None:
    step = RunnableLambda(lambda x, **kw: (x, kw))
    bound = step.with_config(tags=["a"]).bind(k=1).with_types(input_type=int)
    assert isinstance(bound, RunnableBinding) and bound.bound is step
    assert bound.invoke(0) == (0, {"k": 1})
    assert bound.config == {"tags": ["a"]} and bound.InputType is int
    retried = step.with_config(tags=["a"]).with_retry()
    assert isinstance(retried, RunnableBinding) and isinstance(retried.bound, RunnableRetry)


def test_wrapping_a_retry_keeps_the_retry() -> None:
    retry = flaky(1).with_retry(wait_exponential_jitter=False)
    for wrapped in (retry.bind(), retry.with_config(tags=["t"]), retry.with_types(input_type=int)):
        assert isinstance(wrapped, RunnableBinding) and wrapped.bound is retry


def test_retry_if_exception_type_may_be_a_predicate() -> None:
    retry = flaky(2).with_retry(
        retry_if_exception_type=lambda exc: "attempt" in str(exc),
        wait_exponential_jitter=False,
        stop_after_attempt=3,
    )
    assert retry.invoke(5) == 5
    never = flaky(1).with_retry(retry_if_exception_type=lambda exc: False)
    with pytest.raises(ValueError, match="attempt 1"):
        never.invoke(5)


def test_a_binding_forwards_attributes_with_its_config() -> None:
    class WithHelper(RunnableLambda[Any, Any]):
        def describe(self, prefix: str, config: RunnableConfig | None = None) -> str:
            return f"{prefix}{(config or {}).get('tags')}"

    bound = WithHelper(lambda x: x).with_config(tags=["a"])
    assert bound.describe("tags: ") == "tags: ['a']"  # type: ignore[attr-defined]
    assert bound.describe("tags: ", {"tags": ["b"]}) == "tags: ['a', 'b']"  # type: ignore[attr-defined]
    assert bound.func is not None  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = bound.no_such_thing  # type: ignore[attr-defined]
