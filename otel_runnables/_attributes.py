"""Span attribute keys and the conversion of any Python value into valid OTel attribute values.

This is the only module that names attribute keys (docs/span-mapping.md documents each one and a
test checks the two agree). Conversion never raises: cycles, objects whose ``__repr__`` raises,
bytes, NaN, non-str keys and huge values all become valid attribute values, and strings longer
than the limit are cut with a visible marker.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CANCELLED",
    "CHUNK",
    "CHUNK_EVENT",
    "DEFAULT_VALUE_LENGTH_LIMIT",
    "ERROR_TYPE",
    "EVENT_DATA",
    "INPUT_MIME_TYPE",
    "INPUT_VALUE",
    "LENGTH_LIMIT_VARIABLES",
    "METADATA_PREFIX",
    "OPENINFERENCE_SPAN_KIND",
    "OUTPUT_MIME_TYPE",
    "OUTPUT_VALUE",
    "PARENT_RUN_ID",
    "RUN_ID",
    "RUN_TYPE",
    "SPAN_KIND_BY_RUN_TYPE",
    "STREAM_CHUNKS",
    "STREAM_FIRST_CHUNK_MS",
    "TAGS",
    "EMPTY_KEY",
    "TRUNCATION_MARKER",
    "event_attributes",
    "metadata_attributes",
    "safe_repr",
    "safe_str",
    "truncate",
    "value_and_mime",
    "value_length_limit",
]

RUN_ID = "runnable.run_id"
PARENT_RUN_ID = "runnable.parent_run_id"
RUN_TYPE = "runnable.run_type"
TAGS = "runnable.tags"
METADATA_PREFIX = "runnable.metadata."
CANCELLED = "runnable.cancelled"
STREAM_CHUNKS = "runnable.stream.chunks"
STREAM_FIRST_CHUNK_MS = "runnable.stream.first_chunk_ms"
INPUT_VALUE = "input.value"
INPUT_MIME_TYPE = "input.mime_type"
OUTPUT_VALUE = "output.value"
OUTPUT_MIME_TYPE = "output.mime_type"
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
ERROR_TYPE = "error.type"
# Span event attributes.
EVENT_DATA = "data"
CHUNK = "chunk"

CHUNK_EVENT = "chunk"
"""Name of the span event recorded for each streamed chunk (when chunks are recorded)."""

SPAN_KIND_BY_RUN_TYPE = {
    "chain": "CHAIN",
    "tool": "TOOL",
    "llm": "LLM",
    "chat_model": "LLM",
    "retriever": "RETRIEVER",
    "prompt": "CHAIN",
    "parser": "CHAIN",
}

EMPTY_KEY = "<empty>"
"""Stands for an empty dict key, which is not a valid attribute key (nor key part)."""
TRUNCATION_MARKER = "...[truncated]"
DEFAULT_VALUE_LENGTH_LIMIT = 16384
LENGTH_LIMIT_VARIABLES = (
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
)
"""Variables giving the longest attribute string, the first one set to a positive int wins."""
_MAX_DEPTH = 8
_JSON = "application/json"
_TEXT = "text/plain"


def value_length_limit() -> int:
    """The longest attribute string, in characters.

    ``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT``, else ``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`` (the
    SDK's precedence), when set to a positive int; else 16384. Values that are not positive
    ints are ignored, as the SDK ignores them.
    """
    for variable in LENGTH_LIMIT_VARIABLES:
        raw = os.environ.get(variable, "")
        try:
            limit = int(raw)
        except ValueError:
            continue
        if limit > 0:
            return limit
    return DEFAULT_VALUE_LENGTH_LIMIT


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with the truncation marker when cut."""
    if len(text) <= limit:
        return text
    if limit <= len(TRUNCATION_MARKER):
        return text[:limit]
    return text[: limit - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER


def safe_repr(value: Any) -> str:
    """``repr(value)``, or a placeholder naming the type when ``__repr__`` itself raises."""
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def safe_str(value: Any) -> str:
    """``str(value)``, or its :func:`safe_repr` when ``__str__`` raises."""
    try:
        return str(value)
    except Exception:
        return safe_repr(value)


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    for attr in ("model_dump", "dict", "to_dict"):
        method = getattr(value, attr, None)
        if callable(method):
            try:
                dumped = method()
            except Exception:
                continue
            if isinstance(dumped, dict):
                return dumped
    return safe_repr(value)


def _to_json(value: Any) -> str:
    try:
        return json.dumps(value, default=_default, ensure_ascii=False)
    except Exception:  # cycles, keys that cannot be sorted out, a raising default
        return json.dumps(safe_repr(value), ensure_ascii=False)


def value_and_mime(value: Any, limit: int) -> tuple[str, str]:
    """An input/output value as ``(text, mime type)``: str as text/plain, else JSON."""
    kind = type(value)
    if kind is str:
        return (value if len(value) <= limit else truncate(value, limit)), _TEXT
    if kind is int:
        text = str(value)
        return (text if len(text) <= limit else truncate(text, limit)), _JSON
    if value is None:
        return "null", _JSON
    if kind is bool:
        return ("true" if value else "false"), _JSON
    if isinstance(value, str):
        return truncate(value, limit), _TEXT
    return truncate(_to_json(value), limit), _JSON


_SCALARS = frozenset((str, bool, int, float))
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_INFINITIES = (math.inf, -math.inf)


def _scalar(value: Any, limit: int) -> Any:
    """A valid attribute value for one leaf."""
    if isinstance(value, (bool, int)):
        if isinstance(value, bool) or _INT_MIN <= value <= _INT_MAX:
            return value
        return str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return truncate(value, limit)
    if isinstance(value, (list, tuple)) and value:
        first = type(value[0])
        if first in (str, bool, int, float) and all(type(v) is first for v in value):
            if first is str:
                return [truncate(v, limit) for v in value]
            if first is float and not all(math.isfinite(v) for v in value):
                return truncate(_to_json([str(v) for v in value]), limit)
            if first is int and not all(_INT_MIN <= v <= _INT_MAX for v in value):
                return [str(v) for v in value]
            return list(value)
    return truncate(_to_json(value), limit)


def _flatten(
    prefix: str, value: Mapping[Any, Any], out: dict[str, Any], limit: int, depth: int
) -> None:
    try:
        items = list(value.items())
    except Exception:  # a mapping whose iteration raises
        out[prefix[:-1] or EVENT_DATA] = truncate(safe_repr(value), limit)
        return
    for key, item in items:
        name = f"{prefix}{(key if isinstance(key, str) else safe_repr(key)) or EMPTY_KEY}"
        try:
            if isinstance(item, Mapping) and item and depth < _MAX_DEPTH:
                _flatten(name + ".", item, out, limit, depth + 1)
            else:
                out[name] = _scalar(item, limit)
        except Exception:  # e.g. a Mapping whose truth value raises
            out[name] = truncate(safe_repr(item), limit)


def _valid_flat(data: dict[Any, Any], limit: int) -> bool:
    """True when every key is a non-empty str and every value a valid scalar attribute."""
    for key, value in data.items():
        kind = type(value)
        if kind not in _SCALARS or type(key) is not str or not key:
            return False
        if kind is str:
            if len(value) > limit:
                return False
        elif kind is int:
            if value < _INT_MIN or value > _INT_MAX:
                return False
        elif kind is float and (value != value or value in _INFINITIES):
            return False
    return True


def event_attributes(data: Any, limit: int) -> dict[str, Any]:
    """Custom event data as span event attributes (dict keys flattened, else under ``data``).

    Example:
        >>> event_attributes({"a": {"b": 1}, "c": [1, 2]}, 100)
        {'a.b': 1, 'c': [1, 2]}
    """
    if type(data) is dict and _valid_flat(data, limit):
        return data  # already valid attributes; the SDK copies them
    out: dict[str, Any] = {}
    try:
        if isinstance(data, Mapping):
            _flatten("", data, out, limit, 1)
        else:
            out[EVENT_DATA] = _scalar(data, limit)
    except Exception:  # pragma: no cover - _flatten and _scalar do not raise
        out = {EVENT_DATA: truncate(safe_repr(data), limit)}
    return out


def metadata_attributes(metadata: Mapping[str, Any], limit: int) -> dict[str, Any]:
    """Run metadata as ``runnable.metadata.<key>`` attributes (nested dicts dotted)."""
    out: dict[str, Any] = {}
    _flatten(METADATA_PREFIX, metadata, out, limit, 1)
    return out


# -- model, tool and retriever runs (the langchain-core bridge) ------------------------------
# The OpenTelemetry GenAI semantic conventions (development status; written as strings: the
# semantic-conventions package marks them deprecated) and OpenInference's LLM attributes, so
# that GenAI-aware backends and Phoenix both render these runs.
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description"
GEN_AI_TOOL_TYPE = "gen_ai.tool.type"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_RETRIEVAL_QUERY_TEXT = "gen_ai.retrieval.query.text"
GEN_AI_RETRIEVAL_DOCUMENTS = "gen_ai.retrieval.documents"
LLM_MODEL_NAME = "llm.model_name"
LLM_PROVIDER = "llm.provider"
LLM_INVOCATION_PARAMETERS = "llm.invocation_parameters"
LLM_TOKEN_COUNT_PROMPT = "llm.token_count.prompt"
LLM_TOKEN_COUNT_COMPLETION = "llm.token_count.completion"
LLM_TOKEN_COUNT_TOTAL = "llm.token_count.total"
LLM_TOKEN_COUNT_CACHE_READ = "llm.token_count.prompt_details.cache_read"
LLM_TOKEN_COUNT_CACHE_WRITE = "llm.token_count.prompt_details.cache_write"
LLM_TOKEN_COUNT_REASONING = "llm.token_count.completion_details.reasoning"
LLM_INPUT_MESSAGES = "llm.input_messages"
"""Prefix: ``llm.input_messages.<i>.message.role`` and the other message keys below."""
LLM_OUTPUT_MESSAGES = "llm.output_messages"
LLM_TOOLS = "llm.tools"
"""Prefix: ``llm.tools.<i>.tool.json_schema``."""
MESSAGE_ROLE = "message.role"
MESSAGE_CONTENT = "message.content"
MESSAGE_TOOL_CALLS = "message.tool_calls"
"""Prefix, under a message: ``message.tool_calls.<j>.tool_call.id`` ..."""
MESSAGE_TOOL_CALL_ID = "message.tool_call_id"
TOOL_CALL_ID = "tool_call.id"
TOOL_CALL_FUNCTION_NAME = "tool_call.function.name"
TOOL_CALL_FUNCTION_ARGUMENTS = "tool_call.function.arguments"
TOOL_JSON_SCHEMA = "tool.json_schema"
TOOL_NAME = "tool.name"
TOOL_DESCRIPTION = "tool.description"
RETRIEVAL_DOCUMENTS = "retrieval.documents"
"""Prefix: ``retrieval.documents.<i>.document.id`` and the document keys below."""
DOCUMENT_ID = "document.id"
DOCUMENT_CONTENT = "document.content"
DOCUMENT_SCORE = "document.score"
DOCUMENT_METADATA = "document.metadata"
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"

CONTROL_FLOW_EVENT = "langgraph.control_flow"
"""Name of the span event that records a LangGraph interrupt or ``Command`` on its run's span
(the run ends without an error status)."""

_CONVERSATION_KEYS = ("thread_id", "session_id", "conversation_id")


def conversation_id(metadata: Mapping[str, Any]) -> str | None:
    """The conversation a run belongs to, from its metadata: LangGraph's ``thread_id`` (from
    ``configurable.thread_id``), else ``session_id``, else ``conversation_id``."""
    for key in _CONVERSATION_KEYS:
        value = metadata.get(key)
        if value is not None and value != "":
            return value if isinstance(value, str) else safe_str(value)
    return None
