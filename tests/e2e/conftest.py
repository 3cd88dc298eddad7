"""Helpers for the end-to-end tests: run ``emit_pipeline.py`` in a subprocess with OTEL_* env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EMITTER = Path(__file__).with_name("emit_pipeline.py")
ROOT = Path(__file__).parents[2]


def clean_env(**overrides: str) -> dict[str, str]:
    """The current environment without any OTEL_* variable, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.pop("PYTHONPATH", None)
    env.update(overrides)
    return env


def run_emitter(
    env: dict[str, str], timeout: float = 60.0, script: Path = EMITTER
) -> dict[str, Any]:
    """Run the pipeline (``script``) in a fresh interpreter; return the JSON line it printed."""
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"emitter failed ({proc.returncode}):\n{proc.stderr}"
    assert "Failed to export" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def emit() -> Any:
    return run_emitter
