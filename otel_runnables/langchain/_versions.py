"""The langchain-core and LangGraph versions whose private functions the bridge wraps."""

from __future__ import annotations

import functools
from importlib import metadata

__all__ = ["SUPPORTED", "supported", "version_range"]

SUPPORTED = {"langchain-core": ((1, 0), (2, 0)), "langgraph": ((1, 0), (2, 0))}
"""Distributions whose private functions are wrapped: the tested versions, [low, high)."""


@functools.cache  # read once: the metadata lookup costs milliseconds, the version never changes
def _version(distribution: str) -> tuple[int, ...] | None:
    try:
        text = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def supported(distribution: str) -> bool:
    """Whether the installed ``distribution`` is a version the wrappers were tested with."""
    version = _version(distribution)
    low, high = SUPPORTED[distribution]
    return version is not None and low <= version < high


def version_range(distribution: str) -> str:
    (a, b), (c, d) = SUPPORTED[distribution]
    return f">={a}.{b},<{c}.{d}"
