"""Helpers for the end-to-end tests: run ``emit_pipeline.py`` in a subprocess with OTEL_* env."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _support.process import run_python, without_otel

EMITTER = Path(__file__).with_name("emit_pipeline.py")
ROOT = Path(__file__).parents[2]
RETRIEVED_ATTRIBUTES = {
    "count": 2,
    "ids": ("doc-1", "doc-2"),
    "score": 0.75,
    "ok": True,
    "filters.lang": "en",
    "filters.year": 2024,
    "mixed": '[1, "a"]',
}
"""The attributes the ``retrieved`` event of ``emit_pipeline.py`` must arrive with (as a span
event and as a log record): typed values, a string array, flattened dict keys, a mixed list as
JSON."""


def clean_env(**overrides: str) -> dict[str, str]:
    """The current environment without any OTEL_* variable or PYTHONPATH, plus ``overrides``."""
    env = without_otel(**overrides)
    if "PYTHONPATH" not in overrides:
        env.pop("PYTHONPATH", None)
    return env


def run_emitter(
    env: dict[str, str], timeout: float = 60.0, script: Path = EMITTER
) -> dict[str, Any]:
    """Run the pipeline (``script``) in a fresh interpreter; return the JSON line it printed."""
    proc, _ = run_python([str(script)], env, timeout=timeout, cwd=ROOT)
    assert "Failed to export" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def emit() -> Any:
    return run_emitter
