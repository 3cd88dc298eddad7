"""In-process OTLP trace (and log) receivers: real wire protocols on loopback, free ports.

Three servers, all started on ``127.0.0.1`` with port 0 (the kernel picks a free port):

* :class:`GrpcOtlpReceiver` -- a grpcio server implementing
  ``opentelemetry.proto.collector.trace.v1.TraceService/Export`` with the generated stubs.
* :class:`HttpOtlpReceiver` -- a ``ThreadingHTTPServer`` accepting ``POST /v1/traces`` with an
  ``application/x-protobuf`` body (optionally ``Content-Encoding: gzip`` or ``deflate``).
* :class:`BlackHoleServer` -- a broken backend: it accepts TCP connections and never reads from
  or answers them, so exporters hit their own timeouts.

Both receivers also accept logs (``LogsService/Export``, ``POST /v1/logs``): :meth:`logs` /
:meth:`wait_for_logs` give the decoded log records.

Both receivers keep every accepted ``ExportTraceServiceRequest`` and the exact payload bytes that
were received (after transport decompression), so a test can assert on decoded spans *and* scan
the bytes for data that must never leave the process::

    receiver = HttpOtlpReceiver().start()
    try:
        ...  # point an exporter at receiver.endpoint and export
        (span,) = receiver.wait_for_spans(1)
        assert span.attributes["runnable.run_type"] == "chain"
        assert b"secret" not in receiver.raw_bytes()
    finally:
        receiver.stop()
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from .blackhole import BlackHoleServer
from .decode import (
    ReceivedEvent,
    ReceivedSpan,
    decode_any_value,
    decode_key_values,
    decode_request,
)
from .decode_logs import ReceivedLog, decode_logs_request
from .metrics import METRICS_PATH, MetricsService, MetricsStore

__all__ = [
    "BlackHoleServer",
    "GrpcOtlpReceiver",
    "HttpOtlpReceiver",
    "OtlpReceiver",
    "ReceivedEvent",
    "ReceivedLog",
    "ReceivedSpan",
    "decode_any_value",
    "decode_key_values",
]

_LOOPBACK = "127.0.0.1"
_TRACES_PATH = "/v1/traces"
_LOGS_PATH = "/v1/logs"
_PROTOBUF = "application/x-protobuf"
_STOP_GRACE_S = 1.0


# --------------------------------------------------------------------------- shared store


class OtlpReceiver:
    """What both receivers share: thread-safe storage, decoding, waiting, failure injection.

    Subclasses only move bytes: they call :meth:`_handle_payload` with the (decompressed)
    request body and the request headers, and answer according to its result.
    """

    protocol: str = ""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._requests: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self._payloads: list[bytes] = []
        self._headers: list[dict[str, str]] = []
        self._spans: list[ReceivedSpan] = []
        self._logs: list[ReceivedLog] = []
        self._attempts = 0
        self._failures: list[Any] = []
        self._port: int | None = None
        self.metrics = MetricsStore()
        """What arrived on the metrics endpoint (``_otlp.metrics``)."""

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> OtlpReceiver:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def endpoint(self) -> str:
        """Base URL to put in ``OTEL_EXPORTER_OTLP_ENDPOINT`` (``http://127.0.0.1:<port>``)."""
        return f"http://{_LOOPBACK}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that point the standard OTLP exporters at this receiver."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": self.protocol,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
        }

    # -- what was received ---------------------------------------------------------------

    def requests(self) -> list[trace_service_pb2.ExportTraceServiceRequest]:
        """Every accepted ``ExportTraceServiceRequest``, in arrival order."""
        with self._cond:
            return list(self._requests)

    def spans(self) -> list[ReceivedSpan]:
        """All spans of all accepted requests, flattened, in arrival order."""
        with self._cond:
            return list(self._spans)

    def span(self, name: str) -> ReceivedSpan:
        """The single received span called *name* (``AssertionError`` if not exactly one)."""
        found = [s for s in self.spans() if s.name == name]
        assert len(found) == 1, f"expected one span {name!r}, got {len(found)}: {self._names()}"
        return found[0]

    def raw_payloads(self) -> list[bytes]:
        """The request bodies as received (after transport decompression), one per request.

        Rejected requests (see :meth:`fail_next`) are included: they still left the process.
        """
        with self._cond:
            return list(self._payloads)

    def raw_bytes(self) -> bytes:
        """All received payload bytes concatenated -- for ``b"secret" not in ...`` scans."""
        return b"".join(self.raw_payloads())

    def request_headers(self) -> list[dict[str, str]]:
        """Headers (HTTP) or invocation metadata (gRPC) of each request, keys lower-cased."""
        with self._cond:
            return [dict(h) for h in self._headers]

    @property
    def attempts(self) -> int:
        """How many export calls arrived, accepted or rejected (counts exporter retries)."""
        with self._cond:
            return self._attempts

    def wait_for_spans(self, n: int, timeout: float = 5.0) -> list[ReceivedSpan]:
        """Block until at least *n* spans arrived; return them all. ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._spans) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{type(self).__name__}: expected >= {n} spans within {timeout}s, "
                        f"got {len(self._spans)}: {self._names()}"
                    )
                self._cond.wait(remaining)
            return list(self._spans)

    def logs(self) -> list[ReceivedLog]:
        """All log records of all accepted log requests, flattened, in arrival order."""
        with self._cond:
            return list(self._logs)

    def wait_for_logs(self, n: int, timeout: float = 5.0) -> list[ReceivedLog]:
        """Block until at least *n* log records arrived; return them all (else ``TimeoutError``)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._logs) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{type(self).__name__}: expected >= {n} log records within {timeout}s, "
                        f"got {len(self._logs)}"
                    )
                self._cond.wait(remaining)
            return list(self._logs)

    def clear(self) -> None:
        """Forget everything received so far (pending :meth:`fail_next` failures stay)."""
        with self._cond:
            self._requests.clear()
            self._payloads.clear()
            self._headers.clear()
            self._spans.clear()
            self._logs.clear()
            self._attempts = 0

    # -- failure injection ---------------------------------------------------------------

    def fail_next(self, count: int = 1, status: Any = None) -> None:
        """Reject the next *count* export calls with *status* (HTTP code / ``grpc.StatusCode``).

        Rejected payloads are counted in :attr:`attempts` and kept in :meth:`raw_payloads`, but
        their spans are not stored. Note that exporters retry retryable codes (HTTP 429/502/503/
        504, gRPC UNAVAILABLE, ...) with backoff; non-retryable codes fail at once.
        """
        with self._cond:
            self._failures.extend(
                [status if status is not None else self._default_failure()] * count
            )

    def _default_failure(self) -> Any:
        raise NotImplementedError

    # -- for subclasses ------------------------------------------------------------------

    def _handle_payload(
        self, payload: bytes, headers: Mapping[str, str], signal: str = "traces"
    ) -> Any:
        """Record one export call; return ``None`` to accept it or the failure status to send.

        Raises ``DecodeError`` when the payload is not an ``ExportTraceServiceRequest`` (an
        ``ExportLogsServiceRequest`` for ``signal="logs"``).
        """
        with self._cond:
            self._attempts += 1
            self._payloads.append(bytes(payload))
            self._headers.append({k.lower(): v for k, v in headers.items()})
            if self._failures:
                return self._failures.pop(0)
        if signal == "logs":
            logs = decode_logs_request(
                logs_service_pb2.ExportLogsServiceRequest.FromString(payload)
            )
            with self._cond:
                self._logs.extend(logs)
                self._cond.notify_all()
            return None
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(payload)
        spans = decode_request(request)
        with self._cond:
            self._requests.append(request)
            self._spans.extend(spans)
            self._cond.notify_all()
        return None

    def _names(self) -> list[str]:
        return [s.name for s in self._spans]


# --------------------------------------------------------------------------- gRPC


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, owner: GrpcOtlpReceiver) -> None:
        self._owner = owner

    def Export(
        self,
        request: trace_service_pb2.ExportTraceServiceRequest,
        context: grpc.ServicerContext,
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        payload = self._owner._take_raw(request)
        headers = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        failure = self._owner._handle_payload(payload, headers)
        if failure is not None:
            context.abort(failure, "rejected by test receiver")
        return trace_service_pb2.ExportTraceServiceResponse()


class _LogsService(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, owner: GrpcOtlpReceiver) -> None:
        self._owner = owner

    def Export(
        self,
        request: logs_service_pb2.ExportLogsServiceRequest,
        context: grpc.ServicerContext,
    ) -> logs_service_pb2.ExportLogsServiceResponse:
        payload = self._owner._take_raw(request)
        headers = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        failure = self._owner._handle_payload(payload, headers, "logs")
        if failure is not None:
            context.abort(failure, "rejected by test receiver")
        return logs_service_pb2.ExportLogsServiceResponse()


class _RawBytesInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Wraps the request deserializer so the receiver sees the exact bytes grpc delivered."""

    def __init__(self, owner: GrpcOtlpReceiver) -> None:
        self._owner = owner

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        deserialize = handler.request_deserializer

        def capture(raw: bytes) -> Any:
            message = deserialize(raw)
            self._owner._remember_raw(message, raw)
            return message

        return grpc.unary_unary_rpc_method_handler(
            handler.unary_unary,
            request_deserializer=capture,
            response_serializer=handler.response_serializer,
        )


class GrpcOtlpReceiver(OtlpReceiver):
    """OTLP/gRPC trace receiver (``TraceService/Export``) on ``127.0.0.1:<free port>``.

    Point the gRPC exporter at it with ``OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint`` (an
    ``http://`` URL, which makes the exporter use an insecure channel).
    """

    protocol = "grpc"

    def __init__(self) -> None:
        super().__init__()
        self._server: grpc.Server | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._raw_by_request: dict[int, bytes] = {}
        self._raw_lock = threading.Lock()

    def start(self) -> GrpcOtlpReceiver:
        if self._server is not None:
            return self
        executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="otlp-grpc-receiver")
        server = grpc.server(
            executor,
            interceptors=[_RawBytesInterceptor(self)],
            options=[("grpc.so_reuseport", 0)],
        )
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(self), server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_LogsService(self), server)
        MetricsService.add_to(server, self.metrics)
        port = server.add_insecure_port(f"{_LOOPBACK}:0")
        if not port:
            executor.shutdown(wait=False)
            raise RuntimeError("grpc could not bind a loopback port")
        server.start()
        self._server, self._executor, self._port = server, executor, port
        return self

    def stop(self) -> None:
        server, executor = self._server, self._executor
        self._server = self._executor = None
        if server is not None:
            server.stop(grace=_STOP_GRACE_S).wait(timeout=_STOP_GRACE_S + 4.0)
        if executor is not None:
            executor.shutdown(wait=True)

    def _default_failure(self) -> Any:
        return grpc.StatusCode.INVALID_ARGUMENT

    def _remember_raw(self, message: Any, raw: bytes) -> None:
        with self._raw_lock:
            self._raw_by_request[id(message)] = raw

    def _take_raw(self, message: Any) -> bytes:
        with self._raw_lock:
            raw = self._raw_by_request.pop(id(message), None)
        return raw if raw is not None else message.SerializeToString()


# --------------------------------------------------------------------------- HTTP


class _OtlpHttpHandler(BaseHTTPRequestHandler):
    server: _OtlpHttpServer
    protocol_version = "HTTP/1.1"
    timeout = 10.0  # an idle keep-alive connection never pins a thread forever

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == METRICS_PATH:
            self._post_metrics()
            return
        if path not in (_TRACES_PATH, _LOGS_PATH):
            self._reply(HTTPStatus.NOT_FOUND, b"", "text/plain")
            return
        signal = "logs" if path == _LOGS_PATH else "traces"
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            elif encoding != "identity":
                self._reply(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, b"", "text/plain")
                return
        except (OSError, EOFError, zlib.error):
            self._reply(HTTPStatus.BAD_REQUEST, b"bad compression", "text/plain")
            return
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip()
        if content_type != _PROTOBUF:
            self._reply(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, b"", "text/plain")
            return
        try:
            failure = self.server.receiver._handle_payload(body, dict(self.headers.items()), signal)
        except DecodeError:
            self._reply(HTTPStatus.BAD_REQUEST, b"not an ExportTraceServiceRequest", "text/plain")
            return
        if failure is not None:
            self._reply(int(failure), b"", "text/plain")
            return
        response = (
            logs_service_pb2.ExportLogsServiceResponse()
            if signal == "logs"
            else trace_service_pb2.ExportTraceServiceResponse()
        ).SerializeToString()
        self._reply(HTTPStatus.OK, response, _PROTOBUF)

    def _post_metrics(self) -> None:
        """``POST /v1/metrics`` (uncompressed or gzip, as the SDK's exporter sends it)."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if (self.headers.get("Content-Encoding") or "").strip().lower() == "gzip":
            body = gzip.decompress(body)
        try:
            self.server.receiver.metrics.accept(body)
        except DecodeError:
            self._reply(HTTPStatus.BAD_REQUEST, b"not an ExportMetricsServiceRequest", "text/plain")
            return
        self._reply(HTTPStatus.OK, MetricsService.empty_response(), _PROTOBUF)

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class _OtlpHttpServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins the handler threads

    def __init__(self, receiver: HttpOtlpReceiver) -> None:
        self.receiver = receiver
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        super().__init__((_LOOPBACK, 0), _OtlpHttpHandler)

    def track(self, conn: socket.socket) -> None:
        with self._live_lock:
            self._live.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._live_lock:
            self._live.discard(conn)

    def drop_connections(self) -> None:
        """Shut down open client connections so their handler threads return promptly."""
        with self._live_lock:
            live = list(self._live)
        for conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class HttpOtlpReceiver(OtlpReceiver):
    """OTLP/HTTP (protobuf) trace receiver: ``POST <endpoint>/v1/traces``.

    The HTTP exporter appends ``/v1/traces`` to ``OTEL_EXPORTER_OTLP_ENDPOINT``; use
    :attr:`traces_url` for ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (taken verbatim).
    """

    protocol = "http/protobuf"

    def __init__(self) -> None:
        super().__init__()
        self._server: _OtlpHttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def traces_url(self) -> str:
        return self.endpoint + _TRACES_PATH

    def start(self) -> HttpOtlpReceiver:
        if self._server is not None:
            return self
        server = _OtlpHttpServer(self)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="otlp-http-receiver",
            daemon=True,
        )
        thread.start()
        self._server, self._thread, self._port = server, thread, server.server_address[1]
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()  # stops serve_forever (returns within poll_interval)
        server.drop_connections()
        server.server_close()  # closes the listening socket and joins handler threads
        if thread is not None:
            thread.join(timeout=5.0)

    def _default_failure(self) -> Any:
        return HTTPStatus.BAD_REQUEST
