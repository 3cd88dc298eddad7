"""Screenshot a run tree in the Phoenix UI: docs/img/phoenix-run-tree.png.

Needs a running Phoenix (scripts/phoenix.sh), Debian's chromium (``apt-get install -y
chromium``) and an interpreter with otel_runnables installed (``pip install -e ".[otlp]"``)::

    scripts/phoenix.sh install && eval "$(scripts/phoenix.sh start)"
    python scripts/screenshot_phoenix.py            # [--out PATH] [--chromium PATH]
    scripts/phoenix.sh stop

It exports examples/realistic_pipeline.py (or ``--example langchain_app.py --spans 11 --out
docs/img/phoenix-langchain-app.png``) to a fresh Phoenix project over OTLP/HTTP, waits
until the spans are readable through the REST API, then opens the trace's page in headless
Chromium and saves a screenshot.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, None


def wait_for_spans(base: str, project: str, expected: int, timeout: float = 30) -> list[Any]:
    url = f"{base}/v1/projects/{urllib.parse.quote(project)}/spans?limit=100"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = get_json(url)
        if status == 200 and len(body["data"]) >= expected:
            return list(body["data"])
        time.sleep(0.25)
    raise SystemExit(f"spans of project {project} did not reach Phoenix within {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--example", default="realistic_pipeline.py", help="in examples/")
    parser.add_argument("--spans", type=int, default=10, help="spans the example exports")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img" / "phoenix-run-tree.png"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--size", default="1600,1000")
    parser.add_argument("--wait-ms", type=int, default=20000, help="virtual time budget")
    args = parser.parse_args()

    base = os.environ.get("PHOENIX_URL", "").rstrip("/")
    if not base:
        raise SystemExit('PHOENIX_URL is not set: eval "$(scripts/phoenix.sh start)" first')
    project = f"otel-runnables-demo-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        OTEL_SERVICE_NAME="rag-demo",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=base,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={project}",
    )
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / args.example)],
        env=env,
        check=True,
        timeout=60,
        stdout=subprocess.DEVNULL,
    )
    spans = wait_for_spans(base, project, args.spans)
    root = next(s for s in spans if s["parent_id"] is None)
    trace_id = root["context"]["trace_id"]
    _, projects = get_json(f"{base}/v1/projects")
    project_id = next(p["id"] for p in projects["data"] if p["name"] == project)
    page = f"{base}/projects/{project_id}/traces/{trace_id}"
    print(f"project {project} ({project_id}), trace {trace_id}: {page}")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="otel-runnables-chromium-") as profile:
        subprocess.run(
            [
                args.chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={args.size}",
                f"--virtual-time-budget={args.wait_ms}",
                f"--screenshot={out}",
                page,
            ],
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    print(f"saved {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
