"""Fixtures for the differential suite (langchain-core is the oracle, otel_runnables is ours)."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core", reason="the oracle (langchain-core) needs Python >= 3.11")

from .scenarios import Lib, load_oracle, load_ours


@pytest.fixture(scope="session")
def oracle() -> Lib:
    return load_oracle()


@pytest.fixture(scope="session")
def ours() -> Lib:
    """otel_runnables' facade; a missing module or name FAILS the test (never skips it)."""
    try:
        return load_ours()
    except Exception as exc:  # ImportError, or anything a half-written package raises
        pytest.fail(f"otel_runnables is not usable: {type(exc).__name__}: {exc}", pytrace=False)
