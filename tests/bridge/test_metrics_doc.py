"""docs/metrics.md lists exactly the metrics, units, attribute keys and buckets recorded.

The recorded side is not read from constants but from what a native pipeline and a bridged
chat model (each once ending and once failing) actually record.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from otel_runnables import RunnableLambda
from otel_runnables.testing import MetricRecorder, SpanRecorder

from ._support import ScriptedChatModel

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def _rows(heading: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|") and not re.fullmatch(r"[|\s-]+", line)
    ]
    return rows[1:]


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


class Failing(ScriptedChatModel):
    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("down")


@pytest.fixture
def recorded(bridge: SpanRecorder, otel_metrics: MetricRecorder) -> MetricRecorder:
    def boom(x: int) -> int:
        raise ValueError(x)

    RunnableLambda(lambda x: x).invoke(1)
    with pytest.raises(ValueError):
        RunnableLambda(boom).invoke(1)
    ScriptedChatModel().invoke("hi")
    with pytest.raises(RuntimeError):
        Failing().invoke("hi")
    return otel_metrics


def test_the_metrics_table_is_what_is_recorded(recorded: MetricRecorder) -> None:
    documented = {}
    for row in _rows("Metrics"):
        (name,) = _code(row[0])
        (unit,) = _code(row[2])
        documented[name] = (row[1], unit, set(_code(row[4])))
    seen: dict[str, tuple[str, str, set[str]]] = {}
    for point in recorded.points():
        keys = seen.setdefault(point.name, ("histogram", point.unit, set()))[2]
        keys.update(point.attributes)
        assert hasattr(point.point, "bucket_counts"), point.name  # a histogram
    for name, (_, _, keys) in documented.items():
        if name == "gen_ai.client.token.usage":  # "those of ...duration, and gen_ai.token.type"
            keys.update(documented["gen_ai.client.operation.duration"][2])
            keys.discard("gen_ai.client.operation.duration")
            keys.discard("error.type")  # a failed call reports no usage
    assert documented == seen


def test_the_attribute_table_lists_every_recorded_key(recorded: MetricRecorder) -> None:
    documented = [_code(row[0])[0] for row in _rows("Attributes")]
    assert len(documented) == len(set(documented))
    assert set(documented) == {key for p in recorded.points() for key in p.attributes}


def test_the_bucket_table_is_what_each_histogram_uses(recorded: MetricRecorder) -> None:
    bounds = {p.name: tuple(p.point.explicit_bounds) for p in recorded.points()}
    rows = _rows("Histogram buckets")
    assert {_code(row[0])[0] for row in rows} == set(bounds)
    for row in rows:
        numbers = re.findall(r"\d+(?:\.\d+)?", row[1].split("(")[0])
        assert tuple(float(n) for n in numbers) == bounds[_code(row[0])[0]], row[0]
