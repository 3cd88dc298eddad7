"""What a model, tool or retriever run of langchain-core adds to its span.

Each kind of run gets a :class:`~otel_runnables._otel.SpanDetail`: its span name and kind after
the OpenTelemetry GenAI conventions (``chat {model}``, ``execute_tool {tool}``,
``retrieval {name}``), and the GenAI and OpenInference attributes read from what langchain-core
hands its callbacks (``ls_*`` metadata, invocation parameters, messages, ``LLMResult``, tool
calls, documents). The span sink adds them to the run mapping every run gets. Reading is
duck-typed: a field that is missing or of an unexpected shape is left out.

Message content, tool-call arguments, queries and documents are inputs and outputs: they are
left out with ``hide_io`` (``OTEL_RUNNABLES_HIDE_IO``), as ``input.value`` and ``output.value``
are; token counts, model names and finish reasons stay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from .. import _attributes as attrs

if TYPE_CHECKING:
    from .._run import Run

__all__ = ["MAX_ITEMS", "ModelDetail", "RetrieverDetail", "ToolDetail", "provider_name"]

MAX_ITEMS = 64
"""Messages, tool calls and documents recorded per run at most (the JSON forms keep them all,
within the attribute length limit)."""

# langchain's ls_provider -> gen_ai.provider.name (well-known values; others pass through).
_PROVIDERS = {
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "google_genai": "gcp.gen_ai",
    "google_vertexai": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "google_anthropic_vertex": "gcp.vertex_ai",
    "amazon_bedrock": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "xai": "x_ai",
    "ibm": "ibm.watsonx.ai",
}
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_FINISH_REASONS = {  # provider spellings -> the GenAI output message's finish_reason
    "end_turn": "stop",
    "stop_sequence": "stop",
    "STOP": "stop",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "tool_use": "tool_call",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
}


def provider_name(ls_provider: Any) -> str | None:
    """``gen_ai.provider.name`` for langchain's ``ls_provider`` (None when unknown)."""
    if not isinstance(ls_provider, str) or not ls_provider:
        return None
    return _PROVIDERS.get(ls_provider, ls_provider)


def _json(value: Any, limit: int) -> str:
    return value if isinstance(value, str) else attrs.value_and_mime(value, limit)[0]


def _get(obj: Any, key: str) -> Any:
    """``obj[key]`` for a mapping, else ``obj.key``; None when absent."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None and v != ""), None)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


# -- messages ----------------------------------------------------------------------------------


def _role(message: Any) -> str:
    kind = _get(message, "type")
    if kind == "chat":
        return str(_get(message, "role") or "user")
    return _ROLES.get(kind, kind) if isinstance(kind, str) else "user"


def _text(content: Any) -> str | None:
    """A message's content as text: a str as is, text blocks joined, else None."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [b if isinstance(b, str) else _get(b, "text") for b in content]
        if texts and all(isinstance(t, str) for t in texts):
            return "".join(texts)
    return None


def _tool_calls(message: Any) -> list[Any]:
    calls = _get(message, "tool_calls")
    return list(calls) if isinstance(calls, Sequence) else []


def _message_attributes(prefix: str, message: Any, limit: int, out: dict[str, Any]) -> None:
    """One message as OpenInference ``<prefix>.message.*`` attributes."""
    out[f"{prefix}.{attrs.MESSAGE_ROLE}"] = _role(message)
    content = _get(message, "content")
    text = _text(content)
    if text:
        out[f"{prefix}.{attrs.MESSAGE_CONTENT}"] = attrs.truncate(text, limit)
    elif text is None and content is not None:
        out[f"{prefix}.{attrs.MESSAGE_CONTENT}"] = _json(content, limit)
    tool_call_id = _get(message, "tool_call_id")
    if isinstance(tool_call_id, str):
        out[f"{prefix}.{attrs.MESSAGE_TOOL_CALL_ID}"] = tool_call_id
    for j, call in enumerate(_tool_calls(message)[:MAX_ITEMS]):
        call_prefix = f"{prefix}.{attrs.MESSAGE_TOOL_CALLS}.{j}"
        _put(out, f"{call_prefix}.{attrs.TOOL_CALL_ID}", _get(call, "id"))
        out[f"{call_prefix}.{attrs.TOOL_CALL_FUNCTION_NAME}"] = str(_get(call, "name"))
        arguments = _get(call, "args") or {}
        out[f"{call_prefix}.{attrs.TOOL_CALL_FUNCTION_ARGUMENTS}"] = _json(arguments, limit)


def _parts(message: Any) -> list[dict[str, Any]]:
    """A message as GenAI message parts: text, tool calls, a tool call's response."""
    content = _get(message, "content")
    text = _text(content)
    if _role(message) == "tool":
        response = text if text is not None else content
        return [
            {
                "type": "tool_call_response",
                "id": _get(message, "tool_call_id"),
                "response": response,
            }
        ]
    parts: list[dict[str, Any]] = []
    if text:
        parts.append({"type": "text", "content": text})
    elif text is None and content:
        parts.append({"type": "text", "content": content})
    for call in _tool_calls(message):
        name, arguments = _get(call, "name"), _get(call, "args") or {}
        parts.append(
            {"type": "tool_call", "id": _get(call, "id"), "name": name, "arguments": arguments}
        )
    return parts


def _genai_message(message: Any, finish_reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"role": _role(message), "parts": _parts(message)}
    if finish_reason is not None:
        out["finish_reason"] = _FINISH_REASONS.get(finish_reason, finish_reason)
    return out


# -- model runs --------------------------------------------------------------------------------


class ModelDetail:
    """A chat model run (``chat``) or a completion LLM run (``text_completion``)."""

    __slots__ = (
        "_event_input",
        "_inputs",
        "_metadata",
        "_params",
        "model",
        "operation",
        "provider",
        "span_name",
    )

    kind = SpanKind.CLIENT

    def __init__(
        self,
        operation: str,
        metadata: Mapping[str, Any],
        invocation_params: Any,
        inputs: Sequence[Any],
        event_input: Any,
    ) -> None:
        params = invocation_params if isinstance(invocation_params, Mapping) else {}
        self._event_input = event_input  # {"messages": [[...]]} or {"prompts": [...]}
        self.operation = operation
        self._params = params
        self._metadata = metadata
        self._inputs = inputs  # the run's messages (chat) or its one prompt (completion)
        self.provider = provider_name(metadata.get("ls_provider"))
        self.model = _first(
            metadata.get("ls_model_name"),
            params.get("model"),
            params.get("model_name"),
            params.get("model_id"),
        )
        self.span_name = f"{operation} {self.model}" if self.model else operation

    def start_attributes(self, run: Run, limit: int, hide_io: bool) -> dict[str, Any]:
        metadata, params = self._metadata, self._params
        out: dict[str, Any] = {attrs.GEN_AI_OPERATION_NAME: self.operation}
        _put(out, attrs.GEN_AI_PROVIDER_NAME, self.provider)
        _put(out, attrs.LLM_PROVIDER, self.provider)
        if isinstance(self.model, str):
            out[attrs.GEN_AI_REQUEST_MODEL] = out[attrs.LLM_MODEL_NAME] = self.model
        temperature = _first(metadata.get("ls_temperature"), params.get("temperature"))
        _put(out, attrs.GEN_AI_REQUEST_TEMPERATURE, _number(temperature))
        max_tokens = _first(metadata.get("ls_max_tokens"), params.get("max_tokens"))
        _put(out, attrs.GEN_AI_REQUEST_MAX_TOKENS, _count(max_tokens))
        _put(out, attrs.GEN_AI_REQUEST_TOP_P, _number(params.get("top_p")))
        stop = _first(metadata.get("ls_stop"), params.get("stop"))
        if isinstance(stop, Sequence) and not isinstance(stop, str) and stop:
            out[attrs.GEN_AI_REQUEST_STOP_SEQUENCES] = [str(s) for s in stop]
        if params:
            plain = {k: v for k, v in params.items() if k != "tools"}
            out[attrs.LLM_INVOCATION_PARAMETERS] = _json(plain, limit)
        tools = params.get("tools")
        if isinstance(tools, Sequence):
            for i, tool in enumerate(tools[:MAX_ITEMS]):
                out[f"{attrs.LLM_TOOLS}.{i}.{attrs.TOOL_JSON_SCHEMA}"] = _json(tool, limit)
        if not hide_io:
            self._input_attributes(limit, out)
        return out

    def _input_attributes(self, limit: int, out: dict[str, Any]) -> None:
        if self.operation != "chat":  # a completion prompt is a str: input.value shows it
            return
        messages = list(self._inputs)
        for i, message in enumerate(messages[:MAX_ITEMS]):
            _message_attributes(f"{attrs.LLM_INPUT_MESSAGES}.{i}", message, limit, out)
        out[attrs.GEN_AI_INPUT_MESSAGES] = _json([_genai_message(m) for m in messages], limit)

    def end_attributes(self, run: Run, outputs: Any, limit: int, hide_io: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        generations = [g for batch in (_get(outputs, "generations") or []) for g in batch]
        llm_output = _get(outputs, "llm_output") or {}
        _usage_attributes(generations, llm_output, out)
        responses = [_get(_get(g, "message"), "response_metadata") or {} for g in generations]
        model = _first(
            *(_first(r.get("model_name"), r.get("model"), r.get("model_id")) for r in responses),
            _get(llm_output, "model_name"),
            _get(llm_output, "model"),
        )
        _put(out, attrs.GEN_AI_RESPONSE_MODEL, model if isinstance(model, str) else None)
        _put(out, attrs.GEN_AI_RESPONSE_ID, _response_id(generations, responses))
        reasons = [_finish_reason(g, r) for g, r in zip(generations, responses, strict=True)]
        if any(reasons):
            out[attrs.GEN_AI_RESPONSE_FINISH_REASONS] = [r or "" for r in reasons]
        if run.chunks:
            out[attrs.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (
                run.first_chunk_ns - run.start_ns
            ) / 1e9
        if not hide_io and self.operation == "chat":
            messages = [_get(g, "message") for g in generations]
            for i, message in enumerate(messages[:MAX_ITEMS]):
                _message_attributes(f"{attrs.LLM_OUTPUT_MESSAGES}.{i}", message, limit, out)
            output = [
                _genai_message(m, r or "stop") for m, r in zip(messages, reasons, strict=True)
            ]
            out[attrs.GEN_AI_OUTPUT_MESSAGES] = _json(output, limit)
        return out

    def output_value(self, outputs: Any) -> Any:
        """The generated message (chat) or text (completion); a list when several."""
        generations = [g for batch in (_get(outputs, "generations") or []) for g in batch]
        values = [
            _get(g, "message") if self.operation == "chat" else _get(g, "text") for g in generations
        ]
        return values[0] if len(values) == 1 else values

    def chunk_value(self, chunk: Any) -> Any:
        """A token's text (the content of a message chunk, the text of a generation chunk)."""
        text = _text(_get(chunk, "content")) if self.operation == "chat" else _get(chunk, "text")
        return chunk if text is None else text

    def event_input(self) -> Any:
        return self._event_input

    def event_output(self, outputs: Any) -> Any:
        """langchain-core's: the first generated message (chat); the generations (LLM)."""
        batches = _get(outputs, "generations") or []
        if self.operation == "chat":
            return next((_get(g, "message") for batch in batches for g in batch), {})
        return {
            "generations": [[_generation(g) for g in batch] for batch in batches],
            "llm_output": _get(outputs, "llm_output"),
        }

    def event_error(self, error: BaseException) -> dict[str, Any] | None:
        return None


def _generation(generation: Any) -> dict[str, Any]:
    return {
        "text": _get(generation, "text"),
        "generation_info": _get(generation, "generation_info"),
        "type": _get(generation, "type"),
    }


def _usage_attributes(generations: list[Any], llm_output: Any, out: dict[str, Any]) -> None:
    """Token counts: langchain's ``usage_metadata`` of the generated messages (added up), else
    the provider's ``llm_output["token_usage"]``."""
    usages = [_get(_get(g, "message"), "usage_metadata") for g in generations]
    usages = [u for u in usages if isinstance(u, Mapping)]
    if usages:
        read = sum(_count(_get(u.get("input_token_details"), "cache_read")) or 0 for u in usages)
        created = sum(
            _count(_get(u.get("input_token_details"), "cache_creation")) or 0 for u in usages
        )
        reasoning = sum(
            _count(_get(u.get("output_token_details"), "reasoning")) or 0 for u in usages
        )
        prompt = sum(_count(u.get("input_tokens")) or 0 for u in usages)
        completion = sum(_count(u.get("output_tokens")) or 0 for u in usages)
        total = sum(_count(u.get("total_tokens")) or 0 for u in usages) or prompt + completion
    else:
        usage = _get(llm_output, "token_usage") or _get(llm_output, "usage")
        if not isinstance(usage, Mapping):
            return
        prompt = _count(_first(usage.get("prompt_tokens"), usage.get("input_tokens"))) or 0
        completion = _count(_first(usage.get("completion_tokens"), usage.get("output_tokens"))) or 0
        total = _count(usage.get("total_tokens")) or prompt + completion
        read = created = reasoning = 0
    out[attrs.GEN_AI_USAGE_INPUT_TOKENS] = out[attrs.LLM_TOKEN_COUNT_PROMPT] = prompt
    out[attrs.GEN_AI_USAGE_OUTPUT_TOKENS] = out[attrs.LLM_TOKEN_COUNT_COMPLETION] = completion
    out[attrs.LLM_TOKEN_COUNT_TOTAL] = total
    if read:
        out[attrs.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = out[attrs.LLM_TOKEN_COUNT_CACHE_READ] = (
            read
        )
    if created:
        out[attrs.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = created
        out[attrs.LLM_TOKEN_COUNT_CACHE_WRITE] = created
    if reasoning:
        out[attrs.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
        out[attrs.LLM_TOKEN_COUNT_REASONING] = reasoning


def _response_id(generations: list[Any], responses: list[Mapping[str, Any]]) -> str | None:
    for generation, response in zip(generations, responses, strict=True):
        value = _first(response.get("id"), _get(_get(generation, "message"), "id"))
        # langchain names messages it made itself "lc_run-<run id>": not a provider's id.
        if isinstance(value, str) and not value.startswith("lc_run-"):
            return value
    return None


def _finish_reason(generation: Any, response: Mapping[str, Any]) -> str | None:
    info = _get(generation, "generation_info") or {}
    reason = _first(
        response.get("finish_reason"),
        response.get("stop_reason"),
        response.get("stopReason"),
        _get(info, "finish_reason"),
    )
    return reason if isinstance(reason, str) else None


# -- tool and retriever runs -------------------------------------------------------------------


class ToolDetail:
    """A tool run: ``execute_tool {tool}``."""

    __slots__ = ("_call_id", "_description", "_inputs", "name", "span_name")

    kind = SpanKind.INTERNAL

    def __init__(self, name: str, serialized: Any, tool_call_id: Any, inputs: Any) -> None:
        self.name = name
        self._inputs = inputs  # langchain-core's ``inputs`` (the arguments), or None
        self.span_name = f"execute_tool {name}"
        description = _get(serialized, "description")
        self._description = description if isinstance(description, str) else None
        self._call_id = tool_call_id if isinstance(tool_call_id, str) else None

    def start_attributes(self, run: Run, limit: int, hide_io: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            attrs.GEN_AI_OPERATION_NAME: "execute_tool",
            attrs.GEN_AI_TOOL_NAME: self.name,
            attrs.GEN_AI_TOOL_TYPE: "function",
            attrs.TOOL_NAME: self.name,
        }
        if self._description:
            description = attrs.truncate(self._description, limit)
            out[attrs.GEN_AI_TOOL_DESCRIPTION] = out[attrs.TOOL_DESCRIPTION] = description
        _put(out, attrs.GEN_AI_TOOL_CALL_ID, self._call_id)
        return out

    def end_attributes(self, run: Run, outputs: Any, limit: int, hide_io: bool) -> dict[str, Any]:
        return {}

    def output_value(self, outputs: Any) -> Any:
        """A ``ToolMessage`` (a tool called with a tool call) shows its content."""
        if _get(outputs, "type") == "tool" and _get(outputs, "tool_call_id") is not None:
            return _get(outputs, "content")
        return outputs

    def chunk_value(self, chunk: Any) -> Any:
        return chunk

    def event_input(self) -> Any:
        return self._inputs or {}

    def event_output(self, outputs: Any) -> Any:
        return outputs

    def event_error(self, error: BaseException) -> dict[str, Any] | None:
        """langchain-core's ``on_tool_error`` event data."""
        return {"error": error, "input": self._inputs, "tool_call_id": self._call_id}


class RetrieverDetail:
    """A retriever run: ``retrieval {name}``."""

    __slots__ = ("_query", "span_name")

    kind = SpanKind.CLIENT

    def __init__(self, name: str, query: Any) -> None:
        self.span_name = f"retrieval {name}"
        self._query = query

    def start_attributes(self, run: Run, limit: int, hide_io: bool) -> dict[str, Any]:
        out: dict[str, Any] = {attrs.GEN_AI_OPERATION_NAME: "retrieval"}
        if not hide_io and isinstance(self._query, str):
            out[attrs.GEN_AI_RETRIEVAL_QUERY_TEXT] = attrs.truncate(self._query, limit)
        return out

    def end_attributes(self, run: Run, outputs: Any, limit: int, hide_io: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        documents = list(outputs) if isinstance(outputs, Sequence) else []
        found = []
        for i, document in enumerate(documents[:MAX_ITEMS]):
            prefix = f"{attrs.RETRIEVAL_DOCUMENTS}.{i}"
            doc_id = _get(document, "id")
            metadata = _get(document, "metadata") or {}
            score = _number(_first(_get(metadata, "score"), _get(metadata, "relevance_score")))
            _put(out, f"{prefix}.{attrs.DOCUMENT_ID}", str(doc_id) if doc_id is not None else None)
            _put(out, f"{prefix}.{attrs.DOCUMENT_SCORE}", score)
            found.append({"id": doc_id, "score": score})
            if not hide_io:
                content = _get(document, "page_content")
                if isinstance(content, str):
                    out[f"{prefix}.{attrs.DOCUMENT_CONTENT}"] = attrs.truncate(content, limit)
                if metadata:
                    out[f"{prefix}.{attrs.DOCUMENT_METADATA}"] = _json(metadata, limit)
        if found:
            out[attrs.GEN_AI_RETRIEVAL_DOCUMENTS] = _json(found, limit)
        return out

    def output_value(self, outputs: Any) -> Any:
        return outputs

    def chunk_value(self, chunk: Any) -> Any:
        return chunk

    def event_input(self) -> Any:
        return {"query": self._query}

    def event_output(self, outputs: Any) -> Any:
        return outputs

    def event_error(self, error: BaseException) -> dict[str, Any] | None:
        return None
