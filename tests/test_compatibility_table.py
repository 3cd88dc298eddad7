"""docs/compatibility.md cannot drift: every public name of ``langchain_core.runnables``, every
public method of its ``Runnable`` and every hook and flag of its callback handlers has a row
(read from langchain-core when the tests run), each row's status is one of the three, a row
that says supported names something otel_runnables has, and one that says not supported says
what to use instead (and names something otel_runnables does not have)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

lc_runnables = pytest.importorskip("langchain_core.runnables")

from langchain_core.callbacks import BaseCallbackHandler as LCHandler  # noqa: E402

import otel_runnables  # noqa: E402

TABLE = Path(__file__).parent.parent / "docs" / "compatibility.md"
STATUSES = {"supported", "differs", "not supported"}
SECTIONS = {
    "`langchain_core.runnables`": "names",
    "`Runnable` methods": "methods",
    "Callback handler hooks and flags": "hooks",
}


def _public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def langchain_names() -> dict[str, set[str]]:
    return {
        "names": set(lc_runnables.__all__),
        "methods": _public(lc_runnables.Runnable),
        "hooks": _public(LCHandler),
    }


def ours(section: str) -> object:
    return {
        "names": otel_runnables,
        "methods": otel_runnables.Runnable,
        "hooks": otel_runnables.BaseCallbackHandler,
    }[section]


def parse() -> dict[str, dict[str, tuple[str, str]]]:
    """{section: {name: (status, notes)}} from the tables of docs/compatibility.md."""
    rows: dict[str, dict[str, tuple[str, str]]] = {key: {} for key in SECTIONS.values()}
    section = None
    for line in TABLE.read_text().splitlines():
        if line.startswith("## "):
            section = SECTIONS.get(line[3:].strip())
            continue
        if section is None or not line.startswith("| `"):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(cells) == 3, f"a row of {section} without three cells: {line}"
        name, status, notes = cells
        name = name.strip("`")
        assert name not in rows[section], f"{name} has two rows in {section}"
        rows[section][name] = (status, notes)
    return rows


ROWS = parse()


@pytest.mark.parametrize("section", sorted(SECTIONS.values()))
def test_every_langchain_name_has_a_row(section: str) -> None:
    missing = sorted(langchain_names()[section] - set(ROWS[section]))
    assert not missing, f"docs/compatibility.md has no row in {section} for {missing}"


@pytest.mark.parametrize("section", sorted(SECTIONS.values()))
def test_no_row_for_a_name_langchain_does_not_have(section: str) -> None:
    extra = sorted(set(ROWS[section]) - langchain_names()[section])
    assert not extra, f"docs/compatibility.md lists {extra} in {section}, not in langchain-core"


@pytest.mark.parametrize(
    ("section", "name"), [(s, n) for s, rows in ROWS.items() for n in sorted(rows)]
)
def test_each_row_tells_the_truth(section: str, name: str) -> None:
    status, notes = ROWS[section][name]
    assert status in STATUSES, f"{name}: unknown status {status!r}"
    has_it = hasattr(ours(section), name)
    if status == "not supported":
        assert notes, f"{name} is not supported: the row must say what to use instead"
        assert not has_it, f"{name} is there: the row says it is not supported"
    else:
        assert has_it, f"{name} is marked {status} but otel_runnables has no {name}"
    if status == "differs":
        assert notes, f"{name} differs: the row must say how"


def test_the_readme_claim_points_at_the_table() -> None:
    readme = (TABLE.parent.parent / "README.md").read_text()
    migrating = (TABLE.parent / "migrating.md").read_text()
    assert "docs/compatibility.md" in readme
    assert "compatibility.md" in migrating
