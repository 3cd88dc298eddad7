"""Reading ``OTEL_RUNNABLES_*`` variables: booleans that warn when misspelt, bounded ints.

A misspelt value never passes silently: it is logged once (per variable and value) on the
``otel_runnables`` logger, and the caller decides what an unrecognised boolean means. The
privacy switches fail closed (an unrecognised value hides), the others fail open.
"""

from __future__ import annotations

import logging
import os

__all__ = ["FALSE_WORDS", "TRUE_WORDS", "env_choice", "env_flag", "env_int", "parse_flag"]

logger = logging.getLogger("otel_runnables")

TRUE_WORDS = frozenset(("1", "true", "yes", "on"))
FALSE_WORDS = frozenset(("", "0", "false", "no", "off"))
_warned: set[tuple[str, str]] = set()


def _warn_once(name: str, raw: str, message: str) -> None:
    if (name, raw) not in _warned:
        _warned.add((name, raw))
        logger.warning(message)


def parse_flag(name: str, raw: str | None, *, unrecognised: bool) -> bool:
    """The boolean value of variable ``name`` set to ``raw`` (None: unset, False).

    ``true``/``1``/``yes``/``on`` and ``false``/``0``/``no``/``off`` (any case, surrounding
    space ignored) are recognised; anything else is logged once and read as ``unrecognised``.
    """
    if raw is None:
        return False
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    meaning = "true" if unrecognised else "false"
    _warn_once(
        name,
        raw,
        f"{name}={raw!r} is not a boolean (use true or false); it is read as {meaning}",
    )
    return unrecognised


def env_flag(name: str, *, unrecognised: bool) -> bool:
    """:func:`parse_flag` of the variable ``name`` as it is set now."""
    return parse_flag(name, os.environ.get(name), unrecognised=unrecognised)


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """The value of variable ``name``, one of ``choices`` (any case, surrounding space ignored).

    Unset or empty: ``default``; any other value is logged once and ``default`` is used.
    """
    raw = os.environ.get(name)
    word = "" if raw is None else raw.strip().lower()
    if not word:
        return default
    if word in choices:
        return word
    _warn_once(
        name, raw or "", f"{name}={raw!r} is not one of {', '.join(choices)}; {default} is used"
    )
    return default


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    """The int value of variable ``name`` (unset or empty: ``default``).

    A value that is not an int, or is below ``minimum``, is logged once and ``default`` is used.
    """
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        _warn_once(
            name,
            raw,
            f"{name}={raw!r} is not an int >= {minimum}; the default {default} is used",
        )
        return default
    return value
