"""Runs traced by the bridge are measured as native runs are; model runs add the GenAI client
metrics (``gen_ai.client.operation.duration``, ``gen_ai.client.token.usage``) with the
attributes their spans carry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.language_models import FakeListLLM
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda

from otel_runnables.langchain._metrics import DURATION_BUCKETS, TOKEN_BUCKETS
from otel_runnables.testing import MetricRecorder, SpanRecorder

from ._support import USAGE, ScriptedChatModel

OPERATION = "gen_ai.client.operation.duration"
TOKENS = "gen_ai.client.token.usage"
CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "aws.bedrock",
    "gen_ai.request.model": "scripted-1",
    "gen_ai.response.model": "scripted-1-2026",
}


class FailingChatModel(ScriptedChatModel):
    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        raise TimeoutError("provider timed out")


def _only(recorder: MetricRecorder, name: str, where: dict[str, Any] | None = None) -> Any:
    points = recorder.points(name, where)
    assert len(points) == 1, points
    return points[0]


@pytest.mark.parametrize("mode", ["invoke", "stream", "ainvoke"])
def test_a_chat_model_run_records_duration_and_tokens(
    bridge: SpanRecorder, otel_metrics: MetricRecorder, mode: str
) -> None:
    model = ScriptedChatModel()
    if mode == "invoke":
        model.invoke("what is 1 + 2?")
    elif mode == "stream":
        assert "".join(str(c.content) for c in model.stream("what is 1 + 2?")).strip()
    else:
        asyncio.run(model.ainvoke("what is 1 + 2?"))
    duration = _only(otel_metrics, OPERATION)
    streamed = mode == "stream"  # a stream's chunks carry no response metadata: no model
    expected = {k: v for k, v in CHAT.items() if not (streamed and k == "gen_ai.response.model")}
    assert duration.attributes == expected
    assert duration.unit == "s"
    assert duration.point.count == 1
    assert tuple(duration.point.explicit_bounds) == DURATION_BUCKETS
    tokens = {p.attributes.pop("gen_ai.token.type"): p for p in otel_metrics.points(TOKENS)}
    assert set(tokens) == {"input", "output"}
    for kind, count in (("input", USAGE["input_tokens"]), ("output", USAGE["output_tokens"])):
        point = tokens[kind]
        assert point.unit == "{token}"
        assert point.attributes == expected
        assert (point.point.count, point.point.sum) == (1, count)
        assert tuple(point.point.explicit_bounds) == TOKEN_BUCKETS


def test_metric_attributes_are_the_span_s(
    bridge: SpanRecorder, otel_metrics: MetricRecorder
) -> None:
    ScriptedChatModel().invoke("hi")
    (span,) = bridge.by_name("chat scripted-1")
    duration = _only(otel_metrics, OPERATION)
    for key, value in duration.attributes.items():
        assert span.attributes[key] == value


def test_every_bridged_run_is_a_run_duration(
    bridge: SpanRecorder, otel_metrics: MetricRecorder
) -> None:
    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    chain = prompt | ScriptedChatModel() | RunnableLambda(lambda m: m.content)
    assert chain.invoke({"question": "1 + 2?"}) == "the answer is 3"
    found = {
        (p.attributes["runnable.run_name"], p.attributes["runnable.run_type"]): p.point.count
        for p in otel_metrics.points("runnable.run.duration")
    }
    assert found == {
        ("RunnableSequence", "chain"): 1,
        ("ChatPromptTemplate", "prompt"): 1,
        ("ScriptedChatModel", "chat_model"): 1,
        ("RunnableLambda", "chain"): 1,
    }
    assert _only(otel_metrics, OPERATION).point.count == 1


def test_a_failed_model_call_has_an_error_type_and_no_tokens(
    bridge: SpanRecorder, otel_metrics: MetricRecorder
) -> None:
    with pytest.raises(TimeoutError):
        FailingChatModel().invoke("hi")
    duration = _only(otel_metrics, OPERATION)
    assert duration.attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": "scripted-1",
        "error.type": "TimeoutError",
    }
    assert otel_metrics.points(TOKENS) == []
    run = _only(otel_metrics, "runnable.run.duration")
    assert run.attributes["error.type"] == "TimeoutError"
    assert run.attributes["runnable.run_type"] == "chat_model"


def test_a_completion_llm_without_usage_records_its_duration_only(
    bridge: SpanRecorder, otel_metrics: MetricRecorder
) -> None:
    assert FakeListLLM(responses=["done"]).invoke("go") == "done"
    duration = _only(otel_metrics, OPERATION)
    assert duration.attributes["gen_ai.operation.name"] == "text_completion"
    assert "error.type" not in duration.attributes
    assert otel_metrics.points(TOKENS) == []


def test_chains_and_tools_record_no_genai_metrics(
    bridge: SpanRecorder, otel_metrics: MetricRecorder
) -> None:
    RunnableLambda(lambda x: x + 1).invoke(1)
    assert otel_metrics.names() == {"runnable.run.duration"}
