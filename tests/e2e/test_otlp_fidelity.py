"""Exact OTLP fidelity: env-only configuration, the real exporter, an in-process receiver.

``tests/e2e/emit_pipeline.py`` runs in a subprocess with nothing but ``OTEL_*`` variables
(``configure_tracing()`` installs the global provider, which is set-once per process); the
receiver in this process decodes what arrived on the wire and these tests check every field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from _otlp.receiver import GrpcOtlpReceiver, HttpOtlpReceiver

import otel_runnables

from .conftest import RETRIEVED_ATTRIBUTES, clean_env, run_emitter

Tree = tuple[str, list[Any]]


@pytest.fixture(scope="module", params=["grpc", "http/protobuf"])
def exported(request: pytest.FixtureRequest) -> Iterator[list[Any]]:
    """Run the emitter once per protocol against a fresh receiver; the received spans."""
    receiver = GrpcOtlpReceiver() if request.param == "grpc" else HttpOtlpReceiver()
    with receiver.start():
        assert receiver.protocol == request.param
        yield _export(receiver, request.param)


def _export(receiver: Any, protocol: str) -> list[Any]:
    env = clean_env(
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_SERVICE_NAME="fidelity-svc",
    )
    result = run_emitter(env)
    assert result["result"] == {"ranked": ["doc-2", "doc-1"], "total": 2}
    assert result["error"] == "ValueError: no answer for 2 documents"
    spans: list[Any] = receiver.wait_for_spans(8, timeout=10)
    assert len(spans) == 8, [s.name for s in spans]
    for root, trace_id in result["trace_ids"].items():  # seen as current span inside the run
        assert _one(spans, root).trace_id == trace_id
    return spans


def _one(spans: list[Any], name: str, root: str | None = None) -> Any:
    found = [s for s in spans if s.name == name]
    if root is not None:
        trace_id = _one(spans, root).trace_id
        found = [s for s in found if s.trace_id == trace_id]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


def _tree(spans: list[Any], span: Any) -> Tree:
    children = sorted((s for s in spans if s.parent_span_id == span.span_id), key=lambda s: s.name)
    for child in children:
        assert child.trace_id == span.trace_id
        assert span.start_time_unix_nano <= child.start_time_unix_nano
        assert child.end_time_unix_nano <= span.end_time_unix_nano
    return (span.name, [_tree(spans, c) for c in children])


def test_resource_and_scope(exported: list[Any]) -> None:
    for span in exported:
        assert span.resource_attributes["service.name"] == "fidelity-svc"
        assert span.resource_attributes["telemetry.sdk.language"] == "python"
        assert span.scope_name == "otel_runnables"
        assert span.scope_version == otel_runnables.__version__
        assert span.kind == "INTERNAL"
        assert span.end_time_unix_nano >= span.start_time_unix_nano > 0


def test_trace_and_parent_ids_form_the_run_tree(exported: list[Any]) -> None:
    roots = [s for s in exported if s.parent_span_id is None]
    assert sorted(r.name for r in roots) == ["failing", "fidelity"]
    assert roots[0].trace_id != roots[1].trace_id
    assert len({s.span_id for s in exported}) == 8
    ok, bad = _one(exported, "fidelity"), _one(exported, "failing")
    assert _tree(exported, ok) == (
        "fidelity",
        [
            ("RunnableParallel<ranked,total>", [("count", []), ("rank", [])]),
            ("retrieve", []),
        ],
    )
    assert _tree(exported, bad) == ("failing", [("explode", []), ("retrieve", [])])
    # run ids on the wire agree with the span tree
    by_id = {s.span_id: s for s in exported}
    for span in exported:
        if span.parent_span_id is None:
            assert "runnable.parent_run_id" not in span.attributes
        else:
            parent = by_id[span.parent_span_id]
            assert span.attributes["runnable.parent_run_id"] == parent.attributes["runnable.run_id"]


def test_attributes_with_their_otlp_types(exported: list[Any]) -> None:
    root = _one(exported, "fidelity")
    assert root.attributes["input.value"] == "what is a span?"
    assert root.attributes["input.mime_type"] == "text/plain"
    assert json.loads(root.attributes["output.value"]) == {
        "ranked": ["doc-2", "doc-1"],
        "total": 2,
    }
    assert root.attributes["output.mime_type"] == "application/json"
    assert root.attributes["openinference.span.kind"] == "CHAIN"
    assert root.attributes["runnable.run_type"] == "chain"
    assert root.attributes["runnable.tags"] == ("e2e",)
    assert root.array_item_types["runnable.tags"] == frozenset({"string_value"})
    assert root.attributes["runnable.metadata.user"] == "u-1"
    assert root.attributes["runnable.metadata.attempt"] == 3
    expected_types = {
        "input.value": "string_value",
        "input.mime_type": "string_value",
        "output.value": "string_value",
        "output.mime_type": "string_value",
        "openinference.span.kind": "string_value",
        "runnable.run_id": "string_value",
        "runnable.run_type": "string_value",
        "runnable.tags": "array_value",
        "runnable.metadata.user": "string_value",
        "runnable.metadata.attempt": "int_value",
    }
    for key, otlp_type in expected_types.items():
        assert root.attribute_types[key] == otlp_type, key
    count = _one(exported, "count", root="fidelity")
    assert count.attributes["output.value"] == "2"
    assert count.attributes["output.mime_type"] == "application/json"
    # tags inherited the way langchain-core does it: the config tag plus the map key tag
    assert "map:key:total" in count.attributes["runnable.tags"]
    for span in exported:
        assert span.attributes["openinference.span.kind"] == "CHAIN"
        assert span.attribute_types["runnable.run_id"] == "string_value"


def test_span_events_with_typed_attributes_in_order(exported: list[Any]) -> None:
    retrieve = _one(exported, "retrieve", root="fidelity")
    (event,) = retrieve.events
    assert event.name == "retrieved"
    assert event.attributes == RETRIEVED_ATTRIBUTES
    assert event.types == {
        "count": "int_value",
        "ids": "array_value",
        "score": "double_value",
        "ok": "bool_value",
        "filters.lang": "string_value",
        "filters.year": "int_value",
        "mixed": "string_value",
    }
    assert retrieve.start_time_unix_nano <= retrieve.event_times_unix_nano[0]
    assert retrieve.event_times_unix_nano[0] <= retrieve.end_time_unix_nano

    rank = _one(exported, "rank")
    assert [(e.name, e.attributes) for e in rank.events] == [
        ("progress", {"step": 1, "of": 2}),
        ("progress", {"step": 2, "of": 2}),
    ]
    assert rank.events[0].types == {"step": "int_value", "of": "int_value"}
    assert rank.event_times_unix_nano == sorted(rank.event_times_unix_nano)


def test_error_status_and_exception_event(exported: list[Any]) -> None:
    explode = _one(exported, "explode")
    assert explode.status_code == "ERROR"
    assert explode.status_message == "ValueError: no answer for 2 documents"
    assert explode.attributes["error.type"] == "ValueError"
    names = [e.name for e in explode.events]
    assert names == ["about_to_fail", "exception"]
    assert explode.events[0].attributes == {"data": "no answer"}
    exception = explode.event("exception")
    assert exception.attributes["exception.type"] == "ValueError"
    assert exception.attributes["exception.message"] == "no answer for 2 documents"
    assert "Traceback" in exception.attributes["exception.stacktrace"]
    assert exception.types["exception.type"] == "string_value"
    assert "output.value" not in explode.attributes

    failing = _one(exported, "failing")
    assert failing.status_code == "ERROR"
    assert failing.attributes["error.type"] == "ValueError"
    # recorded once, where it was raised: the parent names that run
    assert not [e for e in failing.events if e.name == "exception"]
    origin = failing.attributes["runnable.error.origin_run_id"]
    assert origin == explode.attributes["runnable.run_id"]
    # the sibling that ran before the error is fine
    assert _one(exported, "retrieve", root="failing").status_code in ("UNSET", "OK")
    for name in ("fidelity", "rank", "count", "RunnableParallel<ranked,total>"):
        assert _one(exported, name).status_code in ("UNSET", "OK"), name
