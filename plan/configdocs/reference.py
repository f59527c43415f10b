"""The rows of the reference (a key's facts with its meaning from spec/keydocs.py) and docs/config.md."""
import json
import re
from dataclasses import dataclass
from typing import Any

from plan.configdocs.record import ROOT, Key, Recorder, call_sites

class DocsError(Exception):
    """What keeps the generator from writing complete files: one line per key or call site."""


TYPE_NAMES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "str_map": "map of strings",
              "str_list": "list of strings", "obj": "object", "list": "list", "objs": "list of objects",
              "items": "list of objects"}
ALL_CLOUDS = ("aws", "gcp", "azure", "existing")


@dataclass
class Entry:
    """One row of the reference: what was recorded, with its meaning and the texts shown."""
    key: Key
    doc: Any                     # spec.keydocs.Doc
    type: str
    default: str
    allowed: str
    clouds: tuple


def entries(rec: Recorder) -> list[Entry]:
    """Every key with its meaning; DocsError lists every key without one, every stale meaning and every reader
    call no config reached."""
    from spec.keydocs import KEYS, Doc
    problems = []
    missed = sorted(call_sites() - rec.sites)
    problems += [f"{f}:{line}: a reader call no stack or synthetic config reaches (spec/keydocs.py synthetic)"
                 for f, line in missed]
    keys = dict(rec.keys)
    for path, doc in KEYS.items():
        doc = doc if isinstance(doc, Doc) else Doc(doc)
        if path not in keys and doc.type:
            keys[path] = Key(path, doc.type, clouds=set(doc.clouds or ALL_CLOUDS))
        elif path not in keys:
            problems.append(f"{path}: documented in spec/keydocs.py, but no reader reads it")
    # Keys spec/stack.py reads by name, not through an accessor (the secrets): declared with a type in KEYS.
    from spec.stack import SECRET_KEYS, TOP_LEVEL_KEYS
    for name in (*TOP_LEVEL_KEYS, *SECRET_KEYS):
        if name not in keys and name not in KEYS:
            problems.append(f"{name}: read by name in spec/stack.py; declare it in spec/keydocs.py KEYS with "
                            f"Doc(..., type=\"str\")")
    for name in SECRET_KEYS:
        doc = KEYS.get(name)
        if doc is not None and not (isinstance(doc, Doc) and doc.secret):
            problems.append(f"{name}: a secret (spec/stack.py SECRET_KEYS): say Doc(..., secret=True)")
    out: list[Entry] = []
    placed: dict[str, Entry] = {}
    for path in _reading_order(list(keys)):
        k = keys[path]
        doc = KEYS.get(path)
        if doc is None:
            problems.append(f"{path}: no meaning in spec/keydocs.py KEYS (add one line: what the key does)")
            continue
        doc = doc if isinstance(doc, Doc) else Doc(doc)
        default = doc.default if doc.default is not None else _default(k, problems)
        # A key applies where its block does (budget.monthly: where llmfleet:budget does).
        clouds = _clouds(k, doc)
        parent = placed.get(_parent(path))
        if parent is not None:
            clouds = tuple(c for c in clouds if c in parent.clouds)
        out.append(Entry(k, doc, _type(k, doc), default, _allowed(k, doc), clouds))
        placed[path] = out[-1]
    if problems:
        raise DocsError("\n".join(problems))
    return out


def _parent(path: str) -> str:
    """`gpuPools[].sharing.mode` -> `gpuPools[].sharing`; `gpuPools[].name` -> `gpuPools`; top level -> ""."""
    if "." not in path:
        return ""
    head = path.rsplit(".", 1)[0]
    return head[:-2] if head.endswith("[]") else head


def _reading_order(paths: list[str]) -> list[str]:
    """Top-level keys in TOP_LEVEL_KEYS order, then the others as read; below them, each key's children in the
    order the readers read them (name first, as in the stack files)."""
    from spec.stack import TOP_LEVEL_KEYS
    children: dict[str, list[str]] = {}
    for path in paths:
        children.setdefault(_parent(path), []).append(path)
    top = children.get("", [])
    top = sorted(top, key=lambda p: (TOP_LEVEL_KEYS.index(p) if p in TOP_LEVEL_KEYS else len(TOP_LEVEL_KEYS),
                                     top.index(p)))
    out: list[str] = []

    def walk(path: str) -> None:
        out.append(path)
        for child in children.get(path, []):
            walk(child)

    for path in top:
        walk(path)
    return out


def _type(k: Key, doc) -> str:
    from spec.keydocs import MAPS
    if doc.secret:
        return "secret string"
    if k.path in MAPS:
        return f"map of objects by `{MAPS[k.path]}`"
    if k.kind == "list":
        return "list of objects" if k.items_are_objects else f"list of {doc.items or 'values'}s"
    return TYPE_NAMES.get(k.kind, k.kind)


def _default(k: Key, problems: list) -> str:
    if k.kind == "obj" and not k.defaults:
        return ""
    if k.kind == "str_map":
        return ""
    seen = {cloud: values for cloud, values in k.defaults.items()}
    if any(len(v) > 1 for v in seen.values()):
        problems.append(f"{k.path}: its default varies ({', '.join(sorted(set().union(*seen.values())))}): it "
                        f"derives from other keys; say how in spec/keydocs.py (Doc(..., default=...))")
        return ""
    per_cloud = {cloud: next(iter(v)) for cloud, v in seen.items()}
    values = set(per_cloud.values())
    if k.min_items and values == {"[]"}:
        return "required"
    if len(values) == 1:
        return _literal(values.pop())
    return "; ".join(f"{c}: {_literal(per_cloud[c])}" for c in ALL_CLOUDS if c in per_cloud)


def _literal(shown: str) -> str:
    if shown == "required":
        return "required"
    if shown == "null":
        return "unset"
    return f"`{_yaml(json.loads(shown))}`"


def _yaml(value: Any) -> str:
    """A default as a stack file would write it (flow style)."""
    if isinstance(value, str):
        return value if value and value.strip() == value and not value[0] in "[{\"'" else json.dumps(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    return str(value)


def _allowed(k: Key, doc) -> str:
    parts = []
    choices = doc.allowed or k.choices
    if choices:
        parts.append(", ".join(f"`{c}`" for c in (sorted(choices) if not doc.allowed else choices)))
    if k.lo is not None and k.hi is not None:
        parts.append(f"{_num(k.lo)}–{_num(k.hi)}")
    elif k.lo is not None:
        parts.append(f">= {_num(k.lo)}")
    elif k.hi is not None:
        parts.append(f"<= {_num(k.hi)}")
    if k.pattern:
        parts.append(k.hint or f"`{k.pattern}`")
    if k.key_pattern:
        parts.append(f"keys: {k.hint or k.key_pattern}")
    if k.value_pattern:
        parts.append(f"values: {k.value_hint or k.value_pattern}")
    if k.min_items:
        parts.append(f"at least {k.min_items} item{'s' if k.min_items > 1 else ''}")
    return "; ".join(parts)


def _num(x: Any) -> str:
    """A bound as written in a stack file: 4194304, 0.9999, 7680 (never 4.1943e+06)."""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return str(x) if isinstance(x, int) else repr(x)


def _clouds(k: Key, doc) -> tuple:
    if doc.clouds:
        return tuple(c for c in ALL_CLOUDS if c in doc.clouds)
    m = re.match(r"cluster\.(aws|gcp|azure)(\.|$)", k.path)
    if m:
        return (m.group(1),)
    return tuple(c for c in ALL_CLOUDS if c in k.clouds)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _applies(clouds: tuple) -> str:
    return "all" if set(clouds) == set(ALL_CLOUDS) else ", ".join(clouds)


def _section(path: str) -> str:
    from spec.keydocs import SECTIONS
    for root in sorted(SECTIONS, key=len, reverse=True):
        if path == root or path.startswith(root + ".") or path.startswith(root + "["):
            return root
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def markdown(items: list[Entry]) -> str:
    """docs/config.md: the hand-written head (docs/config.head.md), the top-level keys, a table per block."""
    from spec.keydocs import SECTIONS
    head = (ROOT / "docs" / "config.head.md").read_text().rstrip() + "\n"
    lines = [head, "<!-- Generated by `make docs` (plan/configdocs/) from spec/ and spec/keydocs.py: edit those or "
             "docs/config.head.md, not this file. -->", "", "## Top-level keys", "",
             "| key | type | default | allowed | applies to | meaning |", "|---|---|---|---|---|---|"]
    by_path = {e.key.path: e for e in items}
    sections: dict[str, list[Entry]] = {}
    for e in items:
        if _parent(e.key.path) == "":
            lines.append(f"| `llmfleet:{e.key.path}` | {e.type} | {_cell(e.default)} | {_cell(e.allowed)} | "
                         f"{_applies(e.clouds)} | {_cell(e.doc.meaning)} |")
        else:   # a block with a section of its own is also a row of its parent's table
            sections.setdefault(_section(_parent(e.key.path) if e.key.path in SECTIONS else e.key.path),
                                []).append(e)
    for root, rows in sections.items():
        lines += ["", f"## llmfleet:{root}", "", by_path[root].doc.meaning, "",
                  "| key | type | default | allowed | applies to | meaning |", "|---|---|---|---|---|---|"]
        for e in rows:
            if e.key.path == root:
                continue
            rel = re.sub(r"^(\[\])?\.", "", e.key.path[len(root):])
            lines.append(f"| `{rel}` | {e.type} | {_cell(e.default)} | {_cell(e.allowed)} | {_applies(e.clouds)} | "
                         f"{_cell(e.doc.meaning)} |")
    return "\n".join(lines) + "\n"
