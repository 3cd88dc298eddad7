"""Run ids: random (version 4) UUIDs, made cheaply."""

from __future__ import annotations

import os
import random
import uuid
from typing import Any

__all__ = ["new_run_id"]

_VERSION_4 = (4 << 76) | (0x8000 << 48)  # version 4, RFC 4122 variant
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))


_ids = random.Random()  # private: seeding the global generator cannot repeat run ids
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids.seed)  # forked workers draw different ids
_getrandbits = _ids.getrandbits


def _fast_run_id() -> uuid.UUID:
    """A random (version 4) UUID, about twice as fast as ``uuid.uuid4()``.

    Run ids need uniqueness, not unpredictability: a private generator seeded from the OS (and
    re-seeded in forked children) is enough, and the UUID is built without the argument checks
    of ``UUID.__init__``.
    """
    run_id = object.__new__(uuid.UUID)
    object.__setattr__(run_id, "int", (_getrandbits(128) & _CLEAR) | _VERSION_4)
    object.__setattr__(run_id, "is_safe", uuid.SafeUUID.unknown)
    return run_id


def _checked_run_id_factory() -> Any:
    try:
        sample = _fast_run_id()
        if uuid.UUID(str(sample)) == sample and sample.version == 4:
            return _fast_run_id
    except Exception:  # pragma: no cover - a uuid module without these internals
        pass
    return uuid.uuid4  # pragma: no cover


new_run_id = _checked_run_id_factory()
