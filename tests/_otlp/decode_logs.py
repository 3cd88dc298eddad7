"""Decoding of OTLP log requests into flat, comparable Python values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.logs.v1 import logs_pb2

from .decode import decode_any_value, decode_key_values

__all__ = ["ReceivedLog", "decode_logs_request"]


@dataclass(frozen=True)
class ReceivedLog:
    """One log record decoded from an OTLP request, flattened with its resource and scope.

    ``attributes`` / ``attribute_types`` as on :class:`~.decode.ReceivedSpan`; ``trace_id`` and
    ``span_id`` are hex (None when unset); ``body`` is None when the record has none.
    """

    event_name: str
    time_unix_nano: int
    observed_time_unix_nano: int
    severity_number: int
    severity_text: str
    body: Any
    attributes: dict[str, Any]
    attribute_types: dict[str, str]
    trace_id: str | None
    span_id: str | None
    flags: int
    resource_attributes: dict[str, Any]
    scope_name: str
    scope_version: str
    proto: logs_pb2.LogRecord | None = field(default=None, repr=False, compare=False)


def _hex_or_none(raw: bytes) -> str | None:
    return raw.hex() if raw and any(raw) else None


def decode_logs_request(request: logs_service_pb2.ExportLogsServiceRequest) -> list[ReceivedLog]:
    logs: list[ReceivedLog] = []
    for resource_logs in request.resource_logs:
        resource, _ = decode_key_values(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            for record in scope_logs.log_records:
                attributes, types = decode_key_values(record.attributes)
                body = decode_any_value(record.body)[0] if record.HasField("body") else None
                logs.append(
                    ReceivedLog(
                        event_name=record.event_name,
                        time_unix_nano=record.time_unix_nano,
                        observed_time_unix_nano=record.observed_time_unix_nano,
                        severity_number=record.severity_number,
                        severity_text=record.severity_text,
                        body=body,
                        attributes=attributes,
                        attribute_types=types,
                        trace_id=_hex_or_none(record.trace_id),
                        span_id=_hex_or_none(record.span_id),
                        flags=record.flags,
                        resource_attributes=dict(resource),
                        scope_name=scope.name,
                        scope_version=scope.version,
                        proto=record,
                    )
                )
    return logs
