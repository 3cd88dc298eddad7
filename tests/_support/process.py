"""Running a script in a fresh interpreter with a controlled ``OTEL_*`` environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["run_python", "without_otel"]


def without_otel(**overrides: str) -> dict[str, str]:
    """The current environment without any ``OTEL_*`` variable, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(overrides)
    return env


def run_python(
    args: list[str], env: dict[str, str], *, timeout: float = 60.0, cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python *args`` in ``env``; the finished process (which must have exited 0: its stderr
    is the assertion's message) and how many seconds it took, exit included."""
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    took = time.monotonic() - began
    assert done.returncode == 0, f"exit status {done.returncode}:\n{done.stderr}"
    return done, took
