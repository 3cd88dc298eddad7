"""Turn raw scenario logs into comparable, printable structures.

A raw log is a list of flat dicts (see ``scenarios.Recorder``).  Normalising:

* replaces run ids (``run_id``, ``parent_run_id`` and the ids inside ``parent_ids``) by labels;
  in *strict* mode the labels are ``run0``, ``run1``, ... in order of first appearance, in
  *relaxed* mode they are derived from the run tree (``Parent/child[tags]``) so that they do not
  depend on the order in which concurrent runs happened to be reported;
* turns mappings into plain dicts with sorted keys, exceptions into ``{"exc": type, "msg": str}``
  and any other non-primitive object into ``"<TypeName>"``.

Three comparison modes (see :data:`MODES`):

* ``exact``: the same list of records;
* ``per_sink``: each source (one handler, the event stream, the outcome records) has exactly the
  same records in the same order, but how the sources interleave is free: an astream_events
  consumer runs in another task than the producer that feeds handlers, so that interleaving
  only reflects where each implementation yields to the event loop;
* ``relaxed``: the same records per run, in the same order within each run (ignoring the
  relative order of ``on_chain_stream`` chunks, which concurrent branches of a map emit in
  completion order), and the same multiset of records overall.

``per_sink`` and ``relaxed`` use run-tree labels; ``exact`` uses labels by first appearance.
"""

from __future__ import annotations

import difflib
import pprint
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

Record = dict[str, Any]

_ID_KEYS = ("run_id", "parent_run_id")
_STABLE_TAG_PREFIXES = ("seq:step:", "map:key:", "retry:attempt:", "condition:", "branch:")


def _as_id(value: Any) -> str | None:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return None
    return None


def normalise_value(value: Any) -> Any:
    """Make ``value`` comparable across libraries (no identities, no library classes)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, BaseException):
        return {"exc": type(value).__name__, "msg": str(value)}
    if isinstance(value, Mapping):
        items = {str(k): normalise_value(v) for k, v in value.items()}
        return {k: items[k] for k in sorted(items)}
    if isinstance(value, tuple):
        return tuple(normalise_value(v) for v in value)
    if isinstance(value, list):
        return [normalise_value(v) for v in value]
    if isinstance(value, uuid.UUID):
        return "<UUID>"
    return f"<{type(value).__name__}>"


def _ids_in(record: Record) -> list[str]:
    found: list[str] = []
    for key in _ID_KEYS:
        rid = _as_id(record.get(key))
        if rid is not None:
            found.append(rid)
    for pid in record.get("parent_ids") or ():
        rid = _as_id(pid)
        if rid is not None:
            found.append(rid)
    return found


def _strict_labels(records: Sequence[Record]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for record in records:
        # parents first, so that labels read top-down in the run tree
        parents = [_as_id(p) for p in record.get("parent_ids") or ()]
        ordered = [p for p in parents if p] + _ids_in(record)
        for rid in ordered:
            if rid not in labels:
                labels[rid] = f"run{len(labels)}"
    return labels


def _tree_labels(records: Sequence[Record]) -> dict[str, str]:
    """Labels from the run tree: independent of the order of concurrent siblings."""
    info: dict[str, tuple[str | None, str, str]] = {}
    for record in records:
        if record.get("event") != "on_chain_start" and record.get("hook") != "on_chain_start":
            continue
        rid = _as_id(record.get("run_id"))
        if rid is None or rid in info:
            continue
        parent = _as_id(record.get("parent_run_id"))
        pids = record.get("parent_ids")
        if parent is None and pids:
            parent = _as_id(pids[-1])
        tags = [t for t in record.get("tags") or () if t.startswith(_STABLE_TAG_PREFIXES)]
        suffix = f"[{','.join(sorted(tags))}]" if tags else ""
        data = record.get("inputs", record.get("data"))
        info[rid] = (parent, f"{record.get('name')}{suffix}", repr(normalise_value(data)))

    labels: dict[str, str] = {}

    def label(rid: str, depth: int = 0) -> str:
        if rid in labels:
            return labels[rid]
        if rid not in info or depth > 50:
            return f"?{rid[-4:]}"
        parent, base, _ = info[rid]
        prefix = f"{label(parent, depth + 1)}/" if parent else ""
        labels[rid] = prefix + base
        return labels[rid]

    for rid in info:
        label(rid)
    # disambiguate siblings with the same label, ordering them by their start data
    groups: dict[str, list[str]] = defaultdict(list)
    for rid, lab in labels.items():
        groups[lab].append(rid)
    for lab, rids in groups.items():
        if len(rids) > 1:
            rids.sort(key=lambda r: info[r][2])
            for i, rid in enumerate(rids):
                labels[rid] = f"{lab}#{i}"
    # ids that never started (e.g. outside any run) get ordinal labels
    for record in records:
        for rid in _ids_in(record):
            if rid not in labels:
                labels[rid] = f"other{len(labels)}"
    return labels


MODES = ("exact", "per_sink", "relaxed")


def normalise(records: Sequence[Record], *, mode: str = "exact") -> list[Record]:
    if mode not in MODES:
        raise ValueError(f"unknown comparison mode {mode!r}")
    labels = _strict_labels(records) if mode == "exact" else _tree_labels(records)
    out: list[Record] = []
    for record in records:
        norm: Record = {}
        for key, value in record.items():
            if key in _ID_KEYS:
                rid = _as_id(value)
                norm[key] = labels.get(rid, value) if rid else value
            elif key == "parent_ids" and isinstance(value, list):
                norm[key] = [labels.get(_as_id(p) or "", p) for p in value]
            else:
                norm[key] = normalise_value(value)
        out.append(norm)
    return out


def _key(record: Record) -> str:
    return repr(sorted(record.items(), key=lambda kv: kv[0]))


def per_sink(records: Sequence[Record]) -> dict[str, list[Record]]:
    """Group normalised records by source (handler label, ``ev``, ``result`` ...)."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[str(record.get("src"))].append(record)
    return dict(groups)


def per_run(records: Sequence[Record]) -> dict[str, list[Record]]:
    """Group normalised records by run label (``-`` for records outside any run).

    Stream chunks are left out: their relative order within a map (or anything streaming a map)
    follows branch completion; the multiset comparison still covers them.
    """
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        if record.get("event") == "on_chain_stream":
            continue
        groups[str(record.get("run_id", "-"))].append(record)
    return dict(sorted(groups.items()))


def differences(
    expected: Sequence[Record],
    actual: Sequence[Record],
    *,
    mode: str = "exact",
    names: tuple[str, str] = ("oracle (langchain-core)", "ours (otel_runnables)"),
) -> str:
    """Empty string when equal (under the chosen comparison), else a readable explanation."""
    if mode == "exact":
        if list(expected) == list(actual):
            return ""
        return _explain(list(expected), list(actual), "exact order", names)
    if mode == "per_sink":
        exp_sinks, act_sinks = per_sink(expected), per_sink(actual)
        for sink in sorted(set(exp_sinks) | set(act_sinks)):
            e, a = exp_sinks.get(sink, []), act_sinks.get(sink, [])
            if e != a:
                return _explain(e, a, f"records of source {sink!r}", names)
        return ""
    exp_groups, act_groups = per_run(expected), per_run(actual)
    problems: list[str] = []
    for run in sorted(set(exp_groups) | set(act_groups)):
        e, a = exp_groups.get(run, []), act_groups.get(run, [])
        if e != a:
            problems.append(_explain(e, a, f"records of run {run!r}", names))
            break
    if not problems:
        exp_multi = Counter(_key(r) for r in expected)
        act_multi = Counter(_key(r) for r in actual)
        if exp_multi != act_multi:
            missing = list((exp_multi - act_multi).elements())[:5]
            extra = list((act_multi - exp_multi).elements())[:5]
            problems.append(
                f"multiset differs\n  only in {names[0]}: {missing}\n  only in {names[1]}: {extra}"
            )
    return "\n".join(problems)


def _explain(
    expected: list[Record], actual: list[Record], what: str, names: tuple[str, str]
) -> str:
    first = next(
        (i for i, (e, a) in enumerate(zip(expected, actual, strict=False)) if e != a),
        min(len(expected), len(actual)),
    )
    exp_at = expected[first] if first < len(expected) else "<missing>"
    act_at = actual[first] if first < len(actual) else "<missing>"
    diff = difflib.unified_diff(
        format_records(expected).splitlines(),
        format_records(actual).splitlines(),
        names[0],
        names[1],
        n=2,
        lineterm="",
    )
    lines = list(diff)
    if len(lines) > 80:
        lines = [*lines[:80], f"... ({len(lines) - 80} more diff lines)"]
    return (
        f"{what}: first difference at record {first} "
        f"(oracle has {len(expected)}, ours has {len(actual)})\n"
        f"  {names[0]}: {exp_at}\n  {names[1]}: {act_at}\n" + "\n".join(lines)
    )


def format_records(records: Sequence[Record]) -> str:
    return "\n".join(
        f"{i:3d} {pprint.pformat(r, width=100_000, sort_dicts=False)}"
        for i, r in enumerate(records)
    )
