"""The type variables of ``Runnable[Input, Output]``, shared by the base and its mixins."""

from __future__ import annotations

from typing import TypeVar

__all__ = ["Input", "Other", "Output"]

Input = TypeVar("Input")
Output = TypeVar("Output")
Other = TypeVar("Other")
