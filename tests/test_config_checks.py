"""A config value of the wrong type raises an error naming its key, wherever the config is
given: at call time, in ``with_config`` (at once, where it is written), in a
``RunnableBinding`` made directly, and in a call config merged over a bound one."""

from __future__ import annotations

from typing import Any

import pytest

from otel_runnables import RunnableBinding, RunnableLambda

identity = RunnableLambda(lambda x: x, name="identity")

BAD = [
    ({"tags": "abc"}, "config\\['tags'\\]", TypeError),
    ({"tags": ["a", 1]}, "config\\['tags'\\]", TypeError),
    ({"metadata": 5}, "config\\['metadata'\\]", TypeError),
    ({"configurable": [1]}, "config\\['configurable'\\]", TypeError),
    ({"callbacks": 3}, "config\\['callbacks'\\]", TypeError),
    ({"callbacks": [object()]}, "config\\['callbacks'\\]", TypeError),
    ({"run_name": 5}, "config\\['run_name'\\]", TypeError),
    ({"run_id": "abc"}, "config\\['run_id'\\]", ValueError),
    ({"max_concurrency": "a"}, "config\\['max_concurrency'\\]", TypeError),
    ({"recursion_limit": "x"}, "config\\['recursion_limit'\\]", TypeError),
]


@pytest.mark.parametrize(("config", "key", "error"), BAD)
def test_at_call_time(config: dict[str, Any], key: str, error: type[Exception]) -> None:
    with pytest.raises(error, match=key):
        identity.invoke(1, config)  # type: ignore[arg-type]


@pytest.mark.parametrize(("config", "key", "error"), BAD)
def test_with_config_raises_at_once(
    config: dict[str, Any], key: str, error: type[Exception]
) -> None:
    with pytest.raises(error, match=key):
        identity.with_config(**config)
    with pytest.raises(error, match=key):
        identity.with_config(config)  # type: ignore[arg-type]


@pytest.mark.parametrize(("config", "key", "error"), BAD)
def test_a_binding_made_directly(
    config: dict[str, Any], key: str, error: type[Exception]
) -> None:
    with pytest.raises(error, match=key):
        RunnableBinding(bound=identity, config=config)  # type: ignore[arg-type]


def test_with_config_of_a_binding_checks_the_new_values() -> None:
    bound = identity.with_config(tags=["ok"])
    with pytest.raises(TypeError, match="config\\['tags'\\]"):
        bound.with_config(tags="abc")


@pytest.mark.parametrize(("config", "key", "error"), BAD[:3])
def test_a_call_config_merged_over_a_bound_one(
    config: dict[str, Any], key: str, error: type[Exception]
) -> None:
    # (merging used to turn the string "abc" into the tags a, b and c before any check)
    with pytest.raises(error, match=key):
        identity.with_config(tags=["ok"]).invoke(1, config)  # type: ignore[arg-type]


def test_good_values_pass() -> None:
    bound = identity.with_config(
        tags=["a"], metadata={"m": 1}, run_name="named", max_concurrency=2, extra=1
    )
    assert bound.invoke(5, {"tags": ["b"]}) == 5
