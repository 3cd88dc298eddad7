"""The first snippet of docs/getting-started.md, run as written with no variable set, prints the
run tree and the result at once (it used to print nothing, log gRPC errors for a backend that
was not there and take about 8 s to exit)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "getting-started.md"


def _snippet() -> tuple[str, str]:
    """The section's Python code block and the output block that follows it."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Your first traced pipeline\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.DOTALL)
    code = next(body for lang, body in blocks if lang == "python")
    output = next(body for lang, body in blocks if lang == "")
    return code, output


def test_first_snippet_prints_the_tree_with_nothing_set() -> None:
    code, documented = _snippet()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert elapsed < 10, f"took {elapsed:.1f} s"

    def shape(text: str) -> list[str]:
        return [re.sub(r"\d+\.\d+ (ms|s)", "T", line) for line in text.strip().splitlines()]

    assert shape(done.stdout) == shape(documented)
    assert done.stdout.strip().endswith("2 documents")
