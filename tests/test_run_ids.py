"""Run ids: version-4 UUIDs, unique, and not repeated by seeding ``random`` or by forking."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import uuid
from typing import Any

import pytest
from _support import Recorder

from otel_runnables import RunnableLambda


def _run_ids(n: int) -> list[uuid.UUID]:
    handler = Recorder()
    step = RunnableLambda(lambda x: x)
    for _ in range(n):
        step.invoke(1, {"callbacks": [handler]})
    return [c.run_id for c in handler.starts()]


def test_run_ids_are_unique_version_4_uuids() -> None:
    ids = _run_ids(5000)
    assert len(set(ids)) == 5000
    assert all(
        isinstance(i, uuid.UUID) and i.version == 4 and i.variant == uuid.RFC_4122 for i in ids
    )
    assert all(uuid.UUID(str(i)) == i for i in ids[:100])


def test_seeding_the_global_generator_does_not_repeat_run_ids() -> None:
    state = random.getstate()
    try:
        random.seed(1234)
        first = _run_ids(3)
        random.seed(1234)
        second = _run_ids(3)
    finally:
        random.setstate(state)
    assert not set(first) & set(second)


_FORK_SCRIPT = """
import os, uuid
from otel_runnables._ids import id_text, new_id_bits
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(write, id_text(new_id_bits()).encode())
    os._exit(0)
os.close(write)
child = os.read(read, 64).decode()
os.waitpid(pid, 0)
print(child, id_text(new_id_bits()))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork exists on POSIX only")
def test_forked_children_draw_different_run_ids() -> None:
    # In a fresh single-threaded interpreter: forking the multi-threaded test process warns.
    out = subprocess.run(
        [sys.executable, "-c", _FORK_SCRIPT], capture_output=True, text=True, check=True
    ).stdout.split()
    child, parent = (uuid.UUID(text) for text in out)
    assert child != parent


def test_explicit_run_id_is_kept() -> None:
    handler = Recorder()
    given = uuid.uuid4()
    RunnableLambda(lambda x: x).invoke(1, {"callbacks": [handler], "run_id": given})
    assert [c.run_id for c in handler.starts()] == [given]
    ids = sys.modules["otel_runnables._ids"]
    assert ids.uuid_from_bits(ids.new_id_bits()).version == 4


def test_id_text_and_uuid_agree_with_the_uuid_module() -> None:
    from otel_runnables._ids import id_text, new_id_bits, uuid_from_bits

    for bits in [new_id_bits() for _ in range(2000)] + [0, (1 << 128) - 1]:
        reference = uuid.UUID(int=bits)
        assert uuid_from_bits(bits) == reference
        assert id_text(bits) == str(reference)


def test_span_handler_and_event_stream_carry_the_same_run_id(otel_spans: Any) -> None:
    from otel_runnables import _attributes as attrs

    handler = Recorder()
    given = uuid.uuid4()
    RunnableLambda(lambda x: x).invoke(1, {"callbacks": [handler], "run_id": given})
    RunnableLambda(lambda x: x).invoke(2, {"callbacks": [handler]})
    spans = otel_spans.spans()
    ids = [c.run_id for c in handler.starts()]
    assert [s.attributes[attrs.RUN_ID] for s in spans] == [str(i) for i in ids]
    assert ids[0] == given

    async def stream() -> list[str]:
        step = RunnableLambda(lambda x: x)
        return [e["run_id"] async for e in step.astream_events(1, {"run_id": given})]

    assert set(asyncio.run(stream())) == {str(given)}
