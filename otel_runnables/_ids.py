"""Run ids: random (version 4) UUIDs, made cheaply and only in the form that is used.

A run draws 128 random bits when it starts. The :class:`uuid.UUID` (what callback handlers
receive) and its text (what spans and ``astream_events`` carry) are made from those bits when
first needed: a run nobody listens to builds one text for its span and no UUID object.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable

__all__ = ["id_text", "new_id_bits", "uuid_from_bits"]

_VERSION_4 = (4 << 76) | (0x8000 << 48)  # version 4, RFC 4122 variant
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))


_ids = random.Random()  # private: seeding the global generator cannot repeat run ids
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids.seed)  # forked workers draw different ids
_getrandbits = _ids.getrandbits


def new_id_bits() -> int:
    """The 128 bits of a new random version-4 UUID.

    Run ids need uniqueness, not unpredictability: a private generator seeded from the OS (and
    re-seeded in forked children) is enough.
    """
    return (_getrandbits(128) & _CLEAR) | _VERSION_4


_new = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def _fast_uuid(bits: int) -> uuid.UUID:
    # What UUID(int=bits) builds, without the argument checks of UUID.__init__.
    value = _new(uuid.UUID)
    _set(value, "int", bits)
    _set(value, "is_safe", _UNKNOWN)
    return value


def _fast_text(bits: int) -> str:
    h = bits.to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _checked() -> tuple[Callable[[int], uuid.UUID], Callable[[int], str]]:
    try:
        bits = new_id_bits()
        reference = uuid.UUID(int=bits)
        fast = _fast_uuid(bits)
        if fast == reference and fast.version == 4 and _fast_text(bits) == str(reference):
            return _fast_uuid, _fast_text
    except Exception:  # pragma: no cover - a uuid module without these internals
        pass
    return (lambda b: uuid.UUID(int=b)), (lambda b: str(uuid.UUID(int=b)))  # pragma: no cover


uuid_from_bits, id_text = _checked()
"""``uuid_from_bits(bits)`` is ``UUID(int=bits)``; ``id_text(bits)`` is its ``str``."""
