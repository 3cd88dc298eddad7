"""Span attribute keys, and the small helpers every conversion uses.

This is the only module that names attribute keys (docs/span-mapping.md documents each one and a
test checks the two agree); ``_convert`` turns values into attributes under these keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._json import TRUNCATION_MARKER, safe_repr
from ._limits import (
    DEFAULT_VALUE_LENGTH_LIMIT,
    LENGTH_LIMIT_VARIABLES,
    value_length_limit,
)

__all__ = [
    "CANCELLED",
    "CHUNK",
    "CHUNK_EVENT",
    "COUNT_KEYS",
    "DEFAULT_VALUE_LENGTH_LIMIT",
    "DROPPED_ATTRIBUTES",
    "DROPPED_ITEMS",
    "EMPTY_KEY",
    "ERROR_ORIGIN_RUN_ID",
    "ERROR_TYPE",
    "EVENT_DATA",
    "EXCEPTION_ESCAPED",
    "EXCEPTION_EVENT",
    "EXCEPTION_MESSAGE",
    "EXCEPTION_STACKTRACE",
    "EXCEPTION_TYPE",
    "INPUT_MIME_TYPE",
    "INPUT_VALUE",
    "LENGTH_LIMIT_VARIABLES",
    "METADATA_PREFIX",
    "OPENINFERENCE_SPAN_KIND",
    "OUTPUT_MIME_TYPE",
    "OUTPUT_VALUE",
    "PARENT_RUN_ID",
    "REDACTED",
    "RUN_ID",
    "RUN_TYPE",
    "SPAN_KIND_BY_RUN_TYPE",
    "STREAM_CHUNKS",
    "STREAM_FIRST_CHUNK_MS",
    "TAGS",
    "TRUNCATED_VALUES",
    "TRUNCATION_MARKER",
    "safe_repr",
    "safe_str",
    "truncate",
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
ERROR_ORIGIN_RUN_ID = "runnable.error.origin_run_id"
# What was cut, on the span or span event it was cut from.
TRUNCATED_VALUES = "runnable.truncated_values"
DROPPED_ATTRIBUTES = "runnable.dropped_attributes"
DROPPED_ITEMS = "runnable.dropped_items"
COUNT_KEYS = (TRUNCATED_VALUES, DROPPED_ATTRIBUTES, DROPPED_ITEMS)
# Span event attributes.
EVENT_DATA = "data"
CHUNK = "chunk"
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"
EXCEPTION_ESCAPED = "exception.escaped"

CHUNK_EVENT = "chunk"
"""Name of the span event recorded for each streamed chunk (when chunks are recorded)."""
EXCEPTION_EVENT = "exception"
"""Name of the span event recording a run's exception (OpenTelemetry semantic conventions)."""

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
REDACTED = "[redacted]"
"""Stands for error text that redaction keeps off spans."""


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with the truncation marker when cut."""
    if len(text) <= limit:
        return text
    if limit <= len(TRUNCATION_MARKER):
        return text[:limit]
    return text[: limit - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER


def safe_str(value: Any) -> str:
    """``str(value)``, or its :func:`safe_repr` when ``__str__`` raises."""
    try:
        return str(value)
    except BaseException:  # telemetry must never raise, not even KeyboardInterrupt
        return safe_repr(value)


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
