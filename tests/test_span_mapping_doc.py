"""docs/span-mapping.md lists exactly the attribute keys that _attributes.py defines."""

from __future__ import annotations

import re
from pathlib import Path

from otel_runnables import _attributes as attrs

DOC = Path(__file__).resolve().parent.parent / "docs" / "span-mapping.md"

# Module-level UPPER_CASE str constants of _attributes.py that are not attribute keys.
NOT_KEYS = {
    "TRUNCATION_MARKER": "the marker that ends a truncated value",
    "EMPTY_KEY": "the stand-in for an empty dict key, not an attribute key",
    "CHUNK_EVENT": "a span event name, not an attribute key",
    "CONTROL_FLOW_EVENT": "a span event name, not an attribute key",
    "EXCEPTION_EVENT": "a span event name, not an attribute key",
    "REDACTED": "the text that stands for redacted error text",
}
TABLES = ("Attributes", "Model, tool and retriever runs")


def defined_keys() -> set[str]:
    keys = set()
    for name, value in vars(attrs).items():
        is_constant = re.fullmatch(r"[A-Z][A-Z0-9_]*", name) and isinstance(value, str)
        if is_constant and name not in NOT_KEYS:
            keys.add(value)
    return keys


def table_rows(heading: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not re.fullmatch(r"[|\s-]+", line):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows[1:]  # without the header


def documented_keys() -> list[str]:
    keys = []
    for row in [row for heading in TABLES for row in table_rows(heading)]:
        match = re.fullmatch(r"`([^`]+)`", row[0])
        assert match, f"first column must be one `key`: {row[0]!r}"
        keys.append(match.group(1).replace("<key>", ""))
    return keys


def test_table_lists_exactly_the_defined_keys() -> None:
    documented = documented_keys()
    assert len(documented) == len(set(documented)), "a key is listed twice"
    assert set(documented) == defined_keys()


def test_every_row_has_a_type_and_a_meaning() -> None:
    types = {"string", "string[]", "int", "double", "boolean", "any attribute type"}
    for row in [row for heading in TABLES for row in table_rows(heading)]:
        assert len(row) == 4, row
        assert row[1] in types, row
        assert row[3], row


def test_non_keys_are_really_defined() -> None:
    for name in NOT_KEYS:
        assert isinstance(getattr(attrs, name), str)


def test_documented_marker_and_default_limit_match_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"`{attrs.TRUNCATION_MARKER}`" in text
    assert f"else {attrs.DEFAULT_VALUE_LENGTH_LIMIT} characters" in text
    assert f"`{attrs.CHUNK_EVENT}` span event" in text
    assert f"`{attrs.REDACTED}`" in text
    for kind in set(attrs.SPAN_KIND_BY_RUN_TYPE.values()):
        assert f"`{kind}`" in text
    for run_type in attrs.SPAN_KIND_BY_RUN_TYPE:
        assert f"`{run_type}`" in text
