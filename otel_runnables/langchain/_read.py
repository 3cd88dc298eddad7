"""Reading what langchain-core hands its callbacks: duck-typed values and messages.

A field that is missing or of an unexpected shape reads as None (or an empty list), so a
detail leaves it out rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import _attributes as attrs
from .._convert import value_and_mime
from .._limits import DEFAULT_LIMITS

__all__ = [
    "MAX_ITEMS",
    "count_of",
    "first",
    "genai_message",
    "get",
    "json_of",
    "message_attributes",
    "number_of",
    "put",
    "text_of",
]

MAX_ITEMS = 64
"""Messages, tool calls and documents recorded per run at most (the JSON forms keep them all,
within the attribute length limit)."""

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


def json_of(value: Any, limit: int) -> str:
    if isinstance(value, str):
        return value
    return value_and_mime(value, DEFAULT_LIMITS._replace(value_length=limit))[0]


def get(obj: Any, key: str) -> Any:
    """``obj[key]`` for a mapping, else ``obj.key``; None when absent."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def first(*values: Any) -> Any:
    return next((v for v in values if v is not None and v != ""), None)


def count_of(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number_of(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


# -- messages ----------------------------------------------------------------------------------


def role_of(message: Any) -> str:
    kind = get(message, "type")
    if kind == "chat":
        return str(get(message, "role") or "user")
    return _ROLES.get(kind, kind) if isinstance(kind, str) else "user"


def text_of(content: Any) -> str | None:
    """A message's content as text: a str as is, text blocks joined, else None."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [b if isinstance(b, str) else get(b, "text") for b in content]
        if texts and all(isinstance(t, str) for t in texts):
            return "".join(texts)
    return None


def tool_calls_of(message: Any) -> list[Any]:
    calls = get(message, "tool_calls")
    return list(calls) if isinstance(calls, Sequence) else []


def message_attributes(prefix: str, message: Any, limit: int, out: dict[str, Any]) -> None:
    """One message as OpenInference ``<prefix>.message.*`` attributes."""
    out[f"{prefix}.{attrs.MESSAGE_ROLE}"] = role_of(message)
    content = get(message, "content")
    text = text_of(content)
    if text:
        out[f"{prefix}.{attrs.MESSAGE_CONTENT}"] = attrs.truncate(text, limit)
    elif text is None and content is not None:
        out[f"{prefix}.{attrs.MESSAGE_CONTENT}"] = json_of(content, limit)
    tool_call_id = get(message, "tool_call_id")
    if isinstance(tool_call_id, str):
        out[f"{prefix}.{attrs.MESSAGE_TOOL_CALL_ID}"] = tool_call_id
    for j, call in enumerate(tool_calls_of(message)[:MAX_ITEMS]):
        call_prefix = f"{prefix}.{attrs.MESSAGE_TOOL_CALLS}.{j}"
        put(out, f"{call_prefix}.{attrs.TOOL_CALL_ID}", get(call, "id"))
        out[f"{call_prefix}.{attrs.TOOL_CALL_FUNCTION_NAME}"] = str(get(call, "name"))
        arguments = get(call, "args") or {}
        out[f"{call_prefix}.{attrs.TOOL_CALL_FUNCTION_ARGUMENTS}"] = json_of(arguments, limit)


def message_parts(message: Any) -> list[dict[str, Any]]:
    """A message as GenAI message parts: text, tool calls, a tool call's response."""
    content = get(message, "content")
    text = text_of(content)
    if role_of(message) == "tool":
        response = text if text is not None else content
        return [
            {
                "type": "tool_call_response",
                "id": get(message, "tool_call_id"),
                "response": response,
            }
        ]
    parts: list[dict[str, Any]] = []
    if text:
        parts.append({"type": "text", "content": text})
    elif text is None and content:
        parts.append({"type": "text", "content": content})
    for call in tool_calls_of(message):
        name, arguments = get(call, "name"), get(call, "args") or {}
        parts.append(
            {"type": "tool_call", "id": get(call, "id"), "name": name, "arguments": arguments}
        )
    return parts


def genai_message(message: Any, finish_reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"role": role_of(message), "parts": message_parts(message)}
    if finish_reason is not None:
        out["finish_reason"] = _FINISH_REASONS.get(finish_reason, finish_reason)
    return out
