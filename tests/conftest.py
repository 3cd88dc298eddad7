"""Shared fixtures: the in-process OTLP receivers (tests/_otlp) are available to every test."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _otlp.fixtures import otlp_blackhole, otlp_grpc_receiver, otlp_http_receiver

__all__ = ["otlp_blackhole", "otlp_grpc_receiver", "otlp_http_receiver"]
