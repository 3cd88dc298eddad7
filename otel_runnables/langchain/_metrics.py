"""The OpenTelemetry GenAI client metrics of model runs traced by the bridge.

A chat model or LLM run (``ModelDetail.record_metrics``, called when the run ends with a
MeterProvider installed) records ``gen_ai.client.operation.duration`` and, when the response
reports usage, ``gen_ai.client.token.usage`` once for the input and once for the output tokens.
Names, units, attributes and bucket boundaries follow the GenAI semantic conventions
(development status); the attribute values are the span's (``gen_ai.provider.name``, the
request and response models, ``error.type``), never messages or ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from .. import _attributes as attrs
from .._metrics import histogram

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram, Meter

    from .._metrics import Instruments

__all__ = [
    "DURATION_BUCKETS",
    "OPERATION_DURATION",
    "TOKEN_BUCKETS",
    "TOKEN_TYPE",
    "TOKEN_USAGE",
    "GenAIInstruments",
    "ModelCall",
    "record_model_metrics",
]

OPERATION_DURATION = "gen_ai.client.operation.duration"
TOKEN_USAGE = "gen_ai.client.token.usage"
TOKEN_TYPE = "gen_ai.token.type"
"""Attribute of ``gen_ai.client.token.usage``: ``input`` or ``output``."""
DURATION_BUCKETS = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
"""The boundaries (s) the conventions advise for ``gen_ai.client.operation.duration``."""
TOKEN_BUCKETS = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
"""The boundaries the conventions advise for ``gen_ai.client.token.usage``."""


class GenAIInstruments(NamedTuple):
    duration: Histogram
    tokens: Histogram


def _make(meter: Meter) -> GenAIInstruments:
    return GenAIInstruments(
        histogram(meter, OPERATION_DURATION, "s", "GenAI operation duration", DURATION_BUCKETS),
        histogram(
            meter, TOKEN_USAGE, "{token}", "Number of input and output tokens used", TOKEN_BUCKETS
        ),
    )


class ModelCall(NamedTuple):
    """What the metrics of one model run say about it (each None when unknown)."""

    operation: str
    provider: str | None
    request_model: str | None
    response_model: str | None
    error_type: str | None


def record_model_metrics(
    instruments: Instruments,
    call: ModelCall,
    seconds: float,
    input_tokens: int | None,
    output_tokens: int | None,
) -> None:
    """Record the duration of ``call``, and its token counts when the response reported any."""
    genai = instruments.made("gen_ai.client", _make)
    attributes: dict[str, Any] = {attrs.GEN_AI_OPERATION_NAME: call.operation}
    if call.provider is not None:
        attributes[attrs.GEN_AI_PROVIDER_NAME] = call.provider
    if call.request_model is not None:
        attributes[attrs.GEN_AI_REQUEST_MODEL] = call.request_model
    if call.response_model is not None:
        attributes[attrs.GEN_AI_RESPONSE_MODEL] = call.response_model
    if call.error_type is not None:
        attributes[attrs.ERROR_TYPE] = call.error_type
    genai.duration.record(seconds, attributes)
    for kind, count in (("input", input_tokens), ("output", output_tokens)):
        if count is not None:
            genai.tokens.record(count, {**attributes, TOKEN_TYPE: kind})
