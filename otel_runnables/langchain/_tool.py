"""What a tool or retriever run of langchain-core adds to its span.

Tool arguments, queries and document content are inputs and outputs: they are left out with
``hide_io``, as ``input.value`` and ``output.value`` are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from .. import _attributes as attrs
from ._read import (
    MAX_ITEMS,
    first,
    get,
    json_of,
    number_of,
    put,
)

if TYPE_CHECKING:
    from .._run import Run

__all__ = ["RetrieverDetail", "ToolDetail"]


class ToolDetail:
    """A tool run: ``execute_tool {tool}``."""

    __slots__ = ("_call_id", "_description", "_inputs", "name", "span_name")

    kind = SpanKind.INTERNAL

    def __init__(self, name: str, serialized: Any, tool_call_id: Any, inputs: Any) -> None:
        self.name = name
        self._inputs = inputs  # langchain-core's ``inputs`` (the arguments), or None
        self.span_name = f"execute_tool {name}"
        description = get(serialized, "description")
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
        put(out, attrs.GEN_AI_TOOL_CALL_ID, self._call_id)
        return out

    def end_attributes(self, run: Run, outputs: Any, limit: int, hide_io: bool) -> dict[str, Any]:
        return {}

    def output_value(self, outputs: Any) -> Any:
        """A ``ToolMessage`` (a tool called with a tool call) shows its content."""
        if get(outputs, "type") == "tool" and get(outputs, "tool_call_id") is not None:
            return get(outputs, "content")
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
            doc_id = get(document, "id")
            metadata = get(document, "metadata") or {}
            score = number_of(first(get(metadata, "score"), get(metadata, "relevance_score")))
            put(out, f"{prefix}.{attrs.DOCUMENT_ID}", str(doc_id) if doc_id is not None else None)
            put(out, f"{prefix}.{attrs.DOCUMENT_SCORE}", score)
            found.append({"id": doc_id, "score": score})
            if not hide_io:
                content = get(document, "page_content")
                if isinstance(content, str):
                    out[f"{prefix}.{attrs.DOCUMENT_CONTENT}"] = attrs.truncate(content, limit)
                if metadata:
                    out[f"{prefix}.{attrs.DOCUMENT_METADATA}"] = json_of(metadata, limit)
        if found:
            out[attrs.GEN_AI_RETRIEVAL_DOCUMENTS] = json_of(found, limit)
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
