"""Smoke tests: every example in examples/ runs as a subprocess and prints what it promises.

Examples that export run against the in-process OTLP receivers, configured only through the
standard OTEL_* variables, exactly as a user would run them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _support.process import run_python, without_otel

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    base.update(env)
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / name), *args],
        env=base,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    stdout = proc.stdout.decode()  # bytes: text mode would turn the progress bar's \r into \n
    stderr = proc.stderr.decode()
    assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{stdout}\n{stderr}"
    assert "Traceback" not in stderr, stderr
    assert "Failed to export" not in stderr, stderr
    return stdout.replace("\r\n", "\n")


def test_every_example_has_a_smoke_test() -> None:
    tested = {
        "quickstart.py",
        "export_with_env.py",
        "progress_bar.py",
        "stream_events.py",
        "realistic_pipeline.py",
        "langchain_app.py",
        "mixed_pipeline.py",
    }
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


@pytest.mark.slow  # a fresh Python importing langchain-core (seconds)
def test_langchain_app_is_traced_with_one_line() -> None:
    out = run_example("langchain_app.py")
    assert out.splitlines()[0].startswith("LangGraph ")
    for line in (
        "├─ retrieve ",
        "│  └─ retrieval DocsRetriever ",
        "│  ├─ chat demo-model ",
        "ok  tokens in=42 out=12",
        "ok  tokens in=61 out=14",
        "│  └─ execute_tool add ",
        "• tool_progress  tool=add  a=2  b=3",
        "• progress  step=retrieve  docs=2",
    ):
        assert line in out, line
    assert out.count("chat demo-model") == 2
    assert out.strip().endswith("answer: 2 + 3 = 5, and every step of this answer is a span.")


@pytest.mark.slow  # a fresh Python importing langchain-core (seconds)
def test_mixed_pipeline_is_one_trace_each_way() -> None:
    out = run_example("mixed_pipeline.py")
    answer_tree, rest = out.split("answer: Each step is a child span. [docs/langchain.md]\n")
    assert answer_tree.startswith("answer ")
    for line in (
        "├─ normalise ",
        "│       • progress  step=normalise  chars=18",
        "├─ ChatPromptTemplate ",
        "├─ chat demo-model ",
        "ok  tokens in=23 out=9",
        "├─ StrOutputParser ",
        "└─ cite ",
    ):
        assert line in answer_tree, line
    assert rest.startswith("LangGraph ")
    for line in ("└─ summarise ", "   └─ RunnableSequence ", "      ├─ split "):
        assert line in rest, line
    assert rest.strip().endswith("summary: {'words': 5, 'longest': 'every'}")


@pytest.mark.slow  # a fresh Python importing langchain-core (seconds)
def test_langchain_app_under_opentelemetry_instrument() -> None:
    """The same app, zero code: OpenTelemetry's launcher loads the entry point."""
    launcher = Path(sys.executable).with_name("opentelemetry-instrument")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="langchain-app",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="langchain",  # only ours, not the peers'
    )
    proc = subprocess.run(
        [str(launcher), sys.executable, str(EXAMPLES / "langchain_app.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    spans = _console_spans(proc.stdout)
    names = [span["name"] for span in spans]
    assert names.count("chat demo-model") == 2
    assert {"LangGraph", "retrieval DocsRetriever", "execute_tool add"} <= set(names)
    chat = next(s for s in spans if s["name"] == "chat demo-model")
    assert chat["attributes"]["gen_ai.usage.input_tokens"] == 42
    assert chat["attributes"]["llm.token_count.total"] == 54
    tool = next(s for s in spans if s["name"] == "execute_tool add")
    assert [e["name"] for e in tool["events"]] == ["tool_progress"]
    assert {s["context"]["trace_id"] for s in spans} == {spans[0]["context"]["trace_id"]}


def _console_spans(stdout: str) -> list[dict[str, Any]]:
    """The spans the SDK's console exporter printed (one JSON object each)."""
    decoder = json.JSONDecoder()
    spans, index = [], stdout.find("{")
    while index != -1:
        span, end = decoder.raw_decode(stdout, index)
        spans.append(span)
        index = stdout.find("{", end)
    return spans


def test_quickstart_prints_the_run_tree() -> None:
    out = run_example("quickstart.py")
    assert out.splitlines()[0].startswith("quickstart ")
    for line in ("split_words", "shout", "count_letters", "• progress"):
        assert line in out
    assert "result: {'loud': ['EVERY', 'RUN', 'IS', 'A', 'SPAN'], 'letters': 15}" in out


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_export_with_env_reaches_the_receiver(
    protocol: str, otlp_grpc_receiver: Any, otlp_http_receiver: Any
) -> None:
    receiver = otlp_grpc_receiver if protocol == "grpc" else otlp_http_receiver
    out = run_example(
        "export_with_env.py",
        OTEL_SERVICE_NAME="export-demo",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
    )
    assert "result: 7 tokens, longest: backend" in out
    assert f"protocol={protocol} endpoint={receiver.endpoint}\n" in out
    assert "flushed=True: 3 of 3 spans delivered" in out
    spans = receiver.wait_for_spans(3)
    assert sorted(s.name for s in spans) == ["export-demo", "summarize", "tokenize"]
    assert {s.resource_attributes["service.name"] for s in spans} == {"export-demo"}
    tokenize = receiver.span("tokenize")
    assert tokenize.event("tokenized").attributes == {"tokens": 7, "first": "spans"}
    assert tokenize.parent_span_id == receiver.span("export-demo").span_id


def test_export_with_env_says_when_nothing_was_delivered(otlp_blackhole: Any) -> None:
    """A backend that never answers: the script says so, with the count, and exits soon."""
    env = without_otel(**otlp_blackhole.env("grpc"), OTEL_RUNNABLES_FLUSH_TIMEOUT="1000")
    proc, elapsed = run_python([str(EXAMPLES / "export_with_env.py")], env, cwd=ROOT)
    assert "flushed=False: 3 of 3 spans NOT delivered (3 still waiting)" in proc.stdout
    assert elapsed < 15, f"took {elapsed:.1f} s to exit"  # the exporter's own timeout is 10 s


def test_export_with_env_console_exporter() -> None:
    out = run_example("export_with_env.py", OTEL_TRACES_EXPORTER="console")
    assert '"name": "tokenize"' in out
    assert '"name": "tokenized"' in out
    assert "exporter=console" in out


def test_progress_bar_draws_from_custom_events() -> None:
    out = run_example("progress_bar.py", "--plain")
    assert out.splitlines() == [
        "[####................] 1/5 alpha",
        "[########............] 2/5 beta",
        "[############........] 3/5 gamma",
        "[################....] 4/5 delta",
        "[####################] 5/5 epsilon",
        "done: [5, 4, 5, 5, 7]",
    ]


def test_progress_bar_redraws_in_place() -> None:
    out = run_example("progress_bar.py")
    assert out.count("\r") == 5
    assert out.endswith("5/5 epsilon\ndone: [5, 4, 5, 5, 7]\n")


def test_stream_events_prints_sse_messages_in_order() -> None:
    out = run_example("stream_events.py")
    messages = [m for m in out.split("\n\n") if m.strip()]
    parsed = []
    for message in messages:
        event_line, data_line = message.strip().splitlines()
        assert event_line.startswith("event: ") and data_line.startswith("data: ")
        parsed.append((event_line[7:], json.loads(data_line[6:])))
    kinds = [kind for kind, _ in parsed]
    assert kinds[:2] == ["status", "status"]
    assert parsed[0][1] == {"stage": "planning", "question": "what is a run tree?"}
    assert set(kinds[2:-1]) == {"token"}
    assert kinds[-1] == "done"
    text = "".join(data["text"] for kind, data in parsed if kind == "token")
    assert parsed[-1][1]["output"] == text
    assert text.startswith("Answer to 'what is a run tree?'")


def test_realistic_pipeline_prints_the_tree_with_fallback_and_events() -> None:
    out = run_example("realistic_pipeline.py")
    assert out.splitlines()[0].startswith("rag-pipeline ")
    for source in ("docs", "wiki", "tickets"):
        assert re.search(rf"search_{source} .* ok", out), out
        assert f"retrieved  source={source}" in out
    assert "query_rewritten" in out and "reranked  kept=3" in out
    assert re.search(r"call_primary_model .* ERROR TimeoutError: primary model", out)
    assert re.search(r"call_small_model .* ok", out)
    assert "tokens  prompt=36" in out
    assert out.rstrip().endswith("#42: show custom events in Phoenix")


def test_realistic_pipeline_exports_the_tree(otlp_http_receiver: Any) -> None:
    run_example(
        "realistic_pipeline.py",
        OTEL_SERVICE_NAME="rag",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_http_receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
    )
    spans = otlp_http_receiver.wait_for_spans(10)
    by_id = {s.span_id: s for s in spans}
    parent = {s.name: by_id[s.parent_span_id].name for s in spans if s.parent_span_id}
    assert parent["rewrite_query"] == "rag-pipeline"
    assert parent["retrieve"] == "rag-pipeline"
    assert {parent[f"search_{s}"] for s in ("docs", "wiki", "tickets")} == {"retrieve"}
    primary = otlp_http_receiver.span("call_primary_model")
    assert primary.status_code == "ERROR"
    assert primary.event("exception").attributes["exception.type"] == "TimeoutError"
    assert otlp_http_receiver.span("call_small_model").event("tokens").attributes == {
        "prompt": 36,
        "completion": 18,
    }


def test_realistic_pipeline_fallbacks_nest_under_their_run(otlp_http_receiver: Any) -> None:
    run_example(
        "realistic_pipeline.py",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_http_receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
    )
    spans = otlp_http_receiver.wait_for_spans(10)
    by_id = {s.span_id: s for s in spans}
    parent = {s.name: by_id[s.parent_span_id].name for s in spans if s.parent_span_id}
    assert parent["call_primary_model"] == "RunnableWithFallbacks"
    assert parent["call_small_model"] == "RunnableWithFallbacks"
