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
from ._metrics import ModelCall, record_model_metrics
from ._read import (
    MAX_ITEMS,
    count_of,
    first,
    genai_message,
    get,
    json_of,
    message_attributes,
    number_of,
    put,
    text_of,
)

if TYPE_CHECKING:
    from .._metrics import Instruments
    from .._run import Run

__all__ = [
    "ModelDetail",
    "generations_of",
    "provider_name",
    "response_model",
    "usage_attributes",
]

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


def provider_name(ls_provider: Any) -> str | None:
    """``gen_ai.provider.name`` for langchain's ``ls_provider`` (None when unknown)."""
    if not isinstance(ls_provider, str) or not ls_provider:
        return None
    return _PROVIDERS.get(ls_provider, ls_provider)


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
        self.model = first(
            metadata.get("ls_model_name"),
            params.get("model"),
            params.get("model_name"),
            params.get("model_id"),
        )
        self.span_name = f"{operation} {self.model}" if self.model else operation

    def start_attributes(self, run: Run, limit: int, hide_io: bool) -> dict[str, Any]:
        metadata, params = self._metadata, self._params
        out: dict[str, Any] = {attrs.GEN_AI_OPERATION_NAME: self.operation}
        put(out, attrs.GEN_AI_PROVIDER_NAME, self.provider)
        put(out, attrs.LLM_PROVIDER, self.provider)
        if isinstance(self.model, str):
            out[attrs.GEN_AI_REQUEST_MODEL] = out[attrs.LLM_MODEL_NAME] = self.model
        temperature = first(metadata.get("ls_temperature"), params.get("temperature"))
        put(out, attrs.GEN_AI_REQUEST_TEMPERATURE, number_of(temperature))
        max_tokens = first(metadata.get("ls_max_tokens"), params.get("max_tokens"))
        put(out, attrs.GEN_AI_REQUEST_MAX_TOKENS, count_of(max_tokens))
        put(out, attrs.GEN_AI_REQUEST_TOP_P, number_of(params.get("top_p")))
        stop = first(metadata.get("ls_stop"), params.get("stop"))
        if isinstance(stop, Sequence) and not isinstance(stop, str) and stop:
            out[attrs.GEN_AI_REQUEST_STOP_SEQUENCES] = [str(s) for s in stop]
        if params:
            plain = {k: v for k, v in params.items() if k != "tools"}
            out[attrs.LLM_INVOCATION_PARAMETERS] = json_of(plain, limit)
        tools = params.get("tools")
        if isinstance(tools, Sequence):
            for i, tool in enumerate(tools[:MAX_ITEMS]):
                out[f"{attrs.LLM_TOOLS}.{i}.{attrs.TOOL_JSON_SCHEMA}"] = json_of(tool, limit)
        if not hide_io:
            self._input_attributes(limit, out)
        return out

    def _input_attributes(self, limit: int, out: dict[str, Any]) -> None:
        if self.operation != "chat":  # a completion prompt is a str: input.value shows it
            return
        messages = list(self._inputs)
        for i, message in enumerate(messages[:MAX_ITEMS]):
            message_attributes(f"{attrs.LLM_INPUT_MESSAGES}.{i}", message, limit, out)
        out[attrs.GEN_AI_INPUT_MESSAGES] = json_of([genai_message(m) for m in messages], limit)

    def end_attributes(self, run: Run, outputs: Any, limit: int, hide_io: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        generations, llm_output = generations_of(outputs)
        usage_attributes(generations, llm_output, out)
        responses = _responses(generations)
        put(out, attrs.GEN_AI_RESPONSE_MODEL, response_model(responses, llm_output))
        put(out, attrs.GEN_AI_RESPONSE_ID, _response_id(generations, responses))
        reasons = [_finish_reason(g, r) for g, r in zip(generations, responses, strict=True)]
        if any(reasons):
            out[attrs.GEN_AI_RESPONSE_FINISH_REASONS] = [r or "" for r in reasons]
        if run.chunks:
            out[attrs.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (
                run.first_chunk_ns - run.start_ns
            ) / 1e9
        if not hide_io and self.operation == "chat":
            messages = [get(g, "message") for g in generations]
            for i, message in enumerate(messages[:MAX_ITEMS]):
                message_attributes(f"{attrs.LLM_OUTPUT_MESSAGES}.{i}", message, limit, out)
            output = [genai_message(m, r or "stop") for m, r in zip(messages, reasons, strict=True)]
            out[attrs.GEN_AI_OUTPUT_MESSAGES] = json_of(output, limit)
        return out

    def output_value(self, outputs: Any) -> Any:
        """The generated message (chat) or text (completion); a list when several."""
        generations = [g for batch in (get(outputs, "generations") or []) for g in batch]
        values = [
            get(g, "message") if self.operation == "chat" else get(g, "text") for g in generations
        ]
        return values[0] if len(values) == 1 else values

    def chunk_value(self, chunk: Any) -> Any:
        """A token's text (the content of a message chunk, the text of a generation chunk)."""
        text = text_of(get(chunk, "content")) if self.operation == "chat" else get(chunk, "text")
        return chunk if text is None else text

    def event_input(self) -> Any:
        return self._event_input

    def event_output(self, outputs: Any) -> Any:
        """langchain-core's: the first generated message (chat); the generations (LLM)."""
        batches = get(outputs, "generations") or []
        if self.operation == "chat":
            return next((get(g, "message") for batch in batches for g in batch), {})
        return {
            "generations": [[_generation(g) for g in batch] for batch in batches],
            "llm_output": get(outputs, "llm_output"),
        }

    def event_error(self, error: BaseException) -> dict[str, Any] | None:
        return None

    def record_metrics(
        self,
        instruments: Instruments,
        run: Run,
        outputs: Any,
        error_type: str | None,
        seconds: float,
    ) -> None:
        """The GenAI client metrics of this model run (``_metrics``)."""
        model = self.model if isinstance(self.model, str) else None
        usage: dict[str, Any] = {}
        response = None
        if outputs is not None:
            generations, llm_output = generations_of(outputs)
            usage_attributes(generations, llm_output, usage)
            response = response_model(_responses(generations), llm_output)
        record_model_metrics(
            instruments,
            ModelCall(self.operation, self.provider, model, response, error_type),
            seconds,
            usage.get(attrs.GEN_AI_USAGE_INPUT_TOKENS),
            usage.get(attrs.GEN_AI_USAGE_OUTPUT_TOKENS),
        )


def generations_of(outputs: Any) -> tuple[list[Any], Any]:
    """The generations of an ``LLMResult`` (all prompts' together) and its ``llm_output``."""
    generations = [g for batch in (get(outputs, "generations") or []) for g in batch]
    return generations, get(outputs, "llm_output") or {}


def _responses(generations: list[Any]) -> list[Mapping[str, Any]]:
    return [get(get(g, "message"), "response_metadata") or {} for g in generations]


def response_model(responses: list[Mapping[str, Any]], llm_output: Any) -> str | None:
    """``gen_ai.response.model``: the responses' model name, else ``llm_output``'s."""
    model = first(
        *(first(r.get("model_name"), r.get("model"), r.get("model_id")) for r in responses),
        get(llm_output, "model_name"),
        get(llm_output, "model"),
    )
    return model if isinstance(model, str) else None


def _generation(generation: Any) -> dict[str, Any]:
    return {
        "text": get(generation, "text"),
        "generation_info": get(generation, "generation_info"),
        "type": get(generation, "type"),
    }


def usage_attributes(generations: list[Any], llm_output: Any, out: dict[str, Any]) -> None:
    """Token counts: langchain's ``usage_metadata`` of the generated messages (added up), else
    the provider's ``llm_output["token_usage"]``."""
    usages = [get(get(g, "message"), "usage_metadata") for g in generations]
    usages = [u for u in usages if isinstance(u, Mapping)]
    if usages:
        read = sum(count_of(get(u.get("input_token_details"), "cache_read")) or 0 for u in usages)
        created = sum(
            count_of(get(u.get("input_token_details"), "cache_creation")) or 0 for u in usages
        )
        reasoning = sum(
            count_of(get(u.get("output_token_details"), "reasoning")) or 0 for u in usages
        )
        prompt = sum(count_of(u.get("input_tokens")) or 0 for u in usages)
        completion = sum(count_of(u.get("output_tokens")) or 0 for u in usages)
        total = sum(count_of(u.get("total_tokens")) or 0 for u in usages) or prompt + completion
    else:
        usage = get(llm_output, "token_usage") or get(llm_output, "usage")
        if not isinstance(usage, Mapping):
            return
        prompt = count_of(first(usage.get("prompt_tokens"), usage.get("input_tokens"))) or 0
        completion = (
            count_of(first(usage.get("completion_tokens"), usage.get("output_tokens"))) or 0
        )
        total = count_of(usage.get("total_tokens")) or prompt + completion
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
        value = first(response.get("id"), get(get(generation, "message"), "id"))
        # langchain names messages it made itself "lc_run-<run id>": not a provider's id.
        if isinstance(value, str) and not value.startswith("lc_run-"):
            return value
    return None


def _finish_reason(generation: Any, response: Mapping[str, Any]) -> str | None:
    info = get(generation, "generation_info") or {}
    reason = first(
        response.get("finish_reason"),
        response.get("stop_reason"),
        response.get("stopReason"),
        get(info, "finish_reason"),
    )
    return reason if isinstance(reason, str) else None
