"""The public surface: a literal, sorted ``__all__``; every name importable and documented;
every public class and function documented with an example that runs."""

from __future__ import annotations

import doctest
import importlib
import inspect
import re
from typing import Any

import pytest

import otel_runnables

PUBLIC = list(otel_runnables.__all__)

# The names DESIGN.md promises at the top level (langchain-core's names).
PROMISED = {
    "Runnable",
    "RunnableLambda",
    "RunnableSequence",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnableGenerator",
    "chain",
    "RunnableConfig",
    "ensure_config",
    "dispatch_custom_event",
    "adispatch_custom_event",
    "BaseCallbackHandler",
    "AsyncCallbackHandler",
    "StreamEvent",
}


def _is_class_or_function(obj: Any) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj)


def test_all_is_sorted_and_unique() -> None:
    assert sorted(PUBLIC) == PUBLIC
    assert len(PUBLIC) == len(set(PUBLIC))


def test_all_holds_the_promised_names() -> None:
    assert set(PUBLIC) >= PROMISED


@pytest.mark.parametrize("name", PUBLIC)
def test_every_name_is_importable(name: str) -> None:
    module = importlib.import_module("otel_runnables")
    assert hasattr(module, name)
    namespace: dict[str, Any] = {}
    exec(f"from otel_runnables import {name}", namespace)
    assert namespace[name] is getattr(otel_runnables, name)


def test_no_private_module_leaks_into_all() -> None:
    assert not [n for n in PUBLIC if n.startswith("_") and n != "__version__"]


def test_version() -> None:
    version = otel_runnables.__version__
    assert isinstance(version, str)
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)*", version)


@pytest.mark.parametrize("name", [n for n in PUBLIC if n != "__version__"])
def test_every_public_name_has_a_docstring(name: str) -> None:
    obj = getattr(otel_runnables, name)
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"{name} has no docstring"


@pytest.mark.parametrize(
    "name", [n for n in PUBLIC if _is_class_or_function(getattr(otel_runnables, n))]
)
def test_every_public_class_and_function_has_an_example(name: str) -> None:
    doc = getattr(otel_runnables, name).__doc__ or ""
    assert "Example" in doc and ">>>" in doc, f"{name}'s docstring has no example"


@pytest.mark.parametrize(
    "name", [n for n in PUBLIC if _is_class_or_function(getattr(otel_runnables, n))]
)
def test_examples_run(name: str) -> None:
    obj = getattr(otel_runnables, name)
    globs = {n: getattr(otel_runnables, n) for n in PUBLIC}
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(obj, name, globs=globs):
        runner.run(test)
    assert runner.failures == 0, f"the example in {name}'s docstring fails"


def test_package_docstring_example_runs() -> None:
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner()
    for test in finder.find(otel_runnables, "otel_runnables"):
        runner.run(test)
    assert runner.failures == 0


def test_public_methods_have_docstrings() -> None:
    from otel_runnables import Runnable

    methods = [
        "invoke", "ainvoke", "batch", "abatch", "stream", "astream", "astream_events",
        "with_config", "with_retry", "with_fallbacks", "pick", "assign",
    ]  # fmt: skip
    missing = [m for m in methods if not inspect.getdoc(getattr(Runnable, m))]
    assert missing == []


def test_py_typed_marker_is_shipped() -> None:
    from pathlib import Path

    assert (Path(otel_runnables.__file__).parent / "py.typed").is_file()
