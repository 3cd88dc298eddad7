"""Decoding of OTLP trace requests into flat, comparable Python values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

__all__ = [
    "ReceivedEvent",
    "ReceivedSpan",
    "decode_any_value",
    "decode_key_values",
    "decode_request",
]


class ReceivedEvent(NamedTuple):
    """A span event as received: ``name, attributes, types = event`` unpacks it."""

    name: str
    attributes: dict[str, Any]
    types: dict[str, str]


@dataclass(frozen=True)
class ReceivedSpan:
    """One span decoded from an OTLP request, flattened with its resource and scope.

    ``attributes`` holds Python values (arrays become tuples, ``kvlist_value`` a dict, bytes
    stay bytes); ``attribute_types`` maps the same keys to the OTLP ``AnyValue`` field that carried
    them (``"string_value"``, ``"int_value"``, ``"bool_value"``, ``"double_value"``,
    ``"array_value"``, ...), and ``array_item_types`` gives, for array attributes, the set of
    field names used by the items. ``kind`` and ``status_code`` are the enum names without their
    prefix (``"INTERNAL"``, ``"ERROR"``). ``proto`` is the original protobuf span.
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    attributes: dict[str, Any]
    attribute_types: dict[str, str]
    array_item_types: dict[str, frozenset[str]]
    events: list[ReceivedEvent]
    event_times_unix_nano: list[int]
    status_code: str
    status_message: str
    resource_attributes: dict[str, Any]
    scope_name: str
    scope_version: str
    dropped_attributes_count: int = 0
    dropped_events_count: int = 0
    links: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    proto: trace_pb2.Span | None = field(default=None, repr=False, compare=False)

    @property
    def duration_ns(self) -> int:
        return self.end_time_unix_nano - self.start_time_unix_nano

    def event(self, name: str) -> ReceivedEvent:
        """The first event called *name* (``KeyError`` listing the names present otherwise)."""
        for event in self.events:
            if event.name == name:
                return event
        raise KeyError(
            f"no event {name!r} on span {self.name!r}; got {[e.name for e in self.events]}"
        )


def decode_any_value(value: common_pb2.AnyValue) -> tuple[Any, str]:
    """Return ``(python_value, otlp_field_name)`` for one ``AnyValue``."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None, "empty"
    if kind == "array_value":
        return tuple(decode_any_value(item)[0] for item in value.array_value.values), kind
    if kind == "kvlist_value":
        return decode_key_values(value.kvlist_value.values)[0], kind
    return getattr(value, kind), kind


def decode_key_values(
    pairs: Iterable[common_pb2.KeyValue],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Decode repeated ``KeyValue`` into ``(values, otlp_field_names)`` dicts."""
    values: dict[str, Any] = {}
    types: dict[str, str] = {}
    for pair in pairs:
        values[pair.key], types[pair.key] = decode_any_value(pair.value)
    return values, types


def _hex_or_none(raw: bytes) -> str | None:
    return raw.hex() if raw and any(raw) else None


def _enum_name(enum: Any, number: int, prefix: str) -> str:
    try:
        name: str = enum.Name(number)
    except ValueError:
        return str(number)
    return name.removeprefix(prefix)


def _decode_span(
    span: trace_pb2.Span, resource: dict[str, Any], scope: common_pb2.InstrumentationScope
) -> ReceivedSpan:
    attributes, types = decode_key_values(span.attributes)
    array_items = {
        kv.key: frozenset(
            item.WhichOneof("value") or "empty" for item in kv.value.array_value.values
        )
        for kv in span.attributes
        if kv.value.WhichOneof("value") == "array_value"
    }
    events = [ReceivedEvent(ev.name, *decode_key_values(ev.attributes)) for ev in span.events]
    links = [
        (link.trace_id.hex(), link.span_id.hex(), decode_key_values(link.attributes)[0])
        for link in span.links
    ]
    return ReceivedSpan(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=_hex_or_none(span.parent_span_id),
        name=span.name,
        kind=_enum_name(trace_pb2.Span.SpanKind, span.kind, "SPAN_KIND_"),
        start_time_unix_nano=span.start_time_unix_nano,
        end_time_unix_nano=span.end_time_unix_nano,
        attributes=attributes,
        attribute_types=types,
        array_item_types=array_items,
        events=events,
        event_times_unix_nano=[ev.time_unix_nano for ev in span.events],
        status_code=_enum_name(trace_pb2.Status.StatusCode, span.status.code, "STATUS_CODE_"),
        status_message=span.status.message,
        resource_attributes=dict(resource),
        scope_name=scope.name,
        scope_version=scope.version,
        dropped_attributes_count=span.dropped_attributes_count,
        dropped_events_count=span.dropped_events_count,
        links=links,
        proto=span,
    )


def decode_request(request: trace_service_pb2.ExportTraceServiceRequest) -> list[ReceivedSpan]:
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource, _ = decode_key_values(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            spans.extend(
                _decode_span(span, resource, scope_spans.scope) for span in scope_spans.spans
            )
    return spans
